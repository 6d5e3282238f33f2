/**
 * Constant-arrival-rate HTTP load with autocannon (k6 is AGPL and not used here).
 * autocannon spreads `overallRate` over its connections; each connection waits for its
 * response before sending again, so we give it enough connections that the closed loop does
 * not cap the rate, and we judge a step by the rate it actually achieved as well as by its
 * latency. Latency is per request, send to response (autocannon `response` events).
 */
import autocannon from "autocannon";
import { type Latency, latency } from "./stats.ts";

export interface LoadSpec {
  url: string;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
  /** Per-request headers (e.g. a different tenant's token per request). */
  headersFor?: (i: number) => Record<string, string>;
  /** Requests per second across all connections; undefined = as fast as possible. */
  rate?: number;
  seconds: number;
  connections?: number;
}

export interface LoadResult {
  target: number | null;
  seconds: number;
  sent: number;
  ok: number;
  failed: number;
  achieved: number; // successful responses per second
  latency: Latency;
  statuses: Record<string, number>;
}

export const connectionsFor = (rate: number) => Math.max(8, Math.min(256, Math.ceil(rate / 20)));

export function load(spec: LoadSpec): Promise<LoadResult> {
  const ms: number[] = [];
  const statuses: Record<string, number> = {};
  let ok = 0, failed = 0, n = 0;
  const connections = spec.connections ?? (spec.rate ? connectionsFor(spec.rate) : 16);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const inst = autocannon({
      url: spec.url,
      method: spec.method ?? "POST",
      headers: spec.headers,
      body: spec.body,
      connections,
      ...(spec.rate ? { overallRate: spec.rate } : {}),
      duration: spec.seconds,
      timeout: 10,
      ...(spec.headersFor
        ? {
          requests: [{
            setupRequest: (req: Record<string, unknown>) => {
              req.headers = { ...(req.headers as Record<string, string>), ...spec.headersFor!(n++) };
              return req;
            },
          }],
        }
        : {}),
    } as autocannon.Options, (err) => {
      if (err) return reject(err);
      const secs = (performance.now() - started) / 1000;
      resolve({
        target: spec.rate ?? null,
        seconds: secs,
        sent: ok + failed,
        ok,
        failed,
        achieved: ok / spec.seconds,
        latency: latency(ms),
        statuses,
      });
    });
    inst.on("response", (_c: unknown, status: number, _b: number, t: number) => {
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status >= 200 && status < 300) {
        ok++;
        ms.push(t);
      } else failed++;
    });
    inst.on("reqError", () => {
      statuses.error = (statuses.error ?? 0) + 1;
      failed++;
    });
  });
}

/** A step passes when it kept up (>= 95% of the target rate), < 1% failed and p95 < limit. */
export function sustained(r: LoadResult, p95LimitMs: number): boolean {
  const total = r.ok + r.failed;
  return r.target !== null && r.achieved >= 0.95 * r.target && total > 0 && r.failed / total < 0.01 && r.latency.p95 < p95LimitMs;
}
