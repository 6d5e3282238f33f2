import { describe, expect, it } from "vitest";
import { refusalFromDb } from "./db-errors.ts";

describe("refusalFromDb", () => {
  it("answers a rail's SQLSTATE with the catalogue's problem, keeping the database's code in `rail`", () => {
    expect(refusalFromDb({ code: "SY002", message: "autonomy_step_down: agents@ is read-only" })).toMatchObject({
      code: "mode_read_only",
      problem: { status: 503, rail: "autonomy_step_down", detail: "agents@ is read-only", retry_after: 60 },
    });
    expect(refusalFromDb({ code: "SY004", message: "portal_disabled: rates is off", detail: '{"portal":"rates","sql":"x"}' }))
      .toMatchObject({ code: "portal_disabled", problem: { status: 403, portal: "rates" } });
    expect(refusalFromDb({ code: "SY005", message: "rate_limited: slow down", detail: '{"retry_after_seconds":7}' }))
      .toMatchObject({ code: "rate_limited", problem: { status: 429, retry_after: 7 } });
    expect(refusalFromDb({ code: "SY010", message: "unknown_flag: no.such" })).toMatchObject({ code: "validation_failed", problem: { rail: "unknown_flag" } });
  });

  it("leaves real failures alone", () => {
    expect(refusalFromDb({ code: "SY999", message: "x: y" })).toBeNull();
    expect(refusalFromDb({ code: "57014", message: "canceling statement" })).toBeNull();
    expect(refusalFromDb(new Error("boom"))).toBeNull();
  });
});
