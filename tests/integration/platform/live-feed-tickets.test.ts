import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fnUrl } from "../../helpers/env.ts";
import { DEMO_TENANT, USERS, userJwt } from "../../helpers/auth.ts";
import { hex, sql } from "../../helpers/db.ts";
import { openSse } from "../../helpers/sse.ts";

// Issue 11 item 16: no JWT in the Live Feed URL (a single-use, 60 s stream ticket instead);
// a stream ends when its token expires. Item 20: a stream cut mid-way resumes by
// Last-Event-ID without gaps.

const FEED = fnUrl("live-feed");
let ops: string;

/** Publishes `n` feed rows in the demo tenant (as agents@, like the edge), returns their ids. */
async function publish(n: number, tag: string): Promise<number[]> {
  const rows = Array.from({ length: n }, (_, i) => ({ trace_id: tag, portal: "rates", action: "price_one", phase: "finish", ok: true, principal: "test", detail: { i } }));
  await sql.begin(async (tx) => {
    await tx`select set_config('role', 'authenticated', true),
                    set_config('request.jwt.claims', ${JSON.stringify({ sub: (await tx`select id from principals where name = 'agents'`)[0].id, role: "authenticated", tenant_id: DEMO_TENANT })}, true)`;
    await tx`select app_private.feed_publish(${DEMO_TENANT}, ${tx.json(rows)})`;
  });
  const ids = await sql`select id from live_feed where trace_id = ${tag} order by id`;
  return ids.map((r) => Number(r.id));
}

function ticket(jwt: string): Promise<Response> {
  return fetch(`${FEED}/ticket`, { method: "POST", headers: { authorization: `Bearer ${jwt}` } });
}

beforeAll(async () => {
  ops = await userJwt(USERS.ops);
});
afterAll(() => sql.end());

describe("live feed credentials", () => {
  it("a JWT in the URL is refused", async () => {
    const res = await fetch(`${FEED}?access_token=${ops}`, { headers: { accept: "text/event-stream" } });
    expect(res.status).toBe(401);
    await res.body?.cancel();
  });

  it("a stream ticket: issued for the JWT, stored hashed, one use, 60 s, bound to the principal and tenant", async () => {
    const res = await ticket(ops);
    expect(res.status).toBe(200);
    const t = await res.json();
    expect(t.ticket).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(t.expires_in).toBe(60);
    const [row] = await sql`select principal_id, tenant_id, expires_at - created_at as ttl,
                                   (select count(*)::int from ops.stream_tickets x where x.ticket_hash::text like '%' || ${t.ticket} || '%') as clear
                            from ops.stream_tickets where ticket_hash = sha256(convert_to(${t.ticket}, 'UTF8'))`;
    expect(row).toMatchObject({ principal_id: USERS.ops, tenant_id: DEMO_TENANT, clear: 0 });

    const tag = hex(16);
    const feed = await openSse(`${FEED}?ticket=${t.ticket}`);
    expect(feed.status).toBe(200);
    const [id] = await publish(1, tag);
    expect(await feed.waitFor((e) => e.id === String(id), 3000)).not.toBeNull();
    await feed.close();

    const again = await openSse(`${FEED}?ticket=${t.ticket}`);
    expect(again.status).toBe(401); // spent
    await again.close();
    expect((await openSse(`${FEED}?ticket=${"x".repeat(43)}`)).status).toBe(401);

    const stale = await (await ticket(ops)).json();
    await sql`update ops.stream_tickets set expires_at = now() - interval '1 second' where ticket_hash = sha256(convert_to(${stale.ticket}, 'UTF8'))`;
    const late = await openSse(`${FEED}?ticket=${stale.ticket}`);
    expect(late.status).toBe(401);
    await late.close();

    // A viewer without domain.read in another tenant gets no ticket for it.
    const other = await ticket(await userJwt(USERS.ops, { tenant: "d0000000-0000-4000-8000-0000000000ee" }));
    expect(other.status).toBe(403);
  });

  it("a stream ends when its token expires, and delivers nothing after", async () => {
    const short = await userJwt(USERS.ops, { expiresIn: "4s" });
    const feed = await openSse(FEED, { authorization: `Bearer ${short}` });
    expect(feed.status).toBe(200);
    const tag = hex(16);
    const [before] = await publish(1, tag);
    expect(await feed.waitFor((e) => e.id === String(before), 3000)).not.toBeNull();
    await new Promise((r) => setTimeout(r, 5000));
    const [after] = await publish(1, hex(16));
    await new Promise((r) => setTimeout(r, 1500));
    const late = feed.events.find((e) => e.id === String(after));
    await feed.close();
    expect(late).toBeUndefined();
    expect(feed.events.some((e) => e.event === "expired")).toBe(true);
  });
});

describe("live feed resume", () => {
  it("a stream cut mid-way resumes by Last-Event-ID with no gap and no duplicate", async () => {
    const tag = hex(16);
    const first = await openSse(FEED, { authorization: `Bearer ${ops}` });
    const ids = await publish(10, tag);
    expect(await first.waitFor((e) => e.id === String(ids[4]), 3000)).not.toBeNull();
    // Cut after the fifth event (what the platform's wall-clock limit does to a stream).
    const got = first.events.filter((e) => ids.includes(Number(e.id))).map((e) => Number(e.id)).filter((id) => id <= ids[4]);
    await first.close();
    const more = (await publish(10, tag)).filter((id) => !ids.includes(id));
    const all = [...ids, ...more];
    const second = await openSse(FEED, { authorization: `Bearer ${ops}`, "last-event-id": String(got[got.length - 1]) });
    expect(await second.waitFor((e) => e.id === String(all[all.length - 1]), 5000)).not.toBeNull();
    const resumed = second.events.filter((e) => all.includes(Number(e.id))).map((e) => Number(e.id));
    await second.close();
    expect([...got, ...resumed]).toEqual(all);
  });
  it("the server ends a stream before the platform's wall-clock limit; the resume by Last-Event-ID has no gap", async () => {
    const tag = hex(16);
    const first = await openSse(`${FEED}?max_seconds=2`, { authorization: `Bearer ${ops}` });
    const ids = await publish(5, tag);
    expect(await first.waitFor((e) => e.id === String(ids[4]), 3000)).not.toBeNull();
    expect(await first.waitFor((e) => e.event === "reconnect", 4000)).not.toBeNull();
    const more = (await publish(5, tag)).filter((id) => !ids.includes(id));
    await new Promise((r) => setTimeout(r, 800));
    const got = first.events.filter((e) => e.event === "finish").map((e) => Number(e.id)).filter((id) => ids.includes(id) || more.includes(id));
    await first.close();
    expect(got).toEqual(ids); // cut: nothing after the cut on the old stream
    const second = await openSse(FEED, { authorization: `Bearer ${ops}`, "last-event-id": String(got[got.length - 1]) });
    expect(await second.waitFor((e) => e.id === String(more[more.length - 1]), 5000)).not.toBeNull();
    const resumed = second.events.filter((e) => e.event === "finish").map((e) => Number(e.id)).filter((id) => more.includes(id));
    await second.close();
    expect([...got, ...resumed]).toEqual([...ids, ...more]);
  });
});
