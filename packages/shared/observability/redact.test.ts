import { describe, expect, it } from "vitest";
import { MASK, redact, redactText } from "./redact.ts";

const JWT_SAMPLE =
  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MmY3YjUxYyIsInJvbGUiOiJhdXRoZW50aWNhdGVkIn0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk0";

// Everything here must be gone from the redacted output.
const PII = [
  "dana.whitfield@acmefoods.com",
  "Dana Whitfield",
  "Dana",
  "Whitfield",
  "(312) 555-0142",
  "312-555-0199",
  "+14155550123",
  "Maria Lopez",
  "+1 602 555 0187",
  "tok_9f8e7d6c5b4a",
  JWT_SAMPLE,
  "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  "s3cr3t-Passw0rd",
  "v2=q1w2e3r4t5y6u7i8o9p0",
  "sk_live_51HqLyjWDarjtT1zdp7dc",
];

const shipment = {
  tenant_id: "6b0b5c1e-8c3a-4c64-9d36-0c1f3c2a9e11",
  reference: "PO-88213",
  origin: { zip: "60601", city: "Chicago", state: "IL" },
  destination: { zip: "90210", city: "Beverly Hills", state: "CA" },
  equipment: "van",
  weight_lbs: 42000,
  shipper: {
    company: "Acme Foods",
    contact: { firstName: "Dana", lastName: "Whitfield", email: "dana.whitfield@acmefoods.com" },
    phone: "(312) 555-0142",
    notes: "Call 312-555-0199 before 9am, dock 4",
  },
  driver: { driverName: "Maria Lopez", mobile: "+1 602 555 0187", cdl_state: "AZ" },
  consignee_contact: "Dana Whitfield",
  webhook_url: "https://hooks.partner.example/freight/events?token=tok_9f8e7d6c5b4a&tenant=acme",
  headers: {
    authorization: `Bearer ${JWT_SAMPLE}`,
    "x-switchyard-signature": "v2=q1w2e3r4t5y6u7i8o9p0",
    "content-type": "application/json",
    traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
  },
  integration: { apiKey: "sk_live_51HqLyjWDarjtT1zdp7dc", webhook_secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" },
  login: { username: "dana", password: "s3cr3t-Passw0rd" },
  sms_to: "+14155550123",
};

describe("redact", () => {
  it("removes every piece of PII and every secret from a realistic freight payload", () => {
    const out = JSON.stringify(redact(shipment));
    for (const pii of PII) expect(out, pii).not.toContain(pii);
  });

  it("keeps the operational fields a log reader needs", () => {
    const out = redact(shipment);
    expect(out.reference).toBe("PO-88213");
    expect(out.origin).toEqual({ zip: "60601", city: "Chicago", state: "IL" });
    expect(out.destination.city).toBe("Beverly Hills");
    expect(out.weight_lbs).toBe(42000);
    expect(out.shipper.company).toBe("Acme Foods");
    expect(out.shipper.notes).toBe(`Call ${MASK.phone} before 9am, dock 4`);
    expect(out.driver.cdl_state).toBe("AZ");
    expect(out.headers["content-type"]).toBe("application/json");
    expect(out.headers.traceparent).toBe(shipment.headers.traceparent);
    expect(out.webhook_url).toBe(`https://hooks.partner.example/freight/events?${MASK.query}`);
    expect(out.tenant_id).toBe(shipment.tenant_id);
  });

  it("masks by key whatever the value looks like", () => {
    expect(redact({ token: { nested: "x" }, Authorization: "abc", firstName: "Al", fax: "1" }))
      .toEqual({ token: MASK.secret, Authorization: MASK.secret, firstName: MASK.name, fax: MASK.phone });
    expect(redact({ hostname: "db.internal", tableName: "quotes", name: "Jo Park" }))
      .toEqual({ hostname: "db.internal", tableName: "quotes", name: MASK.name });
  });

  it("never mutates its input", () => {
    const copy = structuredClone(shipment);
    redact(shipment);
    expect(shipment).toEqual(copy);
  });

  it("handles arrays, cycles, errors, dates and primitives", () => {
    const cyclic: Record<string, unknown> = { email: "a@b.co" };
    cyclic.self = cyclic;
    const shared = { note: "x" };
    const out = redact({
      list: ["ops@carrier.com", 7, null, true],
      cyclic,
      twice: [shared, shared],
      err: new Error("send to bob@x.io failed"),
      at: new Date(0),
    });
    expect(out.list).toEqual([MASK.email, 7, null, true]);
    expect(out.cyclic).toEqual({ email: MASK.email, self: "[Circular]" });
    expect(out.twice).toEqual([{ note: "x" }, { note: "x" }]);
    expect(out.err).toEqual({ name: "Error", message: `send to ${MASK.email} failed` });
    expect(out.at).toEqual(new Date(0));
    expect(redact(42)).toBe(42);
    expect(redact(undefined)).toBeUndefined();
  });
});

describe("redactText", () => {
  it("masks emails, phones, tokens and URL queries in free text", () => {
    const text =
      `Quote sent to dana.whitfield@acmefoods.com; callback +1 (312) 555-0142. ` +
      `authorization: Bearer ${JWT_SAMPLE} then POST https://n8n.local/webhook/rates?apikey=abc123#x.`;
    const out = redactText(text);
    expect(out).toBe(
      `Quote sent to ${MASK.email}; callback ${MASK.phone}. ` +
        `authorization: ${MASK.secret} ${MASK.token} then POST https://n8n.local/webhook/rates?${MASK.query}#${MASK.query}.`,
    );
  });

  it("masks credentials in URLs and secret pairs", () => {
    expect(redactText("postgres at https://admin:pw@db.example.com/x"))
      .toBe(`postgres at https://${MASK.secret}@db.example.com/x`);
    expect(redactText('{"password":"hunter2","api_key":"k-1"}'))
      .toBe(`{"password":"${MASK.secret}","api_key":"${MASK.secret}"}`);
  });

  it("masks cue-introduced names but keeps place and product names", () => {
    expect(redactText("Driver Maria Lopez delayed near Beverly Hills with a Dry Van"))
      .toBe(`Driver ${MASK.name} delayed near Beverly Hills with a Dry Van`);
    expect(redactText("Attn: John Q. Public, contact Dana Whitfield"))
      .toBe(`Attn: ${MASK.name}, contact ${MASK.name}`);
    expect(redactText("the driver will arrive at Dock Four")).toBe("the driver will arrive at Dock Four");
  });

  it("leaves timestamps, ids, dates and money alone", () => {
    const text = "ts 1717000000 trace 4bf92f3577b34da6a3ce929d0e0e4736 on 2024-06-01 for $2,145.50 zip 60601";
    expect(redactText(text)).toBe(text);
  });
});

describe("redactPath (issue 11 item 15)", () => {
  it("keeps the path and the query keys, drops every query value and the fragment", async () => {
    const { redactPath } = await import("./redact.ts");
    expect(redactPath("/signup?email=maria%40acme.com&token=abc123&ref=partner&flag")).toBe("/signup?email=[REDACTED]&token=[REDACTED]&ref=[REDACTED]&flag");
    expect(redactPath("/pricing")).toBe("/pricing");
    expect(redactPath("/u/maria@acme.com?x=#top")).toBe("/u/[REDACTED:email]?x=#[REDACTED]");
  });
});
