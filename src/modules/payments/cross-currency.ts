import type { RequestContext } from '../../platform/context';
import { badInput } from '../../platform/errors';
import { convertMinor, crossRate, formatRate, parseRate } from '../../platform/money/fx-conversion';
import { FxTable } from '../../platform/money/fx-table';
import { formatMinor } from '../../platform/money/money';
import type { IsoDate } from '../../platform/time/dates';
import { LedgerAccount } from '../ledger/journal.entity';
import type { Posting } from '../ledger/ledger.service';
import { PaymentErrors } from './payment.errors';

/** How a placement on an invoice in another currency lands on it. */
export interface FxPlacement {
  /** What the invoice loses, in its currency. */
  invoiceMinor: bigint;
  currency: string;
  /** Units of the invoice currency per unit of the source currency, as stored (up to 12 places). */
  rate: string;
}

/** The tenant's stored rates (to its functional currency) for these currencies, or null when all of them are the same currency. */
export async function storedRates(tx: RequestContext, currencies: string[]): Promise<FxTable | null> {
  const distinct = [...new Set(currencies)];
  if (distinct.length < 2) return null;
  const [{ functional_currency: fc }]: { functional_currency: string }[] = await tx.em.query(`SELECT functional_currency FROM tenants WHERE id = $1`, [tx.tenantId]);
  const rows: { currency: string; effective_on: string; rate: string }[] = await tx.em.query(
    `SELECT currency, to_char(effective_on, 'YYYY-MM-DD') AS effective_on, rate::text AS rate FROM fx_rates WHERE tenant_id = $1 AND currency = ANY($2::text[])`,
    [tx.tenantId, distinct],
  );
  return new FxTable(fc, rows.map((r) => ({ currency: r.currency, effectiveOn: r.effective_on, rate: parseRate(r.rate)! })));
}

/**
 * Places `amountMinor` of `from` on an invoice in `to`: at the rate given (units of `to` per unit
 * of `from`), else at the cross rate of the tenant's stored rates on `day`. Null when the
 * currencies are the same. Every problem is a typed error naming the allocation's field.
 */
export function placeAcross(field: string, amountMinor: bigint, from: string, to: string, given: string | null | undefined, stored: FxTable | null, day: IsoDate): FxPlacement | null {
  const hasGiven = given !== null && given !== undefined && given.trim() !== '';
  if (from === to) {
    if (hasGiven) throw badInput(`${field}.rate`, `the invoice is in ${to} like the source: no rate applies`, PaymentErrors.INVALID_RATE);
    return null;
  }
  let rate: bigint | null;
  if (hasGiven) {
    rate = parseRate(given);
    if (rate === null) throw badInput(`${field}.rate`, 'must be a positive decimal with at most 12 digits on each side of the point', PaymentErrors.INVALID_RATE);
  } else {
    const a = stored?.rateOn(from, day) ?? null;
    const b = stored?.rateOn(to, day) ?? null;
    if (a === null || b === null) {
      throw badInput(`${field}.invoiceId`, `the invoice is in ${to}, the source in ${from}, and no rate is known for ${day}: give a rate or store FX rates for both (setFxRates)`, PaymentErrors.CURRENCY_MISMATCH);
    }
    rate = crossRate(a, b);
    if (rate === 0n) throw badInput(`${field}.invoiceId`, `the stored rates give no usable ${from}/${to} rate`, PaymentErrors.CURRENCY_MISMATCH);
  }
  const invoiceMinor = convertMinor(amountMinor, from, to, rate);
  const text = formatRate(rate);
  if (invoiceMinor <= 0n) throw badInput(`${field}.amount`, `${formatMinor(amountMinor, from)} ${from} is ${formatMinor(invoiceMinor, to)} ${to} at ${text}`, PaymentErrors.NON_POSITIVE_AMOUNT);
  return { invoiceMinor, currency: to, rate: text };
}

/**
 * The invoice-currency side of a placement across currencies (ADR 013): the exchange account to
 * AR, in the invoice currency, under the same source as the payment's (or memo's) own entry.
 */
export function exchangeToAr(source: Pick<Posting, 'kind' | 'sourceType' | 'sourceId' | 'postedOn' | 'memo'>, invoice: { id: string; customerId: string }, fx: Pick<FxPlacement, 'currency' | 'invoiceMinor'>): Posting {
  return {
    kind: source.kind,
    sourceType: source.sourceType,
    sourceId: source.sourceId,
    currency: fx.currency,
    postedOn: source.postedOn,
    memo: source.memo,
    lines: [
      { account: LedgerAccount.CURRENCY_EXCHANGE, debitMinor: fx.invoiceMinor, creditMinor: 0n, customerId: invoice.customerId, invoiceId: invoice.id },
      { account: LedgerAccount.AR, debitMinor: 0n, creditMinor: fx.invoiceMinor, customerId: invoice.customerId, invoiceId: invoice.id },
    ],
  };
}
