import { describe, expect, it } from "vitest";
import { cents, count, plural, roundTo, usd, usdPerMile } from "./money.ts";

describe("money", () => {
  it("rounds half away from zero despite float error", () => {
    expect(cents(1.005)).toBe(1.01);
    expect(cents(-1.005)).toBe(-1.01);
    expect(cents(2065.4449)).toBe(2065.44);
    expect(roundTo(0.43333, 3)).toBe(0.433);
  });

  it("formats USD, per-mile rates and counts", () => {
    expect(usd(4983.2)).toBe("$4,983.20");
    expect(usdPerMile(2.4)).toBe("$2.40/mi");
    expect(usdPerMile(0.4333)).toBe("$0.433/mi");
    expect(count(1240)).toBe("1,240");
    expect(plural(1, "row")).toBe("1 row");
    expect(plural(1240, "load")).toBe("1,240 loads");
  });
});
