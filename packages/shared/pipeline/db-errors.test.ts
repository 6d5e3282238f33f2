import { describe, expect, it } from "vitest";
import { countsAgainstSlo } from "../http/catalogue.ts";
import { isDbUnavailable, refusalFromDb, unavailableCode } from "./db-errors.ts";

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

  // Issue 12 item 4: a database that is away answered 500 internal_error.
  it("answers a database that is away with 503 database_unavailable and Retry-After (still an SLO failure)", () => {
    const away = [
      // the socket (Node's net codes; a multi-address connect fails with an AggregateError)
      { code: "ECONNREFUSED" }, { code: "ECONNRESET" }, { code: "EPIPE" }, { code: "ETIMEDOUT" }, { code: "EHOSTUNREACH" },
      Object.assign(new AggregateError([Object.assign(new Error("connect"), { code: "ECONNREFUSED" })], "connect failed")),
      new Error("fetch failed", { cause: { code: "ECONNRESET" } }),
      // postgres.js
      { code: "CONNECTION_CLOSED", message: "write CONNECTION_CLOSED 127.0.0.1:54322" }, { code: "CONNECTION_ENDED" },
      { code: "CONNECTION_DESTROYED" }, { code: "CONNECT_TIMEOUT" },
      // the server: shutting down, crashed, starting up, full, connection exceptions
      { code: "57P01", message: "terminating connection due to administrator command" }, { code: "57P02" },
      { code: "57P03", message: "the database system is starting up" }, { code: "53300", message: "sorry, too many clients already" },
      { code: "08006" }, { code: "08001" }, { code: "08P01" },
    ];
    for (const err of away) {
      const r = refusalFromDb(err);
      expect(r, JSON.stringify(err)).toMatchObject({ code: "database_unavailable", problem: { status: 503, code: "database_unavailable", retry_after: 2 } });
      // No internals reach the client (addresses, the server's message).
      expect(JSON.stringify(r!.problem)).not.toMatch(/127\.0\.0\.1|administrator|too many clients/);
      expect(isDbUnavailable(err)).toBe(true);
      expect(unavailableCode(err)).toMatch(/^(E[A-Z_]+|CONNECT[A-Z_]+|57P0[123]|53300|08[0-9A-Z]{3})$/);
    }
    expect(countsAgainstSlo("database_unavailable")).toBe(true);
  });

  it("answers a value the database cannot take (wrong type, too long, a number or date out of range, a CHECK) with 400 validation_failed, not a 500", () => {
    for (const code of ["22P02", "22001", "22003", "22007", "22008", "23514"]) {
      const r = refusalFromDb({ code, message: 'date/time field value out of range: "0000-01-01"' });
      expect(r, code).toMatchObject({ code: "validation_failed", problem: { status: 400 } });
      expect(JSON.stringify(r!.problem)).not.toContain("0000-01-01");
    }
  });

  it("names the refused transition (machine, from, to) and a block's reason, and nothing else of the DETAIL", () => {
    const detail = JSON.stringify({ machine: "load", id: "c7000000-0000-4000-8000-000000000005", from: "covered", to: "delivered" });
    expect(refusalFromDb({ code: "SY100", message: "illegal_transition: load c7 cannot go from covered to delivered", detail }))
      .toEqual(expect.objectContaining({
        code: "illegal_transition",
        problem: expect.objectContaining({ status: 409, rail: "illegal_transition", machine: "load", from: "covered", to: "delivered" }),
      }));
    expect(refusalFromDb({ code: "SY100", message: "illegal_transition: x", detail })?.problem).not.toHaveProperty("id");
    expect(refusalFromDb({ code: "SY105", message: "party_blocked: party p: sanctions", detail: '{"party_id":"p","reason":"sanctions"}' }))
      .toMatchObject({ code: "party_blocked", problem: { status: 422, reason: "sanctions" } });
    expect(refusalFromDb({ code: "SY120", message: "freight_not_found: no public.loads x" })).toMatchObject({ code: "not_found", problem: { status: 404 } });
  });

  it("leaves real failures alone", () => {
    expect(refusalFromDb({ code: "SY999", message: "x: y" })).toBeNull();
    expect(refusalFromDb({ code: "57014", message: "canceling statement" })).toBeNull();
    expect(refusalFromDb(new Error("boom"))).toBeNull();
    // A deadlock, a serialization failure, a query the server cancelled: failures, not "away".
    for (const code of ["40P01", "40001", "57014", "53200", "XX000"]) expect(refusalFromDb({ code }), code).toBeNull();
  });
});
