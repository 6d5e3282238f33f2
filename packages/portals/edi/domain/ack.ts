import { type Locator, map204, map214, map990, map997, type SegmentError, validateSet } from "./sets.ts";
import { checkGroup, checkSet, type Interchange, type OutboundSet } from "./x12.ts";

/**
 * From a parsed interchange to what Postgres applies and what the 997 says. Each inbound set
 * gets AK5 A (accepted), E (accepted, errors noted) or R (rejected, with AK502 and its
 * AK3/AK4s); each group AK9 A / E / P (some rejected) / R with the counts
 * (included = GE01, received, accepted). A 997 is never acknowledged.
 */

export interface SetPlan {
  set_id: string;
  control: string;
  /** null: the set may be applied (Postgres decides the rest) */
  syntax_code: string | null;
  note: string | null;
  errors: SegmentError[];
  /** the domain input (204 load, 214 status, 990 response, 997 ack) */
  data: unknown;
  locators: Record<string, Locator>;
}
export interface GroupPlan {
  functional_id: string;
  control: string;
  sender_gs: string;
  receiver_gs: string;
  declared_sets: number;
  codes: string[];
  notes: string[];
  sets: SetPlan[];
}

function mapSet(setId: string, set: Parameters<typeof map204>[0]): { data: unknown; locators: Record<string, Locator> } {
  switch (setId) {
    case "204": { const m = map204(set); return { data: m.load, locators: m.locators }; }
    case "214": { const m = map214(set); return { data: m.status, locators: m.locators }; }
    case "990": { const m = map990(set); return { data: m.response, locators: m.locators }; }
    case "997": return { data: map997(set), locators: {} };
    default: return { data: null, locators: {} };
  }
}

/** The interchange's groups and sets, checked (envelopes, then elements) and mapped. */
export function plan(ic: Interchange): GroupPlan[] {
  const groupControls = new Set<string>();
  return ic.groups.map((g) => {
    const { codes, notes } = checkGroup(g, groupControls);
    const setControls = new Set<string>();
    const sets = g.sets.map((t): SetPlan => {
      const envelope = checkSet(t, g, setControls);
      if (envelope) return { set_id: t.setId, control: t.control, syntax_code: envelope.code, note: envelope.note, errors: [], data: null, locators: {} };
      const errors = validateSet(t);
      const rejected = errors.some((e) => !e.noted);
      const mapped = rejected ? { data: null, locators: {} } : mapSet(t.setId, t);
      return {
        set_id: t.setId, control: t.control, syntax_code: rejected ? "5" : null,
        note: errors.length ? `${errors.length} segment(s) in error` : null, errors, ...mapped,
      };
    });
    return { functional_id: g.functionalId, control: g.control, sender_gs: g.senderId, receiver_gs: g.receiverId, declared_sets: Number(g.trailerCount ?? g.sets.length), codes, notes, sets };
  });
}

/** What Postgres made of one set: applied, duplicate (acknowledged, not applied) or refused. */
export interface SetOutcome {
  state: "applied" | "duplicate" | "rejected";
  /** a refusal: the locator key of the element that named the missing / wrong thing */
  locator?: string | null;
  code?: string;
  message?: string;
}

export interface AckSet {
  set_id: string;
  control: string;
  status: "A" | "E" | "R";
  syntax_code: string | null;
  errors: SegmentError[];
}
export interface AckGroup {
  functional_id: string;
  control: string;
  status: "A" | "E" | "P" | "R";
  codes: string[];
  included: number;
  received: number;
  accepted: number;
  sets: AckSet[];
}

/** The AK2..AK5 of each set and the AK9 of each group, given what Postgres did. */
export function acknowledge(groups: GroupPlan[], outcomes: SetOutcome[][]): AckGroup[] {
  return groups.filter((g) => g.functional_id !== "FA").map((g) => {
    const gi = groups.indexOf(g);
    const sets = g.sets.map((s, si): AckSet => {
      const out = outcomes[gi]?.[si];
      if (g.codes.length) return { set_id: s.set_id, control: s.control, status: "R", syntax_code: s.syntax_code, errors: s.errors };
      if (s.syntax_code) return { set_id: s.set_id, control: s.control, status: "R", syntax_code: s.syntax_code, errors: s.errors };
      if (out?.state === "rejected") {
        const loc = out.locator ? s.locators[out.locator] : undefined;
        const errors: SegmentError[] = loc
          ? [...s.errors, { tag: loc.tag, position: loc.position, code: "8", noted: false, elements: [{ position: loc.element, ref: loc.ref, code: "7", value: loc.value }] }]
          : s.errors;
        return { set_id: s.set_id, control: s.control, status: "R", syntax_code: "5", errors };
      }
      return { set_id: s.set_id, control: s.control, status: s.errors.length ? "E" : "A", syntax_code: null, errors: s.errors };
    });
    const accepted = sets.filter((s) => s.status !== "R").length;
    const status = g.codes.length || accepted === 0 ? "R" : accepted < sets.length ? "P" : sets.some((s) => s.status === "E") ? "E" : "A";
    return { functional_id: g.functional_id, control: g.control, status, codes: g.codes, included: g.declared_sets, received: g.sets.length, accepted, sets };
  });
}

/** One 997 transaction set per acknowledged group (the ST02s from the partner's counter). */
export function build997(groups: AckGroup[], controls: number[]): OutboundSet[] {
  return groups.map((g, i) => {
    const segments: [string, string[]][] = [["AK1", [g.functional_id, g.control]]];
    for (const s of g.sets) {
      segments.push(["AK2", [s.set_id, s.control]]);
      for (const e of s.errors) {
        segments.push(["AK3", [e.tag, String(e.position), "", e.code]]);
        for (const x of e.elements) segments.push(["AK4", [String(x.position), String(x.ref), x.code, ...(x.value ? [x.value] : [])]]);
      }
      segments.push(["AK5", s.syntax_code ? [s.status, s.syntax_code] : [s.status]]);
    }
    segments.push(["AK9", [g.status, String(g.included), String(g.received), String(g.accepted), ...g.codes.slice(0, 5)]]);
    return { setId: "997", control: controls[i], segments };
  });
}
