/** `ops flags get|set`: typed reads and audited writes of the switchboard. */
import { parse, reasonOf } from "./args.ts";
import { type Command, group } from "./command.ts";
import { type Sql, withReason } from "./db.ts";
import { setFlag } from "./flag-store.ts";
import { table } from "./output.ts";

const GET_USAGE = "ops flags get [key] [--scope global|tenant:<uuid>|portal:<name>|tenant:<uuid>:portal:<name>] [--json]";
const SET_USAGE = 'ops flags set <key> <value> --reason "..." [--scope S] [--json]   (a negative value goes after --)';

/** The tenant/portal a scope names (validated by the database: bad_flag_scope). */
async function context(sql: Sql, scope: string | undefined) {
  if (!scope) return { scope: "global", tenantId: null, portal: null };
  const [c] = await sql`select scope, tenant_id, portal from app_private.parse_flag_scope(${scope})`;
  return { scope: c.scope as string, tenantId: c.tenant_id as string | null, portal: c.portal as string | null };
}

const get: Command = async ({ sql, out, argv }) => {
  const { values, positionals } = parse(argv, { scope: { type: "string" } }, { max: 1, usage: GET_USAGE });
  const ctx = await context(sql, values.scope);
  const key = positionals[0];
  if (!key) {
    const rows = await sql`select key, value, value_type, scope from public.flags_effective(${ctx.tenantId}, ${ctx.portal})`;
    const flags = rows.map((r) => ({ key: r.key, value: r.value, type: r.value_type, from: r.scope }));
    out.result({ context: ctx.scope, flags }, () => `Effective flags at ${ctx.scope}\n${table(flags, ["key", "value", "type", "from"])}`);
    return;
  }
  // flag_effective raises unknown_flag for a key with no definition.
  const [[eff], stored, [def], history] = await Promise.all([
    sql`select value, value_type, scope from app_private.flag_effective(${key}, ${ctx.tenantId}, ${ctx.portal})`,
    sql`select scope, value, reason, owner_name, updated_at, updated_by from public.feature_flags_typed where key = ${key} order by scope`,
    sql`select value_type, min_value::float8, max_value::float8, allowed_values, allowed_scopes, default_value, write_permission, description
        from public.flag_definitions where key = ${key}`,
    sql`select scope, old_value, new_value, reason, changed_by, changed_at from public.feature_flag_history
        where key = ${key} order by changed_at desc limit 5`,
  ]);
  const data = {
    key, context: ctx.scope, value: eff.value, type: eff.value_type, from: eff.scope,
    definition: def ? { ...def } : null,
    rows: stored.map((r) => ({ ...r })),
    history: history.map((r) => ({ ...r })),
  };
  out.result(data, () => [
    `${key} = ${JSON.stringify(eff.value)} (${eff.value_type}; at ${ctx.scope}, from ${eff.scope})`,
    def ? `  ${def.description}; written with ${def.write_permission}` : "",
    "", "Stored rows", table(data.rows, ["scope", "value", "reason", "updated_by", "updated_at"]),
    "", "Recent changes", table(data.history, ["changed_at", "scope", "old_value", "new_value", "changed_by", "reason"]),
  ].join("\n"));
};

const set: Command = async ({ sql, out, argv }) => {
  const { values, positionals } = parse(argv, { scope: { type: "string" }, reason: { type: "string" } }, { min: 2, max: 2, usage: SET_USAGE });
  const reason = reasonOf(values.reason);
  const [key, value] = positionals;
  const change = await withReason(sql, reason, (tx) => setFlag(tx, key, values.scope ?? "global", value, reason));
  out.result({ ...change, reason },
    `${change.key} @ ${change.scope} = ${JSON.stringify(change.value)}${change.changed ? ` (was ${JSON.stringify(change.previous)})` : " (unchanged)"}\nreason: ${reason}`);
};

export const flags = group("flags", { get, set });
