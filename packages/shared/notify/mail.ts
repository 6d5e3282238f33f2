import nodemailer from "nodemailer";
import type { Config } from "../config/env.ts";

/**
 * Outbound email behind one small interface: today SMTP (nodemailer), tomorrow an HTTP mail
 * API could implement `Mailer` instead. Hosted Edge Functions block outbound ports 25 and
 * 587, so SMTP here is always implicit TLS (smtps, port 465 by default); STARTTLS is never
 * used.
 */
export interface MailMessage {
  to: string[];
  subject: string;
  text: string;
}

export interface Mailer {
  /** Sends one message; resolves with the server's message id, rejects when refused. */
  send(message: MailMessage): Promise<{ messageId: string | null }>;
  close(): void;
}

export interface SmtpSettings {
  host: string;
  port: number;
  user?: string;
  pass?: string;
  from: string;
  /**
   * Extra CA certificates (PEM) to trust, for a private or test CA. The server certificate
   * is always verified (host name included): this adds trust, it never turns checks off.
   */
  ca?: string;
  timeoutMs?: number;
}

export function smtpMailer(s: SmtpSettings): Mailer {
  const transport = nodemailer.createTransport({
    host: s.host,
    port: s.port,
    secure: true, // implicit TLS from the first byte (465); never plain text or STARTTLS
    auth: s.user ? { user: s.user, pass: s.pass ?? "" } : undefined,
    tls: { rejectUnauthorized: true, minVersion: "TLSv1.2", ...(s.ca ? { ca: [s.ca] } : {}) },
    connectionTimeout: s.timeoutMs ?? 10_000,
    greetingTimeout: s.timeoutMs ?? 10_000,
    socketTimeout: s.timeoutMs ?? 10_000,
  });
  return {
    async send(m) {
      const info = await transport.sendMail({ from: s.from, to: m.to, subject: m.subject, text: m.text });
      return { messageId: (info as { messageId?: string }).messageId ?? null };
    },
    close: () => transport.close(),
  };
}

/** SMTP settings from the configuration (SMTP_URL, or SMTP_HOST/PORT/USER/PASS); null when unset. */
export function smtpSettings(c: Config): SmtpSettings | null {
  const from = c.SMTP_FROM;
  if (c.SMTP_URL) {
    const u = new URL(c.SMTP_URL);
    const user = decodeURIComponent(u.username) || undefined;
    return {
      host: u.hostname.replace(/^\[|\]$/g, ""),
      port: u.port ? Number(u.port) : 465,
      user,
      pass: user ? decodeURIComponent(u.password) : undefined,
      from: from ?? (user && user.includes("@") ? user : `switchyard@${u.hostname}`),
      ca: c.SMTP_TLS_CA,
    };
  }
  if (!c.SMTP_HOST) return null;
  return {
    host: c.SMTP_HOST,
    port: c.SMTP_PORT ?? 465,
    user: c.SMTP_USER,
    pass: c.SMTP_PASS,
    from: from ?? `switchyard@${c.SMTP_HOST}`,
    ca: c.SMTP_TLS_CA,
  };
}

/** The mailer the configuration names, or null (no SMTP configured: email is skipped). */
export function mailerFromConfig(c: Config): Mailer | null {
  const s = smtpSettings(c);
  return s ? smtpMailer(s) : null;
}

/** ALERT_EMAIL_TO as a list of addresses. */
export const alertRecipients = (c: Config): string[] =>
  (c.ALERT_EMAIL_TO ?? "").split(",").map((x) => x.trim()).filter(Boolean);
