import { isDate, isTime, type Segment, type TransactionSet } from "./x12.ts";

/**
 * The 004010 rules we check in the sets we read (204, 214, 990, 997): each element's
 * requirement, type and length (and code list where we act on the code), and the mapping of
 * a sound set to the domain call Postgres makes. An error becomes an AK3 (the segment) with
 * its AK4s (the elements); an error in an element we do not use only notes the set (AK5 E).
 */

type Kind = "AN" | "ID" | "DT" | "TM" | "N0" | "R";
interface Rule {
  /** element position (01 = 1) and data element reference number (AK402) */
  pos: number;
  ref: number;
  req: "M" | "O";
  kind: Kind;
  min: number;
  max: number;
  codes?: readonly string[];
  /** the mapping reads it: an error here rejects the set */
  used?: boolean;
}
const r = (pos: number, ref: number, req: "M" | "O", kind: Kind, min: number, max: number, extra: Partial<Rule> = {}): Rule =>
  ({ pos, ref, req, kind, min, max, used: req === "M", ...extra });

/** The 214 status codes the freight timeline speaks (public.x12_214_status_codes). */
export const AT7_CODES = ["X3", "CP", "AF", "X6", "X1", "D1", "CD", "SD", "AP"] as const;
export const STOP_REASONS: Record<string, "pickup" | "delivery"> = { LD: "pickup", CL: "pickup", PL: "pickup", UL: "delivery", CU: "delivery", PU: "delivery" };
const EQUIPMENT: Record<string, string> = { TF: "van", TV: "van", RT: "reefer", FT: "flatbed", FR: "flatbed", SD: "step_deck", TN: "tanker" };

const SEGMENTS: Record<string, Record<string, Rule[]>> = {
  "204": {
    B2: [r(2, 140, "O", "ID", 2, 4), r(4, 145, "M", "AN", 1, 30), r(6, 146, "M", "ID", 2, 2, { codes: ["PP", "CC", "TP", "PB", "NC"] })],
    B2A: [r(1, 353, "M", "ID", 2, 2, { codes: ["00", "01", "04"] })],
    L11: [r(1, 127, "M", "AN", 1, 30), r(2, 128, "M", "ID", 2, 3)],
    NTE: [r(2, 352, "M", "AN", 1, 80, { used: false })],
    N7: [r(2, 207, "M", "AN", 1, 10, { used: false }), r(11, 40, "O", "ID", 2, 2, { codes: Object.keys(EQUIPMENT), used: true })],
    S5: [r(1, 165, "M", "N0", 1, 3), r(2, 163, "M", "ID", 2, 2, { codes: Object.keys(STOP_REASONS) }), r(3, 81, "O", "R", 1, 10, { used: true })],
    G62: [r(1, 432, "M", "ID", 2, 2, { codes: ["37", "38", "53", "54", "10", "70", "64"] }), r(2, 373, "M", "DT", 8, 8),
      r(3, 176, "M", "ID", 1, 2, { codes: ["G", "L", "I", "K", "Y", "Z", "U", "1", "2", "3", "4"] }), r(4, 337, "M", "TM", 4, 4)],
    N1: [r(1, 98, "M", "ID", 2, 3, { codes: ["SF", "ST", "SH", "CN", "BT"] }), r(2, 93, "M", "AN", 1, 60)],
    N3: [r(1, 166, "M", "AN", 1, 55, { used: false })],
    N4: [r(1, 19, "M", "AN", 2, 30, { used: false }), r(2, 156, "O", "ID", 2, 2, { used: false }), r(3, 116, "M", "ID", 3, 15)],
    L3: [r(1, 81, "O", "R", 1, 10), r(5, 60, "M", "N0", 1, 12)],
  },
  "214": {
    B10: [r(1, 127, "M", "AN", 1, 30, { used: false }), r(2, 145, "M", "AN", 1, 30), r(3, 140, "O", "ID", 2, 4)],
    LX: [r(1, 554, "M", "N0", 1, 6)],
    AT7: [r(1, 1650, "M", "ID", 2, 2, { codes: AT7_CODES }), r(2, 1651, "M", "ID", 2, 2, { used: false }),
      r(5, 373, "M", "DT", 8, 8), r(6, 337, "M", "TM", 4, 4), r(7, 623, "O", "ID", 2, 2, { codes: ["UT", "LT", "CT", "ET", "MT", "PT"], used: true })],
    MS1: [r(1, 19, "O", "AN", 2, 30, { used: true }), r(2, 156, "O", "ID", 2, 2, { used: true })],
    L11: [r(1, 127, "M", "AN", 1, 30), r(2, 128, "M", "ID", 2, 3)],
  },
  "990": {
    B1: [r(1, 140, "O", "ID", 2, 4), r(2, 145, "M", "AN", 1, 30), r(3, 373, "M", "DT", 8, 8), r(4, 558, "M", "ID", 1, 1, { codes: ["A", "D"] })],
    N9: [r(1, 128, "M", "ID", 2, 3), r(2, 127, "O", "AN", 1, 30)],
    K1: [r(1, 61, "M", "AN", 1, 30, { used: false })],
  },
  "997": {
    AK1: [r(1, 479, "M", "ID", 2, 2), r(2, 28, "M", "N0", 1, 9)],
    AK2: [r(1, 143, "M", "ID", 3, 3), r(2, 329, "M", "AN", 4, 9)],
    AK3: [r(1, 721, "M", "ID", 2, 3), r(2, 719, "M", "N0", 1, 6)],
    AK4: [r(1, 722, "M", "N0", 1, 2), r(3, 723, "M", "ID", 1, 3)],
    AK5: [r(1, 717, "M", "ID", 1, 1, { codes: ["A", "E", "R", "M", "W", "X"] })],
    AK9: [r(1, 715, "M", "ID", 1, 1, { codes: ["A", "E", "P", "R", "M", "W", "X"] }), r(2, 97, "M", "N0", 1, 6), r(3, 123, "M", "N0", 1, 6), r(4, 2, "M", "N0", 1, 6)],
  },
};
/** Segments a set must carry (AK304 3 when missing). */
const MANDATORY: Record<string, string[]> = { "204": ["B2", "B2A", "S5"], "214": ["B10", "AT7"], "990": ["B1"], "997": ["AK1", "AK9"] };

export interface ElementError {
  /** AK401 position in the segment, AK402 reference number, AK403 code, AK404 the bad value */
  position: number;
  ref: number;
  code: string;
  value: string;
}
export interface SegmentError {
  /** AK301 tag, AK302 position in the set, AK304 code */
  tag: string;
  position: number;
  code: string;
  elements: ElementError[];
  /** every error is in an element the mapping does not read: the set is accepted, noted */
  noted: boolean;
}

function checkElement(rule: Rule, value: string | undefined): ElementError | null {
  const v = value ?? "";
  const err = (code: string): ElementError => ({ position: rule.pos, ref: rule.ref, code, value: v.slice(0, 99) });
  if (v === "") return rule.req === "M" ? err("1") : null;
  if (v.length < rule.min) return err("4");
  if (v.length > rule.max) return err("5");
  switch (rule.kind) {
    case "DT": return isDate(v) ? null : err("8");
    case "TM": return isTime(v) ? null : err("9");
    case "N0": return /^-?\d+$/.test(v) ? null : err("6");
    case "R": return /^-?(\d+\.?\d*|\.\d+)$/.test(v) ? null : err("6");
    case "ID": return rule.codes && !rule.codes.includes(v) ? err("7") : null;
    default: return /^[\x20-\x7e]*$/.test(v) ? null : err("6");
  }
}

/** The set's segment and element errors, in order; [] when it is sound. */
export function validateSet(set: TransactionSet): SegmentError[] {
  const rules = SEGMENTS[set.setId] ?? {};
  const errors: SegmentError[] = [];
  for (const seg of set.body) {
    const segRules = rules[seg.tag];
    if (!segRules) continue; // segments we do not read pass (a 204 may carry OID, AT8, ...)
    const elements = segRules.map((rule) => ({ rule, e: checkElement(rule, seg.elements[rule.pos - 1]) })).filter((x) => x.e !== null);
    if (elements.length) {
      errors.push({ tag: seg.tag, position: seg.position, code: "8", elements: elements.map((x) => x.e!), noted: elements.every((x) => !x.rule.used) });
    }
  }
  for (const tag of MANDATORY[set.setId] ?? []) {
    if (!set.body.some((s) => s.tag === tag)) errors.push({ tag, position: set.body.length + 2, code: "3", elements: [], noted: false });
  }
  return errors;
}

/** Where a business refusal points (AK3/AK4 of the element that named what is wrong). */
export interface Locator {
  tag: string;
  position: number;
  element: number;
  ref: number;
  value: string;
}
const locate = (s: Segment, element: number, ref: number): Locator => ({ tag: s.tag, position: s.position, element, ref, value: s.elements[element - 1] ?? "" });

const el = (s: Segment | undefined, pos: number): string => s?.elements[pos - 1] ?? "";

/** Splits body segments into loops that start at `tag`. */
function loops(body: Segment[], tag: string): { head: Segment[]; loops: Segment[][] } {
  const head: Segment[] = [];
  const out: Segment[][] = [];
  for (const s of body) {
    if (s.tag === tag) out.push([s]);
    else if (out.length) out[out.length - 1].push(s);
    else head.push(s);
  }
  return { head, loops: out };
}

export interface Load204 {
  shipment_id: string;
  purpose: "original" | "cancel" | "change";
  scac: string | null;
  customer_reference: string | null;
  equipment_type: string | null;
  weight_lbs: number | null;
  linehaul_cents: number | null;
  stops: { sequence: number; kind: "pickup" | "delivery"; facility_name: string; postal_code: string; window_start_local: string | null; window_end_local: string | null; locator: string }[];
}

const localTime = (date: string, time: string) => `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${time.slice(0, 2)}:${time.slice(2, 4)}`;

/** A sound 204 as the booking's input (and the locators of what Postgres may refuse). */
export function map204(set: TransactionSet): { load: Load204; locators: Record<string, Locator> } {
  const { head, loops: stops } = loops(set.body, "S5");
  const b2 = head.find((s) => s.tag === "B2")!;
  const b2a = head.find((s) => s.tag === "B2A")!;
  const n7 = head.find((s) => s.tag === "N7");
  const l3 = set.body.find((s) => s.tag === "L3");
  const po = head.find((s) => s.tag === "L11" && ["PO", "CR"].includes(el(s, 2)));
  const locators: Record<string, Locator> = { shipment: locate(b2, 4, 145), purpose: locate(b2a, 1, 353) };
  let weight: number | null = l3 && el(l3, 1) ? Math.round(Number(el(l3, 1))) : null;
  const mapped = stops.map((loop, i) => {
    const s5 = loop[0];
    const n1 = loop.find((s) => s.tag === "N1" && ["SF", "ST", "SH", "CN"].includes(el(s, 1)));
    const n4 = loop.find((s) => s.tag === "N4");
    const dates = loop.filter((s) => s.tag === "G62");
    const begin = dates.find((g) => ["37", "53", "10", "70"].includes(el(g, 1)) || el(g, 3) === "G") ?? dates[0];
    const end = dates.find((g) => g !== begin && (["38", "54"].includes(el(g, 1)) || el(g, 3) === "L"));
    if (weight === null && el(s5, 3)) weight = Math.round(Number(el(s5, 3)));
    const key = `stop:${i + 1}`;
    locators[key] = n1 ? locate(n1, 2, 93) : locate(s5, 1, 165);
    return {
      sequence: i + 1,
      kind: STOP_REASONS[el(s5, 2)],
      facility_name: el(n1, 2),
      postal_code: el(n4, 3),
      window_start_local: begin ? localTime(el(begin, 2), el(begin, 4)) : null,
      window_end_local: end ? localTime(el(end, 2), el(end, 4)) : null,
      locator: key,
    };
  });
  const purpose = ({ "00": "original", "01": "cancel", "04": "change" } as const)[el(b2a, 1) as "00" | "01" | "04"];
  return {
    load: {
      shipment_id: el(b2, 4),
      purpose,
      scac: el(b2, 2) || null,
      customer_reference: po ? el(po, 1) : null,
      equipment_type: n7 && el(n7, 11) ? EQUIPMENT[el(n7, 11)] ?? null : null,
      weight_lbs: weight,
      linehaul_cents: l3 && el(l3, 5) ? Number(el(l3, 5)) : null,
      stops: mapped,
    },
    locators,
  };
}

export interface Status214 {
  shipment_id: string;
  events: { status_code: string; date: string; time: string; time_code: string; stop_sequence: number | null; city: string | null; region: string | null; locator: string }[];
}

/** A sound 214: one event per AT7 (in its LX loop: the stop by L11 qualifier QN, the place by MS1). */
export function map214(set: TransactionSet): { status: Status214; locators: Record<string, Locator> } {
  const { head, loops: lx } = loops(set.body, "LX");
  const b10 = head.find((s) => s.tag === "B10")!;
  const locators: Record<string, Locator> = { shipment: locate(b10, 2, 145) };
  const groups = lx.length ? lx : [head];
  const events = groups.flatMap((loop, i) => {
    const at7s = loop.filter((s) => s.tag === "AT7");
    const ms1 = loop.find((s) => s.tag === "MS1");
    const stop = loop.find((s) => s.tag === "L11" && el(s, 2) === "QN");
    return at7s.map((a, j) => {
      const key = `event:${i + 1}.${j + 1}`;
      locators[key] = locate(a, 1, 1650);
      return {
        status_code: el(a, 1), date: el(a, 5), time: el(a, 6), time_code: el(a, 7) || "UT",
        stop_sequence: stop ? Number(el(stop, 1)) : null, city: el(ms1, 1) || null, region: el(ms1, 2) || null, locator: key,
      };
    });
  });
  return { status: { shipment_id: el(b10, 2), events }, locators };
}

export interface Response990 {
  shipment_id: string;
  action: "accept" | "decline";
  reason: string | null;
}

/** A sound 990: the carrier's answer to our tender of the load B102 names. */
export function map990(set: TransactionSet): { response: Response990; locators: Record<string, Locator> } {
  const b1 = set.body.find((s) => s.tag === "B1")!;
  const k1 = set.body.find((s) => s.tag === "K1");
  return {
    response: { shipment_id: el(b1, 2), action: el(b1, 4) === "A" ? "accept" : "decline", reason: k1 ? el(k1, 1) : null },
    locators: { shipment: locate(b1, 2, 145) },
  };
}

export interface Ack997 {
  group_functional_id: string;
  group_control: string;
  group_status: string;
  sets: { set_id: string; control: string; status: string }[];
}

/** A sound 997: which of our outbound group's sets the partner accepted. */
export function map997(set: TransactionSet): Ack997 {
  const ak1 = set.body.find((s) => s.tag === "AK1")!;
  const ak9 = set.body.find((s) => s.tag === "AK9")!;
  const sets: Ack997["sets"] = [];
  let current: { set_id: string; control: string; status: string } | null = null;
  for (const s of set.body) {
    if (s.tag === "AK2") sets.push(current = { set_id: el(s, 1), control: el(s, 2), status: "A" });
    else if (s.tag === "AK5" && current) current.status = el(s, 1);
  }
  return { group_functional_id: el(ak1, 1), group_control: el(ak1, 2), group_status: el(ak9, 1), sets };
}
