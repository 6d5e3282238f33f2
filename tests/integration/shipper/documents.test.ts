/**
 * The documents function (uploads for every portal, downloads under RLS) and the Shipper
 * portal's documents and invoices: an upload is streamed, at most 10 MiB, checked against
 * the sha256 its uploader declared and referenced by id; a mismatch or an oversize body is
 * refused with its own code and keeps nothing; each party reads only its own documents.
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { userJwt } from "../../helpers/auth.ts";
import { sql } from "../../helpers/db.ts";
import { fnUrl } from "../../helpers/env.ts";
import { act, day, download, type FreightTenant, freightTenant, openLoad } from "../../helpers/freight.ts";
import { expectProblem, readResult } from "../../helpers/http.ts";

let t: FreightTenant;
let load: string;
const BOL = new TextEncoder().encode("%PDF-1.7 bill of lading, 24 pallets of canned goods");
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

async function upload(user: string, query: Record<string, string>, body: BodyInit, headers: Record<string, string> = {}) {
  const res = await fetch(`${fnUrl("documents/upload")}?${new URLSearchParams(query)}`, {
    method: "POST",
    headers: { authorization: `Bearer ${await userJwt(user, { tenant: t.id })}`, "content-type": "application/pdf", ...headers },
    body,
    ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
  } as RequestInit);
  return readResult(res);
}
const docCount = async () => (await sql`select count(*)::int as n from documents where tenant_id = ${t.id}`)[0].n as number;

beforeAll(async () => {
  t = await freightTenant("docs");
  load = await openLoad(t, day(3));
});
afterAll(async () => {
  await sql.end();
});

describe("document upload and download", () => {
  it("the shipper uploads its BOL: streamed, hash-verified, recorded under its trace, referenced by id; it downloads the same bytes", async () => {
    const r = await upload(t.shippers.A.user, { kind: "bol", load_id: load, file_name: "BOL 1001.pdf" }, BOL, { "x-content-sha256": sha(BOL) });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.data).toMatchObject({ kind: "bol", load_id: load, size_bytes: BOL.byteLength, sha256: sha(BOL) });
    const id = r.body.data.document_id;
    expect(r.headers.get("location")).toBe(`/documents/${id}`);
    const events = await sql`select event_type from outbox_events where trace_id = ${r.body.trace_id}`;
    expect(events.map((e) => e.event_type)).toEqual(["freight.document.recorded"]);
    const got = await download(id, t.shippers.A.user, t.id);
    expect(got.status).toBe(200);
    expect(got.headers.get("x-content-sha256")).toBe(sha(BOL));
    expect(Buffer.from(got.bytes).equals(Buffer.from(BOL))).toBe(true);
    // listed in the shipper's portal; the other shipper finds neither the load nor the file
    const list = await act("shipper", "documents", { load_id: load }, t.shippers.A.user, t.id);
    expect(list.body.data.documents).toEqual([expect.objectContaining({ document_id: id, kind: "bol", sha256: sha(BOL), download: `/functions/v1/documents/${id}` })]);
    expect((await download(id, t.shippers.B.user, t.id)).status).toBe(404);
    await expectProblem(await act("shipper", "documents", { load_id: load }, t.shippers.B.user, t.id), 404, "not_found");
  });

  it("bytes that do not match the declared sha256 are refused (document_hash_mismatch) and nothing is kept", async () => {
    const before = await docCount();
    const r = await upload(t.shippers.A.user, { kind: "bol", load_id: load, file_name: "bol.pdf" }, BOL, { "x-content-sha256": sha(new TextEncoder().encode("other")) });
    await expectProblem(r, 422, "document_hash_mismatch");
    expect(await docCount()).toBe(before);
  });

  it("over 10 MiB is refused: by its declared length, and while it streams without one", async () => {
    const big = new Uint8Array(10 * 1024 * 1024 + 1);
    await expectProblem(await upload(t.shippers.A.user, { kind: "bol", load_id: load, file_name: "big.pdf" }, big, { "x-content-sha256": sha(big) }), 413, "payload_too_large");
    const chunks = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 11; i++) c.enqueue(new Uint8Array(1024 * 1024));
        c.close();
      },
    });
    const before = await docCount();
    await expectProblem(await upload(t.shippers.A.user, { kind: "bol", load_id: load, file_name: "big.pdf" }, chunks, { "x-content-sha256": "0".repeat(64) }), 413, "payload_too_large");
    expect(await docCount()).toBe(before);
  });

  it("a party records only what it may: not on another shipper's load, not a POD as a shipper; bad input is a 400", async () => {
    const h = { "x-content-sha256": sha(BOL) };
    await expectProblem(await upload(t.shippers.B.user, { kind: "bol", load_id: load, file_name: "bol.pdf" }, BOL, h), 403, "forbidden");
    await expectProblem(await upload(t.shippers.A.user, { kind: "pod", load_id: load, file_name: "pod.pdf" }, BOL, h), 403, "forbidden");
    await expectProblem(await upload(t.shippers.A.user, { kind: "bol", file_name: "bol.pdf" }, BOL, h), 400, "validation_failed");
    await expectProblem(await upload(t.shippers.A.user, { kind: "bol", load_id: load, file_name: "bol.pdf" }, BOL), 400, "validation_failed");
    await expectProblem(await upload(t.shippers.A.user, { kind: "bol", load_id: load, file_name: "bol.pdf" }, BOL, { ...h, "content-type": "application/zip" }), 415, "unsupported_media_type");
    const nobody = await fetch(fnUrl("documents/upload?kind=bol"), { method: "POST", body: BOL });
    await expectProblem(nobody, 401, "missing_authorization");
  });

  it("invoices: what Financials records as the load's invoice appears in its shipper's list only", async () => {
    const inv = new TextEncoder().encode("%PDF-1.7 invoice 1001");
    const r = await upload(t.dispatcher, { kind: "invoice", load_id: load, file_name: "invoice-1001.pdf" }, inv, { "x-content-sha256": sha(inv) });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const mine = await act("shipper", "invoices", {}, t.shippers.A.user, t.id);
    expect(mine.body.data.invoices).toEqual([expect.objectContaining({ document_id: r.body.data.document_id, load_id: load, file_name: "invoice-1001.pdf" })]);
    expect((await act("shipper", "invoices", {}, t.shippers.B.user, t.id)).body.data.invoices).toEqual([]);
  });
});
