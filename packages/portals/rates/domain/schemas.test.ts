import { describe, expect, it } from "vitest";
import { fieldErrors } from "../../../shared/http/problems.ts";
import { contractUpsertSchema, daysBetween, INDEX_COLUMNS, indexRowSchema, makePriceOneSchema } from "./schemas.ts";

const priceOne = makePriceOneSchema({ today: () => "2026-03-10", maxPastDays: 3 });
const paths = (r: { success: boolean; error?: unknown }) =>
  r.success ? [] : fieldErrors(r.error as Parameters<typeof fieldErrors>[0]).map((e) => `${e.path}: ${e.message}`);

describe("price_one input", () => {
  it("accepts a ZIP to ZIP3 van quote, trimming codes", () => {
    const r = priceOne.safeParse({ origin: " 60601", destination: "902", equipment: "van", pickup_date: "2026-03-12" });
    expect(r.success && r.data).toEqual({ origin: "60601", destination: "902", equipment: "van", pickup_date: "2026-03-12" });
    expect(priceOne.safeParse({
      origin: "60601",
      destination: "90210",
      equipment: "reefer",
      pickup_date: "2026-03-07",
      hints: { contract_id: "00000000-0000-0000-0000-000000000001", customer_ref: "ACME" },
    }).success).toBe(true);
  });

  it("names every bad field at once", () => {
    const r = priceOne.safeParse({ origin: "6060", destination: "00000", equipment: "tanker", pickup_date: "2026-03-06", pickupDate: "x" });
    expect(paths(r)).toEqual([
      "origin: Expected a 5-digit ZIP or a ZIP3",
      "destination: Unknown or unserved US ZIP: 00000",
      'equipment: Invalid option: expected one of "van"|"reefer"|"flatbed"',
      "pickup_date: pickup_date is more than 3 days in the past",
      ': Unrecognized key: "pickupDate"',
    ]);
  });

  it("reports missing fields as Required and rejects bad dates", () => {
    expect(paths(priceOne.safeParse({ equipment: "van", pickup_date: "2026-02-30" }))).toEqual([
      "origin: Required",
      "destination: Required",
      "pickup_date: Expected a date as YYYY-MM-DD",
    ]);
    expect(paths(priceOne.safeParse({ origin: "606", destination: "902", equipment: "van", pickup_date: "2027-06-01" })))
      .toEqual(["pickup_date: pickup_date is more than 365 days ahead"]);
  });

  it("refuses the same origin and destination", () => {
    expect(paths(priceOne.safeParse({ origin: "606", destination: "606", equipment: "van", pickup_date: "2026-03-10" })))
      .toEqual(["destination: destination must differ from origin"]);
  });
});

describe("contract_upsert input", () => {
  const contract = {
    origin: "606",
    destination: "pacific",
    equipment: "reefer",
    rate: { kind: "per_mile", per_mile: 2.85 },
    valid_from: "2026-01-01",
    valid_to: "2026-06-30",
  };

  it("accepts per-mile and flat contracts on ZIP3 or region lanes", () => {
    expect(contractUpsertSchema.safeParse(contract).success).toBe(true);
    expect(contractUpsertSchema.safeParse({ ...contract, origin: "east_north_central", rate: { kind: "flat", amount: 4200 } }).success).toBe(true);
  });

  it("names bad lanes and rates, and checks valid_from <= valid_to", () => {
    expect(paths(contractUpsertSchema.safeParse({ ...contract, origin: "60601", rate: { kind: "per_mile", per_mile: -1 } })))
      .toEqual([
        expect.stringMatching(/^origin: Expected a ZIP3 \(e\.g\. 606\) or a region \(new_england, /),
        "rate.per_mile: Too small: expected number to be >0",
      ]);
    expect(paths(contractUpsertSchema.safeParse({ ...contract, valid_from: "2026-07-01" })))
      .toEqual(["valid_to: valid_to must be on or after valid_from"]);
    expect(contractUpsertSchema.safeParse({ ...contract, valid_to: contract.valid_from }).success).toBe(true);
  });
});

describe("index row", () => {
  const row = { origin_zip3: "606", destination_zip3: "902", equipment: "van", rate_per_mile: "2.41", effective_date: "2026-03-02", source: "dat" };

  it("parses CSV strings into typed values", () => {
    expect(indexRowSchema.parse({ ...row, sample_size: "1240" })).toEqual({ ...row, rate_per_mile: 2.41, sample_size: 1240 });
    expect(INDEX_COLUMNS).toEqual(["origin_zip3", "destination_zip3", "equipment", "rate_per_mile", "effective_date", "source", "sample_size"]);
  });

  it("names every bad cell", () => {
    expect(paths(indexRowSchema.safeParse({ ...row, origin_zip3: "60601", rate_per_mile: "2,41", effective_date: undefined, source: " " })))
      .toEqual([
        "origin_zip3: Expected a ZIP3 (3 digits)",
        "rate_per_mile: Expected a decimal number like 2.45",
        "effective_date: Required",
        "source: Required",
      ]);
    expect(paths(indexRowSchema.safeParse({ ...row, rate_per_mile: "0" }))).toEqual(["rate_per_mile: Must be greater than 0"]);
  });
});

describe("daysBetween", () => {
  it("counts calendar days across month ends and DST", () => {
    expect(daysBetween("2026-02-27", "2026-03-02")).toBe(3);
    expect(daysBetween("2026-03-10", "2026-03-07")).toBe(-3);
  });
});
