import { definePortal } from "../../shared/pipeline/manifest.ts";
import { revertActions } from "../../shared/pipeline/revert.ts";
import { trialBalance } from "./actions/trial-balance.ts";
import { billApprove, billReceive, billUnapprove, creditMemo, invoiceRelease, paymentApply, payoutRun } from "./actions/writes.ts";
import { contract } from "./contract.ts";

/** The Financials portal: AR invoices, credit memos, payments, AP bills (three-way match), approvals, payout runs. */
export default definePortal({
  contract,
  actions: [
    invoiceRelease, creditMemo, paymentApply, billReceive, billApprove, billUnapprove, payoutRun, trialBalance,
    ...revertActions(contract, [billApprove]),
  ],
  // The bill-approval agent waits for agents@ to hold finance.read / the approval permission (a
  // platform decision on money authority): until then matched bills are approved by a human.
  detectors: [],
});
