import { toHex } from "../util/encoding.ts";

/**
 * W3C Trace Context `traceparent`: `<version>-<trace-id>-<parent-id>-<flags>`, e.g.
 * `00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01`. Lowercase hex only; all-zero
 * ids and version `ff` are invalid. A caller's invalid header never fails a request: the
 * request starts a new trace instead (spec §4.3, "restart the trace").
 */
export interface TraceContext {
  traceId: string; // 32 lowercase hex
  spanId: string; // 16 lowercase hex: the span this context identifies
  flags: number; // bit 0 = sampled
}

const HEADER = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = "0".repeat(32);
const ZERO_SPAN = "0".repeat(16);
export const SAMPLED = 0x01;

/** Parses a traceparent header; null when absent or invalid. */
export function parseTraceparent(header: string | null | undefined): TraceContext | null {
  if (!header) return null;
  const m = HEADER.exec(header.trim());
  if (!m) return null;
  const [, version, traceId, spanId, flags, rest] = m;
  if (version === "ff" || traceId === ZERO_TRACE || spanId === ZERO_SPAN) return null;
  // Version 00 has exactly four fields; later versions may append fields after a dash.
  if (version === "00" && rest !== undefined) return null;
  return { traceId, spanId, flags: parseInt(flags, 16) };
}

export function formatTraceparent(ctx: TraceContext): string {
  return `00-${ctx.traceId}-${ctx.spanId}-${(ctx.flags & 0xff).toString(16).padStart(2, "0")}`;
}

function randomHex(bytes: number, zero: string): string {
  for (;;) {
    const hex = toHex(crypto.getRandomValues(new Uint8Array(bytes)));
    if (hex !== zero) return hex; // all-zero is invalid; astronomically rare, but cheap to rule out
  }
}

export const newTraceId = (): string => randomHex(16, ZERO_TRACE);
export const newSpanId = (): string => randomHex(8, ZERO_SPAN);

/** A new root context (sampled unless told otherwise). */
export function newTrace(flags = SAMPLED): TraceContext {
  return { traceId: newTraceId(), spanId: newSpanId(), flags };
}

/** A child of `parent`: same trace and flags, new span id. */
export function childOf(parent: TraceContext): TraceContext {
  return { traceId: parent.traceId, spanId: newSpanId(), flags: parent.flags };
}

/**
 * The server span of an incoming request: a child of the caller's valid traceparent, or a
 * new trace. `parentSpanId` is the caller's span (for the span row), absent on a new trace.
 */
export function continueTrace(header: string | null | undefined): TraceContext & { parentSpanId?: string } {
  const parent = parseTraceparent(header);
  return parent ? { ...childOf(parent), parentSpanId: parent.spanId } : newTrace();
}
