import { defineDetector } from "../../shared/pipeline/detector.ts";
import { billApprove } from "./actions/writes.ts";

/**
 * Bill approval: a carrier bill the three-way match left `matched` (within
 * financials.billVarianceToleranceCents, POD and rate confirmation on file, no duplicate) is
 * approved by the agent. Held bills (variance, duplicate, missing POD) wait for a human.
 * The key is the bill: a reverted approval is not redone by the agent.
 */
export const billApproval = defineDetector({
  portal: "financials",
  name: "financials_bill_approval",
  detect: async (tx, tenantId) => {
    const rows = await tx`select id from public.financials_bills where tenant_id = ${tenantId} and status = 'matched' order by created_at, id limit 200`;
    return rows.map((r) => ({ action: billApprove, key: `approve:${r.id}`, input: { bill_id: r.id as string } }));
  },
});
