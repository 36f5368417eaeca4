import { agingBucket, AgingBucket, daysPastDue } from '../aging-bucket';
import { dueDateFromTerms, PaymentTermsKind } from '../payment-terms';

describe('payment terms', () => {
  it.each([
    [PaymentTermsKind.NET, 30, '2026-01-15', '2026-02-14'],
    [PaymentTermsKind.NET, 60, '2026-01-15', '2026-03-16'],
    [PaymentTermsKind.EOM_PLUS, 15, '2026-01-15', '2026-02-15'],
    [PaymentTermsKind.EOM_PLUS, 0, '2026-02-03', '2026-02-28'],
    [PaymentTermsKind.EOM_PLUS, 30, '2026-01-31', '2026-03-02'],
    [PaymentTermsKind.DUE_ON_RECEIPT, 0, '2026-01-15', '2026-01-15'],
  ])('%s %i from %s is due %s', (kind, days, issue, due) => {
    expect(dueDateFromTerms(issue, { kind, days })).toBe(due);
  });

  it('explicit terms give no date of their own', () => {
    expect(dueDateFromTerms('2026-01-15', { kind: PaymentTermsKind.EXPLICIT, days: 0 })).toBeNull();
  });
});

describe('aging', () => {
  it('counts calendar days past due and buckets them at the edges', () => {
    expect(daysPastDue('2026-03-01', '2026-02-22')).toBe(-7);
    const cases: [number, AgingBucket][] = [
      [-7, AgingBucket.CURRENT],
      [0, AgingBucket.CURRENT],
      [1, AgingBucket.DAYS_1_30],
      [30, AgingBucket.DAYS_1_30],
      [31, AgingBucket.DAYS_31_60],
      [60, AgingBucket.DAYS_31_60],
      [61, AgingBucket.DAYS_61_90],
      [90, AgingBucket.DAYS_61_90],
      [91, AgingBucket.DAYS_90_PLUS],
    ];
    for (const [dpd, bucket] of cases) expect(agingBucket(dpd)).toBe(bucket);
  });
});
