/**
 * npm run dr-drill (charter §6: weekly DR drill, monthly restore test), printing RPO/RTO and
 * recording them in ops.schedule_runs (job 'dr-drill'):
 *
 *   npm run dr-drill                      the physical drill (scripts/dr/drill.ts) on a throwaway
 *                                         stack of its own with a standby: planned and kill -9
 *                                         cutovers under load, fail-backs, backup + PITR restore test
 *   npm run dr-drill -- --stack NAME      the same on a local stack (--standby), planned only
 *   SUPABASE_DB_URL=... npm run dr-drill  hosted Supabase: the dump/restore drill (scripts/dr/hosted-drill.ts)
 *   --keep                                leave the throwaway stack up
 */
import { ensureInstance, loadInstance } from "./stack/instance.ts";
import { destroy, up } from "./stack/manager.ts";
import { freePort } from "./stack/processes.ts";
import { ensureStandby } from "./stack/standby.ts";
import { drill } from "./dr/drill.ts";
import { hostedDrill } from "./dr/hosted-drill.ts";

const args = process.argv.slice(2);
const log = (s: string) => console.error(`[dr-drill] ${s}`);

async function main(): Promise<number> {
  if (process.env.SUPABASE_DB_URL) return await hostedDrill(process.env.SUPABASE_DB_URL);
  const named = args.includes("--stack") ? args[args.indexOf("--stack") + 1] : null;
  const inst = named ? loadInstance(named) : await ensureInstance(`dr-drill-${process.pid}`, { api: await freePort(), db: await freePort() });
  if (!inst) {
    console.error(`no stack '${named}' (npm run stack -- up --standby --name ${named})`);
    return 2;
  }
  try {
    if (!named) {
      log(`throwaway stack ${inst.name} with a standby`);
      await up(inst, log, { skipCheck: true });
    }
    await ensureStandby(loadInstance(inst.name)!, log);
    const { ok, detail } = await drill(loadInstance(inst.name)!, { log, unplanned: !named });
    const p = detail.planned as Record<string, number> | undefined;
    const u = detail.unplanned as Record<string, number> | undefined;
    const r = detail.restore as Record<string, unknown> | undefined;
    const s = (ms: number | undefined) => (ms === undefined ? "-" : `${(ms / 1000).toFixed(1)} s`);
    console.log([
      `DR drill ${ok ? "PASSED" : "FAILED"}${detail.error ? `: ${detail.error}` : ""}`,
      p ? `  planned cutover:   RPO ${p.rpo_acknowledged_lost} acknowledged writes lost of ${p.acknowledged}; RTO ${s(p.rto_ms)}; fail-back ${p.failback}` : "",
      u ? `  unplanned (kill -9): RPO ${u.rpo_acknowledged_lost} acknowledged writes lost of ${u.acknowledged} (runbook's loss window: ${u.rpo_reported_quotes_lost} quotes, ${u.rpo_reported_lost_commits} commits); RTO ${s(u.rto_ms)} from the kill; fail-back ${u.failback}` : "",
      r ? `  restore test:      ${r.ok ? "ok" : "FAILED"}, recovery point ${r.recovery_point}, recovery time ${s(r.recovery_ms as number)}, pg_amcheck ${r.amcheck}, audit chains ${r.audit_ok ? "verify" : "BROKEN"}` : "",
      "  recorded in ops.schedule_runs (job 'dr-drill')",
    ].filter(Boolean).join("\n"));
    return ok ? 0 : 1;
  } finally {
    if (!named && !args.includes("--keep")) await destroy(loadInstance(inst.name) ?? inst, () => {});
  }
}

main().then((code) => process.exit(code), (err) => {
  console.error(err);
  process.exit(1);
});
