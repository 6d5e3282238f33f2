import { describe, expect, it } from "vitest";
import { type Contract, type ContractQuery, findContract } from "./contracts.ts";

const base = { equipment: "van" as const, valid_from: "2026-01-01", valid_to: "2026-06-30" };
const CONTRACTS: Contract[] = [
  { ...base, id: "region", origin: "east_north_central", destination: "pacific", rate: { kind: "per_mile", per_mile: 2.7 } },
  { ...base, id: "zip3", origin: "606", destination: "902", rate: { kind: "per_mile", per_mile: 2.9 } },
  { ...base, id: "zip3-newer", origin: "606", destination: "902", valid_from: "2026-03-01", rate: { kind: "flat", amount: 5800 } },
  { ...base, id: "acme-only", origin: "606", destination: "902", customer_ref: "ACME", rate: { kind: "per_mile", per_mile: 2.5 } },
  { ...base, id: "reefer", equipment: "reefer", origin: "606", destination: "902", rate: { kind: "per_mile", per_mile: 3.2 } },
];
const Q: ContractQuery = {
  origin: { zip3: "606", region: "east_north_central" },
  destination: { zip3: "902", region: "pacific" },
  equipment: "van",
  pickup_date: "2026-02-10",
};

describe("findContract", () => {
  it("prefers ZIP3 lanes over region lanes, then the latest valid_from", () => {
    expect(findContract(CONTRACTS, Q)?.id).toBe("zip3");
    expect(findContract(CONTRACTS, { ...Q, pickup_date: "2026-03-15" })?.id).toBe("zip3-newer");
    expect(findContract(CONTRACTS, { ...Q, destination: { zip3: "913", region: "pacific" } })?.id).toBe("region");
  });

  it("applies validity dates inclusively", () => {
    expect(findContract(CONTRACTS, { ...Q, pickup_date: "2026-06-30" })).not.toBeNull();
    expect(findContract(CONTRACTS, { ...Q, pickup_date: "2026-07-01" })).toBeNull();
    expect(findContract(CONTRACTS, { ...Q, pickup_date: "2025-12-31" })).toBeNull();
  });

  it("honours customer scope, equipment and a requested contract id", () => {
    expect(findContract(CONTRACTS, { ...Q, customer_ref: "ACME", contract_id: "acme-only" })?.id).toBe("acme-only");
    expect(findContract(CONTRACTS, { ...Q, customer_ref: "ACME" })?.id).toBe("acme-only");
    expect(findContract(CONTRACTS, { ...Q, contract_id: "acme-only" })).toBeNull();
    expect(findContract(CONTRACTS, { ...Q, equipment: "reefer" })?.id).toBe("reefer");
    expect(findContract(CONTRACTS, { ...Q, equipment: "flatbed" })).toBeNull();
  });
});
