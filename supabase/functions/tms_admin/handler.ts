import manifest from "../../../packages/portals/tms_admin/index.ts";
import { portalEnv, servePortal } from "../../../packages/shared/pipeline/portal.ts";

/** The tms_admin portal's function: its manifest served (packages/portals/tms_admin/README.md). */
export const { handler } = servePortal(manifest, portalEnv((k) => Deno.env.get(k), ["jwtSecret"]));
