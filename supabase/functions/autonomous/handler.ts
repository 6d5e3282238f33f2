import manifest from "../../../packages/portals/autonomous/index.ts";
import { portalEnv, servePortal } from "../../../packages/shared/pipeline/portal.ts";

/** The autonomous portal's function: its manifest served (packages/portals/autonomous/README.md). */
export const { handler } = servePortal(manifest, portalEnv((k) => Deno.env.get(k), ["jwtSecret"]));
