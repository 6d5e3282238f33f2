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

/** The daily summary: open alerts and yesterday's SLOs, as one message. */
export async function dailySummary(ctx: AutopilotContext) {
  const [[open], slo] = await Promise.all([
    ctx.sql`select count(*)::int as n, count(*) filter (where severity = 'critical')::int as critical from public.alerts where resolved_at is null`,
    ctx.sql`select function_name, portal, requests, success_ratio, p95_upper_ms from public.slo_summary(interval '24 hours')`,
  ]);
  const lines = slo.map((r) => `${r.portal ?? r.function_name}: ${r.requests} req, success ${r.success_ratio}, p95 <= ${r.p95_upper_ms ?? "?"} ms`);
  await asAutopilot(ctx, (tx) => tx`select app_private.raise_alert(null, 'report.daily', 'info', ${new Date().toISOString().slice(0, 10)},
    ${`Daily summary: ${open.n} open alerts (${open.critical} critical). ${lines.join("; ")}`})`);
  return { open_alerts: open.n, slo: lines.length };
}
