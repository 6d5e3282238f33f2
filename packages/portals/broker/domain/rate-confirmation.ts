import { PDFDocument, StandardFonts } from "pdf-lib";

/**
 * The rate confirmation a carrier receives with a tender: who tenders what to whom, at what
 * buy rate, the stops with their appointment windows in each facility's own time, and when
 * the offer lapses. Rendered with pdf-lib (standard Helvetica: WinAnsi text only, so other
 * characters are replaced). It never carries the sell rate.
 */

export interface RateConfirmationStop {
  sequence: number;
  kind: "pickup" | "delivery";
  facility: string;
  address: string | null;
  city: string | null;
  region: string | null;
  postal_code: string | null;
  time_zone: string;
  /** "2026-12-01 08:00" wall-clock at the facility. */
  window_start_local: string;
  window_end_local: string;
}

export interface RateConfirmation {
  brokerage: string;
  load_reference: string;
  tender_id: string;
  issued_at: Date;
  accept_by: Date;
  carrier: { name: string; mc_number: string | null; dot_number: string | null; scac: string | null };
  equipment_type: string;
  weight_lbs: number | null;
  commodity: string | null;
  rate_cents: number;
  currency: string;
  stops: RateConfirmationStop[];
}

/** "$1,234.56" (USD), "1,234.56 CAD" otherwise; integer cents in, no float arithmetic. */
export function money(cents: number, currency: string): string {
  const whole = Math.trunc(cents / 100).toLocaleString("en-US");
  const amount = `${whole}.${String(cents % 100).padStart(2, "0")}`;
  return currency === "USD" ? `$${amount}` : `${amount} ${currency}`;
}

const utc = (d: Date) => `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
// WinAnsi (what the standard fonts encode): printable ASCII and Latin-1
const winAnsi = (s: string) => s.replace(/[^\x20-\x7e\xa0-\xff]/g, "?");

/** The lines of the document, top to bottom (also what the tests read back). */
export function rateConfirmationLines(rc: RateConfirmation): string[] {
  const c = rc.carrier;
  const ids = [c.mc_number && `MC ${c.mc_number}`, c.dot_number && `DOT ${c.dot_number}`, c.scac && `SCAC ${c.scac}`].filter(Boolean).join(", ");
  const lines = [
    `RATE CONFIRMATION ${rc.load_reference}`,
    `${rc.brokerage} | issued ${utc(rc.issued_at)} | tender ${rc.tender_id}`,
    "",
    `Carrier: ${c.name}${ids ? ` (${ids})` : ""}`,
    `Equipment: ${rc.equipment_type}${rc.weight_lbs ? ` | ${rc.weight_lbs.toLocaleString("en-US")} lbs` : ""}${rc.commodity ? ` | ${rc.commodity}` : ""}`,
    `Rate: ${money(rc.rate_cents, rc.currency)} all-in linehaul (${rc.currency})`,
    `Accept by: ${utc(rc.accept_by)}`,
    "",
    "Stops (appointment windows in facility time):",
  ];
  for (const s of rc.stops) {
    const where = [s.address, [s.city, s.region].filter(Boolean).join(", "), s.postal_code].filter(Boolean).join(" ");
    lines.push(`${s.sequence}. ${s.kind === "pickup" ? "Pickup" : "Delivery"}: ${s.facility}${where ? ` | ${where}` : ""}`);
    lines.push(`Window: ${s.window_start_local} to ${s.window_end_local} (${s.time_zone})`);
  }
  lines.push("", "This confirmation is the agreement for this load once the carrier accepts the tender.");
  return lines.map(winAnsi);
}

export async function renderRateConfirmation(rc: RateConfirmation): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.setTitle(`Rate confirmation ${winAnsi(rc.load_reference)}`);
  doc.setCreationDate(rc.issued_at);
  doc.setModificationDate(rc.issued_at);
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  let page = doc.addPage([612, 792]);
  let y = 740;
  for (const [i, line] of rateConfirmationLines(rc).entries()) {
    if (y < 60) {
      page = doc.addPage([612, 792]);
      y = 740;
    }
    page.drawText(line, { x: 50, y, size: i === 0 ? 16 : 10, font: i === 0 ? bold : font });
    y -= i === 0 ? 26 : 15;
  }
  return await doc.save();
}
