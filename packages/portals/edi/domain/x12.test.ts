import { readFileSync } from "node:fs";
import { X12Parser } from "node-x12";
import { describe, expect, it } from "vitest";
import { acknowledge, build997, plan } from "./ack.ts";
import type { Load204 } from "./sets.ts";
import { generateInterchange, normalizeIsa, type OutboundEnvelope, parseInterchange } from "./x12.ts";

const fixture = (name: string) => readFileSync(new URL(`../../../../tests/fixtures/edi/${name}`, import.meta.url), "utf8");
const parsed = (text: string) => {
  const p = parseInterchange(text);
  if (!p.ok) throw new Error(`${p.rejection.code}: ${p.rejection.note}`);
  return p.interchange;
};
const env: OutboundEnvelope = {
  senderQualifier: "ZZ", senderId: "SWITCHYARD", receiverQualifier: "ZZ", receiverId: "ACMETESTFOODS", senderGs: "SWITCHYARD", receiverGs: "ACMETESTFOODS",
  usage: "T", isaControl: 1, gsControl: 1, at: new Date("2026-12-02T10:00:00Z"),
};

describe("X12 envelopes (node-x12 with its gaps closed)", () => {
  it("pads an unpadded ISA so the strict parser reads it; the control number keeps nine digits", () => {
    const raw = fixture("204-three-errors.edi");
    expect(() => new X12Parser(true).parse(raw)).toThrow(/ISA segment is not the correct length/);
    const n = normalizeIsa(raw);
    if ("code" in n) throw new Error(n.note);
    expect(n.text.indexOf("~")).toBe(105);
    expect(() => new X12Parser(true).parse(n.text)).not.toThrow();
    expect(parsed(raw).control).toBe("000004712");
  });

  it("reads the multi-stop 204: three stops with their windows, weight, equipment, linehaul", () => {
    const [g] = plan(parsed(fixture("204-multistop.edi")));
    expect(g).toMatchObject({ functional_id: "SM", control: "4711", codes: [] });
    expect(g.sets[0]).toMatchObject({ set_id: "204", syntax_code: null, errors: [] });
    const load = g.sets[0].data as Load204;
    expect(load).toMatchObject({ shipment_id: "SH-4711-001", purpose: "original", equipment_type: "van", weight_lbs: 42000, linehaul_cents: 185000, customer_reference: "PO-88123" });
    expect(load.stops.map((s) => [s.kind, s.facility_name, s.postal_code, s.window_start_local, s.window_end_local])).toEqual([
      ["pickup", "Test DC Chicago", "60607", "2027-01-12T08:00", "2027-01-12T10:00"],
      ["pickup", "Test Joliet DC", "60436", "2027-01-12T14:00", "2027-01-12T16:00"],
      ["delivery", "Test Dallas", "75202", "2027-01-14T13:00", "2027-01-14T15:00"],
    ]);
  });

  it("rejects broken envelopes with their codes: IEA02 != ISA13 (TA1 001), IEA01 count (021), no ISA (024)", () => {
    const good = fixture("204-multistop.edi");
    const cases: [string, string][] = [
      [good.replace("IEA*1*000004711", "IEA*1*000004799"), "001"],
      [good.replace("IEA*1*000004711", "IEA*2*000004711"), "021"],
      ["GS*SM*X*Y~", "024"],
    ];
    for (const [text, code] of cases) {
      const p = parseInterchange(text);
      expect(p.ok ? "accepted" : p.rejection.code).toBe(code);
    }
  });

  it("checks group and set envelopes: GS06 != GE02 (AK9 4), GE01 count (5), SE01 count (AK5 4), ST02 != SE02 (3), GS01 vs ST01 (6), unknown set (1), duplicate ST02 (23)", () => {
    const good = fixture("204-multistop.edi");
    const groupCodes = (text: string) => plan(parsed(text))[0].codes;
    const setCode = (text: string) => plan(parsed(text))[0].sets.map((s) => s.syntax_code);
    expect(groupCodes(good.replace("GE*1*4711", "GE*1*4799"))).toEqual(["4"]);
    expect(groupCodes(good.replace("GE*1*4711", "GE*2*4711"))).toEqual(["5"]);
    expect(setCode(good.replace("SE*27*0001", "SE*26*0001"))).toEqual(["4"]);
    expect(setCode(good.replace("SE*27*0001", "SE*27*0002"))).toEqual(["3"]);
    expect(setCode(good.replace("GS*SM*", "GS*QM*"))).toEqual(["6"]);
    expect(setCode(good.replace("GS*SM*", "GS*SH*").replace("ST*204*", "ST*856*"))).toEqual(["1"]);
    const body = good.slice(good.indexOf("ST*204"), good.indexOf("GE*"));
    expect(setCode(good.replace(body, body + body).replace("GE*1*", "GE*2*"))).toEqual([null, "23"]);
  });

  it("a 204 with three element errors: the 997's AK3/AK4/AK5/AK9 carry the hand-checked codes and counts", () => {
    const groups = plan(parsed(fixture("204-three-errors.edi")));
    const acks = acknowledge(groups, [[]]);
    const text = generateInterchange(env, build997(acks, [1]));
    const ak = text.split("\n").filter((l) => /^AK/.test(l));
    expect(ak).toEqual([
      "AK1*SM*4712~",
      "AK2*204*0001~",
      "AK3*B2*2**8~", //   B2 is the set's 2nd segment; 8 = segment has data element errors
      "AK4*4*145*1~", //   B204 (element 145, shipment id) missing: 1 = mandatory data element missing
      "AK3*S5*8**8~", //   the second S5 is segment 8
      "AK4*2*163*7*ZZ~", // S502 (163, stop reason) "ZZ": 7 = invalid code value
      "AK3*G62*9**8~",
      "AK4*2*373*8*20270230~", // G6202 (373, date) 30 February: 8 = invalid date
      "AK5*R*5~", //       rejected: one or more segments in error
      "AK9*R*1*1*0~", //   group rejected: 1 included, 1 received, 0 accepted
    ]);
    // the generated 997 parses back strictly with the library
    const back = new X12Parser(true).parse(text) as any;
    expect(back.functionalGroups[0].header.valueOf(1)).toBe("FA");
    expect(back.functionalGroups[0].transactions[0].segments.length).toBe(ak.length);
  });

  it("AK9 P and E: one set rejected by Postgres, one noted for an unused element; a 997 group is never acknowledged", () => {
    const good = fixture("214-trip.edi");
    const noted = good.replace("B10*PRO-99812*SH-4711-001*XPRS~\nLX*1~\nAT7*X1", `B10*${"P".repeat(31)}*SH-4711-001*XPRS~\nLX*1~\nAT7*X1`);
    const groups = plan(parsed(noted));
    expect(groups[0].sets[1].errors).toEqual([{ tag: "B10", position: 2, code: "8", noted: true, elements: [{ position: 1, ref: 127, code: "5", value: "P".repeat(31) }] }]);
    const acks = acknowledge(groups, [[{ state: "rejected", locator: "shipment", code: "freight_not_found" }, { state: "applied" }]]);
    expect(acks[0].sets.map((s) => [s.status, s.syntax_code])).toEqual([["R", "5"], ["E", null]]);
    expect(acks[0]).toMatchObject({ status: "P", included: 2, received: 2, accepted: 1 });
    expect(acks[0].sets[0].errors).toEqual([{ tag: "B10", position: 2, code: "8", noted: false, elements: [{ position: 2, ref: 145, code: "7", value: "SH-4711-001" }] }]);

    const ack997 = generateInterchange(env, build997(acks, [7]));
    expect(acknowledge(plan(parsed(ack997)), [[{ state: "applied" }]])).toEqual([]);
  });
});
