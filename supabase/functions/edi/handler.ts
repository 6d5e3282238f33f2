import manifest from "../../../packages/portals/edi/index.ts";
import { portalEnv, servePortal } from "../../../packages/shared/pipeline/portal.ts";

/** The edi portal's function: its manifest served (packages/portals/edi/README.md). */
export const { handler } = servePortal(manifest, portalEnv((k) => Deno.env.get(k), ["jwtSecret"]));
