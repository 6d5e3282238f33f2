import manifest from "../../../packages/portals/super_admin/index.ts";
import { portalEnv, servePortal } from "../../../packages/shared/pipeline/portal.ts";

/** The Super Admin portal's function: its manifest served (packages/portals/super_admin/README.md). */
export const { handler } = servePortal(manifest, portalEnv((k) => Deno.env.get(k), ["jwtSecret"]));
