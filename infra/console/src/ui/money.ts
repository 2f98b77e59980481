/** Money is integer minor units plus an ISO 4217 currency everywhere in the API; shown with Intl.NumberFormat,
 * which knows each currency's minor-unit exponent (EUR 2, JPY 0, KWD 3). */

const formatters = new Map<string, Intl.NumberFormat>();

function formatter(currency: string): Intl.NumberFormat {
  let found = formatters.get(currency);
  if (!found) {
    found = new Intl.NumberFormat(undefined, { style: "currency", currency });
    formatters.set(currency, found);
  }
  return found;
}

/** The currency's number of minor-unit digits (EUR 2, JPY 0). */
export function minorDigits(currency: string): number {
  return formatter(currency).resolvedOptions().maximumFractionDigits ?? 2;
}

/** 12345 EUR → "€123.45". */
export function formatMoney(amountMinor: number, currency: string): string {
  return formatter(currency).format(amountMinor / 10 ** minorDigits(currency));
}

/** What a person typed ("123.45") as integer minor units (12345), or null when it is not an amount. */
export function parseMoney(text: string, currency: string): number | null {
  const cleaned = text.trim().replace(",", ".");
  if (!/^\d+(\.\d+)?$/.test(cleaned)) return null;
  const digits = minorDigits(currency);
  const [whole = "0", fraction = ""] = cleaned.split(".");
  if (fraction.length > digits) return null;
  return Number(whole) * 10 ** digits + Number(fraction.padEnd(digits, "0") || 0);
}

/** 12345 EUR → "123.45" (for an input's value). */
export function minorToText(amountMinor: number, currency: string): string {
  const digits = minorDigits(currency);
  return digits ? (amountMinor / 10 ** digits).toFixed(digits) : String(amountMinor);
}
