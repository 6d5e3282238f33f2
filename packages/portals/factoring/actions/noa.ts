import { contract } from "../contract.ts";
import { moneyAction } from "../../../shared/freight/money-action.ts";

/** factoring/noa_record: app_private.factoring_noa_record (one active NOA per carrier: noa_conflict). */
export const noaRecord = moneyAction(contract.actions.noa_record, (tx, i) =>
  tx`select app_private.factoring_noa_record(${i.carrier_party_id}, ${i.factor_party_id}, ${i.effective_on ?? null}, ${i.document_id ?? null}) as r`);

/** factoring/noa_release: the Letter of Release (app_private.factoring_noa_release). */
export const noaRelease = moneyAction(contract.actions.noa_release, (tx, i) =>
  tx`select app_private.factoring_noa_release(${i.noa_id}, ${i.reason}) as r`);
