/**
 * `ops keys rotate|rehearse <account>` (charter §1: 90-day keys, rehearsed monthly). The
 * secret of a rotated key is printed once, here, and never stored (only its sha256).
 */
import { check, interval, parse, reasonOf } from "./args.ts";
import { type Command, group } from "./command.ts";
import { withReason } from "./db.ts";

const ACCOUNT = "autopilot|agents|dlq|ci|n8n|system";

const rotate: Command = async ({ sql, out, argv }) => {
  const { values, positionals } = parse(argv, { grace: { type: "string" }, reason: { type: "string" } },
    { min: 1, max: 1, usage: `ops keys rotate <${ACCOUNT}> [--grace 24h] [--reason "..."] [--json]` });
  const account = positionals[0];
  const grace = check(interval, values.grace ?? "24 hours", "--grace");
  const reason = reasonOf(values.reason, `key rotation of ${account} via ops CLI`);
  const [k] = await withReason(sql, reason, (tx) =>
    tx`select key_id, secret, expires_at from ops.rotate_service_key(${account}, ${grace}::interval)`);
  out.result({ account, keyId: k.key_id, secret: k.secret, expiresAt: k.expires_at, olderKeysExpireIn: grace }, [
    `New key for ${account} (older keys expire in ${grace}):`,
    `  key id:  ${k.key_id}`,
    `  secret:  ${k.secret}`,
    `  expires: ${k.expires_at.toISOString()}`,
    "Store the secret now: it is shown once and only its hash is kept.",
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
