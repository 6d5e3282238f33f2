import { z } from "zod";

/**
 * Input schemas the freight portals share (the shipper books stops, the broker routes
 * them). Validation only: the freight functions in Postgres check the same rules again.
 */

/** Integer cents (money is never a float): 0 .. 10^11. */
export const centsSchema = z.number().int("Money is integer cents").min(0).max(100_000_000_000);

/**
 * A wall-clock time at a facility ("2026-12-01T08:00", seconds optional, no offset): the
 * database places it in the facility's IANA zone, so a window keeps its local times across a
 * DST change. A calendar-impossible value (Feb 30, 24:00) is refused here, not by Postgres.
 */
export const localDateTimeSchema = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/, "Expected a local time like 2026-12-01T08:00 (no offset: the facility's own time)")
  .refine((s) => {
    const d = new Date(`${s.length === 16 ? `${s}:00` : s}Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, s.length) === s;
  }, "Not a real date and time");

export const stopSchema = z.strictObject({
  kind: z.enum(["pickup", "delivery"]),
  facility_id: z.guid(),
  window_start_local: localDateTimeSchema,
  window_end_local: localDateTimeSchema,
  reference: z.string().trim().min(1).max(64).optional(),
}).refine((s) => s.window_start_local < s.window_end_local, { path: ["window_end_local"], message: "The window ends after it starts" });

/** A load's stops in sequence: a pickup first, a delivery last (Postgres checks the windows' order). */
export const stopsSchema = z.array(stopSchema).min(2, "At least a pickup and a delivery").max(20)
  .refine((s) => s[0]?.kind === "pickup" && s[s.length - 1]?.kind === "delivery", { message: "The first stop is a pickup, the last a delivery" });

export type StopInput = z.infer<typeof stopSchema>;
