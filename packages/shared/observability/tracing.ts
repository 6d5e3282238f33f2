import { context, type Span, SpanStatusCode, trace, type Tracer, TraceFlags } from "@opentelemetry/api";
import { ExportResultCode, hrTimeToMilliseconds, type ExportResult } from "@opentelemetry/core";
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { redact } from "./redact.ts";
import type { TraceContext } from "./traceparent.ts";

/** One row of the spans table (attributes already PII-redacted). */
export interface SpanRow {
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  name: string;
  tenant_id: string | null;
  attributes: Record<string, unknown>;
  started_at: string;
  duration_ms: number;
  status: "ok" | "error" | "unset";
}

export function toSpanRow(s: ReadableSpan): SpanRow {
  const attrs = redact({ ...s.attributes }) as Record<string, unknown>;
  return {
    trace_id: s.spanContext().traceId,
    span_id: s.spanContext().spanId,
    parent_span_id: s.parentSpanContext?.spanId ?? null,
    name: s.name,
    tenant_id: typeof s.attributes["tenant.id"] === "string" ? (s.attributes["tenant.id"] as string) : null,
    attributes: attrs,
    started_at: new Date(hrTimeToMilliseconds(s.startTime)).toISOString(),
    duration_ms: Math.round(hrTimeToMilliseconds(s.duration) * 1000) / 1000,
    status: s.status.code === SpanStatusCode.ERROR ? "error" : s.status.code === SpanStatusCode.OK ? "ok" : "unset",
  };
}

/** Exports finished spans, in batches, to a sink (the spans table). */
export class RowSpanExporter implements SpanExporter {
  constructor(private readonly sink: (rows: SpanRow[]) => Promise<void>) {}
  export(spans: ReadableSpan[], done: (r: ExportResult) => void): void {
    this.sink(spans.map(toSpanRow)).then(
      () => done({ code: ExportResultCode.SUCCESS }),
      (error) => done({ code: ExportResultCode.FAILED, error }),
    );
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * The tracer of a function: spans go in batches to `sink`, and also over OTLP/HTTP when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set (the exporter reads that variable itself).
 */
export function createTracer(service: string, sink: (rows: SpanRow[]) => Promise<void>, otlpEndpoint?: string) {
  const processors: SpanProcessor[] = [
    new BatchSpanProcessor(new RowSpanExporter(sink), { scheduledDelayMillis: 500, maxExportBatchSize: 256 }),
  ];
  if (otlpEndpoint) {
    processors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url: `${otlpEndpoint.replace(/\/$/, "")}/v1/traces` })));
  }
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ "service.name": service }),
    spanProcessors: processors,
  });
  return { tracer: provider.getTracer("switchyard"), provider };
}

/** Starts a span as the child of a W3C context (the caller's traceparent, or a parent span). */
export function startSpan(tracer: Tracer, name: string, parent: TraceContext | Span | null, attributes: Record<string, string | number | boolean> = {}): Span {
  let ctx = context.active();
  if (parent && "spanContext" in parent) ctx = trace.setSpan(ctx, parent);
  else if (parent) {
    ctx = trace.setSpanContext(ctx, {
      traceId: parent.traceId,
      spanId: parent.spanId,
      traceFlags: parent.flags & TraceFlags.SAMPLED,
      isRemote: true,
    });
  }
  // Redacted here, before any exporter sees them (the OTLP exporter ships attributes as is).
  return tracer.startSpan(name, { attributes: redact(attributes) }, ctx);
}

/** The traceparent that names `span` (returned on responses and sent downstream). */
export function traceparentOf(span: Span): string {
  const c = span.spanContext();
  return `00-${c.traceId}-${c.spanId}-${(c.traceFlags & 0xff).toString(16).padStart(2, "0")}`;
}
