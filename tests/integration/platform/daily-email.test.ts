/**
 * Issue 11 item 19: the charter's email daily summary. The autopilot's daily job (run in
 * Deno, as on the hosted platform, with nodemailer from npm:) sends it over SMTP with
 * implicit TLS to a real local SMTP server (smtp-server) on 127.0.0.1 with a self-signed
 * certificate the sender trusts only because the test's configuration names it.
 */
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stackEnv } from "../../helpers/env.ts";
import { DEMO_TENANT } from "../../helpers/auth.ts";
import { PROJECT_ROOT } from "../../../scripts/stack/instance.ts";

const sql = postgres(stackEnv.dbUrl, { prepare: false, max: 2, onnotice: () => {} });
const dir = mkdtempSync(join(tmpdir(), "switchyard-smtp-"));
const SMTP_USER = "switchyard";
const SMTP_PASS = randomBytes(12).toString("hex");
const CONSOLE = "https://console.example.test/functions/v1/console";
const received: { from: string | undefined; to: string[]; raw: string }[] = [];
const serverErrors: string[] = [];
let server: SMTPServer;
let port = 0;
let cert = "";

beforeAll(async () => {
  // A self-signed certificate for 127.0.0.1, made here (openssl comes with Postgres' ssl-cert).
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
    "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
  ], { stdio: "ignore" });
  cert = readFileSync(join(dir, "cert.pem"), "utf8");
  server = new SMTPServer({
    secure: true, // implicit TLS, as on port 465
    key: readFileSync(join(dir, "key.pem")),
    cert,
    disabledCommands: ["STARTTLS"],
    authMethods: ["PLAIN", "LOGIN"],
    onAuth(auth, _session, cb) {
      if (auth.username === SMTP_USER && auth.password === SMTP_PASS) cb(null, { user: auth.username });
      else cb(new Error("bad credentials"));
    },
    onData(stream, session, cb) {
      let raw = "";
      stream.on("data", (c: Buffer) => (raw += c.toString("utf8")));
      stream.on("end", () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : undefined,
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
        });
        cb();
      });
    },
    logger: false,
  });
  server.on("error", (err: Error & { code?: string }) => serverErrors.push(err.code ?? err.message));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  port = (server.server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
  await sql.end();
});

/** Runs the autopilot's daily job in Deno (the function's own handler) with `env` added. */
function runDailyInDeno(env: Record<string, string>): Promise<{ status: number; body: Record<string, any> }> {
  const code = `
    const { handler } = await import(${JSON.stringify(`file://${PROJECT_ROOT}/supabase/functions/autopilot/handler.ts`)});
    const res = await handler(new Request("http://local/autopilot/daily", { method: "POST", headers: { authorization: "Bearer " + Deno.env.get("TEST_SERVICE_KEY") } }));
    console.log(JSON.stringify({ status: res.status, body: await res.json() }));
    Deno.exit(0);`;
  return new Promise((resolve, reject) => {
    const child = spawn(join(PROJECT_ROOT, "node_modules", ".bin", "deno"), ["eval", "--ext=ts", code], {
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        NO_COLOR: "1",
        SUPABASE_DB_URL: stackEnv.dbUrl,
        SUPABASE_URL: stackEnv.apiUrl,
        SWITCHYARD_JWT_SECRET: stackEnv.jwtSecret,
        SWITCHYARD_CONSOLE_URL: CONSOLE,
        TEST_SERVICE_KEY: stackEnv.serviceRoleKey,
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "", err = "";
    child.stdout.on("data", (c) => (out += c));
    child.stderr.on("data", (c) => (err += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), 45_000);
    child.on("exit", (codeOut) => {
      clearTimeout(timer);
      const line = out.split("\n").reverse().find((l) => l.startsWith("{\"status\""));
      if (!line) reject(new Error(`deno exited ${codeOut} without a result: ${err.slice(-2000)}`));
      else resolve(JSON.parse(line));
    });
  });
}

/** The message's text body (quoted-printable or base64 decoded). */
function textBody(raw: string): string {
  const [head, ...rest] = raw.split(/\r?\n\r?\n/);
  const body = rest.join("\n\n");
  if (/content-transfer-encoding:\s*quoted-printable/i.test(head)) {
    return Buffer.from(body.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), "latin1").toString("utf8");
  }
  if (/content-transfer-encoding:\s*base64/i.test(head)) return Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
  return body;
}

describe("the email daily summary", () => {
  it("is sent over implicit TLS to ALERT_EMAIL_TO: SLOs, DLQ count, costs, incidents with trace links, no PII or secrets", async () => {
    const trace = randomBytes(16).toString("hex");
    const key = `daily-email-${randomBytes(4).toString("hex")}`;
    // An incident whose text names a principal by email and carries a token: neither may leave.
    await sql`insert into public.alerts (tenant_id, source, severity, dedupe_key, summary, trace_id)
              values (${DEMO_TENANT}, 'rates.slo', 'critical', ${key},
                      ${"p95 breach after ops@demo-freight.test changed budget (Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl)"}, ${trace})`;
    await sql`insert into public.cost_ledger (tenant_id, category, amount_usd, ref) values (${DEMO_TENANT}, 'llm', 1.25, ${key})`;
    const [dlq] = await sql`select count(*)::int as n from public.dlq_entries where state = 'dead'`;

    const out = await runDailyInDeno({
      SMTP_URL: `smtps://${SMTP_USER}:${SMTP_PASS}@127.0.0.1:${port}`,
      SMTP_FROM: "Switchyard <alerts@switchyard.example>",
      ALERT_EMAIL_TO: "oncall@ops.example, cto@ops.example",
      SMTP_TLS_CA: cert, // trusted because the test's configuration says so; verification stays on
    });
    expect(out.status).toBe(200);
    expect(out.body.email).toMatchObject({ sent: true, recipients: 2 });
    expect(received).toHaveLength(1);
    const [mail] = received;
    expect(mail.from).toBe("alerts@switchyard.example");
    expect(mail.to.sort()).toEqual(["cto@ops.example", "oncall@ops.example"]);
    expect(mail.raw).toMatch(/^Subject: Switchyard daily summary \d{4}-\d{2}-\d{2}/m);
    const text = textBody(mail.raw);
    expect(text).toContain("SLOs (success, p95 upper bound):");
    expect(text).toMatch(new RegExp(`DLQ: ${dlq.n} dead entries`));
    expect(text).toMatch(/Costs: \$\d+\.\d{2} in 24 h/);
    expect(text).toMatch(/ {2}llm: \$\d+\.\d{2}/);
    expect(text).toContain(`[critical]`);
    expect(text).toContain(`trace: ${CONSOLE}#/trace/${trace}`);
    // No PII and no secret in the body: no address at all, no token, no key, no password.
    expect(text).not.toContain("@");
    expect(text).toContain("[REDACTED:email]");
    for (const secret of ["eyJhbGciOiJIUzI1NiJ9", stackEnv.jwtSecret, stackEnv.serviceRoleKey, SMTP_PASS, stackEnv.dbUrl]) {
      expect(mail.raw).not.toContain(secret);
    }
    await sql`update public.alerts set resolved_at = now() where dedupe_key = ${key}`;
  });

  it("refuses a server certificate the configuration does not trust (no CA named: nothing sent)", async () => {
    const before = received.length;
    const out = await runDailyInDeno({
      SMTP_URL: `smtps://${SMTP_USER}:${SMTP_PASS}@127.0.0.1:${port}`,
      SMTP_FROM: "alerts@switchyard.example",
      ALERT_EMAIL_TO: "oncall@ops.example",
    });
    expect(out.status).toBe(200);
    expect(out.body.email).toEqual({ sent: false, reason: "send failed" });
    expect(received.length).toBe(before);
    // The client ended the handshake: it did not know the certificate.
    await new Promise((r) => setTimeout(r, 100));
    expect(serverErrors.join(" ")).toMatch(/CERTIFICATE_UNKNOWN|certificate unknown/i);
  });
});
