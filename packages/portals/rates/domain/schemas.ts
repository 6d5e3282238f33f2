import { z } from "zod";
import { isKnownZip3, isRegion, locate, REGIONS } from "./geo.ts";

/**
 * Input schemas of the Rates portal: the single source of validation, types and messages.
 * Field checks (format, existence, date window) sit on the fields themselves so that one
 * request reports every bad field at once, not the first.
 */

export const EQUIPMENT = ["van", "reefer", "flatbed"] as const;
export const equipmentSchema = z.enum(EQUIPMENT);
export type Equipment = z.infer<typeof equipmentSchema>;

export const isoDateSchema = z.iso.date({ error: "Expected a date as YYYY-MM-DD" });

/** Whole days from `from` to `to` (ISO dates, UTC). */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

export const todayUtc = (): string => new Date().toISOString().slice(0, 10);

/** A string field whose absence reads "Required" rather than a type complaint. */
const text = () => z.string({ error: (iss) => (iss.input === undefined ? "Required" : "Expected a string") });

/** A served US 5-digit ZIP or ZIP3 (see geo.ts). One message per bad value. */
export const zipOrZip3Schema = text().trim().superRefine((code, ctx) => {
  if (!/^\d{3}(\d{2})?$/.test(code)) ctx.addIssue({ code: "custom", message: "Expected a 5-digit ZIP or a ZIP3" });
  else if (!locate(code)) ctx.addIssue({ code: "custom", message: `Unknown or unserved US ZIP: ${code}` });
});

export const zip3Schema = text().trim().superRefine((code, ctx) => {
  if (!/^\d{3}$/.test(code)) ctx.addIssue({ code: "custom", message: "Expected a ZIP3 (3 digits)" });
  else if (!isKnownZip3(code)) ctx.addIssue({ code: "custom", message: `Unknown or unserved ZIP3: ${code}` });
});

/** A contract lane end: a ZIP3 ("606") or a census-division region ("pacific"). */
export const laneEndSchema = text().trim().refine((v) => isKnownZip3(v) || isRegion(v), {
  message: `Expected a ZIP3 (e.g. 606) or a region (${REGIONS.join(", ")})`,
});

export interface PriceOneSchemaOptions {
  /** Today's date (YYYY-MM-DD); injectable for tests. */
  today?: () => string;
  /** How far in the past a pickup date may lie (timezones, back-dated quotes). */
  maxPastDays?: number;
  maxFutureDays?: number;
}

export function makePriceOneSchema({ today = todayUtc, maxPastDays = 3, maxFutureDays = 365 }: PriceOneSchemaOptions = {}) {
  return z
    .strictObject({
      origin: zipOrZip3Schema,
      destination: zipOrZip3Schema,
      equipment: equipmentSchema,
      // pipe: the window is only checked on a real date.
      pickup_date: isoDateSchema.pipe(z.string().superRefine((date, ctx) => {
        const ahead = daysBetween(today(), date);
        if (ahead < -maxPastDays) {
          ctx.addIssue({ code: "custom", message: `pickup_date is more than ${maxPastDays} days in the past` });
        } else if (ahead > maxFutureDays) {
          ctx.addIssue({ code: "custom", message: `pickup_date is more than ${maxFutureDays} days ahead` });
        }
      })),
      /** The customer (a shipper party) the quote is for; a shipper user's quotes are always its own. */
      party_id: z.guid().optional(),
      /** Optional hints from the tenant: price under this contract / for this customer. */
      hints: z
        .strictObject({
          contract_id: z.guid().optional(),
          customer_ref: z.string().trim().min(1).max(64).optional(),
        })
        .optional(),
    })
    .refine((q) => q.origin !== q.destination, {
      path: ["destination"],
      message: "destination must differ from origin",
    });
}

export const priceOneSchema = makePriceOneSchema();
export type PriceOneInput = z.infer<typeof priceOneSchema>;

const positiveMoney = (max: number) => z.number().positive().max(max).finite();

export const contractRateSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("per_mile"), per_mile: positiveMoney(50) }),
  z.strictObject({ kind: z.literal("flat"), amount: positiveMoney(100_000) }),
]);
export type ContractRate = z.infer<typeof contractRateSchema>;

export const contractUpsertSchema = z
  .strictObject({
    /** Present to update an existing contract, absent to create one. */
    id: z.guid().optional(),
    customer_ref: z.string().trim().min(1).max(64).optional(),
    origin: laneEndSchema,
    destination: laneEndSchema,
    equipment: equipmentSchema,
    rate: contractRateSchema,
    valid_from: isoDateSchema,
    valid_to: isoDateSchema,
    notes: z.string().max(500).optional(),
  })
  .refine((c) => c.valid_from <= c.valid_to, {
    path: ["valid_to"],
    message: "valid_to must be on or after valid_from",
  });
export type ContractUpsertInput = z.infer<typeof contractUpsertSchema>;

/** CSV cells arrive as strings; an empty cell arrives as undefined (see csv.ts). */
const decimalCell = (max: number) =>
  text().trim()
    .regex(/^\d+(\.\d{1,4})?$/, "Expected a decimal number like 2.45")
    .transform(Number)
    .pipe(z.number().positive("Must be greater than 0").max(max, `Must be at most ${max}`));

/** One market index row: lane (ZIP3 -> ZIP3), equipment, linehaul $/mile, date, source. */
export const indexRowSchema = z.strictObject({
  origin_zip3: zip3Schema,
  destination_zip3: zip3Schema,
  equipment: equipmentSchema,
  rate_per_mile: decimalCell(50),
  effective_date: text().pipe(isoDateSchema),
  source: text().trim().min(1, "Required").max(64),
  /** Loads behind the index figure, when the source publishes it; weights the blend. */
  sample_size: z.string().trim().regex(/^\d+$/, "Expected a whole number").transform(Number)
    .pipe(z.number().int().min(1).max(1_000_000)).optional(),
});
export type IndexRow = z.infer<typeof indexRowSchema>;
export const INDEX_COLUMNS = Object.keys(indexRowSchema.shape) as (keyof typeof indexRowSchema.shape)[];
export const REQUIRED_INDEX_COLUMNS = INDEX_COLUMNS.filter((c) => c !== "sample_size");
