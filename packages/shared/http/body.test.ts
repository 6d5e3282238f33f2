import { describe, expect, it } from "vitest";
import { DEFAULT_BODY_LIMIT, isJsonContentType, parseJsonBytes, readBodyBytes, readJsonBody } from "./body.ts";

const URL_ = "http://localhost/functions/v1/rates/price_one";
const post = (body: BodyInit | null, headers: Record<string, string> = { "content-type": "application/json" }) =>
  new Request(URL_, { method: "POST", body, headers, duplex: "half" } as RequestInit);

/** An endless upload that counts how many 64 KiB chunks were pulled from it. */
function endlessStream() {
  const state = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      state.pulled++;
      controller.enqueue(new Uint8Array(64 * 1024).fill(0x20));
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { stream, state };
}

describe("readBodyBytes", () => {
  it("accepts a body of exactly the limit and refuses one byte more", async () => {
    const ok = await readBodyBytes(post(new Uint8Array(1000)), 1000);
    expect(ok.ok && ok.value.byteLength).toBe(1000);
    const tooBig = await readBodyBytes(post(new Uint8Array(1001)), 1000);
    expect(tooBig).toMatchObject({ ok: false, code: "payload_too_large", problem: { status: 413, limit_bytes: 1000 } });
  });

  it("stops reading a streamed body as soon as it passes the limit (no Content-Length)", async () => {
    const { stream, state } = endlessStream();
    const r = await readBodyBytes(post(stream), DEFAULT_BODY_LIMIT);
    expect(r.ok).toBe(false);
    expect(r.ok || r.code).toBe("payload_too_large");
    // 2 MiB = 32 chunks of 64 KiB; the 33rd passes the limit. Allow a little read-ahead.
    expect(state.pulled).toBeLessThanOrEqual(36);
    expect(state.cancelled).toBe(true);
  });

  it("refuses early on a declared Content-Length over the limit", async () => {
    const req = new Request(URL_, { method: "POST", body: "x".repeat(10), headers: { "content-length": String(DEFAULT_BODY_LIMIT + 1) } });
    const r = await readBodyBytes(req);
    expect(r.ok || r.code).toBe("payload_too_large");
  });

  it("reads an absent body as empty", async () => {
    const r = await readBodyBytes(new Request(URL_));
    expect(r.ok && r.value.byteLength).toBe(0);
  });
});

describe("content type and JSON", () => {
  it.each([
    ["application/json", true],
    ["application/json; charset=utf-8", true],
    ["Application/JSON;charset=\"UTF-8\"", true],
    ["application/merge-patch+json", true],
    ["application/json; charset=latin1", false],
    ["text/plain", false],
    ["multipart/form-data; boundary=x", false],
    [null, false],
  ])("isJsonContentType(%s) = %s", (header, expected) => {
    expect(isJsonContentType(header)).toBe(expected);
  });

  it("says where the JSON broke without quoting the body", () => {
    const r = parseJsonBytes(new TextEncoder().encode('{"contact":"dana@acme.com" "x":1}'));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problem.detail).toMatch(/^Body is not valid JSON( \(at position \d+\))?$/);
    expect(JSON.stringify(r.problem)).not.toContain("dana");
  });

  it("refuses malformed, empty and non-UTF-8 bodies", () => {
    for (const bytes of [new TextEncoder().encode('{"origin": "60601",'), new Uint8Array(0), new Uint8Array([0x7b, 0xff, 0x7d])]) {
      const r = parseJsonBytes(bytes);
      expect(r).toMatchObject({ ok: false, code: "malformed_json", problem: { status: 400 } });
    }
  });
});

describe("readJsonBody", () => {
  it("returns the parsed JSON and its raw bytes", async () => {
    const text = '{"origin":"60601","destination":"90210","equipment":"van"}';
    const r = await readJsonBody(post(text));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.json).toEqual({ origin: "60601", destination: "90210", equipment: "van" });
    expect(new TextDecoder().decode(r.value.bytes)).toBe(text);
  });

  it("refuses the wrong content type before reading", async () => {
    const r = await readJsonBody(post("{}", { "content-type": "text/plain" }));
    expect(r).toMatchObject({ ok: false, code: "unsupported_media_type", problem: { status: 415 } });
  });

  it("refuses an oversized JSON body with 413 and malformed JSON with 400", async () => {
    const big = JSON.stringify({ pad: "x".repeat(DEFAULT_BODY_LIMIT) });
    expect(await readJsonBody(post(big))).toMatchObject({ ok: false, code: "payload_too_large" });
    expect(await readJsonBody(post("{oops"))).toMatchObject({ ok: false, code: "malformed_json" });
  });
});

describe("readJsonBody: strings Postgres cannot store are refused before any SQL", () => {
  const errorsOf = async (raw: string) => {
    const r = await readJsonBody(post(raw));
    return r.ok ? null : { code: r.code, status: r.problem.status, errors: r.problem.errors as { path: string; message: string }[] | undefined };
  };

  it("a NUL byte in any string, value or key, is a 400 validation_failed naming its path", async () => {
    expect(await errorsOf(JSON.stringify({ notes: "a\u0000b" }))).toEqual({
      code: "validation_failed", status: 400, errors: [{ path: "notes", message: "NUL characters (\\u0000) are not allowed" }],
    });
    expect((await errorsOf(JSON.stringify({ data: { utm: { source: "\u0000" } } })))?.errors).toEqual([
      { path: "data.utm.source", message: "NUL characters (\\u0000) are not allowed" },
    ]);
    expect((await errorsOf(JSON.stringify({ ids: ["ok", "x\u0000"] })))?.errors?.[0].path).toBe("ids.1");
    expect((await errorsOf(JSON.stringify({ ["k\u0000"]: 1 })))?.errors?.[0].path).toBe("k\\u0000");
    expect((await errorsOf('"\\u0000"'))?.errors?.[0].path).toBe("");
  });

  it("an unpaired surrogate (escaped \\ud800) is refused too; a paired one is fine", async () => {
    expect((await errorsOf('{"name": "x\\ud800"}'))?.errors).toEqual([{ path: "name", message: "Unpaired UTF-16 surrogates are not allowed" }]);
    expect((await errorsOf('{"name": "\\udc00"}'))?.code).toBe("validation_failed");
    expect(await errorsOf('{"name": "\\ud83d\\ude9a rtl \\u202e ok"}')).toBeNull();
  });

  it("walks deep nesting without recursion", async () => {
    expect(await errorsOf("[".repeat(100_000) + "]".repeat(100_000))).toBeNull();
    expect((await errorsOf("[".repeat(100_000) + '"\\u0000"' + "]".repeat(100_000)))?.code).toBe("validation_failed");
  });
});

describe("readJsonBody: one spelling per uuid", () => {
  it("lower-cases every string value that is a uuid, at any depth; other strings and the raw bytes stay", async () => {
    const raw = JSON.stringify({ id: "D0000000-0000-4000-8000-0000000000AB", ids: ["ABCDEF00-0000-4000-8000-000000000001"], note: "Keep Case", nested: { a: [{ q: "E0000000-0000-4000-8000-00000000000F" }] } });
    const r = await readJsonBody(post(raw));
    expect(r.ok && r.value.json).toEqual({ id: "d0000000-0000-4000-8000-0000000000ab", ids: ["abcdef00-0000-4000-8000-000000000001"], note: "Keep Case", nested: { a: [{ q: "e0000000-0000-4000-8000-00000000000f" }] } });
    expect(r.ok && new TextDecoder().decode(r.value.bytes)).toBe(raw); // the HMAC and idempotency hashes see what was sent
  });
});
