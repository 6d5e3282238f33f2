import type { Statement } from "../contract.ts";

/** Cents as a currency amount with two decimals and thousands separators ("1,234.56"); never a float. */
export function money(cents: number): string {
  const sign = cents < 0 ? "-" : "";
  const abs = Math.abs(cents);
  const whole = Math.trunc(abs / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${sign}${whole}.${String(abs % 100).padStart(2, "0")}`;
}

/** Revenue per mile in whole cents (rounded half up), null without miles. */
export function perMile(revenueCents: number, miles: number): number | null {
  return miles > 0 ? Math.floor((revenueCents * 2 + miles) / (2 * miles)) : null;
}

/**
 * The pay statement as a plain-text document (what the owner operator downloads): each
 * load's pay, each deduction, gross, deductions and net. Figures come from Postgres (which
 * computed and posted them); this only lays them out.
 */
export function renderStatement(s: Statement, issuedOn: string, payee: string): string {
  const w = 44;
  const line = (label: string, cents: number) => `${label.padEnd(w - 16)}${money(cents).padStart(16)}`;
  const rows = [
    `PAY STATEMENT ${s.number}`,
    `Payee: ${payee}`,
    `Issued: ${issuedOn}   Currency: ${s.currency}`,
    "",
    "LOADS",
    ...s.loads.map((l) => line(`  ${l.reference}${l.loaded_miles ? ` (${l.loaded_miles + (l.empty_miles ?? 0)} mi)` : ""}`, l.pay_cents)),
    line("Gross", s.gross_cents),
    "",
    "DEDUCTIONS",
    line("  Fuel advances", -s.deductions.fuel_advance_cents),
    line("  Escrow", -s.deductions.escrow_cents),
    line("  Lease", -s.deductions.lease_cents),
    line("  Insurance", -s.deductions.insurance_cents),
    line("Deductions", -s.deductions_cents),
    "",
    line("NET PAY", s.net_cents),
  ];
  return rows.join("\n") + "\n";
}
