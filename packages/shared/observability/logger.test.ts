import { describe, expect, it } from "vitest";
import { createLogger } from "./logger.ts";

describe("logger", () => {
  it("writes JSON with trace ids and no PII in clear", () => {
    const lines: string[] = [];
    const log = createLogger("rates", { write: (s: string) => void lines.push(s) });
    log.child({ trace_id: "4bf92f3577b34da6a3ce929d0e0e4736" }).info(
      {
        request: { contact: { name: "Maria Lopez", email: "maria.lopez@acme-freight.com", phone: "+1 312 555 0199" } },
        callback: "https://hooks.example.com/n8n?token=abc123secret",
        headers: { authorization: "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl" },
      },
      "quote requested by maria.lopez@acme-freight.com",
    );
    expect(lines).toHaveLength(1);
    const out = lines[0];
    const rec = JSON.parse(out);
    expect(rec.trace_id).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    expect(rec.service).toBe("rates");
    for (const clear of ["Maria Lopez", "maria.lopez@acme-freight.com", "555 0199", "abc123secret", "eyJhbGciOiJIUzI1NiJ9"]) {
      expect(out).not.toContain(clear);
    }
    expect(out).toContain("hooks.example.com");
  });
});
