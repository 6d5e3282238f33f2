import { describe, expect, it } from "vitest";
import { childOf, continueTrace, formatTraceparent, newTrace, parseTraceparent } from "./traceparent.ts";

const VALID = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

describe("parseTraceparent", () => {
  it("parses the spec example and formats it back", () => {
    const ctx = parseTraceparent(VALID);
    expect(ctx).toEqual({ traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", flags: 1 });
    expect(formatTraceparent(ctx!)).toBe(VALID);
  });

  it.each([
    ["absent", undefined],
    ["empty", ""],
    ["uppercase hex", VALID.toUpperCase()],
    ["version ff", VALID.replace(/^00/, "ff")],
    ["zero trace id", `00-${"0".repeat(32)}-00f067aa0ba902b7-01`],
    ["zero span id", `00-4bf92f3577b34da6a3ce929d0e0e4736-${"0".repeat(16)}-01`],
    ["short trace id", "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01"],
    ["extra field on version 00", `${VALID}-extra`],
    ["garbage", "not-a-traceparent"],
  ])("rejects %s", (_label, header) => {
    expect(parseTraceparent(header)).toBeNull();
  });

  it("accepts a future version with extra fields", () => {
    expect(parseTraceparent(`01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-what-ever`))
      .toEqual({ traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", flags: 0 });
  });
});

describe("trace generation", () => {
  it("generates valid, distinct, sampled roots", () => {
    const a = newTrace();
    const b = newTrace();
    expect(parseTraceparent(formatTraceparent(a))).toEqual(a);
    expect(a.traceId).not.toBe(b.traceId);
    expect(a.flags).toBe(1);
  });

  it("creates children in the same trace with a new span id", () => {
    const parent = parseTraceparent(VALID)!;
    const child = childOf(parent);
    expect(child.traceId).toBe(parent.traceId);
    expect(child.spanId).not.toBe(parent.spanId);
    expect(child.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(child.flags).toBe(parent.flags);
  });

  it("continues a valid caller trace and restarts on an invalid one", () => {
    const cont = continueTrace(VALID);
    expect(cont.traceId).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    expect(cont.parentSpanId).toBe("00f067aa0ba902b7");
    const fresh = continueTrace("00-zz-bad");
    expect(fresh.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(fresh.parentSpanId).toBeUndefined();
  });
});
