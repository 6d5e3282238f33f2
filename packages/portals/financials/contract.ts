import { z } from "zod";
import { action, defineContract, revertContract } from "../../shared/pipeline/contract.ts";
import { centsSchema } from "../../shared/freight/schemas.ts";
import type { MoneyResult } from "../../shared/freight/money-action.ts";


const id = z.guid();
const note = z.string().trim().min(1).max(500);
const positiveCents = centsSchema.min(1);
const invoiceLine = z.union([
  z.strictObject({
    kind: z.enum(["linehaul", "fuel", "tonu", "lumper", "accessorial"]),
    amount_cents: positiveCents,
    description: z.string().max(200).optional(),
  }),
  /** Only a credit is negative. */
  z.strictObject({ kind: z.literal("credit"), amount_cents: z.number().int("Money is integer cents").max(-1), description: z.string().max(200).optional() }),
  /** Detention after free time: billed (minutes - free_minutes) * rate / 60, rounded down. */
  z.strictObject({
    kind: z.literal("detention"),
    minutes: z.number().int().min(0).max(100_000),
    free_minutes: z.number().int().min(0).max(100_000).optional(),
    rate_cents_per_hour: positiveCents,
    description: z.string().max(200).optional(),
  }),
]);

/**
 * The Financials portal (finance staff): AR invoices released from delivered loads with a
 * POD, credit memos, payments (short-pays; an overpayment is an explicit customer credit),
 * AP carrier bills three-way matched (rate confirmation, carrier invoice, POD) within a
 * variance tolerance, approvals (the agent's are revertible) and idempotent payout runs.
 * Every write is one Postgres function posting its journal entry in the same transaction.
 */
export const contract = defineContract("financials", {
  actions: {
    ...revertContract,
    invoice_release: action<MoneyResult>()({
      input: z.strictObject({ load_id: id, lines: z.array(invoiceLine).min(1).max(50).optional(), due_days: z.number().int().min(0).max(365).optional() }),
      kind: "write",
    }),
    credit_memo: action<MoneyResult>()({ input: z.strictObject({ invoice_id: id, amount_cents: positiveCents, reason: note }), kind: "write" }),
    payment_apply: action<MoneyResult>()({
      input: z.strictObject({ invoice_id: id, amount_cents: positiveCents, external_ref: z.string().trim().min(1).max(200) }),
      kind: "write",
    }),
    bill_receive: action<MoneyResult>()({
      input: z.strictObject({ load_id: id, invoice_number: z.string().trim().min(1).max(64), amount_cents: positiveCents }),
      kind: "write",
    }),
    bill_approve: action<MoneyResult>()({ input: z.strictObject({ bill_id: id, note: note.optional() }), kind: "write" }),
    bill_unapprove: action<MoneyResult>()({ input: z.strictObject({ bill_id: id }), kind: "write" }),
    payout_run: action<MoneyResult>()({
      input: z.strictObject({ run_key: z.string().trim().min(1).max(120), bill_ids: z.array(id).max(500).optional() }),
      kind: "write",
    }),
    trial_balance: action<{ balances: { currency: string; balance_cents: number; lines: number }[] }>()({ input: z.strictObject({ currency: z.string().regex(/^[A-Z]{3}$/, "an ISO 4217 code such as USD").optional() }), kind: "read" }),
  },
  events: [
    "financials.invoice.released", "financials.credit_memo.issued", "financials.payment.received", "financials.bill.matched",
    "financials.bill.held", "financials.bill.approved", "financials.bill.unapproved", "financials.payout.paid",
    "financials.payout_batch.completed", "freight.journal_entry.posted", "freight.journal_entry.reversed",
  ],
});
