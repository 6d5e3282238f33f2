import { describe, expect, it } from "vitest";
import { combine, type CountRow, evaluateGates, evaluateSlo, type SloRow, type Thresholds, toSloRow } from "./gates.ts";

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

describe("SLO gates per tenant", () => {
  const t = { ...T, platformAt: 3 };
  // 100 requests, all under 250 ms; `errors` of them 5xx.
  const counts = (tenant: string | null, errors = 0, over: Partial<CountRow> = {}): CountRow => ({
    tenant_id: tenant, function_name: "rates", portal: "rates", requests: 100, errors, buckets: [50, 100, 100, 100, 100, 100, 100, 100], ...over,
  });

  it("a tenant whose requests fail breaches alone: the platform stays clean", () => {
    const rows = [counts("a", 60), counts("b"), counts("c"), counts(null)];
    const v = evaluateSlo(rows, rows, up, t);
    expect(v.platform).toEqual([]);
    expect(v.tenants).toMatchObject([{ tenantId: "a", breaches: [{ scope: "tenant:a portal:rates", metric: "success", short: 0.4 }] }]);
    // Judged as one platform series (before per-tenant gates) the same rows breached: 60 errors in 400.
    const all = combine(rows).map(toSloRow);
    expect(evaluateGates(all, all, up, T)).toMatchObject([{ scope: "portal:rates", metric: "success", short: 0.85 }]);
  });

  it("a tenant's slow requests are its own p95 breach", () => {
    const slow = counts("a", 0, { portal: "rates", buckets: [0, 0, 0, 10, 20, 100, 100, 100] });
    const v = evaluateSlo([slow, counts("b")], [slow, counts("b")], up, t);
    expect(v.platform).toEqual([]);
    expect(v.tenants).toMatchObject([{ tenantId: "a", breaches: [{ metric: "p95", short: 2500, threshold: 1500 }] }]);
  });

  it("platformAt tenants breaching at once is the platform's breach (a shared cause), not a quarantine each", () => {
    const rows = [counts("a", 50), counts("b", 50), counts("c", 50), counts("d")];
    const v = evaluateSlo(rows, rows, up, t);
    expect(v.tenants.map((x) => x.tenantId)).toEqual(["a", "b", "c"]);
    expect(v.platform).toEqual(expect.arrayContaining([
      { scope: "platform", metric: "tenants", short: 3, long: 3, threshold: 3 },
      expect.objectContaining({ scope: "portal:rates", metric: "success" }),
    ]));
  });

  it("platform rows (no tenant) and lost uptime breach the platform whatever the tenants do", () => {
    const rows = [counts(null, 50), counts("a")];
    expect(evaluateSlo(rows, rows, up, t)).toMatchObject({ platform: [{ scope: "portal:rates", metric: "success" }], tenants: [] });
    expect(evaluateSlo([counts("a")], [counts("a")], { short: 0.5, long: 0.99 }, t).platform).toMatchObject([{ metric: "uptime" }]);
  });

  it("a tenant with too few requests gets no verdict; a blip in its short window alone does not breach", () => {
    const few = counts("a", 10, { requests: 10, buckets: Array(8).fill(10) });
    expect(evaluateSlo([few], [few], up, t).tenants).toEqual([]);
    expect(evaluateSlo([counts("a", 60)], [counts("a", 60, { requests: 10_000, buckets: Array(8).fill(10_000) })], up, t).tenants).toEqual([]);
  });
});
