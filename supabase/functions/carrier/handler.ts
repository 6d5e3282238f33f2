import manifest from "../../../packages/portals/carrier/index.ts";
import { portalEnv, servePortal } from "../../../packages/shared/pipeline/portal.ts";

/** The carrier portal's function: its manifest served (packages/portals/carrier/README.md). */
export const { handler } = servePortal(manifest, portalEnv((k) => Deno.env.get(k), ["jwtSecret"]));
