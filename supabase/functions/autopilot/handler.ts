import { loadConfig } from "../../../packages/shared/config/env.ts";
import { json } from "../../../packages/shared/http/json.ts";
import { refuse } from "../../../packages/shared/http/outcome.ts";
import { refusalResponse } from "../../../packages/shared/http/problems.ts";
import { isServiceRole } from "../../../packages/shared/security/service-role.ts";
import { createContext } from "./context.ts";
import { daily, every5m, monthly } from "./jobs.ts";
import { tick } from "./tick.ts";
import { dispatchAlerts } from "./alerts.ts";

/**
 * The autopilot (autopilot@, charter §1): the scheduled jobs pg_cron calls with the service
 * key. POST /autopilot/tick (30 s), /every_5m, /daily, /monthly, /alerts (send now).
 */
const ctx = createContext(loadConfig((k) => Deno.env.get(k), ["jwtSecret", "SUPABASE_URL"]));

const JOBS: Record<string, (req: Request) => Promise<unknown>> = {
  tick: (req) => tick(ctx, req),
  every_5m: () => every5m(ctx),
  daily: () => daily(ctx),
  monthly: () => monthly(ctx),
  alerts: () => dispatchAlerts(ctx),
};

export async function handler(req: Request): Promise<Response> {
  const job = JOBS[new URL(req.url).pathname.split("/")[2] ?? ""];
  if (!job) return refusalResponse(refuse("not_found", { detail: `Jobs: ${Object.keys(JOBS).join(", ")}` }).problem);
  if (req.method !== "POST") return refusalResponse(refuse("method_not_allowed", { allow: ["POST"] }).problem);
  if (!(await isServiceRole(req.headers.get("authorization"), ctx.config.SWITCHYARD_JWT_SECRET))) {
    return refusalResponse(refuse("forbidden", { detail: "Only the scheduler runs autopilot jobs" }).problem);
  }
  const out = await job(req);
  await ctx.telemetry.flush();
  return json(out);
}
