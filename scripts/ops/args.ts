/** Argument parsing for one command: node's parseArgs (strict) + zod for the values. */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { z } from "zod";
import { usage } from "./errors.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Parses argv strictly: unknown options and a wrong number of positionals are usage errors. */
export function parse<O extends Options>(argv: string[], options: O, positionals: { min?: number; max?: number; usage: string }) {
  const parsed = orUsage(() => parseArgs({ args: argv, options, strict: true, allowPositionals: true }), positionals.usage);
  const n = parsed.positionals.length;
  if (n < (positionals.min ?? 0) || n > (positionals.max ?? 0)) throw usage(`usage: ${positionals.usage}`);
  return parsed;
}

function orUsage<T>(fn: () => T, text: string): T {
  try {
    return fn();
  } catch (err) {
    throw usage(`${(err as Error).message.split("\n")[0]}\nusage: ${text}`);
  }
}

/** Validates one value with a zod schema; a failure is a usage error naming the argument. */
export function check<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw usage(`${what}: ${r.error.issues[0]?.message ?? "invalid"}`);
  return r.data;
}

export const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, "not a uuid");
export const traceId = z.string().regex(/^[0-9a-f]{32}$/, "a trace id is 32 lowercase hex characters");
export const reason = z.string().trim().min(3, "give a reason of at least 3 characters").max(500);
/** A Postgres interval such as "5 minutes", "1 hour", "15m". */
export const interval = z.string().regex(/^\s*\d+(\.\d+)?\s*(s|sec|secs|seconds?|m|min|mins|minutes?|h|hours?|d|days?)\s*$/i,
  'an interval such as "5 minutes", "15m" or "1 hour"')
  .transform((s) => s.trim().replace(/^(\d+(?:\.\d+)?)\s*(s|m|h|d)$/i, (_, n, u) => `${n} ${({ s: "seconds", m: "minutes", h: "hours", d: "days" } as Record<string, string>)[u.toLowerCase()]}`));

/** `--ids a,b --ids c` -> [a, b, c], each a uuid. */
export function idList(values: string[] | undefined): string[] {
  const ids = (values ?? []).flatMap((v) => v.split(/[\s,]+/)).filter(Boolean);
  return ids.map((id) => check(uuid, id, `--ids ${id}`));
}

/** The reason for a change: required, or the command's default when it has one. */
export function reasonOf(value: string | undefined, fallback?: string): string {
  if (value === undefined) {
    if (fallback === undefined) throw usage("--reason is required: say why (it is recorded in the flag history and the audit log)");
    return fallback;
  }
  return check(reason, value, "--reason");
}
