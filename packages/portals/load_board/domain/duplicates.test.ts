import { describe, expect, it } from "vitest";
import { laneKey, planMerges, type PostFacts } from "./duplicates.ts";

const post = (id: string, minute: number, f: Partial<PostFacts> = {}): PostFacts => ({
  id, posted_by: `staff-${id}`, origin_city: "Chicago", origin_region: "IL", destination_city: "Dallas", destination_region: "TX",
  pickup_on: "2026-12-10", equipment_type: "van", created_at: new Date(Date.UTC(2026, 11, 1, 12, minute)), ...f,
});

describe("duplicate load board posts", () => {
  it("compares lanes ignoring case and surrounding spaces (as app_private.load_board_lane_key does)", () => {
    expect(laneKey(post("a", 0))).toBe("chicago|il|dallas|tx");
    expect(laneKey(post("b", 0, { origin_city: "  CHICAGO ", destination_region: "tx" }))).toBe(laneKey(post("a", 0)));
    expect(laneKey(post("c", 0, { origin_city: null }))).toBe("|il|dallas|tx");
  });

  it("merges every later post of a lane, day and equipment into the oldest", () => {
    expect(planMerges([post("b", 5), post("a", 1), post("c", 9, { origin_city: "chicago" })])).toEqual([
      { post_id: "b", into_post_id: "a" },
      { post_id: "c", into_post_id: "a" },
    ]);
  });

  it("keeps posts apart that differ in lane, pickup day or equipment", () => {
    expect(planMerges([
      post("a", 1), post("b", 2, { destination_city: "Houston" }), post("c", 3, { pickup_on: "2026-12-11" }),
      post("d", 4, { equipment_type: "reefer" }),
    ])).toEqual([]);
  });

  it("breaks a tie on the creation time by id, so every tick plans the same merge", () => {
    expect(planMerges([post("z", 1), post("m", 1)])).toEqual([{ post_id: "z", into_post_id: "m" }]);
  });
});
