import { describe, expect, it } from "vitest";
import { censusLapse, parseCensus } from "./census.ts";
import { parseCsv } from "./csv.ts";
import { parseSdn } from "./sdn.ts";
import { bestHit, nameScore, normalizeName } from "./screen.ts";

const SDN = [
  `36,"AEROCARIBBEAN AIRLINES",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- `,
  `173,"ANGLO-CARIBBEAN CO., LTD.",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,"Remarks, with a comma"`,
].join("\r\n");
const ALT = `36,12,"aka","AERO-CARIBBEAN",-0- \r\n`;
const ADD = `36,25,-0- ,"Havana",Cuba,-0- \r\n`;

describe("parseCsv", () => {
  it("reads quoted fields with commas, doubled quotes and line breaks, and gives each record its first line", () => {
    expect(parseCsv(`a,"b, c","say ""hi"""\n1,"two\nlines",3\n`)).toEqual([
      { line: 1, fields: ["a", "b, c", 'say "hi"'] },
      { line: 2, fields: ["1", "two\nlines", "3"] },
    ]);
  });
  it("names the line of an unterminated quote", () => {
    expect(() => parseCsv(`a,b\n"c,d\n`)).toThrow(/unterminated/);
  });
});

describe("parseSdn", () => {
  it("joins aliases and addresses to their SDN entity; -0- is null", () => {
    const r = parseSdn({ sdn: SDN + "\r\n\u001a", alt: ALT, add: ADD });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.list.sdn).toEqual([
      { ent_num: 36, name: "AEROCARIBBEAN AIRLINES", sdn_type: null, program: "CUBA" },
      { ent_num: 173, name: "ANGLO-CARIBBEAN CO., LTD.", sdn_type: null, program: "CUBA" },
    ]);
    expect(r.list.aliases).toEqual([{ ent_num: 36, alt_num: 12, name: "AERO-CARIBBEAN", line: 1 }]);
    expect(r.list.addresses[0]).toMatchObject({ ent_num: 36, city: "Havana", country: "Cuba" });
  });
  it("refuses the whole list at the first broken row, naming its file and line", () => {
    expect(parseSdn({ sdn: SDN + `\n12x,"X",-0-,-0-,-0-,-0-,-0-,-0-,-0-,-0-,-0-,-0-` }))
      .toMatchObject({ ok: false, file: "sdn", line: 3 });
    expect(parseSdn({ sdn: `1,"A",-0-\n` })).toMatchObject({ ok: false, file: "sdn", line: 1, message: "3 columns, sdn.csv has 12" });
    expect(parseSdn({ sdn: SDN, alt: ALT + `999,1,"aka","GHOST",-0-\n` })).toMatchObject({ ok: false, file: "alt", line: 2, message: "ent_num 999 is not in the SDN file" });
    expect(parseSdn({ sdn: SDN + `\n36,"DUP",-0-,-0-,-0-,-0-,-0-,-0-,-0-,-0-,-0-,-0-` })).toMatchObject({ ok: false, line: 3, message: "ent_num 36 appears twice" });
  });
});

describe("screening names", () => {
  it("normalizes case, accents, punctuation and legal forms", () => {
    expect(normalizeName("  Société Générale, S.A. ")).toBe("SOCIETE GENERALE");
    expect(normalizeName("Anglo-Caribbean Co., Ltd.")).toBe("ANGLO CARIBBEAN");
  });
  it("scores an exact name 1, a near spelling high, an unrelated name low, word order aside", () => {
    expect(nameScore("Aerocaribbean Airlines Inc", "AEROCARIBBEAN AIRLINES")).toBe(1);
    expect(nameScore("Aerocaribean Airlines", "AEROCARIBBEAN AIRLINES")).toBeGreaterThan(0.95);
    expect(nameScore("Airlines Aerocaribbean", "AEROCARIBBEAN AIRLINES")).toBe(1);
    expect(nameScore("Prairie Haulers", "AEROCARIBBEAN AIRLINES")).toBeLessThan(0.7);
  });
  it("takes the best of SDN names and aliases", () => {
    const hit = bestHit(["Aero Caribbean"], [{ ent_num: 36, kind: "sdn", name: "AEROCARIBBEAN AIRLINES" }, { ent_num: 36, kind: "alias", name: "AERO-CARIBBEAN" }]);
    expect(hit).toMatchObject({ ent_num: 36, kind: "alias", score: 1 });
  });
});

const HEADER = "dot_number,mc_number,legal_name,allowed_to_operate,authority_status,insurance_on_file_thousands,insurance_required_thousands,safety_rating,out_of_service_date";

describe("parseCensus", () => {
  it("reads FMCSA codes into the directory's values (insurance thousands -> cents, US dates)", () => {
    const r = parseCensus(`${HEADER}\n1234567,MC-765432,"Acme, Inc",Y,A,750,750,S,\n222,,B,N,I,0,750,,12/01/2026\n`);
    expect(r).toEqual({ ok: true, rows: [
      { dot_number: "1234567", mc_number: "765432", allowed_to_operate: true, authority_status: "active", insurance_on_file_cents: 75_000_000, insurance_required_cents: 75_000_000, safety_rating: "satisfactory", out_of_service_date: null },
      { dot_number: "222", mc_number: null, allowed_to_operate: false, authority_status: "inactive", insurance_on_file_cents: 0, insurance_required_cents: 75_000_000, safety_rating: "unrated", out_of_service_date: "2026-12-01" },
    ] });
  });
  it("refuses an HTML maintenance page, a wrong header and the first malformed row", () => {
    expect(parseCensus("<!DOCTYPE html><html><title>Down for maintenance</title></html>")).toMatchObject({ ok: false, line: 1 });
    expect(parseCensus("dot,mc\n1,2\n")).toMatchObject({ ok: false, line: 1 });
    expect(parseCensus(`${HEADER}\n1,,A,Y,A,750,750,S,\n2,,B,maybe,A,750,750,S,\n`)).toEqual({ ok: false, line: 3, message: "allowed_to_operate is malformed" });
    expect(parseCensus(`${HEADER}\n1,,A,Y,A,750,750,S,2026-02-30\n`)).toMatchObject({ ok: false, line: 2, message: "out_of_service_date is malformed" });
    expect(parseCensus(`${HEADER}\n1,,A,Y,A,750,750,S,\n1,,A,Y,A,750,750,S,\n`)).toMatchObject({ ok: false, line: 3, message: "DOT 1 appears twice" });
  });
  it("bars a carrier without authority first, then one insured below the requirement", () => {
    expect(censusLapse({ allowed_to_operate: false, authority_status: "active", insurance_on_file_cents: 0, insurance_required_cents: 1 })?.reason).toBe("authority");
    expect(censusLapse({ allowed_to_operate: true, authority_status: "active", insurance_on_file_cents: 0, insurance_required_cents: 1 })?.reason).toBe("insurance");
    expect(censusLapse({ allowed_to_operate: true, authority_status: "active", insurance_on_file_cents: 1, insurance_required_cents: 1 })).toBeNull();
  });
});
