import type { IsoDate } from '../time/dates';
import { convertMinor, RATE_SCALE } from './fx-conversion';

export interface StoredRate {
  currency: string;
  effectiveOn: IsoDate;
  /** Scaled by 10^12. */
  rate: bigint;
}

/** A tenant's stored FX rates: the rate of a day is the latest one effective on or before it. */
export class FxTable {
  private readonly byCurrency = new Map<string, StoredRate[]>();

  constructor(
    readonly functionalCurrency: string,
    rates: StoredRate[],
  ) {
    for (const r of rates) {
      const list = this.byCurrency.get(r.currency) ?? [];
      list.push(r);
      this.byCurrency.set(r.currency, list);
    }
    for (const list of this.byCurrency.values()) list.sort((a, b) => (a.effectiveOn < b.effectiveOn ? 1 : -1));
  }

  rateOn(currency: string, day: IsoDate): bigint | null {
    if (currency === this.functionalCurrency) return 10n ** BigInt(RATE_SCALE);
    return this.byCurrency.get(currency)?.find((r) => r.effectiveOn <= day)?.rate ?? null;
  }

  /** Minor units of the functional currency, or null (and the currency noted in `missing`) without a rate. */
  convert(amountMinor: bigint, currency: string, day: IsoDate, missing: Set<string>): bigint | null {
    const rate = this.rateOn(currency, day);
    if (rate === null) {
      missing.add(currency);
      return null;
    }
    return convertMinor(amountMinor, currency, this.functionalCurrency, rate);
  }
}
