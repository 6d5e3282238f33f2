import { z } from "zod";
import { action, defineContract } from "../../shared/pipeline/contract.ts";

/** What the endpoint answers for one inbound interchange. */
export interface ReceiveResult {
  interchange_id: string;
  /** applied | partially_applied | duplicate | rejected */
  state: string;
  duplicate_of: string | null;
  /** a TA1-style envelope rejection (TA105 note code) or an unknown partner */
  rejection: { code: string; note: string } | null;
  /** the 997 we queued for it (or the original's, for a duplicate) */
  ack_interchange_id: string | null;
  ack: string | null;
  /** 990s queued in reply to booked 204s */
  replies: string[];
  sets: { set_id: string; control: string; state: string; ack: string; load_id: string | null; error: string | null }[];
}

export interface MailboxFile {
  interchange_id: string;
  control_number: string;
  functional_id: string;
  raw: string;
  sha256: string;
}

/** 2 MB at most (the body limit): one interchange per request, the X12 text as a JSON string. */
const interchange = z.string().min(1).max(1_900_000);

export const contract = defineContract("edi", {
  actions: {
    receive: action<ReceiveResult>()({ input: z.strictObject({ interchange }), kind: "write" }),
    mailbox: action<{ files: MailboxFile[] }>()({
      input: z.strictObject({ partner_id: z.guid(), limit: z.number().int().min(1).max(100).default(20) }),
      kind: "write",
    }),
    interchanges: action<{ interchanges: Record<string, unknown>[] }>()({
      input: z.strictObject({ state: z.enum(["received", "applied", "partially_applied", "duplicate", "rejected", "queued", "picked_up"]).optional(), limit: z.number().int().min(1).max(200).default(50) }),
      kind: "read",
    }),
  },
  events: ["edi.interchange.received", "edi.interchange.queued"],
});
