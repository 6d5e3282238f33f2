/** The fault suite's printout: the figures per scenario, then every target pass / SHORT. */
import { fmtMs, table } from "../../bench/lib/stats.ts";
import type { FaultResults } from "./run.ts";
import { fmtCounts, fmtLag } from "./scenarios.ts";

export const README_BEGIN = "<!-- faults:begin (npm run faults rewrites this block) -->";
export const README_END = "<!-- faults:end -->";

export function report(r: FaultResults): string {
  const la = (v?: number[]) => (v ?? []).map((x) => x.toFixed(1)).join(" ");
  const head = `Switchyard fault suite, ${r.quick ? "quick" : "run"} of ${r.startedAt} (${(r.seconds ?? 0).toFixed(0)} s); ` +
    `price_one at ${r.rate}/s under the faults; ${r.machine.cpus} cores (${r.machine.model}), load average ${la(r.machine.loadavgStart)} at start, ` +
    `${la(r.machine.loadavgEnd)} at the end`;
  const figures = table(
    ["scenario", "sent", "accepted", "committed", "delivered", "dup", "lost", "5xx seen", "503+RA", "final non-2xx", "p95 ms", "lag p95", "recover", "runtime"],
    r.scenarios.map((s) => {
      const f = s.figures;
      if (!f) return [s.id, "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", `BROKE: ${s.error ?? "?"}`, "-"];
      return [
        s.id, f.sent, f.accepted, f.committed, `${f.delivered}/${f.events} (${f.receiverRequests} req)`, f.duplicates, f.lost, fmtCounts(f.fiveXx), f.with503RetryAfter,
        fmtCounts(f.finalNot2xx), fmtMs(f.latency.p95), fmtLag(f.lag.p95), s.recover, s.runtime,
      ];
    }),
  );
  const targets = table(
    ["scenario", "figure", "target", "measured", "result"],
    r.scenarios.flatMap((s) => s.checks.map((c) => [s.id, c.figure, c.target, c.measured, c.pass ? "pass" : "SHORT"])),
  );
  const notes = r.scenarios.flatMap((s) => [...s.notes.map((n) => `- ${s.id}: ${n}`), ...(s.error ? [`- ${s.id}: BROKE: ${s.error}`] : [])]);
  const passed = r.scenarios.flatMap((s) => s.checks).filter((c) => c.pass).length;
  const all = r.scenarios.flatMap((s) => s.checks).length;
  return [
    head, "", "Figures per scenario (counted from the database and the receivers; dup = webhook-ids taken twice; 503+RA = 503 answers with Retry-After)",
    figures, "", `Targets: ${passed} of ${all} pass`, targets, ...(notes.length ? ["", "Notes", ...notes] : []),
  ].join("\n");
}
