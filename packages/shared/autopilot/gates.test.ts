import { describe, expect, it } from "vitest";
import { evaluateGates, type SloRow, type Thresholds } from "./gates.ts";
import { nextLimit } from "./throttle.ts";

const T: Thresholds = { successMin: 0.98, p95MaxMs: 2500, portalP95MaxMs: 1500, uptimeMin: 0.9995, minRequests: 20 };
const row = (over: Partial<SloRow>): SloRow => ({
  function_name: "rates", portal: "rates", requests: 100, errors: 0, share_le_1500: 1, share_le_2500: 1, p95_upper_ms: 250, ...over,
});
const up = { short: 1, long: 1 };

describe("SLO gates", () => {
  it("breaches only when both windows are past the threshold", () => {
    const bad = row({ errors: 5 });
    expect(evaluateGates([bad], [bad], up, T).map((b) => b.metric)).toEqual(["success"]);
    expect(evaluateGates([bad], [row({ requests: 10_000, errors: 5 })], up, T)).toEqual([]); // a blip
    expect(evaluateGates([row({})], [bad], up, T)).toEqual([]); // recovered now
  });

  it("holds portals to 1.5 s and functions to 2.5 s at p95", () => {
    const slowPortal = row({ share_le_1500: 0.9, share_le_2500: 1, p95_upper_ms: 2500 });
    expect(evaluateGates([slowPortal], [slowPortal], up, T)).toMatchObject([{ scope: "portal:rates", metric: "p95", threshold: 1500 }]);
    const fn = row({ portal: null, function_name: "health", share_le_1500: 0.5, share_le_2500: 0.99, p95_upper_ms: 2500 });
    expect(evaluateGates([fn], [fn], up, T)).toEqual([]);
  });

  it("gives no verdict on too few requests, and checks uptime from the probes", () => {
    const few = row({ requests: 5, errors: 5 });
    expect(evaluateGates([few], [few], up, T)).toEqual([]);
    expect(evaluateGates([], [], { short: 0.9, long: 0.999 }, T)).toMatchObject([{ scope: "platform", metric: "uptime" }]);
  });
});

describe("throttle", () => {
  const band = { floor: 10, target: 150 };
  it("halves on errors, follows the latency gradient, never below the floor", () => {
    expect(nextLimit(150, [{ scope: "x", metric: "success", short: 0.9, long: 0.95, threshold: 0.98 }], band)).toBe(75);
    expect(nextLimit(100, [{ scope: "x", metric: "p95", short: 1875, long: 1600, threshold: 1500 }], band)).toBe(80);
    expect(nextLimit(12, [{ scope: "x", metric: "uptime", short: 0.9, long: 0.9, threshold: 0.9995 }], band)).toBe(10);
  });
  it("recovers by a quarter per healthy tick up to the target", () => {
    expect(nextLimit(40, [], band)).toBe(50);
    expect(nextLimit(140, [], band)).toBe(150);
    expect(nextLimit(150, [], band)).toBe(150);
  });
});
