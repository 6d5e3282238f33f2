/**
 * `ops keys rotate|rehearse <account>` (charter §1: 90-day keys, rehearsed monthly). The
 * secret of a rotated key is printed once, here, and never stored: its HMAC signing key goes
 * to Vault, service_account_keys keeps a fingerprint that cannot sign. n8n keys serve named
 * tenants (`--tenants <uuid>,<uuid>`; by default those of the keys they replace).
 */
import { check, interval, parse, reasonOf } from "./args.ts";
import { type Command, group } from "./command.ts";
import { withReason } from "./db.ts";

const ACCOUNT = "autopilot|agents|dlq|ci|n8n|system";

const rotate: Command = async ({ sql, out, argv }) => {
  const { values, positionals } = parse(argv, { grace: { type: "string" }, reason: { type: "string" }, tenants: { type: "string" } },
    { min: 1, max: 1, usage: `ops keys rotate <${ACCOUNT}> [--grace 24h] [--tenants <uuid>,...] [--reason "..."] [--json]` });
  const account = positionals[0];
  const grace = check(interval, values.grace ?? "24 hours", "--grace");
  const reason = reasonOf(values.reason, `key rotation of ${account} via ops CLI`);
  const tenants = values.tenants ? values.tenants.split(",").map((t) => t.trim()).filter(Boolean) : null;
  const k = await withReason(sql, reason, async (tx) => {
    const [r] = await tx`select key_id, secret, expires_at from ops.rotate_service_key(${account}, ${grace}::interval, ${tenants}::uuid[])`;
    // (a statement of its own: the one that inserted the key does not see it)
    const [t] = await tx`select tenant_ids from public.service_account_keys where key_id = ${r.key_id}`;
    return { key_id: r.key_id as string, secret: r.secret as string, expires_at: r.expires_at as Date, tenant_ids: t.tenant_ids as string[] | null };
  });
  out.result({ account, keyId: k.key_id, secret: k.secret, expiresAt: k.expires_at, olderKeysExpireIn: grace, tenants: k.tenant_ids }, [
    `New key for ${account} (older keys expire in ${grace}):`,
    `  key id:  ${k.key_id}`,
    `  secret:  ${k.secret}`,
    `  expires: ${k.expires_at.toISOString()}`,
    `  tenants: ${k.tenant_ids ? k.tenant_ids.join(", ") : "all (platform account)"}`,
    "Store the secret now: it is shown once; the signing key is kept in Vault only.",
  ].join("\n"));
};

const rehearse: Command = async ({ sql, out, argv }) => {
  const { positionals } = parse(argv, {}, { min: 1, max: 1, usage: `ops keys rehearse <${ACCOUNT}> [--json]` });
  const [r] = await sql`select id, outcome, details, rehearsed_at, performed_by from ops.rehearse_key_rotation(${positionals[0]})`;
  const passed = r.outcome === "passed";
  out.result({ account: positionals[0], rehearsalId: r.id, outcome: r.outcome, details: r.details, rehearsedAt: r.rehearsed_at },
    `Key rotation rehearsal for ${positionals[0]}: ${r.outcome.toUpperCase()}\n` +
      Object.entries(r.details as Record<string, unknown>).map(([k, v]) => `  ${k}: ${v}`).join("\n"));
  return passed ? 0 : 1;
};

export const keys = group("keys", { rotate, rehearse });
