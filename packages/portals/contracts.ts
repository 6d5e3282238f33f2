import type { PortalName } from "./registry.ts";

/**
 * Every portal's contract type by name, for the typed client (types only: importing this
 * loads no portal code). One line per portal, beside its registry line.
 */
export interface Contracts extends Record<PortalName, unknown> {
  rates: typeof import("./rates/contract.ts").contract;
  crm: typeof import("./crm/contract.ts").contract;
  autonomous: typeof import("./autonomous/contract.ts").contract;
  shipper: typeof import("./shipper/contract.ts").contract;
  broker: typeof import("./broker/contract.ts").contract;
  tms_admin: typeof import("./tms_admin/contract.ts").contract;
  edi: typeof import("./edi/contract.ts").contract;
  carrier: typeof import("./carrier/contract.ts").contract;
  load_board: typeof import("./load_board/contract.ts").contract;
  owner_operator: typeof import("./owner_operator/contract.ts").contract;
  workers: typeof import("./workers/contract.ts").contract;
  directory: typeof import("./directory/contract.ts").contract;
  super_admin: typeof import("./super_admin/contract.ts").contract;
  driver: typeof import("./driver/contract.ts").contract;
  financials: typeof import("./financials/contract.ts").contract;
  factoring: typeof import("./factoring/contract.ts").contract;
  admin: typeof import("./admin/contract.ts").contract;
}
