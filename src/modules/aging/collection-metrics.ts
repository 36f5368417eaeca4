/**
 * Collections metrics as pure functions of amounts in one currency (minor units). Ratios and
 * days are not money: they are returned as numbers rounded to two decimals.
 *
 * - Standard DSO = ending receivables / credit sales of the period x days in the period.
 * - Countback DSO: walk back from the last day, month by month, subtracting each month's credit
 *   sales from ending receivables; every month fully consumed adds its days, the month where
 *   receivables run out adds its share (remaining / that month's sales x its days). Sales of
 *   the current, partial month count with the days elapsed in it. Robust to seasonality.
 * - Best possible DSO = current (not yet due) receivables / credit sales x days.
 * - Average days delinquent = standard DSO - best possible DSO.
 * - CEI = (beginning receivables + credit sales - ending total receivables)
 *         / (beginning receivables + credit sales - ending current receivables) x 100.
 * - % current = current receivables / total receivables x 100.
 */

const round2 = (n: number) => Math.round(n * 100) / 100;

export function standardDso(receivables: bigint, sales: bigint, periodDays: number): number | null {
  if (sales <= 0n) return null;
  return round2((Number(receivables) / Number(sales)) * periodDays);
}

export interface MonthOfSales {
  /** Days of the month counted: the whole month, or the days elapsed in the current one. */
  days: number;
  sales: bigint;
}

/** `months`: most recent first. Null when there were no sales at all; capped at the months given. */
export function countbackDso(receivables: bigint, months: MonthOfSales[]): number | null {
  if (!months.some((m) => m.sales > 0n)) return null;
  let remaining = receivables;
  let days = 0;
  if (remaining <= 0n) return 0;
  for (const m of months) {
    if (m.sales >= remaining) {
      days += (Number(remaining) / Number(m.sales)) * m.days;
      return round2(days);
    }
    days += m.days;
    remaining -= m.sales;
  }
  return round2(days);
}

export function bestPossibleDso(current: bigint, sales: bigint, periodDays: number): number | null {
  return standardDso(current, sales, periodDays);
}

export function averageDaysDelinquent(receivables: bigint, current: bigint, sales: bigint, periodDays: number): number | null {
  const dso = standardDso(receivables, sales, periodDays);
  const best = bestPossibleDso(current, sales, periodDays);
  return dso === null || best === null ? null : round2(dso - best);
}

export function collectionEffectivenessIndex(beginning: bigint, sales: bigint, endingTotal: bigint, endingCurrent: bigint): number | null {
  const collectible = beginning + sales - endingCurrent;
  if (collectible <= 0n) return null;
  return round2((Number(beginning + sales - endingTotal) / Number(collectible)) * 100);
}

export function percentCurrent(receivables: bigint, current: bigint): number | null {
  if (receivables <= 0n) return null;
  return round2((Number(current) / Number(receivables)) * 100);
}
