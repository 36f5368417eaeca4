import { daysBetween, type IsoDate } from '../../platform/time/dates';

/**
 * Payment behaviour statistics: pure functions of plain rows, no database. The service loads
 * the rows for a batch of customers in a few set-based queries and folds them through here.
 */

/** Arithmetic mean, or null for no values. */
export function mean(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/**
 * Quantile with linear interpolation between order statistics (type 7, the default of R and
 * NumPy): q = 0.5 is the usual median (mean of the two middle values for an even count).
 */
export function quantile(xs: readonly number[], q: number): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const h = (s.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return s[lo] + (h - lo) * (s[hi] - s[lo]);
}

export const median = (xs: readonly number[]) => quantile(xs, 0.5);

/** Wilson score interval for a proportion (95% by default): honest for small counts. */
export function wilson(successes: number, n: number, z = 1.96): { rate: number; low: number; high: number } | null {
  if (n === 0) return null;
  const p = successes / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return { rate: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

export interface PaidInvoiceRow {
  issueDate: IsoDate;
  dueDate: IsoDate;
  paidOn: IsoDate;
  /** Key of the last dunning step SENT on or before the day it was paid; null = paid with no reminder. */
  lastStepKey: string | null;
}

export interface BehaviourInput {
  asOf: IsoDate;
  paid: PaidInvoiceRow[];
  /** Promises resolved in the window, by outcome. */
  promises: { kept: number; partiallyKept: number; broken: number };
  /** Invoices due in the window, and how many of them were disputed. */
  invoicesDue: number;
  disputedInvoices: number;
}

export type Trend = 'IMPROVING' | 'STABLE' | 'WORSENING' | 'INSUFFICIENT_DATA';

export interface StepShare {
  /** Step key, or `NONE` for invoices paid before any reminder went out. */
  step: string;
  invoices: number;
  share: number;
}

export interface BehaviourStats {
  paidInvoices: number;
  lateInvoices: number;
  daysToPay: { mean: number | null; median: number | null; p90: number | null };
  daysLate: { mean: number | null; median: number | null; p90: number | null };
  paidAfterStep: StepShare[];
  promisesResolved: number;
  promiseKeptRate: number | null;
  disputeRate: number | null;
  recentDaysLateMean: number | null;
  priorDaysLateMean: number | null;
  trend: Trend;
}

/** Window lengths and thresholds, stated once (also in the README). */
export const BEHAVIOUR_WINDOW_DAYS = 365;
export const TREND_WINDOW_DAYS = 90;
/** A change of mean days late smaller than this is noise, not a trend. */
export const TREND_THRESHOLD_DAYS = 3;
export const TREND_MIN_INVOICES = 2;

/**
 * Days to pay = paid day - issue day; days late = max(0, paid day - due day) (paying early is
 * not "negative lateness"). Shares of invoices by the last step sent before payment. A partly
 * kept promise counts as half kept. Trend compares mean days late of invoices paid in the last
 * 90 days with the 90 days before: a change of 3 days or more either way, when each window has
 * at least 2 invoices.
 */
export function computeBehaviour(input: BehaviourInput): BehaviourStats {
  const toPay = input.paid.map((p) => daysBetween(p.issueDate, p.paidOn));
  const late = input.paid.map((p) => Math.max(0, daysBetween(p.dueDate, p.paidOn)));
  const byStep = new Map<string, number>();
  for (const p of input.paid) byStep.set(p.lastStepKey ?? 'NONE', (byStep.get(p.lastStepKey ?? 'NONE') ?? 0) + 1);
  const n = input.paid.length;
  const paidAfterStep = [...byStep.entries()].map(([step, invoices]) => ({ step, invoices, share: invoices / n })).sort((a, b) => b.invoices - a.invoices || a.step.localeCompare(b.step));

  const recent: number[] = [];
  const prior: number[] = [];
  input.paid.forEach((p, i) => {
    const ago = daysBetween(p.paidOn, input.asOf);
    if (ago < TREND_WINDOW_DAYS) recent.push(late[i]);
    else if (ago < 2 * TREND_WINDOW_DAYS) prior.push(late[i]);
  });
  const r = mean(recent);
  const pr = mean(prior);
  let trend: Trend = 'INSUFFICIENT_DATA';
  if (r !== null && pr !== null && recent.length >= TREND_MIN_INVOICES && prior.length >= TREND_MIN_INVOICES) {
    trend = r - pr >= TREND_THRESHOLD_DAYS ? 'WORSENING' : pr - r >= TREND_THRESHOLD_DAYS ? 'IMPROVING' : 'STABLE';
  }
  const { kept, partiallyKept, broken } = input.promises;
  const resolved = kept + partiallyKept + broken;
  return {
    paidInvoices: n,
    lateInvoices: late.filter((d) => d > 0).length,
    daysToPay: { mean: mean(toPay), median: median(toPay), p90: quantile(toPay, 0.9) },
    daysLate: { mean: mean(late), median: median(late), p90: quantile(late, 0.9) },
    paidAfterStep,
    promisesResolved: resolved,
    promiseKeptRate: resolved ? (kept + partiallyKept / 2) / resolved : null,
    disputeRate: input.invoicesDue ? input.disputedInvoices / input.invoicesDue : null,
    recentDaysLateMean: r,
    priorDaysLateMean: pr,
    trend,
  };
}
