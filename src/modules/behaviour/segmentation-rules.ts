import { z } from 'zod';
import { parseDecimal } from '../../platform/money/money';
import { daysBetween, type IsoDate } from '../../platform/time/dates';
import type { CustomerBehaviourRow } from './behaviour.service';

/**
 * Segmentation rules: ordered, the first rule whose conditions all hold assigns its segment.
 * Pure: (rules, customer facts, asOf) → segment and the reason (the rule and the facts it saw).
 */
export const SEGMENT_FIELDS = [
  'PAID_INVOICES',
  'LATE_INVOICES',
  'DAYS_LATE_MEAN',
  'DAYS_LATE_MEDIAN',
  'DAYS_LATE_P90',
  'DAYS_TO_PAY_MEAN',
  'PROMISE_KEPT_RATE',
  'DISPUTE_RATE',
  'TREND',
  'OPEN_BALANCE',
  'OVERDUE_BALANCE',
  'MAX_DAYS_PAST_DUE',
  'INVOICED_LAST_365',
  'TIER',
  'COUNTRY',
  'DAYS_TO_RENEWAL',
] as const;
export type SegmentField = (typeof SEGMENT_FIELDS)[number];
export const SEGMENT_OPS = ['EQ', 'NE', 'IN', 'GT', 'GTE', 'LT', 'LTE', 'IS_NULL', 'NOT_NULL'] as const;
export type SegmentOp = (typeof SEGMENT_OPS)[number];

const NUMERIC: SegmentField[] = ['PAID_INVOICES', 'LATE_INVOICES', 'DAYS_LATE_MEAN', 'DAYS_LATE_MEDIAN', 'DAYS_LATE_P90', 'DAYS_TO_PAY_MEAN', 'PROMISE_KEPT_RATE', 'DISPUTE_RATE', 'MAX_DAYS_PAST_DUE', 'DAYS_TO_RENEWAL'];
const MONEY: SegmentField[] = ['OPEN_BALANCE', 'OVERDUE_BALANCE', 'INVOICED_LAST_365'];

export const conditionSchema = z
  .object({ field: z.enum(SEGMENT_FIELDS), op: z.enum(SEGMENT_OPS), value: z.string().max(500).nullish(), values: z.array(z.string().max(200)).max(100).nullish() })
  .strict()
  .superRefine((c, ctx) => {
    if (c.op === 'IS_NULL' || c.op === 'NOT_NULL') return;
    if (c.op === 'IN') {
      if (!c.values?.length) ctx.addIssue({ code: 'custom', path: ['values'], message: 'IN needs a list of values' });
      return;
    }
    if (c.value === undefined || c.value === null || c.value === '') {
      ctx.addIssue({ code: 'custom', path: ['value'], message: `${c.op} needs a value` });
      return;
    }
    if ((NUMERIC.includes(c.field) || MONEY.includes(c.field)) && !/^-?\d+(\.\d+)?$/.test(c.value)) ctx.addIssue({ code: 'custom', path: ['value'], message: `${c.field} compares with a number such as 25000.00` });
    if (['GT', 'GTE', 'LT', 'LTE'].includes(c.op) && !(NUMERIC.includes(c.field) || MONEY.includes(c.field))) ctx.addIssue({ code: 'custom', path: ['op'], message: `${c.op} needs a numeric field` });
  });

export const ruleSchema = z
  .object({
    name: z.string().trim().min(1).max(120),
    segment: z.string().trim().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a segment is 1-64 letters, digits, _ or -'),
    /** All must hold; an empty list always matches (a catch-all rule). */
    conditions: z.array(conditionSchema).max(30).default([]),
  })
  .strict();
export const rulesSchema = z
  .array(ruleSchema)
  .max(100)
  .superRefine((rules, ctx) => {
    const seen = new Set<string>();
    rules.forEach((r, i) => {
      if (seen.has(r.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `rule name "${r.name}" is used twice` });
      seen.add(r.name);
    });
  });
export type SegmentationRule = z.infer<typeof ruleSchema>;
export type SegmentCondition = z.infer<typeof conditionSchema>;

/** The starting set: the five segments of the issue, from the stored behaviour and balances. */
export const DEFAULT_RULES: SegmentationRule[] = [
  { name: 'strategic accounts', segment: 'STRATEGIC', conditions: [{ field: 'TIER', op: 'EQ', value: 'strategic' }] },
  { name: 'chronic late payers', segment: 'CHRONIC_LATE', conditions: [{ field: 'LATE_INVOICES', op: 'GTE', value: '3' }, { field: 'DAYS_LATE_MEDIAN', op: 'GT', value: '10' }] },
  { name: 'first time late', segment: 'FIRST_TIME_LATE', conditions: [{ field: 'LATE_INVOICES', op: 'LTE', value: '1' }, { field: 'MAX_DAYS_PAST_DUE', op: 'GT', value: '0' }] },
  { name: 'mid-market by volume', segment: 'MID_MARKET', conditions: [{ field: 'INVOICED_LAST_365', op: 'GTE', value: '50000.00' }] },
  { name: 'everyone else', segment: 'LONG_TAIL', conditions: [] },
];

export interface SegmentFacts {
  customerId: string;
  tier: string | null;
  country: string | null;
  renewalDate: IsoDate | null;
  behaviour: CustomerBehaviourRow | null;
}

type FactValue = string | number | null;

function factOf(field: SegmentField, f: SegmentFacts, asOf: IsoDate): { value: FactValue; minor?: bigint; currency?: string } {
  const b = f.behaviour;
  switch (field) {
    case 'PAID_INVOICES':
      return { value: b?.paidInvoices ?? 0 };
    case 'LATE_INVOICES':
      return { value: b?.lateInvoices ?? 0 };
    case 'DAYS_LATE_MEAN':
      return { value: b?.daysLate.mean ?? null };
    case 'DAYS_LATE_MEDIAN':
      return { value: b?.daysLate.median ?? null };
    case 'DAYS_LATE_P90':
      return { value: b?.daysLate.p90 ?? null };
    case 'DAYS_TO_PAY_MEAN':
      return { value: b?.daysToPay.mean ?? null };
    case 'PROMISE_KEPT_RATE':
      return { value: b?.promiseKeptRate ?? null };
    case 'DISPUTE_RATE':
      return { value: b?.disputeRate ?? null };
    case 'TREND':
      return { value: b?.trend ?? 'INSUFFICIENT_DATA' };
    case 'OPEN_BALANCE':
      return { value: (b?.openBalanceMinor ?? 0n).toString(), minor: b?.openBalanceMinor ?? 0n, currency: b?.currency };
    case 'OVERDUE_BALANCE':
      return { value: (b?.overdueBalanceMinor ?? 0n).toString(), minor: b?.overdueBalanceMinor ?? 0n, currency: b?.currency };
    case 'INVOICED_LAST_365':
      return { value: (b?.invoiced365Minor ?? 0n).toString(), minor: b?.invoiced365Minor ?? 0n, currency: b?.currency };
    case 'MAX_DAYS_PAST_DUE':
      return { value: b?.maxDaysPastDue ?? 0 };
    case 'TIER':
      return { value: f.tier };
    case 'COUNTRY':
      return { value: f.country };
    case 'DAYS_TO_RENEWAL':
      return { value: f.renewalDate ? daysBetween(asOf, f.renewalDate) : null };
  }
}

function holds(c: SegmentCondition, fact: { value: FactValue; minor?: bigint; currency?: string }): boolean {
  if (c.op === 'IS_NULL') return fact.value === null;
  if (c.op === 'NOT_NULL') return fact.value !== null;
  if (fact.value === null) return false;
  if (c.op === 'IN') return (c.values ?? []).some((v) => v.toLowerCase() === String(fact.value).toLowerCase());
  const raw = c.value ?? '';
  let cmp: number;
  if (MONEY.includes(c.field)) {
    // Thresholds are decimal amounts in the customer's currency.
    const parsed = parseDecimal(raw.replace(/^-/, ''), fact.currency ?? 'USD');
    if (!parsed.ok) return false;
    const threshold = raw.startsWith('-') ? -parsed.minor : parsed.minor;
    const v = fact.minor ?? 0n;
    cmp = v === threshold ? 0 : v > threshold ? 1 : -1;
  } else if (NUMERIC.includes(c.field)) {
    cmp = Number(fact.value) - Number(raw);
  } else {
    const eq = String(fact.value).toLowerCase() === raw.toLowerCase();
    if (c.op === 'EQ') return eq;
    if (c.op === 'NE') return !eq;
    return false;
  }
  switch (c.op) {
    case 'EQ':
      return cmp === 0;
    case 'NE':
      return cmp !== 0;
    case 'GT':
      return cmp > 0;
    case 'GTE':
      return cmp >= 0;
    case 'LT':
      return cmp < 0;
    case 'LTE':
      return cmp <= 0;
  }
}

export interface SegmentDecision {
  segment: string | null;
  ruleName: string | null;
  reason: { rule: string; facts: Record<string, FactValue> };
}

/** The first rule whose every condition holds; null segment when none does. */
export function segmentFor(rules: readonly SegmentationRule[], f: SegmentFacts, asOf: IsoDate): SegmentDecision {
  for (const [i, rule] of rules.entries()) {
    const facts: Record<string, FactValue> = {};
    let ok = true;
    for (const c of rule.conditions) {
      const fact = factOf(c.field, f, asOf);
      facts[c.field] = fact.value;
      if (!holds(c, fact)) {
        ok = false;
        break;
      }
    }
    if (ok) {
      const text = rule.conditions.map((c) => `${c.field} ${c.op} ${c.op === 'IN' ? (c.values ?? []).join('|') : (c.value ?? '')}`.trim()).join(' AND ') || 'always';
      return { segment: rule.segment, ruleName: rule.name, reason: { rule: `rule ${i + 1} "${rule.name}": ${text}`, facts } };
    }
  }
  return { segment: null, ruleName: null, reason: { rule: 'no rule matched', facts: {} } };
}
