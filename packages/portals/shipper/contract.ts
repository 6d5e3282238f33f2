import { z } from "zod";
import { action, defineContract } from "../../shared/pipeline/contract.ts";
import { stopsSchema } from "../../shared/freight/schemas.ts";
import type { TimelineEntry } from "./domain/timeline.ts";

/** What `shipper/book` answers: the order and its load, booked at the quote's sell price. */
export interface BookResult {
  order_id: string;
  load_id: string;
  status: string;
  sell_total_cents: number;
}

/** A stop as the shipper sees it: its window and actuals in the facility's own time. */
export interface TrackedStop {
  stop_id: string;
  sequence: number;
  kind: "pickup" | "delivery";
  facility: string;
  time_zone: string;
  window_start_local: string;
  window_end_local: string;
  actual_arrival_local: string | null;
  actual_departure_local: string | null;
}

export interface TrackingResult {
  load: { load_id: string; reference: string; status: string; exception: boolean; exception_reason: string | null; equipment_type: string };
  stops: TrackedStop[];
  timeline: TimelineEntry[];
  messages: { message_id: string; kind: string; body: string; status: string; sent_at: string }[];
}

export interface DocumentSummary {
  document_id: string;
  load_id: string | null;
  kind: string;
  file_name: string;
  content_type: string;
  size_bytes: number;
  sha256: string;
  created_at: string;
  /** GET it with the same token: the documents function streams the bytes. */
  download: string;
}

export interface InvoiceSummary {
  document_id: string;
  load_id: string;
  load_reference: string;
  file_name: string;
  issued_at: string;
  download: string;
}

const loadRef = z.strictObject({ load_id: z.guid() });

/**
 * The Shipper portal (a customer's door): book from a quote, track, documents, invoices.
 * Quoting is rates/price_one called with the shipper user's token (the quote is made for
 * its party and answered without the cost side). Reads are the party's own rows (RLS).
 */
export const contract = defineContract("shipper", {
  actions: {
    book: action<BookResult>()({
      input: z.strictObject({
        quote_id: z.guid(),
        /** Staff booking for a customer name it; a shipper user books for its own party. */
        shipper_party_id: z.guid().optional(),
        customer_reference: z.string().trim().min(1).max(64).optional(),
        weight_lbs: z.number().int().min(1).max(200_000).optional(),
        commodity: z.string().trim().min(1).max(120).optional(),
        stops: stopsSchema,
      }),
      kind: "write",
    }),
    tracking: action<TrackingResult>()({ input: loadRef, kind: "read" }),
    documents: action<{ documents: DocumentSummary[] }>()({ input: loadRef, kind: "read" }),
    invoices: action<{ invoices: InvoiceSummary[] }>()({ input: z.strictObject({ load_id: z.guid().optional() }), kind: "read" }),
  },
  events: ["freight.order.booked", "freight.load.opened"],
});
