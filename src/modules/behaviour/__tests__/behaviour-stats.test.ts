import { computeBehaviour, mean, median, quantile, wilson } from '../behaviour-stats';
import { segmentFor, rulesSchema, DEFAULT_RULES } from '../segmentation-rules';
import type { CustomerBehaviourRow } from '../behaviour.service';

describe('behaviour statistics', () => {
  it('mean, median and p90 by linear interpolation (type 7)', () => {
    expect(mean([])).toBeNull();
    expect(mean([1, 2, 3, 10])).toBe(4);
    expect(median([5, 1, 3])).toBe(3);
    expect(median([1, 2, 3, 4])).toBe(2.5);
    // 10 values 1..10: h = 9 * 0.9 = 8.1 → 9 + 0.1 * (10 - 9)
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBeCloseTo(9.1, 10);
    expect(quantile([7], 0.9)).toBe(7);
  });

  it('Wilson interval contains the rate and narrows with n', () => {
    const small = wilson(3, 5)!;
    const big = wilson(300, 500)!;
    expect(small.low).toBeLessThan(0.6);
    expect(small.high).toBeGreaterThan(0.6);
    expect(big.high - big.low).toBeLessThan(small.high - small.low);
    expect(wilson(0, 0)).toBeNull();
  });

  it('days to pay, days late (early = 0), share by last step, promises, disputes, trend', () => {
    const s = computeBehaviour({
      asOf: '2026-06-30',
      paid: [
        // prior window (90-179 days ago): on time
        { issueDate: '2026-01-01', dueDate: '2026-01-31', paidOn: '2026-01-31', lastStepKey: 'due' },
        { issueDate: '2026-01-05', dueDate: '2026-02-04', paidOn: '2026-02-01', lastStepKey: null },
        // recent window (< 90 days): 10 and 20 days late
        { issueDate: '2026-04-01', dueDate: '2026-05-01', paidOn: '2026-05-11', lastStepKey: 'overdue-10' },
        { issueDate: '2026-04-10', dueDate: '2026-05-10', paidOn: '2026-05-30', lastStepKey: 'overdue-10' },
      ],
      promises: { kept: 1, partiallyKept: 1, broken: 2 },
      invoicesDue: 4,
      disputedInvoices: 1,
    });
    expect(s.paidInvoices).toBe(4);
    expect(s.lateInvoices).toBe(2);
    expect(s.daysToPay.mean).toBe((30 + 27 + 40 + 50) / 4);
    expect(s.daysLate.median).toBe(5);
    expect(s.daysLate.p90).toBeCloseTo(17, 10);
    expect(s.paidAfterStep).toEqual([
      { step: 'overdue-10', invoices: 2, share: 0.5 },
      { step: 'due', invoices: 1, share: 0.25 },
      { step: 'NONE', invoices: 1, share: 0.25 },
    ]);
    expect(s.promiseKeptRate).toBe(1.5 / 4);
    expect(s.disputeRate).toBe(0.25);
    expect(s.recentDaysLateMean).toBe(15);
    expect(s.priorDaysLateMean).toBe(0);
    expect(s.trend).toBe('WORSENING');
  });

  it('no history: nulls and INSUFFICIENT_DATA, never NaN', () => {
    const s = computeBehaviour({ asOf: '2026-06-30', paid: [], promises: { kept: 0, partiallyKept: 0, broken: 0 }, invoicesDue: 0, disputedInvoices: 0 });
    expect(s.daysToPay).toEqual({ mean: null, median: null, p90: null });
    expect(s.promiseKeptRate).toBeNull();
    expect(s.disputeRate).toBeNull();
    expect(s.trend).toBe('INSUFFICIENT_DATA');
  });
});

describe('segmentation rules', () => {
  const behaviour = (p: Partial<CustomerBehaviourRow>): CustomerBehaviourRow =>
    ({
      customerId: 'c',
      asOf: '2026-06-30',
      paidInvoices: 5,
      lateInvoices: 0,
      daysToPay: { mean: 30, median: 30, p90: 30 },
      daysLate: { mean: 0, median: 0, p90: 0 },
      paidAfterStep: [],
      promisesResolved: 0,
      promiseKeptRate: null,
      invoicesDue: 5,
      disputedInvoices: 0,
      disputeRate: 0,
      recentDaysLateMean: null,
      priorDaysLateMean: null,
      trend: 'STABLE',
      currency: 'USD',
      openBalanceMinor: 0n,
      overdueBalanceMinor: 0n,
      maxDaysPastDue: null,
      invoiced365Minor: 0n,
      updatedAt: new Date(),
      ...p,
    }) as CustomerBehaviourRow;
  const facts = (b: Partial<CustomerBehaviourRow>, extra: { tier?: string | null; renewalDate?: string | null } = {}) => ({ customerId: 'c', tier: extra.tier ?? null, country: 'US', renewalDate: extra.renewalDate ?? null, behaviour: behaviour(b) });

  it('first matching rule wins, with the rule and the facts as the reason', () => {
    expect(segmentFor(DEFAULT_RULES, facts({}, { tier: 'strategic' }), '2026-06-30')).toMatchObject({ segment: 'STRATEGIC', reason: { facts: { TIER: 'strategic' } } });
    const chronic = segmentFor(DEFAULT_RULES, facts({ lateInvoices: 4, daysLate: { mean: 20, median: 18, p90: 40 } }), '2026-06-30');
    expect(chronic.segment).toBe('CHRONIC_LATE');
    expect(chronic.reason.rule).toContain('chronic late payers');
    expect(chronic.reason.facts).toEqual({ LATE_INVOICES: 4, DAYS_LATE_MEDIAN: 18 });
    expect(segmentFor(DEFAULT_RULES, facts({ lateInvoices: 1, maxDaysPastDue: 5 }), '2026-06-30').segment).toBe('FIRST_TIME_LATE');
    expect(segmentFor(DEFAULT_RULES, facts({ invoiced365Minor: 6_000_000n }), '2026-06-30').segment).toBe('MID_MARKET');
    expect(segmentFor(DEFAULT_RULES, facts({}), '2026-06-30').segment).toBe('LONG_TAIL');
  });

  it('money thresholds in the customer currency, CRM renewal proximity, IN lists', () => {
    const rules = rulesSchema.parse([
      { name: 'renewing soon', segment: 'RENEWAL', conditions: [{ field: 'DAYS_TO_RENEWAL', op: 'LTE', value: '30' }, { field: 'DAYS_TO_RENEWAL', op: 'GTE', value: '0' }] },
      { name: 'big balance', segment: 'BIG', conditions: [{ field: 'OPEN_BALANCE', op: 'GTE', value: '25000.00' }] },
      { name: 'dach', segment: 'DACH', conditions: [{ field: 'COUNTRY', op: 'IN', values: ['de', 'AT', 'CH'] }] },
    ]);
    expect(segmentFor(rules, facts({}, { renewalDate: '2026-07-20' }), '2026-06-30').segment).toBe('RENEWAL');
    expect(segmentFor(rules, facts({ openBalanceMinor: 2_500_000n }), '2026-06-30').segment).toBe('BIG');
    expect(segmentFor(rules, facts({ openBalanceMinor: 2_499_999n }), '2026-06-30').segment).toBeNull();
    expect(segmentFor(rules, { ...facts({}), country: 'DE' }, '2026-06-30').segment).toBe('DACH');
  });

  it('rejects bad rules with the path of the problem', () => {
    const r = rulesSchema.safeParse([{ name: 'x', segment: 'A', conditions: [{ field: 'TIER', op: 'GT', value: '3' }] }]);
    expect(r.success).toBe(false);
    expect(r.error!.issues[0].path).toEqual([0, 'conditions', 0, 'op']);
    expect(rulesSchema.safeParse([{ name: 'x', segment: 'A' }, { name: 'x', segment: 'B' }]).success).toBe(false);
  });
});
