/**
 * The outside services the templates call, on 127.0.0.1 (no network): the CRM and Slack
 * webhooks (recorded), and a Stripe stand-in for POST /v1/checkout/sessions that checks the
 * secret key and honours Idempotency-Key as Stripe does (the same key, the same session).
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

export interface Call {
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
}

export interface Receivers {
  base: string;
  calls: Call[];
  /** Checkout Sessions created, by Idempotency-Key. */
  sessions: Map<string, Record<string, unknown>>;
  close: () => Promise<void>;
}

export async function startReceivers(stripeKey: string): Promise<Receivers> {
  const calls: Call[] = [];
  const sessions = new Map<string, Record<string, unknown>>();
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString("utf8")));
    req.on("end", () => {
      calls.push({ path: req.url ?? "", headers: req.headers, body });
      const json = (status: number, v: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(v));
      if (req.url === "/stripe/v1/checkout/sessions" && req.method === "POST") {
        if (req.headers.authorization !== `Bearer ${stripeKey}`) return json(401, { error: { type: "invalid_request_error", message: "Invalid API Key provided" } });
        const key = String(req.headers["idempotency-key"] ?? "");
        const f = new URLSearchParams(body);
        const unit = Number(f.get("line_items[0][price_data][unit_amount]"));
        const qty = Number(f.get("line_items[0][quantity]"));
        if (!Number.isInteger(unit) || !Number.isInteger(qty) || !f.get("success_url")) {
          return json(400, { error: { type: "invalid_request_error", message: "Missing line item or success_url" } });
        }
        const session = sessions.get(key) ?? {
          id: `cs_test_${randomBytes(12).toString("hex")}`,
          object: "checkout.session",
          mode: f.get("mode"),
          amount_total: unit * qty,
          currency: f.get("line_items[0][price_data][currency]"),
          client_reference_id: f.get("client_reference_id"),
          metadata: { switchyard_event_id: f.get("metadata[switchyard_event_id]") },
          status: "open",
          url: "http://127.0.0.1/pay/cs_test",
        };
        if (key) sessions.set(key, session);
        return json(200, session);
      }
      if (req.url === "/crm" || req.url === "/slack") return json(200, { ok: true });
      json(404, { error: "not found" });
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    sessions,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
