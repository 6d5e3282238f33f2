import { describe, expect, it } from "vitest";
import { localTime, timeline, type TimelineRow } from "./timeline.ts";

const row = (r: Partial<TimelineRow>): TimelineRow => ({
  kind: "tracking", status_code: null, code_description: null, from_status: null, to_status: null, occurred_at: new Date(0),
  stop_sequence: null, time_zone: null, city: null, region: null, ...r,
});

describe("the shipper's tracking timeline", () => {
  it("orders entries by when they happened and says what each means", () => {
    const out = timeline([
      row({ kind: "tracking", status_code: "X3", code_description: "Arrived at pickup location", occurred_at: "2026-12-01T14:20:00Z", stop_sequence: 1, time_zone: "America/Chicago", city: "Chicago", region: "IL" }),
      row({ kind: "status", from_status: "covered", to_status: "dispatched", occurred_at: "2026-12-01T12:00:00Z" }),
    ]);
    expect(out.map((e) => e.text)).toEqual(["Load covered → dispatched", "Arrived at pickup location (stop 1) at Chicago, IL"]);
    expect(out[1]).toMatchObject({ at: "2026-12-01T14:20:00.000Z", at_local: "2026-12-01 08:20 CST", code: "X3" });
    expect(out[0].at_local).toBeNull();
  });

  it("shows stop times in the facility's zone on both sides of a DST change", () => {
    // US DST ended 2026-11-01 02:00 local: 07:00 UTC is 02:00 CDT the day before, 01:00 CST after
    expect(localTime(new Date("2026-10-31T13:00:00Z"), "America/Chicago")).toBe("2026-10-31 08:00 CDT");
    expect(localTime(new Date("2026-11-02T14:00:00Z"), "America/Chicago")).toBe("2026-11-02 08:00 CST");
    expect(localTime(new Date("2026-11-02T14:00:00Z"), "America/Phoenix")).toBe("2026-11-02 07:00 MST");
  });
});
