import manifest from "../../../packages/portals/financials/index.ts";
import { portalEnv, servePortal } from "../../../packages/shared/pipeline/portal.ts";

/** The financials portal's function: its manifest served (packages/portals/financials/README.md). */
export const { handler } = servePortal(manifest, portalEnv((k) => Deno.env.get(k), ["jwtSecret"]));
