/**
 * Invoice references in remittance data, tolerant of the ways people write them:
 * `INV-1042`, `inv 1042/1043`, `#1042`, `1042`. A reference is matched on its full
 * alphanumeric form first, then on its digits alone (leading zeros ignored).
 */
export interface ParsedReference {
  /** Uppercase letters and digits, e.g. INV1042 (or just 1043 when no prefix was written). */
  full: string;
  /** The digits without leading zeros, e.g. 1042. */
  digits: string;
}

const TOKEN = /([A-Z]{1,8})?[\s\-#:._]*?(\d{3,12})/g;

export function parseReferences(text: string | null | undefined, refs: readonly string[] = []): ParsedReference[] {
  const out: ParsedReference[] = [];
  const seen = new Set<string>();
  for (const source of [...refs, text ?? '']) {
    for (const m of source.toUpperCase().matchAll(TOKEN)) {
      const digits = m[2].replace(/^0+/, '') || '0';
      const full = `${m[1] ?? ''}${m[2]}`;
      if (seen.has(digits)) continue;
      seen.add(digits);
      out.push({ full, digits });
    }
  }
  return out;
}

/**
 * `numberKeys(number).digits` in SQL, exactly as the expression index over open invoices
 * (invoices_number_digits_idx) is built: lookups by referenced digits must use this text to use it.
 */
export const NUMBER_DIGITS_SQL = `ltrim(regexp_replace(number, '[^0-9]', '', 'g'), '0')`;

/** The keys an invoice number is known by: its full alphanumeric form and its digits. */
export function numberKeys(invoiceNumber: string): ParsedReference {
  const up = invoiceNumber.toUpperCase();
  return { full: up.replace(/[^A-Z0-9]/g, ''), digits: up.replace(/[^0-9]/g, '').replace(/^0+/, '') || '0' };
}

/** Edit distance between two short strings, capped (for "did they mean 1024 for 1042?"). */
export function editDistance(a: string, b: string, cap = 3): number {
  if (Math.abs(a.length - b.length) > cap) return cap + 1;
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return Math.min(prev[b.length], cap + 1);
}
