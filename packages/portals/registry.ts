/**
 * Every portal, once: its name (the `public.portals` row, the prefix of its tables,
 * permissions, flags and events), the edge function serving it, and where its manifest and
 * contract live (relative to this file). Adding a portal is one line here.
 *
 * Read by the autopilot (which functions to call for the agents' turn), the typed client
 * (paths; the contracts' types are in contracts.ts), the local runtime and the tests. Manifests are imported only by
 * their own function entry, and dynamically (`loadManifest`) by scripts and tests, so a
 * deployed function bundles its own portal and nothing else.
 */
export const PORTALS = [
  { name: "rates", fn: "rates" },
  { name: "crm", fn: "webhooks" },
  { name: "autonomous", fn: "autonomous" },
  { name: "shipper", fn: "shipper" },
  { name: "broker", fn: "broker" },
  { name: "tms_admin", fn: "tms_admin" },
  { name: "carrier", fn: "carrier" },
  { name: "load_board", fn: "load_board" },
  { name: "owner_operator", fn: "owner_operator" },
  { name: "workers", fn: "workers" },
  { name: "directory", fn: "directory" },
  { name: "super_admin", fn: "super_admin" },
  { name: "driver", fn: "driver" },
  { name: "edi", fn: "edi" },
  { name: "financials", fn: "financials" },
  { name: "factoring", fn: "factoring" },
  { name: "admin", fn: "admin" },
] as const;

export type PortalName = (typeof PORTALS)[number]["name"];

/** Functions that serve no portal (the platform's own); everything else is a portal's. */
export const PLATFORM_FUNCTIONS = ["health", "live-feed", "outbox-relay", "autopilot", "console", "webhooks", "documents", "site"] as const;

export const portalFn = (name: string): string | undefined => PORTALS.find((p) => p.name === name)?.fn;

/** A portal's manifest, loaded on demand (scripts and tests; functions import their own). */
export async function loadManifest(name: string): Promise<import("../shared/pipeline/manifest.ts").PortalManifest> {
  if (!PORTALS.some((p) => p.name === name)) throw new Error(`unknown portal: ${name}`);
  const mod = await import(new URL(`./${name}/index.ts`, import.meta.url).href);
  return mod.default;
}
