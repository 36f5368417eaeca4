/**
 * Money is an integer count of the currency's minor units (bigint) plus an ISO 4217 code.
 * Currency validity and exponents come from the runtime's ICU data (Intl), see ADR 005.
 */
const KNOWN = new Set<string>(Intl.supportedValuesOf('currency'));
const exponents = new Map<string, number>();

export function isCurrency(code: string): boolean {
  return /^[A-Z]{3}$/.test(code) && KNOWN.has(code);
}

export function currencyExponent(code: string): number {
  let e = exponents.get(code);
  if (e === undefined) {
    if (!isCurrency(code)) throw new Error(`unknown currency ${code}`);
    e = new Intl.NumberFormat('en', { style: 'currency', currency: code }).resolvedOptions().maximumFractionDigits ?? 2;
    exponents.set(code, e);
  }
  return e;
}

export type ParseResult = { ok: true; minor: bigint } | { ok: false; message: string };

/** Parses a decimal string ("1234.5", "-3", "0.07") into minor units, refusing excess precision. */
export function parseDecimal(value: string, currency: string): ParseResult {
  const m = /^(-)?(\d{1,15})(?:\.(\d+))?$/.exec(value.trim());
  if (!m) return { ok: false, message: `"${value}" is not a decimal amount like 1234.56` };
  const exp = currencyExponent(currency);
  const frac = m[3] ?? '';
  if (frac.length > exp) {
    return { ok: false, message: `${currency} has ${exp} decimal place${exp === 1 ? '' : 's'}; "${value}" has ${frac.length}` };
  }
  const minor = BigInt(m[2] + frac.padEnd(exp, '0'));
  return { ok: true, minor: m[1] ? -minor : minor };
}

/** Formats minor units as a plain decimal string with the currency's exponent ("1234.50"). */
export function formatMinor(minor: bigint, currency: string): string {
  const exp = currencyExponent(currency);
  const neg = minor < 0n;
  const digits = (neg ? -minor : minor).toString().padStart(exp + 1, '0');
  const whole = exp === 0 ? digits : digits.slice(0, -exp);
  const frac = exp === 0 ? '' : `.${digits.slice(-exp)}`;
  return `${neg ? '-' : ''}${whole}${frac}`;
}
