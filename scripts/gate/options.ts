/**
 * Gate options: flags win over environment variables, which win over the local default
 * stack. The SLO thresholds are the live `slo.*` flags (operators tune them) unless given
 * here; the rest, and the flags' fallbacks, come from k6/thresholds.json (load/thresholds.ts),
 * the file the k6 scripts read: the charter's §8 (success >= 98%, p95 <= 2.5 s, portals
 * 1.5 s, outbox lag p95 < 5 s).
 */
import { z } from "zod";
import { apiUrl, loadInstance } from "../stack/instance.ts";
import { check, interval, parse } from "../ops/args.ts";
import { resolveDbUrl } from "../ops/db.ts";
import { usage } from "../ops/errors.ts";
import type { Window } from "../ops/metrics.ts";
import { LOAD, limitOf, peakRate, scenarioSeconds } from "../../load/thresholds.ts";

const SMOKE = { rate: peakRate(LOAD.runs.smoke.health), seconds: scenarioSeconds(LOAD.runs.smoke.health) };
const K6_OUTCOMES = ["success", "failure", "cancelled", "skipped"] as const;

export const GATE_USAGE = `npm run gate -- [options]
  --api-url URL             functions host for the load smoke (SWITCHYARD_API_URL, SUPABASE_URL)
  --anon-key KEY            bearer for the smoke (SWITCHYARD_ANON_KEY, SUPABASE_ANON_KEY)
  --console-url URL         trace links (SWITCHYARD_CONSOLE_URL, default <api>/functions/v1/console)
  --report PATH             markdown report (GATE_REPORT, default gate-report.md)
  --window 15m              what the rate checks cover (GATE_WINDOW)
  --since ISO               judge only what happened since the deploy (GATE_SINCE)
  --max-new-dlq 0           DLQ entries allowed to appear in the window
  --max-oldest-lag 120      seconds an undelivered outbox event may wait
  --max-lag-p95 ${String(limitOf("outbox_lag")).padEnd(11)} ms, commit -> delivered (k6/thresholds.json's outbox_lag)
  --min-success R           per function/portal (slo_summary; default: the flag slo.successMin)
  --max-p95 MS              ms, per function (default: the flag slo.p95MaxMs)
  --max-portal-p95 MS       ms, per portal (default: the flag slo.portalP95MaxMs)
  --min-requests N          fewer requests in the window: no verdict (default: the flag slo.minRequests)
  --expect-mode FULL        the autonomy.mode the flags check expects
  --load-rate ${SMOKE.rate} --load-seconds ${SMOKE.seconds} | --skip-load   (the autocannon smoke on health)
  --k6-outcome OUTCOME      the k6 smoke's step outcome (GATE_K6_OUTCOME): success passes;
                            failure (k6 exits 99 on a crossed threshold), cancelled, skipped fail
  --json                    one JSON document on stdout
Database: SUPABASE_DB_URL (else the local default stack).
Exit: 0 all green; 1 a check failed and agents.autonomousEnabled was set false; 2 usage;
3 a check failed and agents could NOT be disabled; 5 the database is unreachable.`;

export interface GateOptions {
  dbUrl: string;
  apiUrl: string | null;
  anonKey: string | null;
  consoleUrl: string;
  report: string;
  window: Window;
  maxNewDlq: number;
  maxOldestLagSeconds: number;
  maxLagP95Ms: number;
  /** null: the flag slo.successMin */
  minSuccess: number | null;
  /** null: the flag slo.p95MaxMs */
  maxP95Ms: number | null;
  /** null: the flag slo.portalP95MaxMs */
  maxPortalP95Ms: number | null;
  /** null: the flag slo.minRequests */
  minRequests: number | null;
  expectMode: string;
  load: { rate: number; seconds: number } | null;
  /** how the k6 smoke's step ended, when one ran before the gate */
  k6Outcome: (typeof K6_OUTCOMES)[number] | null;
  json: boolean;
}

const num = (min: number, max: number) => z.coerce.number().min(min).max(max);

export function gateOptions(argv: string[], env: NodeJS.ProcessEnv = process.env): GateOptions {
  const s = { type: "string" } as const;
  const { values: v } = parse(argv, {
    "api-url": s, "anon-key": s, "console-url": s, report: s, window: s, since: s, "max-new-dlq": s, "max-oldest-lag": s,
    "max-lag-p95": s, "min-success": s, "max-p95": s, "max-portal-p95": s, "min-requests": s, "expect-mode": s, "load-rate": s, "load-seconds": s,
    "k6-outcome": s, "skip-load": { type: "boolean" }, json: { type: "boolean" },
  }, { usage: GATE_USAGE });
  const local = loadInstance("default");
  const api = (v["api-url"] ?? env.SWITCHYARD_API_URL ?? env.SUPABASE_URL ?? (local ? apiUrl(local) : undefined))?.replace(/\/+$/, "") ?? null;
  const anonKey = v["anon-key"] ?? env.SWITCHYARD_ANON_KEY ?? env.SUPABASE_ANON_KEY ?? local?.anonKey ?? null;
  const skipLoad = v["skip-load"] === true;
  if (!skipLoad && (!api || !anonKey)) throw usage("the load smoke needs --api-url and --anon-key (or SUPABASE_URL / SUPABASE_ANON_KEY); --skip-load to run the SQL checks only");
  const since = v.since ?? env.GATE_SINCE;
  const k6 = v["k6-outcome"] ?? env.GATE_K6_OUTCOME;
  const optional = (min: number, max: number, name: "min-success" | "max-p95" | "max-portal-p95") =>
    (v[name] === undefined ? null : check(num(min, max), v[name], `--${name}`));
  const sinceDate = since === undefined ? undefined : check(z.coerce.date(), since, "--since");
  return {
    dbUrl: resolveDbUrl(env),
    apiUrl: api,
    anonKey,
    consoleUrl: (v["console-url"] ?? env.SWITCHYARD_CONSOLE_URL ?? `${api ?? ""}/functions/v1/console`).replace(/\/+$/, ""),
    report: v.report ?? env.GATE_REPORT ?? "gate-report.md",
    window: { interval: check(interval, v.window ?? env.GATE_WINDOW ?? "15 minutes", "--window"), since: sinceDate },
    maxNewDlq: check(num(0, 1e6).int(), v["max-new-dlq"] ?? "0", "--max-new-dlq"),
    maxOldestLagSeconds: check(num(1, 86400), v["max-oldest-lag"] ?? "120", "--max-oldest-lag"),
    maxLagP95Ms: check(num(1, 3.6e6), v["max-lag-p95"] ?? String(limitOf("outbox_lag")), "--max-lag-p95"),
    minSuccess: optional(0, 1, "min-success"),
    maxP95Ms: optional(1, 60000, "max-p95"),
    maxPortalP95Ms: optional(1, 60000, "max-portal-p95"),
    minRequests: v["min-requests"] === undefined ? null : check(num(0, 1e6).int(), v["min-requests"], "--min-requests"),
    expectMode: check(z.enum(["FULL", "DEGRADE", "STEP-DOWN"]), (v["expect-mode"] ?? "FULL").toUpperCase(), "--expect-mode"),
    load: skipLoad ? null : {
      rate: check(num(1, 10000), v["load-rate"] ?? String(SMOKE.rate), "--load-rate"),
      seconds: check(num(1, 600), v["load-seconds"] ?? String(SMOKE.seconds), "--load-seconds"),
    },
    k6Outcome: k6 === undefined ? null : check(z.enum(K6_OUTCOMES), k6, "--k6-outcome"),
    json: v.json === true,
  };
}
