import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { createTracer, type SpanRow, startSpan, traceparentOf } from "./tracing.ts";

describe("tracer", () => {
  it("continues the caller's traceparent, writes redacted span rows, and exports over OTLP/HTTP when configured", async () => {
    const posts: { path: string; body: string }[] = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        posts.push({ path: req.url ?? "", body });
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const rows: SpanRow[] = [];
    const { tracer, provider } = createTracer("test", (r) => Promise.resolve(void rows.push(...r)), endpoint);

    const caller = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", flags: 1 };
    const span = startSpan(tracer, "rates.price_one", caller, { "customer.email": "maria.lopez@acme-freight.com", portal: "rates" });
    expect(traceparentOf(span)).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    startSpan(tracer, "detect", span).end();
    span.end();
    await provider.forceFlush();
    server.close();

    expect(rows.map((r) => r.name).sort()).toEqual(["detect", "rates.price_one"]);
    const root = rows.find((r) => r.name === "rates.price_one")!;
    expect(root.parent_span_id).toBe("00f067aa0ba902b7");
    expect(JSON.stringify(root.attributes)).not.toContain("maria.lopez");
    expect(posts).toHaveLength(1);
    expect(posts[0].path).toBe("/v1/traces");
    expect(posts[0].body).toContain("rates.price_one");
    expect(posts[0].body).not.toContain("maria.lopez");
  });
});
