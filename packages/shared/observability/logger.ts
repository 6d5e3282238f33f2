import pino from "pino";
import { redact } from "./redact.ts";

export type Logger = pino.Logger;

/**
 * Structured JSON logs. Every record passes through the PII redactor (objects and the
 * message), and child loggers carry trace_id/span_id so a log line leads to its trace.
 */
export function createLogger(service: string, destination?: pino.DestinationStream): Logger {
  return pino({
    base: { service },
    level: globalThis.process?.env?.LOG_LEVEL ?? "info",
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label) => ({ level: label }),
      log: (obj) => redact(obj),
    },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((a) => (typeof a === "string" ? redact(a) : a)) as Parameters<typeof method>);
      },
    },
  }, destination);
}
