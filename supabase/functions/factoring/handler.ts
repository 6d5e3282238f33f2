import manifest from "../../../packages/portals/factoring/index.ts";
import { portalEnv, servePortal } from "../../../packages/shared/pipeline/portal.ts";

/** The factoring portal's function: its manifest served (packages/portals/factoring/README.md). */
export const { handler } = servePortal(manifest, portalEnv((k) => Deno.env.get(k), ["jwtSecret"]));
