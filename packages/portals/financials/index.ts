import { definePortal } from "../../shared/pipeline/manifest.ts";
import { revertActions } from "../../shared/pipeline/revert.ts";
import { trialBalance } from "./actions/trial-balance.ts";
import { billApprove, billReceive, billUnapprove, creditMemo, invoiceRelease, paymentApply, payoutRun } from "./actions/writes.ts";
import { contract } from "./contract.ts";
import { billApproval } from "./detectors.ts";

/** The Financials portal: AR invoices, credit memos, payments, AP bills (three-way match), approvals, payout runs. */
export default definePortal({
  contract,
  actions: [
    invoiceRelease, creditMemo, paymentApply, billReceive, billApprove, billUnapprove, payoutRun, trialBalance,
    ...revertActions(contract, [billApprove]),
  ],
  detectors: [billApproval],
});
