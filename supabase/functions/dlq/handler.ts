import { portalEnv, servePortal } from "../../../packages/shared/pipeline/portal.ts";
import { approve, replay } from "./actions.ts";

/** The Autonomous portal's replay tools: POST /functions/v1/dlq/replay and /dlq/approve. */
export const dlq = servePortal("dlq", [replay, approve], portalEnv((k) => Deno.env.get(k)));
export const handler = dlq.handler;
