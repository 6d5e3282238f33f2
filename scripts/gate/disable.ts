/**
 * A failed gate switches the agents off (charter §7) as the ci service account: the write
 * goes through RLS with ci's claims (flags.autonomy.write), so the flag history and the
 * audit log name ci, the reason and the gate's trace id. While the kill switch is on, ci
 * is refused (autonomy_halted) like every machine; the operator's session then makes the
 * same write so agents stay off after a resume, and the report says who did it.
 */
import { randomBytes } from "node:crypto";
import type { Queryable, Sql } from "../ops/db.ts";
import { classify } from "../ops/errors.ts";

export interface DisableOutcome {
  disabled: boolean;
  by: "ci" | "operator" | null;
  ciRefused?: string; // why ci's own write was refused
  error?: string; // why neither write went through
  traceId: string;
}

const UPSERT = (q: Queryable, reason: string) => q`
  insert into public.feature_flags_v2 (key, scope, value, reason, owner_name)
  values ('agents.autonomousEnabled', 'global', 'false', ${reason}, 'ci')
  on conflict (key, scope) do update set value = excluded.value, reason = excluded.reason`;

export const newTraceId = () => randomBytes(16).toString("hex");

export async function disableAgents(sql: Sql, reason: string, traceId: string): Promise<DisableOutcome> {
  const headers = JSON.stringify({ traceparent: `00-${traceId}-${randomBytes(8).toString("hex")}-01` });
  let ciRefused: string | undefined;
  try {
    await sql.begin(async (tx) => {
      const [ci] = await tx`select principal_id from public.service_accounts where name = 'ci'`;
      const claims = JSON.stringify({ sub: ci.principal_id, role: "authenticated", principal_kind: "machine", principal_name: "ci" });
      await tx`select set_config('request.jwt.claims', ${claims}, true), set_config('request.headers', ${headers}, true),
                      set_config('app.reason', ${reason}, true)`;
      await tx`set local role authenticated`;
      await UPSERT(tx, reason);
    });
    return { disabled: true, by: "ci", traceId };
  } catch (err) {
    const e = classify(err);
    if (e.exit === 5) return { disabled: false, by: null, error: e.message, traceId };
    ciRefused = `${e.code}: ${e.message}`;
  }
  try {
    await sql.begin(async (tx) => {
      await tx`select set_config('request.headers', ${headers}, true),
                      set_config('app.reason', ${`${reason} (operator session: ci was refused, ${ciRefused})`}, true)`;
      await UPSERT(tx, reason);
    });
    return { disabled: true, by: "operator", ciRefused, traceId };
  } catch (err) {
    const e = classify(err);
    return { disabled: false, by: null, ciRefused, error: `${e.code}: ${e.message}`, traceId };
  }
}
