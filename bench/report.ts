/** Measure 5 and the printout: every figure with its ratio, and the targets, pass / short. */
import type { BenchResults } from "./run.ts";
import { fmtMs, fmtPct, fmtRate, type Latency, table } from "./lib/stats.ts";
import { halfRate } from "./pipeline.ts";

const lat = (l: Latency | undefined) => (l ? `${fmtMs(l.p50)} / ${fmtMs(l.p95)} / ${fmtMs(l.p99)}` : "n/a");
const ratio = (a: number, b: number) => (b > 0 && Number.isFinite(a) ? a / b : NaN);

export interface Target {
  target: string;
  value: string;
  pass: boolean | null; // null: not measured in this run
}

export function targets(r: BenchResults): Target[] {
  const out: Target[] = [];
  for (const a of r.pipeline?.actions ?? []) {
    const x = ratio(a.sustainable, a.pgbenchMaxTps);
    out.push({ target: `${a.name}: throughput >= 40% of pgbench's (same SQL)`, value: `${fmtRate(a.sustainable)} / ${fmtRate(a.pgbenchMaxTps)} = ${fmtPct(x)}`, pass: x >= 0.4 });
    const half = a.fixed.find((f) => f.rate === halfRate(a.sustainable));
    out.push({
      target: `${a.name}: p95 <= 25 ms at half the highest sustainable rate`,
      value: half ? `${fmtMs(half.action.p95)} ms at ${half.rate}/s` : "n/a",
      pass: half ? half.action.p95 <= 25 && half.action.achieved >= 0.95 * half.rate : null,
    });
  }
  const o = r.outbox;
  if (o) {
    const k = o.relay.find((x) => x.phase === "1000/s");
    out.push({ target: "outbox lag p95 <= 100 ms at 1,000 events/s", value: k ? `${fmtMs(k.lag.p95)} ms (${fmtRate(k.perSecond)} events/s)` : "n/a", pass: k ? k.lag.p95 <= 100 && k.delivered === k.events : null });
    const rm = o.relay.find((x) => x.phase === "max"), bm = o.pgboss.find((x) => x.phase === "max");
    out.push({
      target: "relay throughput >= pg-boss's",
      value: rm && bm ? `${fmtRate(rm.perSecond)} vs ${fmtRate(bm.perSecond)} events/s (${fmtPct(ratio(rm.perSecond, bm.perSecond))})` : "n/a",
      pass: rm && bm ? rm.perSecond >= bm.perSecond : null,
    });
  }
  const counts = [r.killswitch?.writesAfterStop, ...(r.growth?.stages.map((s) => s.killswitch.writesAfterStop) ?? [])].filter((v) => v !== undefined) as number[];
  if (counts.length) {
    out.push({ target: "0 machine writes committed after the stop (relay@'s delivery bookkeeping excluded)", value: `${counts.join(", ")} (${counts.length} run${counts.length > 1 ? "s" : ""})`, pass: counts.every((c) => c === 0) });
  }
  return out;
}

export function report(r: BenchResults): string {
  const parts: string[] = [];
  parts.push(`Switchyard bench, ${r.quick ? "quick" : "full"} run, ${r.startedAt} (${r.seconds?.toFixed(0)} s); ${r.machine.cpus} cores (${r.machine.model}), load average ${r.machine.loadavgStart.map((x) => x.toFixed(1)).join(" ")} at start`);
  const p = r.pipeline;
  if (p) {
    parts.push("\n1. Action pipeline (gateway + edge function, constant arrival rate, autocannon) vs pgbench (same SQL) vs bare Deno.serve");
    parts.push(table(
      ["action", "sustainable rate", "highest rate p95 < 25 ms", "pgbench max (8 clients)", "action / pgbench", `bare Deno.serve max`, "action / bare"],
      p.actions.map((a) => [a.name, `${fmtRate(a.sustainable)}/s`, `${fmtRate(a.maxSustainable)}/s`, `${fmtRate(a.pgbenchMaxTps)} tx/s`, fmtPct(ratio(a.sustainable, a.pgbenchMaxTps)),
        `${fmtRate(p.bareMax)} req/s`, fmtPct(ratio(a.sustainable, p.bareMax))]),
    ));
    parts.push("\nLatency at fixed rates, p50 / p95 / p99 ms (same rate for all three)");
    parts.push(table(
      ["action @ rate", "action", "pgbench (same SQL)", "bare Deno.serve", "action p95 / pgbench p95"],
      p.actions.flatMap((a) => a.fixed.map((f) => [`${a.name} @ ${f.rate}/s`, `${lat(f.action)}${f.action.achieved < 0.95 * f.rate ? ` (${fmtRate(f.action.achieved)}/s)` : ""}`, lat(f.pgbench), lat(f.bare),
        `${(f.action.p95 / f.pgbench.p95).toFixed(1)}x`])),
    ));
    parts.push("\nRate steps: target/s: achieved/s (p50 / p95 / p99 ms); \"behind\" = fell short of the rate");
    parts.push(table(
      ["action", ...["steps"]],
      p.actions.map((a) => [a.name, a.steps.map((s) => `${s.rate}/s: ${fmtRate(s.achieved)} (${fmtMs(s.p50)} / ${fmtMs(s.p95)} / ${fmtMs(s.p99)})${s.keptUp ? "" : " behind"}`).join("; ")]),
    ));
  }
  const o = r.outbox;
  if (o) {
    parts.push("\n2. Outbox relay vs pg-boss (same jobs, same receiver, same delivery work and concurrency)");
    parts.push(table(
      ["phase", "relay delivered/s", "relay lag p50 / p95 / p99 ms", "pg-boss jobs/s", "pg-boss lag p50 / p95 / p99 ms", "relay / pg-boss"],
      o.relay.map((x, i) => {
        const b = o.pgboss[i];
        return [`${x.phase} (${x.events.toLocaleString("en-US")} events)`, `${fmtRate(x.perSecond)}${x.delivered < x.events ? ` (${x.delivered} delivered)` : ""}`, lat(x.lag),
          b ? `${fmtRate(b.perSecond)}${b.delivered < b.events ? ` (${b.delivered} done)` : ""}` : "n/a", lat(b?.lag), b ? fmtPct(ratio(x.perSecond, b.perSecond)) : "n/a"];
      }),
    ));
  }
  const k = r.killswitch;
  if (k) {
    parts.push(`\n3. Kill switch under load (${k.sqlWriters} SQL + ${k.httpWriters} HMAC HTTP agents writers)`);
    parts.push(table(["figure", "value"], [
      ["machine writes/s before the stop", fmtRate(k.writesPerSecond)],
      ["stop UPDATE round trip", `${fmtMs(k.stopStatementMs)} ms`],
      ["machine writes committed after the flag's commit", `${k.writesAfterStop} (quotes ${k.afterStopDetail.quotes}, outbox ${k.afterStopDetail.outbox})`],
      ["excluded: relay@'s delivery bookkeeping after it", `${k.bookkeepingAfterStop.eventsSettled} events settled, ${k.bookkeepingAfterStop.attemptsLogged} attempts logged (${k.bookkeepingAfterStop.received} received in the run)`],
      ["first refusal after the stop's commit", `${fmtMs(k.firstRefusalMs)} ms`],
      ["last write acknowledged after the stop's commit", `${fmtMs(k.allRefusedMs)} ms`],
      ["refusals / other errors", `${k.refusals} / ${k.otherErrors}`],
    ]));
  }
  const g = r.growth;
  if (g) {
    parts.push(`\n4. Cost growth (price_one at a fixed rate, closed loop of 16, pgbench, relay at 1,000 events/s, kill switch)${g.bulkLoadSeconds ? `; bulk load ${g.bulkLoadSeconds.toFixed(0)} s` : ""}`);
    parts.push(table(
      ["stage", "price_one p50 / p95 / p99 ms", "closed-loop req/s (p95)", "pgbench tx/s", "relay lag p50 / p95 / p99 ms", "writes after stop", "first refusal", "audit / outbox rows"],
      g.stages.map((s) => [s.label, `${lat(s.priceOne)} @ ${s.fixedRate}/s`, `${fmtRate(s.closedLoop.perSecond)} (${fmtMs(s.closedLoop.p95)} ms)`, fmtRate(s.pgbenchTps),
        lat(s.relay1000.lag), String(s.killswitch.writesAfterStop), `${fmtMs(s.killswitch.firstRefusalMs)} ms`,
        `${s.sizes.auditRows.toLocaleString("en-US")} / ${s.sizes.outboxRows.toLocaleString("en-US")}`]),
    ));
  }
  const t = targets(r);
  if (t.length) {
    parts.push("\n5. Targets");
    parts.push(table(["target", "measured", "result"], t.map((x) => [x.target, x.value, x.pass === null ? "n/a" : x.pass ? "pass" : "SHORT"])));
  }
  if (r.errors.length) parts.push(`\nErrors:\n${r.errors.map((e) => `- ${e.measure}: ${e.error.split("\n")[0]}`).join("\n")}`);
  return parts.join("\n");
}
