import { currencyExponent } from './money';

/** Rates carry up to 12 decimal places (numeric(24,12) in fx_rates). */
export const RATE_SCALE = 12;
const RATE_DEN = 10n ** BigInt(RATE_SCALE);

/** Parses "1.0825" into an integer scaled by 10^12, or null when it is not a positive decimal within that precision. */
export function parseRate(value: string): bigint | null {
  const m = /^(\d{1,12})(?:\.(\d{1,12}))?$/.exec(value.trim());
  if (!m) return null;
  const scaled = BigInt(m[1] + (m[2] ?? '').padEnd(RATE_SCALE, '0'));
  return scaled > 0n ? scaled : null;
}

export function formatRate(scaled: bigint): string {
  const s = scaled.toString().padStart(RATE_SCALE + 1, '0');
  const frac = s.slice(-RATE_SCALE).replace(/0+$/, '');
  return `${s.slice(0, -RATE_SCALE)}${frac ? `.${frac}` : ''}`;
}

/** Integer division rounding half to even (banker's rounding), for any signs. */
export function divRoundHalfEven(num: bigint, den: bigint): bigint {
  if (den < 0n) return divRoundHalfEven(-num, -den);
  const neg = num < 0n;
  const n = neg ? -num : num;
  let q = n / den;
  const r2 = (n % den) * 2n;
  if (r2 > den || (r2 === den && q % 2n === 1n)) q += 1n;
  return neg ? -q : q;
}

/** The rate from one currency to another through the functional currency: units of `to` per unit of `from`, given each one's rate to the functional currency (all scaled by 10^12). */
export function crossRate(fromRate: bigint, toRate: bigint): bigint {
  return divRoundHalfEven(fromRate * RATE_DEN, toRate);
}

/**
 * Converts minor units of `from` into minor units of `to` at `rate` (units of `to` per one unit
 * of `from`, scaled by 10^12), rounding half to even once, at the end. The one rounding rule of
 * every converted figure: each (row, bucket, currency) amount is converted on its own, and
 * converted totals are sums of converted amounts, so a converted report always adds up.
 */
export function convertMinor(amountMinor: bigint, from: string, to: string, rateScaled: bigint): bigint {
  if (from === to) return amountMinor;
  const ef = currencyExponent(from);
  const et = currencyExponent(to);
  const num = amountMinor * rateScaled * 10n ** BigInt(et);
  const den = RATE_DEN * 10n ** BigInt(ef);
  return divRoundHalfEven(num, den);
}
