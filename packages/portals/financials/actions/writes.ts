import { contract } from "../contract.ts";
import { jsonb } from "../../../shared/db/client.ts";
import { moneyAction } from "../../../shared/freight/money-action.ts";

/** financials/invoice_release: app_private.financials_invoice_release (delivered + POD; invoice_not_ready, invoice_line_invalid). */
export const invoiceRelease = moneyAction(contract.actions.invoice_release, (tx, i) =>
  tx`select app_private.financials_invoice_release(${i.load_id}, ${i.lines ? jsonb(tx, i.lines) : null}, ${i.due_days ?? 30}) as r`);

/** financials/credit_memo: up to the open balance (invoice_state beyond it). */
export const creditMemo = moneyAction(contract.actions.credit_memo, (tx, i) =>
  tx`select app_private.financials_credit_memo(${i.invoice_id}, ${jsonb(tx, i.amount_cents)}, ${i.reason}) as r`);

/** financials/payment_apply: a manual payment (check, wire), deduplicated by external_ref. */
export const paymentApply = moneyAction(contract.actions.payment_apply, (tx, i) =>
  tx`select app_private.financials_payment_apply(${i.invoice_id}, ${jsonb(tx, i.amount_cents)}, 'manual', ${i.external_ref}) as r`);

/** financials/bill_receive: the three-way match (matched, or held with the reason). */
export const billReceive = moneyAction(contract.actions.bill_receive, (tx, i) =>
  tx`select app_private.financials_bill_receive(${i.load_id}, ${i.invoice_number}, ${jsonb(tx, i.amount_cents)}) as r`);

/** financials/bill_unapprove: back to matched, the accrual reversed (the undo of bill_approve). */
export const billUnapprove = moneyAction(contract.actions.bill_unapprove, (tx, i) =>
  tx`select app_private.financials_bill_unapprove(${i.bill_id}) as r`);

/**
 * financials/bill_approve: a matched bill (the agent), or a held one with a human's note.
 * Reversible: `ops revert <trace>` runs bill_unapprove.
 */
export const billApprove = moneyAction(contract.actions.bill_approve, (tx, i) =>
  tx`select app_private.financials_bill_approve(${i.bill_id}, ${i.note ?? null}) as r`,
  { action: billUnapprove, input: ({ input }) => ({ bill_id: input.bill_id }) });

/** financials/payout_run: every approved bill, each to its payee (the NOA factor when one is active); idempotent by run_key. */
export const payoutRun = moneyAction(contract.actions.payout_run, (tx, i, tenantId) =>
  tx`select app_private.financials_payout_run(${tenantId}, ${i.run_key}, ${i.bill_ids ?? null}) as r`);
