import type { AnyAction } from "./action.ts";
import type { ActionContract, PortalContract } from "./contract.ts";
import type { Detector } from "./detector.ts";

/** How a portal's function is reached (portals: POST /<fn>/<action> with a JWT or HMAC v2). */
export interface HttpOptions {
  /**
   * "path": POST /<fn>/<action> (portals). "event": one endpoint; the body's `type` names
   * the action (inbound webhooks; each action declares its eventType).
   */
  routeBy?: "path" | "event";
  /** The header carrying the idempotency key ("webhook-id" for inbound webhooks). */
  idempotencyHeader?: string;
  /** Refuse JWT callers: only HMAC-signed machine requests (n8n) are accepted. */
  machineOnly?: boolean;
}

/** A portal: its contract, the actions implementing it, its agents' detectors. */
export interface PortalManifest {
  name: string;
  fn: string;
  contract: PortalContract<string, Record<string, ActionContract>>;
  actions: AnyAction[];
  detectors: Detector[];
  http: HttpOptions;
}

/**
 * The composition root of a portal. Every contract entry must be implemented exactly once,
 * by an action of this portal; every detector belongs to it too.
 */
export function definePortal(m: {
  contract: PortalContract<string, Record<string, ActionContract>>;
  actions: AnyAction[];
  detectors?: Detector[];
  http?: HttpOptions;
}): PortalManifest {
  const { contract } = m;
  const names = new Set<string>();
  for (const a of m.actions) {
    if (a.portal !== contract.portal) throw new Error(`${contract.portal}: action ${a.name} belongs to portal ${a.portal}`);
    if (names.has(a.name)) throw new Error(`${contract.portal}: action ${a.name} is listed twice`);
    if (contract.actions[a.name] === undefined) throw new Error(`${contract.portal}: action ${a.name} is not in the contract`);
    names.add(a.name);
  }
  const missing = Object.keys(contract.actions).filter((n) => !names.has(n));
  if (missing.length) throw new Error(`${contract.portal}: contract actions without an implementation: ${missing.join(", ")}`);
  for (const d of m.detectors ?? []) {
    if (d.portal !== contract.portal) throw new Error(`${contract.portal}: detector ${d.name} belongs to portal ${d.portal}`);
  }
  return { name: contract.portal, fn: contract.fn, contract, actions: m.actions, detectors: m.detectors ?? [], http: m.http ?? {} };
}
