/**
 * Issue 11 item 2, the class: no function writes on the owner's session. Functions connect
 * with SUPABASE_DB_URL, the database owner, which the rails trust (no principal, no RLS, no
 * kill switch). Every write must therefore go through a transaction that carries a
 * principal's claims (`withClaims(sql, machineClaims(...), (tx) => ...)`, `runAction`,
 * `asCaller`, the autopilot's `asAutopilot`), where the handle is `tx`.
 *
 * How it finds them (robust to formatting, not to be fooled by comments or strings): the
 * TypeScript compiler parses each file of supabase/functions, packages/shared and
 * packages/portals; every tagged template whose tag is a pool handle (`sql`, `ctx.sql`,
 * `this.sql`, `deps.sql`, ... : an identifier or property named `sql`), every `.unsafe(...)`
 * and `.begin(...)` on one (a bare transaction has no claims either, unless it sets
 * `request.jwt.claims` itself, as runAction and asCaller do) is a query on the owner's session. Its SQL text is a write when it has INSERT / UPDATE / DELETE / TRUNCATE / MERGE, or
 * calls a VOLATILE function of app_private, ops or public: the function list is read from the
 * migrations (a function declared neither STABLE nor IMMUTABLE may write), so a new write
 * function is covered without editing this test. Handles named `tx` (claims set) pass.
 *
 * KNOWN lists what still writes on the owner's session, each with why; anything else fails
 * with file:line. Shrink it, never grow it without a reason a reviewer accepts.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../scripts/stack/instance.ts";

const ROOTS = ["supabase/functions", "packages/shared", "packages/portals"];

/** file -> fragments of the SQL that may stay on the owner's session, with the reason. */
const KNOWN: { file: string; sql: string; why: string }[] = [
  { file: "packages/shared/pipeline/telemetry.ts", sql: "insert into public.request_metrics", why: "request metrics sink (item 4: record_request)" },
  { file: "packages/shared/pipeline/telemetry.ts", sql: "insert into public.spans", why: "span sink (item 4: record_span)" },
  { file: "packages/shared/pipeline/telemetry.ts", sql: "app_private.feed_publish", why: "Live Feed sink (item 4: feed_publish)" },
  { file: "packages/shared/pipeline/run.ts", sql: "app_private.rate_limit_take_or_raise", why: "rate limit before the action's transaction (item 4/5: rate limits and nonces)" },
  { file: "supabase/functions/live-feed/handler.ts", sql: "sql.begin(...)", why: "redeems a stream ticket as service_role, not the owner: the ticket is the credential, there is no principal yet (item 16)" },
  { file: "packages/shared/pipeline/portal.ts", sql: "app_private.webhook_nonce_use", why: "the nonce is spent when the signature verifies, before any principal's transaction, so a refusal cannot roll it back (item 5)" },
];

function files(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (/\.tsx?$/.test(e) && !/\.test\.tsx?$/.test(e)) out.push(p);
  }
  return out;
}

/** VOLATILE functions of app_private / ops / public, from the migrations. */
function volatileFunctions(): Set<string> {
  const dir = join(PROJECT_ROOT, "supabase", "migrations");
  const out = new Set<string>();
  for (const f of readdirSync(dir).filter((x) => x.endsWith(".sql"))) {
    const text = readFileSync(join(dir, f), "utf8").replace(/--[^\n]*/g, "");
    const re = /create\s+(?:or\s+replace\s+)?function\s+((?:app_private|ops|public)\.\w+)\s*\(([\s\S]*?)\bas\s+\$(\w*)\$/gi;
    for (const m of text.matchAll(re)) {
      if (!/\b(stable|immutable)\b/i.test(m[2].replace(/returns\s+table\s*\([\s\S]*?\)/i, ""))) out.add(m[1].toLowerCase());
    }
  }
  return out;
}

const isPool = (e: ts.Expression): boolean =>
  (ts.isIdentifier(e) && e.text === "sql") || (ts.isPropertyAccessExpression(e) && e.name.text === "sql");

function templateText(t: ts.TemplateLiteral): string {
  if (ts.isNoSubstitutionTemplateLiteral(t)) return t.text;
  return [t.head.text, ...t.templateSpans.map((s) => "$" + s.literal.text)].join("");
}

export function ownerSessionWrites(root = PROJECT_ROOT): { where: string; file: string; sql: string }[] {
  const writeFns = volatileFunctions();
  const dml = /\b(insert\s+into|update\s+[\w."]+(\s+\w+)?\s+set|delete\s+from|truncate|merge\s+into)\b/i;
  const writes = (text: string) => dml.test(text) ||
    [...text.matchAll(/\b((?:app_private|ops|public)\.\w+)\s*\(/gi)].some((m) => writeFns.has(m[1].toLowerCase()));
  const found: { where: string; file: string; sql: string }[] = [];
  for (const r of ROOTS) {
    for (const path of files(join(root, r))) {
      const file = relative(root, path);
      if (file === "packages/shared/db/client.ts") continue; // withClaims itself
      const src = ts.createSourceFile(path, readFileSync(path, "utf8"), ts.ScriptTarget.Latest, true);
      const at = (n: ts.Node) => `${file}:${src.getLineAndCharacterOfPosition(n.getStart()).line + 1}`;
      const visit = (n: ts.Node) => {
        if (ts.isTaggedTemplateExpression(n) && isPool(n.tag)) {
          const text = templateText(n.template);
          if (writes(text)) found.push({ where: at(n), file, sql: text.replace(/\s+/g, " ").trim().slice(0, 120) });
        } else if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression) && isPool(n.expression.expression)
                   && ["unsafe", "begin"].includes(n.expression.name.text)) {
          // A transaction that sets the caller's claims itself (runAction, asCaller) is not the owner's.
          const setsClaims = n.expression.name.text === "begin" && /set_config\('request\.jwt\.claims'/.test(n.getText(src));
          if (!setsClaims) found.push({ where: at(n), file, sql: `${n.expression.getText(src)}(...)` });
        }
        ts.forEachChild(n, visit);
      };
      visit(src);
    }
  }
  return found;
}

describe("no function writes on the owner's session", () => {
  it("every write in function code runs under a principal's claims (or is a KNOWN, reasoned exception)", () => {
    const all = ownerSessionWrites();
    const unknown = all.filter((w) => !KNOWN.some((k) => k.file === w.file && w.sql.includes(k.sql)))
      .map((w) => `${w.where}: ${w.sql}`);
    expect(unknown).toEqual([]);
    // every KNOWN entry still matches something (a fixed one must leave the list)
    const stale = KNOWN.filter((k) => !all.some((w) => w.file === k.file && w.sql.includes(k.sql))).map((k) => `${k.file}: ${k.sql}`);
    expect(stale).toEqual([]);
  });

  it("finds the writes it is meant to find (the canary step as it was)", () => {
    const fns = volatileFunctions();
    expect(fns.has("app_private.raise_alert")).toBe(true);
    expect(fns.has("app_private.flag_bool")).toBe(false); // stable: a read
  });
});
