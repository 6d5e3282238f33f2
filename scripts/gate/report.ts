/** The gate's markdown report: each check with its figures, the action taken, evidence, trace links. */
import type { CheckResult } from "./checks.ts";
import type { DisableOutcome } from "./disable.ts";
import type { Evidence } from "./evidence.ts";

export interface GateRun {
  ok: boolean;
  at: Date;
  target: { api: string | null; db: string };
  window: string;
  checks: CheckResult[];
  agents: DisableOutcome | null; // null: nothing failed, or the database was out of reach
  evidence: Evidence[];
  consoleUrl: string;
  fatal?: string; // the gate could not run (e.g. no database)
}

export const traceLink = (consoleUrl: string, id: string) => `${consoleUrl}#/trace/${id}`;

/** A table cell: one line, pipes escaped, long text cut. */
function cell(v: unknown): string {
  const s = v === null || v === undefined ? "" : v instanceof Date ? v.toISOString() : typeof v === "object" ? JSON.stringify(v) : String(v);
  const one = s.replace(/\s+/g, " ").replace(/\|/g, "\\|");
  return one.length > 160 ? `${one.slice(0, 157)}...` : one;
}

/** Rows as a markdown table; trace ids become console links. */
function mdTable(rows: Record<string, unknown>[], consoleUrl: string): string {
  if (rows.length === 0) return "_none_";
  const cols = Object.keys(rows[0]);
  const link = (k: string, v: unknown) =>
    /^trace_?id$/i.test(k) && typeof v === "string" && v ? `[${v}](${traceLink(consoleUrl, v)})` : cell(v);
  return [
    `| ${cols.join(" | ")} |`,
    `|${cols.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${cols.map((c) => link(c, r[c])).join(" | ")} |`),
  ].join("\n");
}

export function renderReport(g: GateRun): string {
  const failed = g.checks.filter((c) => !c.ok);
  const lines = [
    `# Post-deploy gate: ${g.ok ? "PASSED" : "FAILED"}`,
    "",
    `- when: ${g.at.toISOString()}`,
    `- functions: ${g.target.api ?? "(load smoke skipped)"}`,
    `- database: ${g.target.db}`,
    `- window: ${g.window}`,
  ];
  if (g.fatal) lines.push("", `**The gate could not run:** ${g.fatal}`);
  lines.push("", "## Checks", "", "| check | result | figures | threshold |", "|---|---|---|---|",
    ...g.checks.map((c) => `| ${c.name} | ${c.ok ? "pass" : "**FAIL**"} | ${cell(c.summary)} | ${cell(c.threshold)} |`));

  if (!g.ok) {
    const a = g.agents;
    lines.push("", "## Action taken", "");
    if (a?.disabled) {
      lines.push(`\`agents.autonomousEnabled\` = **false**, set by ${a.by === "ci" ? "the ci service account" : "the operator's database session"} ` +
        `(flag history + audit log, trace [${a.traceId}](${traceLink(g.consoleUrl, a.traceId)})).`);
      if (a.ciRefused) lines.push("", `ci's own write was refused: ${cell(a.ciRefused)}`);
    } else {
      lines.push(`**Agents could NOT be disabled**${a ? `: ${cell(a.error)}${a.ciRefused ? ` (ci: ${cell(a.ciRefused)})` : ""}` : ""}.`,
        "", "Stop them by hand: `npm run ops -- stop --reason \"gate failed\"`.");
    }
    lines.push("", "After the fix, turn them back on:",
      "`npm run ops -- flags set agents.autonomousEnabled true --reason \"<what was fixed>\"`");
  }

  for (const c of failed) {
    lines.push("", `## ${c.name}`, "", c.summary);
    if (c.rows?.length) lines.push("", mdTable(c.rows, g.consoleUrl));
    if (c.traces.length) {
      lines.push("", "Traces:", ...[...new Set(c.traces)].map((t) => `- [${t}](${traceLink(g.consoleUrl, t)}) (\`npm run ops -- trace ${t}\`)`));
    }
  }

  if (g.evidence.length) {
    lines.push("", "## Recent errors and logs");
    for (const e of g.evidence) lines.push("", `### ${e.title}`, "", e.note ?? mdTable(e.rows, g.consoleUrl));
  }
  return `${lines.join("\n")}\n`;
}
