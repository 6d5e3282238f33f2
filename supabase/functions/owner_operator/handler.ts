import manifest from "../../../packages/portals/owner_operator/index.ts";
import { portalEnv, servePortal } from "../../../packages/shared/pipeline/portal.ts";

/** The Owner Operator portal's function: its manifest served (packages/portals/owner_operator/README.md). */
export const { handler } = servePortal(manifest, portalEnv((k) => Deno.env.get(k), ["jwtSecret"]));
