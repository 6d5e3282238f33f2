/**
 * The Directory portal end to end, on a freight tenant of its own:
 * - a sanctions list (SDN + aliases + addresses) with a broken row is refused whole, with
 *   its file and line; the good list loads;
 * - parties screened on create: an exact name, an alias and a near spelling above the
 *   auto-match threshold are blocked in Postgres (tender refused party_blocked, the payment
 *   gate freight_require_eligible refuses), one in the review band is not blocked but raises a
 *   work item, one below it is clear and tenderable;
 * - only a human lifts a sanctions block, with a reason (agents@ refused in Postgres);
 * - a new list: the agent rescreens every party (a new hit blocked, reversible by a human);
 * - an FMCSA census import with an HTML maintenance page or a malformed row is refused
 *   whole; a good one is applied, and the agent blocks a carrier whose insurance on file is
 *   below the requirement (reversible);
 * - KYC and watchlists.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runScript } from "../../helpers/cli.ts";
import { sql } from "../../helpers/db.ts";
import { act, agentRun, day, type FreightTenant, freightTenant, openLoad } from "../../helpers/freight.ts";
import { expectProblem, portal, tick } from "../../helpers/http.ts";

let t: FreightTenant;
let ops: string;
let opsName: string;

const NULLS = "-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ";
const sdnRow = (ent: number, name: string) => `${ent},"${name}",-0- ,"SDGT",${NULLS}`;
const SDN = [sdnRow(36, "AEROCARIBBEAN AIRLINES"), sdnRow(173, "BLUE HORIZON LOGISTICS"), sdnRow(306, "YONDER TRUCK SERVICES")].join("\r\n");
const ALT = `36,12,"aka","AERO-CARIBBEAN",-0- \r\n`;
const ADD = `36,25,-0- ,"Havana",Cuba,-0- \r\n173,26,"1 Harbour Rd","Panama City",Panama,-0- \r\n`;

const blocks = async (party: string) =>
  (await sql`select reason from party_blocks where party_id = ${party} and cleared_at is null order by reason`).map((b) => b.reason as string);
const tender = async (party: string) => act("broker", "tender", { load_id: await openLoad(t, day(3)), carrier_party_id: party, rate_cents: 150000 }, t.dispatcher, t.id);
/** The payment gate every payment function calls (the core's eligibility rule for "tendered, dispatched or paid"). */
const paymentGate = (party: string) =>
  sql`select app_private.freight_require_eligible(${party}::uuid)`.then(() => "ok", (e) => `${e.code}: ${e.message}`);
const create = async (name: string) => {
  const r = await act("directory", "party_create", { kind: "carrier", name }, ops, t.id);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.data as { party_id: string; screening: { outcome: string; score: number; block_id: string | null } };
};

beforeAll(async () => {
  t = await freightTenant("directory");
  opsName = `ops@directory-${t.id.slice(0, 8)}.test`;
  const [p] = await sql`insert into principals (kind, name, display_name) values ('human', ${opsName}, 'Ops') returning id`;
  await sql`insert into role_assignments (principal_id, role, tenant_id) values (${p.id}, 'ops_manager', ${t.id})`;
  ops = p.id;
});
afterAll(async () => {
  await sql.end();
});

describe("sanctions", () => {
  it("refuses a list with a broken row whole (file and line), then loads the good one", async () => {
    const broken = await act("directory", "sanctions_load", { source: "sdn-2026-12", sdn_csv: SDN, alt_csv: ALT + `999,13,"aka","GHOST",-0- \r\n` }, ops, t.id);
    const p = await expectProblem(broken, 400, "sanctions_file_invalid");
    expect(p).toMatchObject({ file: "alt", line: 2 });
    const short = await expectProblem(await act("directory", "sanctions_load", { source: "x", sdn_csv: `${SDN}\r\n400,"SHORT ROW"` }, ops, t.id), 400, "sanctions_file_invalid");
    expect(short).toMatchObject({ file: "sdn", line: 4 });
    expect((await sql`select count(*)::int as n from sanctions_lists where tenant_id = ${t.id}`)[0].n).toBe(0);

    const ok = await act("directory", "sanctions_load", { source: "sdn-2026-12", sdn_csv: SDN, alt_csv: ALT, add_csv: ADD }, ops, t.id);
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.data).toMatchObject({ entries: 3, aliases: 1, addresses: 2 });
  });

  it("blocks an exact name, an alias and a near spelling from tendering and payment; the review band is a work item, not a block; below it is clear", async () => {
    const exact = await create("Aerocaribbean Airlines");
    const alias = await create("Aero Caribbean Inc");
    const near = await create("Blue Horizn Logistics LLC");
    for (const [label, p] of [["exact", exact], ["alias", alias], ["near", near]] as const) {
      expect(p.screening.outcome, label).toBe("match");
      expect(p.screening.score, label).toBeGreaterThanOrEqual(0.93);
      expect(await blocks(p.party_id), label).toEqual(["sanctions"]);
      const refused = await expectProblem(await tender(p.party_id), 422, "party_blocked", label);
      expect(refused.reason).toBe("sanctions");
      expect(await paymentGate(p.party_id), label).toMatch(/^SY105: party_blocked/);
    }
    const [s] = await sql`select matched_kind, ent_num from party_screenings where party_id = ${alias.party_id}`;
    expect(s).toEqual({ matched_kind: "alias", ent_num: 36 });

    // review band (0.85 <= score < 0.93): Yonder Trucking ~ YONDER TRUCK SERVICES
    const Y = t.carriers.Y;
    const review = await act("directory", "party_screen", { party_id: Y.id }, ops, t.id);
    expect(review.body.data).toMatchObject({ outcome: "review", block_id: null });
    expect(review.body.data.score).toBeGreaterThanOrEqual(0.85);
    expect(review.body.data.score).toBeLessThan(0.93);
    const [item] = await sql`select payload from outbox_events where tenant_id = ${t.id} and event_type = 'directory.screening.review_requested'
                             and aggregate_id = ${Y.id}`;
    expect(item.payload).toMatchObject({ party_id: Y.id, screening_id: review.body.data.screening_id, ent_num: 306 });
    expect(JSON.stringify(item.payload)).not.toMatch(/YONDER|Yonder/);
    expect(await blocks(Y.id)).toEqual([]);
    expect((await tender(Y.id)).status).toBe(200);

    // below the review band: clear
    const X = t.carriers.X;
    const clear = await act("directory", "party_screen", { party_id: X.id }, ops, t.id);
    expect(clear.body.data).toMatchObject({ outcome: "clear", block_id: null });
    expect(clear.body.data.score).toBeLessThan(0.85);
    expect((await tender(X.id)).status).toBe(200);
    expect(await paymentGate(X.id)).toBe("ok");

    // only a human lifts a sanctions block, with a reason
    const block = exact.screening.block_id!;
    await expectProblem(await portal("directory").call("sanctions_clear", { block_id: block, clear_reason: "false positive" }, "agents", { tenant: t.id }), 403, "forbidden");
    await expectProblem(await portal("carrier").call("reinstate_carrier", { block_id: block, clear_reason: "agent" }, "agents", { tenant: t.id }), 403, "sanctions_clear_human");
    const cleared = await act("directory", "sanctions_clear", { block_id: block, clear_reason: "different entity: verified registration documents" }, ops, t.id);
    expect(cleared.status, JSON.stringify(cleared.body)).toBe(200);
    const [b] = await sql`select cleared_by, clear_reason from party_blocks where id = ${block}`;
    expect(b).toEqual({ cleared_by: ops, clear_reason: "different entity: verified registration documents" });
    // the block is gone: what remains is that this new carrier has no authority on file yet
    expect(await paymentGate(exact.party_id)).toMatch(/^SY106: carrier_no_authority/);
  });

  it("a new list: the agent rescreens every party; its block is reverted by a human, not redone", async () => {
    const Z = t.carriers.Z;
    const list2 = await act("directory", "sanctions_load", { source: "sdn-2026-12b", sdn_csv: `${SDN}\r\n${sdnRow(512, "ZEPHYR HAUL CO")}`, alt_csv: ALT }, ops, t.id);
    expect(list2.status).toBe(200);
    await tick();
    const listId = list2.body.data.list_id;
    const screened = await sql`select count(distinct party_id)::int as n from party_screenings where list_id = ${listId}`;
    const parties = await sql`select count(*)::int as n from parties where tenant_id = ${t.id} and kind <> 'broker'`;
    expect(screened[0].n).toBe(parties[0].n);
    expect(await blocks(Z.id)).toEqual(["sanctions"]);
    const run = await agentRun(t.id, "directory", `screen:${Z.id}:${listId}`);
    expect(run.result).toMatchObject({ outcome: "match" });
    const r = await runScript("scripts/ops.ts", ["revert", run.trace_id, "--as", opsName, "--json"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(await blocks(Z.id)).toEqual([]);
    await tick();
    expect(await blocks(Z.id)).toEqual([]);
  });
});

const HEADER = "dot_number,mc_number,legal_name,allowed_to_operate,authority_status,insurance_on_file_thousands,insurance_required_thousands,safety_rating,out_of_service_date";

describe("safety census", () => {
  it("refuses an HTML maintenance page and a file with a malformed row whole; applies a good one; the agent blocks the under-insured carrier", async () => {
    const { X, Y } = t.carriers;
    await sql`update parties set dot_number = '3100001' where id = ${X.id}`;
    await sql`update parties set dot_number = '3100002' where id = ${Y.id}`;
    const html = await expectProblem(await act("directory", "census_import", { csv: "<!DOCTYPE html>\n<html><head><title>Scheduled maintenance</title></head></html>" }, ops, t.id), 400, "census_file_invalid");
    expect(html.line).toBe(1);
    const malformed = `${HEADER}\n3100001,MC-700001,Xpress,Y,A,1000,750,S,\n3100002,MC-700002,Yonder,Y,A,lots,750,S,\n`;
    expect((await expectProblem(await act("directory", "census_import", { csv: malformed }, ops, t.id), 400, "census_file_invalid")).line).toBe(3);
    expect((await sql`select count(*)::int as n from carrier_census where tenant_id = ${t.id}`)[0].n).toBe(0);

    const good = await act("directory", "census_import", { csv: `${HEADER}\n3100001,MC-700001,Xpress,Y,A,1000,750,S,\n3100002,MC-700002,Yonder,Y,A,500,750,C,\n9999999,,Nobody,Y,A,750,750,S,\n` }, ops, t.id);
    expect(good.body.data).toMatchObject({ rows: 3, applied: 2, unknown: 1 });
    const [prof] = await sql`select safety_rating from carrier_profiles where party_id = ${Y.id}`;
    expect(prof.safety_rating).toBe("conditional");
    await tick();
    expect(await blocks(Y.id)).toEqual(["insurance"]);
    expect(await blocks(X.id)).toEqual([]);
    const run = await agentRun(t.id, "directory", `census:${Y.id}:insurance:${good.body.data.import_id}`);
    expect(run.result).toMatchObject({ reason: "insurance" });
    const [audit] = await sql`select count(*)::int as n from audit_log where trace_id = ${run.trace_id} and action = 'freight.party.block_set'`;
    expect(audit.n).toBe(1);
    expect((await runScript("scripts/ops.ts", ["revert", run.trace_id, "--as", opsName, "--json"])).code).toBe(0);
    expect(await blocks(Y.id)).toEqual([]);
  });
});

describe("KYC and watchlists", () => {
  it("keeps a KYC record (EIN format, ownership at most 100%) and the tenant's watchlists", async () => {
    const X = t.carriers.X;
    await expectProblem(await act("directory", "kyc_upsert", { party_id: X.id, legal_name: "Xpress Lines LLC", ein: "123456789", address_line: "1 Main", city: "Chicago", region: "IL", postal_code: "60601" }, ops, t.id), 400, "validation_failed");
    const owners = [{ name: "A. Owner", ownership_pct: 60 }, { name: "B. Owner", ownership_pct: 50 }];
    await expectProblem(await act("directory", "kyc_upsert", { party_id: X.id, legal_name: "Xpress Lines LLC", ein: "12-3456789", address_line: "1 Main", city: "Chicago", region: "IL", postal_code: "60601", beneficial_owners: owners }, ops, t.id), 400, "validation_failed");
    const ok = await act("directory", "kyc_upsert", { party_id: X.id, legal_name: "Xpress Lines LLC", ein: "12-3456789", address_line: "1 Main", city: "Chicago", region: "IL", postal_code: "60601", beneficial_owners: [owners[0]] }, ops, t.id);
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect((await act("directory", "watchlist_set", { list_name: "late_payers", party_id: X.id, listed: true, note: "slow remits" }, ops, t.id)).status).toBe(200);
    const file = await act("directory", "party", { party_id: X.id }, t.dispatcher, t.id);
    expect(file.body.data).toMatchObject({ kyc: { legal_name: "Xpress Lines LLC", ein: "12-3456789" }, watchlists: ["late_payers"], census: { dot_number: "3100001", insurance_on_file_cents: 100_000_000 } });
    // a dispatcher reads the directory but does not keep its watchlists
    await expectProblem(await act("directory", "watchlist_set", { list_name: "late_payers", party_id: X.id, listed: false }, t.dispatcher, t.id), 403, "forbidden");
  });
});
