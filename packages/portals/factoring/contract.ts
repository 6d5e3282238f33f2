import { z } from "zod";
import { action, defineContract } from "../../shared/pipeline/contract.ts";
import type { MoneyResult } from "../../shared/freight/money-action.ts";

/**
 * The Factoring portal (finance staff): Notices of Assignment (a carrier's pay goes to its
 * factor while one is active; a direct payout to the carrier is refused in Postgres,
 * noa_active) and Letters of Release (the carrier is paid again).
 */
export const contract = defineContract("factoring", {
  actions: {
    noa_record: action<MoneyResult>()({
      input: z.strictObject({ carrier_party_id: z.guid(), factor_party_id: z.guid(), effective_on: z.iso.date().optional(), document_id: z.guid().optional() }),
      kind: "write",
    }),
    noas: action<{ noas: { noa_id: string; carrier_party_id: string; factor_party_id: string; status: string; effective_on: string }[] }>()({
      input: z.strictObject({ status: z.enum(["active", "all"]).default("active") }),
      kind: "read",
    }),
    noa_release: action<MoneyResult>()({ input: z.strictObject({ noa_id: z.guid(), reason: z.string().trim().min(1).max(500) }), kind: "write" }),
  },
  events: ["factoring.noa.recorded", "factoring.noa.released"],
});
