import { z } from "zod";
import { action, defineContract, revertContract } from "../../shared/pipeline/contract.ts";

const text = (max: number) => z.string().trim().min(1).max(max);
/** Up to 5 MB of CSV text per file (the body limit of the edge bounds the request too). */
const csv = z.string().max(5_000_000);

export interface Screening {
  screening_id: string;
  party_id: string;
  list_id: string;
  outcome: "clear" | "review" | "match";
  score: number;
  block_id: string | null;
}
export interface PartyCreated {
  party_id: string;
  /** null when the tenant has no sanctions list loaded yet (the agent screens it once one is). */
  screening: Screening | null;
}
export interface ListLoaded {
  list_id: string;
  sha256: string;
  entries: number;
  aliases: number;
  addresses: number;
}
export interface CensusImported {
  import_id: string;
  rows: number;
  applied: number;
  unknown: number;
}
export interface BlockResult {
  block_id: string;
  party_id: string;
  reason: string;
  cleared: boolean;
}
export interface PartyFile {
  party_id: string;
  kind: string;
  status: string;
  blocks: { block_id: string; reason: string; note: string | null; set_at: string; cleared_at: string | null; clear_reason: string | null }[];
  screenings: { screening_id: string; list_id: string; outcome: string; score: number; ent_num: number | null; matched_kind: string | null; screened_at: string }[];
  kyc: { legal_name: string; ein: string; w9_document_id: string | null; beneficial_owners: { name: string; ownership_pct: number }[] } | null;
  census: { dot_number: string; allowed_to_operate: boolean; authority_status: string; insurance_on_file_cents: number; insurance_required_cents: number; safety_rating: string; out_of_service_date: string | null } | null;
  watchlists: string[];
}

const owner = z.strictObject({ name: text(200), ownership_pct: z.number().gt(0).max(100) });

export const contract = defineContract("directory", {
  actions: {
    party_create: action<PartyCreated>()({
      input: z.strictObject({
        kind: z.enum(["shipper", "carrier", "factor", "vendor"]),
        name: text(200),
        legal_name: text(200).optional(),
        dot_number: z.string().regex(/^\d{1,8}$/).optional(),
        mc_number: z.string().regex(/^\d{1,8}$/).optional(),
        scac: z.string().regex(/^[A-Z]{2,4}$/).optional(),
      }),
      kind: "write",
    }),
    party_screen: action<Screening>()({ input: z.strictObject({ party_id: z.guid() }), kind: "write" }),
    sanctions_load: action<ListLoaded>()({
      input: z.strictObject({ source: text(200), sdn_csv: csv, alt_csv: csv.default(""), add_csv: csv.default("") }),
      kind: "write",
    }),
    sanctions_clear: action<BlockResult>()({
      input: z.strictObject({ block_id: z.guid(), clear_reason: text(500).refine((s) => s.length >= 3, "At least 3 characters") }),
      kind: "write",
    }),
    census_import: action<CensusImported>()({ input: z.strictObject({ csv }), kind: "write" }),
    carrier_block: action<BlockResult>()({
      input: z.strictObject({ carrier_party_id: z.guid(), reason: z.enum(["authority", "insurance"]), note: text(500) }),
      kind: "write",
    }),
    carrier_unblock: action<BlockResult>()({ input: z.strictObject({ block_id: z.guid(), clear_reason: text(500) }), kind: "write" }),
    kyc_upsert: action<{ kyc_id: string; party_id: string }>()({
      input: z.strictObject({
        party_id: z.guid(),
        legal_name: text(200),
        ein: z.string().regex(/^\d{2}-\d{7}$/, "An EIN is NN-NNNNNNN"),
        address_line: text(200),
        city: text(100),
        region: text(100),
        postal_code: text(20),
        country: z.string().regex(/^[A-Z]{2}$/).default("US"),
        w9_document_id: z.guid().optional(),
        beneficial_owners: z.array(owner).max(20).default([])
          .refine((o) => o.reduce((s, x) => s + x.ownership_pct, 0) <= 100, "Ownership adds up to at most 100%"),
      }),
      kind: "write",
    }),
    watchlist_set: action<{ list_name: string; party_id: string; listed: boolean }>()({
      input: z.strictObject({ list_name: z.string().regex(/^[a-z][a-z0-9_]{1,39}$/), party_id: z.guid(), listed: z.boolean(), note: text(500).optional() }),
      kind: "write",
    }),
    party: action<PartyFile>()({ input: z.strictObject({ party_id: z.guid() }), kind: "read" }),
    ...revertContract,
  },
  events: [
    "freight.party.created", "freight.party.blocked", "freight.party.unblocked",
    "directory.sanctions_list.loaded", "directory.screening.recorded", "directory.screening.review_requested",
    "directory.census.imported", "directory.kyc.updated", "directory.watchlist.changed",
  ],
});
