import { describe, expect, it } from "vitest";
import { brandingSchema, isSafeHttpsUrl } from "./policy.ts";

describe("branding", () => {
  it("takes https URLs only, without credentials or attribute breakers", () => {
    expect(isSafeHttpsUrl("https://cdn.example.com/logo.svg")).toBe(true);
    for (const bad of ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:image/svg+xml,<svg/>", "http://cdn.example.com/l.png",
      "https://user:pw@cdn.example.com/l.png", "https://cdn.example.com/\"onload=x", "//cdn.example.com/l.png"]) {
      expect(isSafeHttpsUrl(bad), bad).toBe(false);
    }
  });
  it("colours are #rrggbb and the name is plain text", () => {
    const ok = { display_name: "Acme", logo_url: null, primary_color: "#112233", accent_color: null };
    expect(brandingSchema.safeParse(ok).success).toBe(true);
    expect(brandingSchema.safeParse({ ...ok, primary_color: "red;background:url(x)" }).success).toBe(false);
    expect(brandingSchema.safeParse({ ...ok, display_name: "<script>x</script>" }).success).toBe(false);
  });
});
