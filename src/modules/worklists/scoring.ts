import { currencyExponent, formatMinor } from '../../platform/money/money';
import { daysBetween, type IsoDate } from '../../platform/time/dates';

/**
 * A tenant's scoring rule: every term adds points, so the explanation of a score is the list of
 * its terms. Amounts count by order of magnitude (points per tenfold of the open amount in major
 * units), so a $90K balance outranks a $2K one without drowning every other term.
 */
export interface ScoringRule {
  daysPastDue: { pointsPerDay: number; maxDays: number };
  openAmount: { pointsPerTenfold: number };
  segments: { segment: string; points: number }[];
  customerTiers: { tier: string; points: number }[];
  escalationTier: { pointsPerLevel: number };
  slaBreach: { points: number; pointsPerDayLate: number };
  recentPayment: { points: number; withinDays: number };
  recentActivity: { points: number; withinDays: number };
  reasons: { reasonCode: string; points: number }[];
}

export const DEFAULT_SCORING: ScoringRule = {
  daysPastDue: { pointsPerDay: 1, maxDays: 120 },
  openAmount: { pointsPerTenfold: 10 },
  segments: [],
  customerTiers: [],
  escalationTier: { pointsPerLevel: 5 },
  slaBreach: { points: 20, pointsPerDayLate: 2 },
  recentPayment: { points: 25, withinDays: 14 },
  recentActivity: { points: 15, withinDays: 14 },
  reasons: [
    { reasonCode: 'BROKEN_PROMISE', points: 20 },
    { reasonCode: 'PARTIAL_PROMISE', points: 10 },
  ],
};

/** What the scorer knows about one task on one day: plain data. */
export interface TaskFacts {
  reasonCode: string;
  /** Days past due of the task's invoice, or of the customer's oldest open invoice; null when nothing is open. */
  daysPastDue: number | null;
  openAmountMinor: bigint | null;
  currency: string | null;
  segment: string | null;
  customerTier: string | null;
  escalationTier: number;
  /** The task's SLA day. */
  dueDate: IsoDate | null;
  lastPaymentOn: IsoDate | null;
  /** Latest portal visit or reply. */
  lastActivity: { on: IsoDate; kind: string } | null;
}

export enum ScoreTermKind {
  DAYS_PAST_DUE = 'DAYS_PAST_DUE',
  OPEN_AMOUNT = 'OPEN_AMOUNT',
  SEGMENT = 'SEGMENT',
  CUSTOMER_TIER = 'CUSTOMER_TIER',
  ESCALATION_TIER = 'ESCALATION_TIER',
  SLA_BREACH = 'SLA_BREACH',
  RECENT_PAYMENT = 'RECENT_PAYMENT',
  RECENT_ACTIVITY = 'RECENT_ACTIVITY',
  REASON = 'REASON',
}

export interface ScoreTerm {
  term: ScoreTermKind;
  points: number;
  /** The fact behind the points, in words. */
  detail: string;
}

export interface Score {
  score: number;
  terms: ScoreTerm[];
  slaBreached: boolean;
  /** "104.5 = 30 days past due (+30) + …" */
  explanation: string;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/** Major units as a float, for the logarithm only (money itself never becomes a float). */
function majorUnits(minor: bigint, currency: string): number {
  return Number(minor) / 10 ** currencyExponent(currency);
}

/** Scores one task as of `asOf`. Terms worth nothing are left out; the score is the sum of the rounded terms. */
export function scoreTask(f: TaskFacts, rule: ScoringRule, asOf: IsoDate): Score {
  const terms: ScoreTerm[] = [];
  const add = (term: ScoreTermKind, points: number, detail: string) => {
    const p = round2(points);
    if (p !== 0) terms.push({ term, points: p, detail });
  };

  if (f.daysPastDue !== null && f.daysPastDue > 0) {
    const days = Math.min(f.daysPastDue, rule.daysPastDue.maxDays);
    add(ScoreTermKind.DAYS_PAST_DUE, days * rule.daysPastDue.pointsPerDay, `${f.daysPastDue} days past due${days < f.daysPastDue ? ` (counted up to ${days})` : ''}`);
  }
  if (f.openAmountMinor !== null && f.openAmountMinor > 0n && f.currency) {
    const major = majorUnits(f.openAmountMinor, f.currency);
    if (major >= 1) add(ScoreTermKind.OPEN_AMOUNT, Math.log10(major) * rule.openAmount.pointsPerTenfold, `${formatMinor(f.openAmountMinor, f.currency)} ${f.currency} open`);
  }
  const seg = f.segment ? rule.segments.find((s) => s.segment.toLowerCase() === f.segment!.toLowerCase()) : undefined;
  if (seg) add(ScoreTermKind.SEGMENT, seg.points, `segment ${f.segment}`);
  const tier = f.customerTier ? rule.customerTiers.find((t) => t.tier.toLowerCase() === f.customerTier!.toLowerCase()) : undefined;
  if (tier) add(ScoreTermKind.CUSTOMER_TIER, tier.points, `customer tier ${f.customerTier}`);
  if (f.escalationTier > 0) add(ScoreTermKind.ESCALATION_TIER, f.escalationTier * rule.escalationTier.pointsPerLevel, `escalation tier ${f.escalationTier}`);

  const daysLate = f.dueDate ? daysBetween(f.dueDate, asOf) : 0;
  const slaBreached = daysLate > 0;
  if (slaBreached) add(ScoreTermKind.SLA_BREACH, rule.slaBreach.points + daysLate * rule.slaBreach.pointsPerDayLate, `SLA was due ${f.dueDate} (${daysLate} day${daysLate === 1 ? '' : 's'} late)`);

  if (f.lastPaymentOn) {
    const ago = daysBetween(f.lastPaymentOn, asOf);
    if (ago >= 0 && ago <= rule.recentPayment.withinDays) add(ScoreTermKind.RECENT_PAYMENT, rule.recentPayment.points, `payment received ${f.lastPaymentOn} (${ago} days ago)`);
  }
  if (f.lastActivity) {
    const ago = daysBetween(f.lastActivity.on, asOf);
    const what = f.lastActivity.kind === 'REPLY' ? 'reply received' : 'portal visit';
    if (ago >= 0 && ago <= rule.recentActivity.withinDays) add(ScoreTermKind.RECENT_ACTIVITY, rule.recentActivity.points, `${what} ${f.lastActivity.on} (${ago} days ago)`);
  }
  const reason = rule.reasons.find((r) => r.reasonCode === f.reasonCode);
  if (reason) add(ScoreTermKind.REASON, reason.points, `reason ${f.reasonCode}`);

  const score = round2(terms.reduce((s, t) => s + t.points, 0));
  const explanation = terms.length ? `${score} = ${terms.map((t) => `${t.detail} (${t.points >= 0 ? '+' : ''}${t.points})`).join(' + ')}` : '0 = nothing adds weight';
  return { score, terms, slaBreached, explanation };
}

/** Highest score first; equal scores by task id, so that pages are stable. */
export function compareScored(a: { score: number; id: string }, b: { score: number; id: string }): number {
  return b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
