import { alertRecipients, mailerFromConfig } from "../../../packages/shared/notify/mail.ts";
import { redactText } from "../../../packages/shared/observability/redact.ts";
import { asAutopilot, type AutopilotContext } from "./context.ts";

/** The incoming-webhook URL: the ALERT_WEBHOOK_URL secret, else the Vault entry alert_webhook_url. */
async function webhookUrl(ctx: AutopilotContext): Promise<string | null> {
  const fromEnv = ctx.config.ALERT_WEBHOOK_URL;
  if (fromEnv) return fromEnv;
  const [v] = await ctx.sql`select decrypted_secret from vault.decrypted_secrets where name = 'alert_webhook_url'`;
  return v?.decrypted_secret ?? null;
}

/**
 * Sends new alerts to the Slack-compatible incoming webhook, each with a link to its trace
 * in the console. Without a webhook the alerts stay in public.alerts (and the console).
 */
export async function dispatchAlerts(ctx: AutopilotContext): Promise<{ sent: number; failed: number }> {
  const url = await webhookUrl(ctx);
  if (!url) return { sent: 0, failed: 0 };
  const consoleUrl = ctx.config.SWITCHYARD_CONSOLE_URL ?? `${ctx.config.SUPABASE_URL}/functions/v1/console`;
  const rows = await ctx.sql`
    select id, tenant_id, source, severity, summary, trace_id, created_at from public.alerts
    where notified_at is null
    order by case severity when 'critical' then 0 when 'warning' then 1 else 2 end, created_at limit 200`;
  let sent = 0, failed = 0;
  for (const a of rows) {
    const link = a.trace_id ? `${consoleUrl}#/trace/${a.trace_id}` : `${consoleUrl}#/alerts`;
    const text = `[${a.severity}] ${a.summary} (${a.source}) — <${link}|trace ${a.trace_id ?? "n/a"}>`;
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text, trace_id: a.trace_id, trace_url: link, severity: a.severity, source: a.source }),
        signal: AbortSignal.timeout(5000),
      });
      await res.body?.cancel();
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      await asAutopilot(ctx, (tx) => tx`select app_private.alert_notified(${a.id})`);
      sent++;
    } catch (err) {
      failed++;
      ctx.log.warn({ alert: a.id, err: err instanceof Error ? err.message : String(err) }, "alert webhook failed");
    }
  }
  return { sent, failed };
}

/** What the daily summary reports (charter: alert channels include an email daily summary). */
export interface DailySummary {
  day: string;
  open: { alerts: number; critical: number };
  slo: { series: string; requests: number; success: number | null; p95_ms: number | null }[];
  dlq: { dead: number; new_24h: number; tenants: number };
  cost: { usd: number; by_category: { category: string; usd: number }[] };
  incidents: { at: string; severity: string; source: string; summary: string; trace_url: string }[];
}

const consoleBase = (ctx: AutopilotContext) => ctx.config.SWITCHYARD_CONSOLE_URL ?? `${ctx.config.SUPABASE_URL}/functions/v1/console`;

/**
 * The last 24 hours in figures: SLOs per function and portal, the DLQ, costs, and the
 * incidents (warning and critical alerts) with their trace links. No PII: tenants and
 * principals are counted, never named, and alert texts pass the redactor (emails, tokens,
 * URL query values masked).
 */
export async function collectDailySummary(ctx: AutopilotContext): Promise<DailySummary> {
  const [[open], slo, [dlq], cost, incidents] = await Promise.all([
    ctx.sql`select count(*)::int as n, count(*) filter (where severity = 'critical')::int as critical from public.alerts where resolved_at is null`,
    ctx.sql`select function_name, portal, requests, success_ratio, p95_upper_ms from public.slo_summary(interval '24 hours')`,
    ctx.sql`select count(*) filter (where state = 'dead')::int as dead,
                   count(*) filter (where state = 'dead' and dead_at > now() - interval '24 hours')::int as new_24h,
                   count(distinct tenant_id) filter (where state = 'dead')::int as tenants
            from public.dlq_entries`,
    ctx.sql`select category, sum(amount_usd)::numeric(14,2)::text as usd from public.cost_ledger
            where created_at > now() - interval '24 hours' group by category order by 2 desc`,
    ctx.sql`select created_at, severity, source, summary, trace_id from public.alerts
            where created_at > now() - interval '24 hours' and severity in ('warning', 'critical')
            order by case severity when 'critical' then 0 else 1 end, created_at desc limit 50`,
  ]);
  const base = consoleBase(ctx);
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    day: new Date().toISOString().slice(0, 10),
    open: { alerts: open.n, critical: open.critical },
    slo: slo.map((r) => ({ series: String(r.portal ?? r.function_name), requests: Number(r.requests), success: num(r.success_ratio), p95_ms: num(r.p95_upper_ms) })),
    dlq: { dead: dlq.dead, new_24h: dlq.new_24h, tenants: dlq.tenants },
    cost: {
      usd: cost.reduce((t, c) => t + Number(c.usd), 0),
      by_category: cost.map((c) => ({ category: redactText(String(c.category)), usd: Number(c.usd) })),
    },
    incidents: incidents.map((a) => ({
      at: new Date(a.created_at).toISOString(),
      severity: a.severity,
      source: redactText(String(a.source)),
      summary: redactText(String(a.summary)),
      trace_url: a.trace_id ? `${base}#/trace/${a.trace_id}` : `${base}#/alerts`,
    })),
  };
}

/** The summary as a plain-text email. */
export function renderDailyEmail(s: DailySummary): { subject: string; text: string } {
  const pct = (x: number | null) => (x === null ? "n/a" : `${(x * 100).toFixed(2)} %`);
  const lines = [
    `Switchyard daily summary for ${s.day} (last 24 hours)`,
    "",
    `Open alerts: ${s.open.alerts} (${s.open.critical} critical)`,
    "",
    "SLOs (success, p95 upper bound):",
    ...(s.slo.length ? s.slo.map((r) => `  ${r.series}: ${r.requests} requests, success ${pct(r.success)}, p95 <= ${r.p95_ms ?? "?"} ms`) : ["  no traffic"]),
    "",
    `DLQ: ${s.dlq.dead} dead entries (${s.dlq.new_24h} new in 24 h) across ${s.dlq.tenants} tenants`,
    "",
    `Costs: $${s.cost.usd.toFixed(2)} in 24 h`,
    ...s.cost.by_category.map((c) => `  ${c.category}: $${c.usd.toFixed(2)}`),
    "",
    `Incidents (${s.incidents.length}):`,
    ...(s.incidents.length
      ? s.incidents.flatMap((i) => [`  [${i.severity}] ${i.at} ${i.source}: ${i.summary}`, `    trace: ${i.trace_url}`])
      : ["  none"]),
  ];
  const subject = `Switchyard daily summary ${s.day}: ${s.open.critical} critical, ${s.dlq.dead} in DLQ, ${s.incidents.length} incidents`;
  return { subject, text: lines.join("\n") + "\n" };
}

/** Emails the summary to ALERT_EMAIL_TO when SMTP is configured (config/env.ts). */
export async function emailDailySummary(ctx: AutopilotContext, s: DailySummary, mailer = mailerFromConfig(ctx.config)) {
  const to = alertRecipients(ctx.config);
  if (!mailer || to.length === 0) return { sent: false, reason: mailer ? "ALERT_EMAIL_TO is not set" : "SMTP is not configured" };
  try {
    const { subject, text } = renderDailyEmail(s);
    const info = await mailer.send({ to, subject, text });
    return { sent: true, recipients: to.length, message_id: info.messageId };
  } catch (err) {
    // Never the error's text alone: an SMTP refusal may echo addresses.
    ctx.log.warn({ err: redactText(err instanceof Error ? err.message : String(err)) }, "daily summary email failed");
    return { sent: false, reason: "send failed" };
  } finally {
    mailer.close();
  }
}

/** The daily summary: as an alert (Slack, the console) and as an email. */
export async function dailySummary(ctx: AutopilotContext) {
  const s = await collectDailySummary(ctx);
  const lines = s.slo.map((r) => `${r.series}: ${r.requests} req, success ${r.success}, p95 <= ${r.p95_ms ?? "?"} ms`);
  await asAutopilot(ctx, (tx) => tx`select app_private.raise_alert(null, 'report.daily', 'info', ${s.day},
    ${`Daily summary: ${s.open.alerts} open alerts (${s.open.critical} critical). ${lines.join("; ")}`})`);
  const email = await emailDailySummary(ctx, s);
  return { open_alerts: s.open.alerts, slo: lines.length, email };
}
