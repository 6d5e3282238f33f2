import { describe, expect, it } from "vitest";
import { gapSummary, spread } from "./coverage.ts";

describe("gapSummary", () => {
  it("names the queue, the rule and the stretch in UTC", () => {
    expect(gapSummary({ queue_key: "exceptions", gap_start: "2026-12-02T22:00:00Z", gap_end: "2026-12-03T06:30:00Z", min_coverage: 1 }))
      .toBe("Queue exceptions has fewer than 1 worker on shift 2026-12-02 22:00 - 2026-12-03 06:30 UTC (8 h 30 min)");
    expect(gapSummary({ queue_key: "dlq", gap_start: "2026-12-02T22:00:00+01:00", gap_end: "2026-12-02T22:45:00+01:00", min_coverage: 2 }))
      .toBe("Queue dlq has fewer than 2 workers on shift 2026-12-02 21:00 - 2026-12-02 21:45 UTC (45 min)");
  });
});

describe("spread", () => {
  it("is max - min of the loads", () => {
    expect(spread([10, 10, 10])).toBe(0);
    expect(spread([11, 10, 9])).toBe(2);
    expect(spread([])).toBe(0);
  });
});
