import { loadConfig } from "../../../packages/shared/config/env.ts";
import { db } from "../../../packages/shared/db/client.ts";
import { json } from "../../../packages/shared/http/json.ts";
import { refuse } from "../../../packages/shared/http/outcome.ts";
import { refusalResponse } from "../../../packages/shared/http/problems.ts";
import { createLogger } from "../../../packages/shared/observability/logger.ts";
import { Relay, RELAY_PRINCIPAL, SCHEDULED_DRAIN_MS } from "../../../packages/shared/outbox/relay.ts";
import { refusalFromDb } from "../../../packages/shared/pipeline/db-errors.ts";
import { isServiceRole } from "../../../packages/shared/security/service-role.ts";

/**
 * Drains the outbox once (pg_cron's 30 s safety net calls it with the service key; a
 * LISTEN worker does the low-latency work), as relay@, within SCHEDULED_DRAIN_MS (its pg_net
 * call waits longer). Answers what it claimed and delivered.
 */
const log = createLogger("outbox-relay");
const config = loadConfig((k) => Deno.env.get(k), ["jwtSecret"]);
const relay = new Relay(db(config.SUPABASE_DB_URL), { principalId: RELAY_PRINCIPAL }, log);

export async function handler(req: Request): Promise<Response> {
  if (req.method !== "POST") return refusalResponse(refuse("method_not_allowed", { allow: ["POST"] }).problem);
  if (!(await isServiceRole(req.headers.get("authorization"), config.SWITCHYARD_JWT_SECRET))) {
    return refusalResponse(refuse("forbidden", { detail: "Only the scheduler may drain the outbox" }).problem);
  }
  try {
    return json(await relay.drain(SCHEDULED_DRAIN_MS));
  } catch (err) {
    const refusal = refusalFromDb(err);
    if (refusal) return refusalResponse(refusal.problem);
    log.error({ err: err instanceof Error ? err.message : String(err) }, "drain failed");
    return refusalResponse(refuse("internal_error").problem);
  }
}
