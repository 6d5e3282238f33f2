import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type postgres from "postgres";
import { Webhook } from "standardwebhooks";
import { poll } from "../../scripts/stack/processes.ts";

/** Outbox test fixtures: a receiver, a tenant with one subscription to it, events, polling. */

export interface Received {
  id: string;
  body: { aggregate: { id: string }; data: { n: number }; type: string };
  verified: boolean;
  traceparent: string | null;
}

/** What the receiver answers to attempt `attempt` of webhook `id` (after `delayMs`: a slow or hanging receiver). */
export type Answer = (id: string, attempt: number) => { status: number; headers?: Record<string, string>; delayMs?: number };

/**
 * A local webhook receiver standing in for n8n: verifies every signature with standardwebhooks,
 * counts every attempt it saw per webhook-id (`attempts`, `seen`), and keeps the 2xx ones
 * (`got`). `close()` drops the connections still waiting (a hanging receiver).
 */
export async function receiver(secret: string, answer: Answer) {
  const got: Received[] = [];
  const attempts = new Map<string, number>();
  const wh = new Webhook(secret);
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = "";
    req.on("data", (c) => (raw += c));
    req.on("end", async () => {
      const id = String(req.headers["webhook-id"]);
      const n = (attempts.get(id) ?? 0) + 1;
      attempts.set(id, n);
      let verified = false;
      try {
        wh.verify(raw, req.headers as Record<string, string>);
        verified = true;
      } catch { /* counted below */ }
      const a = answer(id, n);
      if (a.delayMs) await new Promise((r) => setTimeout(r, a.delayMs));
      if (a.status >= 200 && a.status < 300) {
        got.push({ id, body: JSON.parse(raw), verified, traceparent: (req.headers.traceparent as string) ?? null });
      }
      if (!res.destroyed) res.writeHead(a.status, a.headers ?? {}).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    got,
    attempts,
    /** Every attempt it saw, over all webhook-ids. */
    seen: () => [...attempts.values()].reduce((a, b) => a + b, 0),
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

export const newSecret = () => `whsec_${randomBytes(24).toString("base64")}`;

/** A tenant of its own with a fast retry schedule and one subscription to `url` ('n8n'). */
export async function outboxTenant(sql: postgres.Sql, url: string, secret: string, opts: { maxAttempts?: number; slug?: string } = {}) {
  const tenant = randomUUID();
  const ref = `${tenant}/sub-secret`;
  await sql`insert into tenants (id, slug, name) values (${tenant}, ${`${opts.slug ?? "relay"}-${tenant.slice(0, 8)}`}, 'Relay test')`;
  await sql`select vault.create_secret(${secret}, ${ref})`;
  const [sub] = await sql`insert into outbox_subscriptions (tenant_id, name, endpoint_url, secret_ref)
                          values (${tenant}, 'n8n', ${url}, ${ref}) returning id`;
  const scope = `tenant:${tenant}`;
  await sql`insert into feature_flags_v2 (key, scope, value, reason, owner_name) values
    ('outbox.retryBaseMs', ${scope}, '50', 'fast retries for the test', 'test'),
    ('outbox.maxAttempts', ${scope}, ${String(opts.maxAttempts ?? 8)}, 'test', 'test')`;
  return { tenant, subscriptionId: sub.id as string };
}

/** `count` events over `aggregates` aggregates (payload {n}), each with a traceparent; returns their ids in order. */
export async function publishEvents(sql: postgres.Sql, tenant: string, count: number, aggregates: number): Promise<string[]> {
  const rows = await sql`
    insert into outbox_events (tenant_id, aggregate_type, aggregate_id, event_type, payload, headers)
    select ${tenant}, 'load', 'agg-' || (n % ${aggregates}), 'load.updated', jsonb_build_object('n', n),
           jsonb_build_object('traceparent', '00-' || md5(n::text || ${tenant}) || '-00f067aa0ba902b7-01')
    from generate_series(0, ${count - 1}) n
    returning id, seq`;
  return [...rows].sort((a, b) => Number(a.seq) - Number(b.seq)).map((r) => r.id as string);
}

/** Polls `pred` every 50 ms for up to `ms`; its last answer. */
export const until = async (pred: () => boolean | Promise<boolean>, ms: number): Promise<boolean> => (await poll(ms, pred, 50)) ?? false;
