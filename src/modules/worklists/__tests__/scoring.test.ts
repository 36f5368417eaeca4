import { compareScored, DEFAULT_SCORING, scoreTask, ScoreTermKind, type TaskFacts } from '../scoring';

const asOf = '2026-03-31';
const base: TaskFacts = {
  reasonCode: 'CALL_STEP',
  daysPastDue: 30,
  openAmountMinor: 200_000n,
  currency: 'USD',
  segment: null,
  customerTier: null,
  escalationTier: 0,
  dueDate: null,
  lastPaymentOn: null,
  lastActivity: null,
};

describe('worklist scoring', () => {
  it('ranks a $90K balance with a payment last week above a $2K one at the same age, and says why', () => {
    const big = scoreTask({ ...base, openAmountMinor: 9_000_000n, lastPaymentOn: '2026-03-24' }, DEFAULT_SCORING, asOf);
    const small = scoreTask(base, DEFAULT_SCORING, asOf);
    expect(big.score).toBeGreaterThan(small.score);
    expect(big.terms.map((t) => t.term)).toEqual([ScoreTermKind.DAYS_PAST_DUE, ScoreTermKind.OPEN_AMOUNT, ScoreTermKind.RECENT_PAYMENT]);
    expect(big.terms.find((t) => t.term === ScoreTermKind.OPEN_AMOUNT)).toEqual({ term: ScoreTermKind.OPEN_AMOUNT, points: 49.54, detail: '90000.00 USD open' });
    expect(big.terms.find((t) => t.term === ScoreTermKind.RECENT_PAYMENT)).toEqual({ term: ScoreTermKind.RECENT_PAYMENT, points: 25, detail: 'payment received 2026-03-24 (7 days ago)' });
    expect(small.terms.find((t) => t.term === ScoreTermKind.OPEN_AMOUNT)!.points).toBe(33.01);
    expect(big.explanation).toBe('104.54 = 30 days past due (+30) + 90000.00 USD open (+49.54) + payment received 2026-03-24 (7 days ago) (+25)');
  });

  it('the score is exactly the sum of its terms', () => {
    const s = scoreTask(
      { ...base, segment: 'Enterprise', customerTier: 'strategic', escalationTier: 2, dueDate: '2026-03-28', lastActivity: { on: '2026-03-30', kind: 'PORTAL_VISIT' }, reasonCode: 'BROKEN_PROMISE' },
      { ...DEFAULT_SCORING, segments: [{ segment: 'enterprise', points: 7.5 }], customerTiers: [{ tier: 'STRATEGIC', points: 12 }] },
      asOf,
    );
    expect(s.slaBreached).toBe(true);
    const byTerm = Object.fromEntries(s.terms.map((t) => [t.term, t.points]));
    expect(byTerm).toEqual({ DAYS_PAST_DUE: 30, OPEN_AMOUNT: 33.01, SEGMENT: 7.5, CUSTOMER_TIER: 12, ESCALATION_TIER: 10, SLA_BREACH: 26, RECENT_ACTIVITY: 15, REASON: 20 });
    expect(s.score).toBe(Math.round(s.terms.reduce((a, t) => a + t.points, 0) * 100) / 100);
  });

  it('caps days past due, ignores old payments and future activity, and leaves out terms worth nothing', () => {
    const s = scoreTask({ ...base, daysPastDue: 400, lastPaymentOn: '2026-02-01', lastActivity: { on: '2026-04-02', kind: 'REPLY' } }, DEFAULT_SCORING, asOf);
    expect(s.terms.map((t) => t.term)).toEqual([ScoreTermKind.DAYS_PAST_DUE, ScoreTermKind.OPEN_AMOUNT]);
    expect(s.terms[0]).toEqual({ term: ScoreTermKind.DAYS_PAST_DUE, points: 120, detail: '400 days past due (counted up to 120)' });
    expect(s.slaBreached).toBe(false);
  });

  it('not yet due and nothing open scores zero and says so', () => {
    const s = scoreTask({ ...base, daysPastDue: -5, openAmountMinor: 0n, dueDate: '2026-03-31' }, DEFAULT_SCORING, asOf);
    expect(s).toEqual({ score: 0, terms: [], slaBreached: false, explanation: '0 = nothing adds weight' });
  });

  it('uses the currency exponent: 1,000,000 JPY counts six tenfolds', () => {
    const s = scoreTask({ ...base, daysPastDue: 0, openAmountMinor: 1_000_000n, currency: 'JPY' }, DEFAULT_SCORING, asOf);
    expect(s.terms).toEqual([{ term: ScoreTermKind.OPEN_AMOUNT, points: 60, detail: '1000000 JPY open' }]);
  });

  it('orders by score, then id', () => {
    const rows = [
      { id: 'b', score: 10 },
      { id: 'a', score: 10 },
      { id: 'c', score: 50 },
    ];
    expect(rows.sort(compareScored).map((r) => r.id)).toEqual(['c', 'a', 'b']);
  });
});
