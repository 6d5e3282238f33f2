import { X12Interchange, X12Parser } from "node-x12";

/**
 * X12 004010 envelopes on top of node-x12 (parse and generate). Its gaps, handled here:
 * - its strict parser rejects an ISA whose fixed-width elements are not padded (and its loose
 *   parser then mis-reads the separators and throws): normalizeIsa pads them first;
 * - it reads ISA13 / IEA02 as numbers ("000000017" -> "17"): the control number is taken from
 *   the normalized ISA, compared as integers;
 * - its strict mode stops at the first error and its loose mode reports diagnostics as text:
 *   the envelope checks that decide 997 / TA1 codes are made here, on its segment tree;
 * - its 997 builder (setAcknowledgement) needs liquidjs, which it does not declare: 997s are
 *   built from segments (ack.ts) like every other outbound set.
 */

/** ISA element widths (ISA01..ISA16). */
const ISA_WIDTHS = [2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1] as const;

export interface Separators {
  element: string;
  segment: string;
  component: string;
}

export interface Segment {
  tag: string;
  /** elements[0] is the segment's 01 element */
  elements: string[];
  /** position in its transaction set (ST = 1), 0 outside a set */
  position: number;
}

export interface TransactionSet {
  setId: string;
  control: string;
  /** SE01 / SE02 as sent (null when the trailer is missing) */
  trailerCount: string | null;
  trailerControl: string | null;
  /** the segments between ST and SE */
  body: Segment[];
}

export interface FunctionalGroup {
  functionalId: string;
  senderId: string;
  receiverId: string;
  date: string;
  time: string;
  control: string;
  version: string;
  trailerCount: string | null;
  trailerControl: string | null;
  sets: TransactionSet[];
}

export interface Interchange {
  senderQualifier: string;
  senderId: string;
  receiverQualifier: string;
  receiverId: string;
  date: string;
  time: string;
  /** ISA13 as nine digits */
  control: string;
  usage: "P" | "T" | string;
  ackRequested: boolean;
  trailerCount: string | null;
  trailerControl: string | null;
  groups: FunctionalGroup[];
  separators: Separators;
}

/** A TA1-style interchange rejection: TA105 note code and a sentence a human reads. */
export interface EnvelopeRejection {
  code: string;
  note: string;
}

export type ParseResult = { ok: true; interchange: Interchange; text: string } | { ok: false; rejection: EnvelopeRejection; header: Partial<Interchange> };

const reject = (code: string, note: string, header: Partial<Interchange> = {}): ParseResult => ({ ok: false, rejection: { code, note }, header });

/**
 * Pads an ISA written without its fixed widths (ISA*00**00**ZZ*ACME*...) so that node-x12
 * finds the separators at their positions. Returns the text with a 106-character ISA, the
 * separators, and the trimmed ISA elements, or a rejection.
 */
export function normalizeIsa(raw: string): { text: string; separators: Separators; isa: string[] } | EnvelopeRejection {
  const text = raw.replace(/^\uFEFF/, "").replace(/^\s+/, "");
  if (!text.startsWith("ISA") || text.length < 4) return { code: "024", note: "the interchange does not begin with an ISA segment" };
  const element = text[3];
  if (/[A-Za-z0-9 ]/.test(element)) return { code: "024", note: `"${element}" cannot be the element separator` };
  const isa: string[] = [];
  let i = 4;
  for (let n = 0; n < 15; n++) {
    const end = text.indexOf(element, i);
    if (end < 0) return { code: "024", note: `the ISA segment has ${n + 1} of its 16 elements` };
    isa.push(text.slice(i, end));
    i = end + 1;
  }
  const component = text[i];
  const segment = text[i + 1];
  if (component === undefined || segment === undefined || segment === element || /[A-Za-z0-9]/.test(segment)) {
    return { code: "024", note: "ISA16 and the segment terminator are missing or invalid" };
  }
  isa.push(component);
  for (let n = 0; n < 15; n++) {
    if (isa[n].length > ISA_WIDTHS[n]) return { code: "024", note: `ISA${String(n + 1).padStart(2, "0")} is longer than ${ISA_WIDTHS[n]} characters` };
  }
  const padded = isa.map((v, n) => (n === 12 ? v.trim().padStart(9, "0") : v.padEnd(ISA_WIDTHS[n], " ")));
  return { text: `ISA${element}${padded.join(element)}${segment}${text.slice(i + 2)}`, separators: { element, segment, component }, isa: isa.map((v) => v.trim()) };
}

/**
 * Parses an interchange and checks its envelope (ISA13 = IEA02, IEA01 = the number of groups).
 * Group and set envelopes (GS06 = GE02, ST02 = SE02, counts, GS01 vs ST01) are checked by
 * checkGroup / checkSet: their errors go into the 997, not a TA1.
 */
export function parseInterchange(raw: string): ParseResult {
  const n = normalizeIsa(raw);
  if ("code" in n) return reject(n.code, n.note);
  const [, , , , sq, sid, rq, rid, date, time, , , ctl, ack, usage] = n.isa;
  const header: Partial<Interchange> = { senderQualifier: sq, senderId: sid, receiverQualifier: rq, receiverId: rid, date, time, usage, separators: n.separators };
  if (!/^\d{1,9}$/.test(ctl)) return reject("018", `ISA13 "${ctl}" is not a control number of up to nine digits`, header);
  header.control = ctl.padStart(9, "0");
  if (usage !== "P" && usage !== "T") return reject("020", `ISA15 "${usage}" is neither P (production) nor T (test)`, header);
  if (!isDate(date.length === 6 ? `20${date}` : "x") || !isTime(time)) return reject("014", `ISA09/ISA10 "${date} ${time}" is not a valid date and time`, header);

  let tree: InstanceType<typeof X12Interchange>;
  try {
    const parser = new X12Parser(false);
    const out = parser.parse(n.text);
    if (!(out instanceof X12Interchange)) return reject("026", "more than one interchange in one transmission", header);
    tree = out;
  } catch (err) {
    return reject("024", `the interchange cannot be read: ${err instanceof Error ? err.message : String(err)}`, header);
  }
  const value = (seg: { elements: { value: string }[] } | undefined, i: number): string | null => seg?.elements[i - 1]?.value ?? null;
  const groups: FunctionalGroup[] = (tree.functionalGroups ?? []).map((g) => ({
    functionalId: value(g.header, 1) ?? "",
    senderId: value(g.header, 2) ?? "",
    receiverId: value(g.header, 3) ?? "",
    date: value(g.header, 4) ?? "",
    time: value(g.header, 5) ?? "",
    control: value(g.header, 6) ?? "",
    version: value(g.header, 8) ?? "",
    trailerCount: value(g.trailer, 1),
    trailerControl: value(g.trailer, 2),
    sets: g.transactions.map((t) => ({
      setId: value(t.header, 1) ?? "",
      control: value(t.header, 2) ?? "",
      trailerCount: value(t.trailer, 1),
      trailerControl: value(t.trailer, 2),
      body: t.segments.map((s, i) => ({ tag: s.tag, elements: s.elements.map((e) => e.value), position: i + 2 })),
    })),
  }));
  const interchange: Interchange = {
    senderQualifier: sq, senderId: sid, receiverQualifier: rq, receiverId: rid, date, time, control: header.control, usage,
    ackRequested: ack === "1", trailerCount: value(tree.trailer, 1), trailerControl: value(tree.trailer, 2), groups, separators: n.separators,
  };
  if (interchange.trailerControl === null) return reject("023", "the IEA trailer is missing", header);
  if (Number(interchange.trailerControl) !== Number(ctl)) {
    return reject("001", `IEA02 ${interchange.trailerControl} does not match ISA13 ${header.control}`, header);
  }
  if (Number(interchange.trailerCount) !== groups.length) {
    return reject("021", `IEA01 says ${interchange.trailerCount} functional groups, the interchange has ${groups.length}`, header);
  }
  if (groups.length === 0) return reject("024", "the interchange has no functional group", header);
  return { ok: true, interchange, text: n.text };
}

/** GS01 functional identifier of each transaction set we speak. */
export const FUNCTIONAL_ID: Record<string, string> = { "204": "SM", "990": "GF", "214": "QM", "210": "IM", "997": "FA" };

/** AK9 syntax error codes of a group's envelope (716): [] when it is sound. */
export function checkGroup(g: FunctionalGroup, seenControls: Set<string>): { codes: string[]; notes: string[] } {
  const codes: string[] = [];
  const notes: string[] = [];
  if (g.version !== "004010") codes.push("2"), notes.push(`GS08 ${g.version} is not 004010`);
  if (g.trailerControl === null) codes.push("3"), notes.push("the GE trailer is missing");
  else if (g.trailerControl !== g.control) codes.push("4"), notes.push(`GE02 ${g.trailerControl} does not match GS06 ${g.control}`);
  if (g.trailerControl !== null && Number(g.trailerCount) !== g.sets.length) {
    codes.push("5"), notes.push(`GE01 says ${g.trailerCount} transaction sets, the group has ${g.sets.length}`);
  }
  if (!/^\d{1,9}$/.test(g.control)) codes.push("6"), notes.push(`GS06 "${g.control}" is not a control number`);
  else if (seenControls.has(g.control)) {
    // 004010 has no code of its own for this (005010's 19): the syntax code stands in
    codes.push("6"), notes.push(`GS06 ${g.control} is not unique within the interchange`);
  }
  seenControls.add(g.control);
  return { codes, notes };
}

/** AK5 syntax error code of a set's envelope (718), or null when it is sound. */
export function checkSet(t: TransactionSet, g: FunctionalGroup, seenControls: Set<string>): { code: string; note: string } | null {
  const dup = seenControls.has(t.control);
  seenControls.add(t.control);
  if (FUNCTIONAL_ID[t.setId] === undefined) return { code: "1", note: `transaction set ${t.setId || "(none)"} is not supported` };
  if (FUNCTIONAL_ID[t.setId] !== g.functionalId) {
    return { code: "6", note: `a ${t.setId} does not belong in a ${g.functionalId} group (GS01 ${FUNCTIONAL_ID[t.setId]} expected)` };
  }
  if (!/^\d{4,9}$/.test(t.control)) return { code: "7", note: `ST02 "${t.control}" is not a control number of 4..9 digits` };
  if (t.trailerControl === null) return { code: "2", note: "the SE trailer is missing" };
  if (t.trailerControl !== t.control) return { code: "3", note: `SE02 ${t.trailerControl} does not match ST02 ${t.control}` };
  if (Number(t.trailerCount) !== t.body.length + 2) {
    return { code: "4", note: `SE01 says ${t.trailerCount} segments, the set has ${t.body.length + 2}` };
  }
  if (dup) return { code: "23", note: `ST02 ${t.control} is not unique within the group` };
  return null;
}

export const isDate = (v: string): boolean => {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(v);
  if (!m) return false;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  return d.getUTCFullYear() === +m[1] && d.getUTCMonth() === +m[2] - 1 && d.getUTCDate() === +m[3];
};
export const isTime = (v: string): boolean => /^([01]\d|2[0-3])[0-5]\d(\d{2})?$/.test(v);

/** Our side of an outbound interchange. */
export interface OutboundEnvelope {
  senderQualifier: string;
  senderId: string;
  receiverQualifier: string;
  receiverId: string;
  senderGs: string;
  receiverGs: string;
  usage: "P" | "T";
  /** ISA13, GS06 and one ST02 per set (from the partner's SQL counters) */
  isaControl: number;
  gsControl: number;
  at: Date;
}

export interface OutboundSet {
  setId: string;
  control: number;
  segments: [string, string[]][];
  /** the load the set is about (recorded with the outbound set) */
  loadId?: string;
}

/** Generates one interchange with one functional group (node-x12 pads the ISA and counts SE/GE/IEA). */
export function generateInterchange(env: OutboundEnvelope, sets: OutboundSet[]): string {
  const functionalId = FUNCTIONAL_ID[sets[0].setId];
  const iso = env.at.toISOString();
  const ymd = iso.slice(0, 10).replaceAll("-", "");
  const hm = iso.slice(11, 16).replace(":", "");
  const ic = new X12Interchange({ segmentTerminator: "~", elementDelimiter: "*", subElementDelimiter: ">", endOfLine: "\n", format: true });
  ic.setHeader(["00", "", "00", "", env.senderQualifier, env.senderId, env.receiverQualifier, env.receiverId, ymd.slice(2), hm, "U", "00401",
    String(env.isaControl).padStart(9, "0"), "0", env.usage, ">"]);
  const g = ic.addFunctionalGroup();
  g.setHeader([functionalId, env.senderGs, env.receiverGs, ymd, hm, String(env.gsControl), "X", "004010"]);
  for (const s of sets) {
    const t = g.addTransaction();
    t.setHeader([s.setId, String(s.control).padStart(4, "0")]);
    for (const [tag, elements] of s.segments) t.addSegment(tag, elements);
  }
  return ic.toString() + "\n";
}
