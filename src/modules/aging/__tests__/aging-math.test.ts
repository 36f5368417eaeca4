import { bucketDefinitions, bucketIndex, dueDateRange, edgesProblem } from '../bucket-edges';
import { averageDaysDelinquent, collectionEffectivenessIndex, countbackDso, percentCurrent, standardDso } from '../collection-metrics';
import { convertMinor, divRoundHalfEven, formatRate, parseRate } from '../../../platform/money/fx-conversion';
import { FxTable } from '../../../platform/money/fx-table';

describe('bucket edges', () => {
  it('labels buckets from the edges and places days past due in them', () => {
    expect(bucketDefinitions([30, 60, 90]).map((b) => b.label)).toEqual(['Current', '1-30', '31-60', '61-90', '90+']);
    expect([-5, 0, 1, 30, 31, 60, 61, 90, 91, 400].map((d) => bucketIndex(d, [30, 60, 90]))).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
    expect([0, 1, 7, 8, 400].map((d) => bucketIndex(d, [7]))).toEqual([0, 1, 1, 2, 2]);
  });

  it('refuses edges that are empty, unordered or out of range', () => {
    expect(edgesProblem([30, 60, 90])).toBeNull();
    expect(edgesProblem([])).toMatch(/at least one/);
    expect(edgesProblem([30, 30])).toMatch(/increase/);
    expect(edgesProblem([0, 30])).toMatch(/1 to 3650/);
    expect(edgesProblem([1.5])).toMatch(/whole/);
  });

  it('gives the due-date range of a bucket as of a day', () => {
    const [current, b1, , , last] = bucketDefinitions([30, 60, 90]);
    expect(dueDateRange(current, '2026-03-31')).toEqual({ from: '2026-03-31', to: null });
    expect(dueDateRange(b1, '2026-03-31')).toEqual({ from: '2026-03-01', to: '2026-03-30' });
    expect(dueDateRange(last, '2026-03-31')).toEqual({ from: null, to: '2025-12-30' });
  });
});

describe('FX conversion', () => {
  it('parses rates to 12 places and refuses the rest', () => {
    expect(parseRate('1.26785')).toBe(1267850000000n);
    expect(formatRate(parseRate('1.26785')!)).toBe('1.26785');
    expect(formatRate(parseRate('150')!)).toBe('150');
    for (const bad of ['0', '-1', '1.0000000000001', 'abc', '']) expect(parseRate(bad)).toBeNull();
  });

  it('rounds half to even, for both signs', () => {
    expect([5n, 15n, 25n, 26n, 24n, -5n, -15n, -26n].map((n) => divRoundHalfEven(n, 10n))).toEqual([0n, 2n, 2n, 3n, 2n, 0n, -2n, -3n]);
  });

  it('converts minor units across exponents with one rounding at the end', () => {
    expect(convertMinor(250000n, 'GBP', 'USD', parseRate('1.26785')!)).toBe(316962n); // 3169.625 -> 3169.62
    expect(convertMinor(250100n, 'GBP', 'USD', parseRate('1.26785')!)).toBe(317089n); // 3170.892... -> 3170.89
    expect(convertMinor(100000n, 'USD', 'JPY', parseRate('150.255')!)).toBe(150255n); // 1000.00 USD -> 150255 JPY
    expect(convertMinor(150255n, 'JPY', 'USD', parseRate('0.006655')!)).toBe(99995n); // 999.947 -> 999.95
    expect(convertMinor(123n, 'USD', 'USD', 1n)).toBe(123n);
  });

  it('applies the latest rate effective on or before the day, and reports missing ones', () => {
    const t = new FxTable('USD', [
      { currency: 'EUR', effectiveOn: '2026-01-01', rate: parseRate('1.1')! },
      { currency: 'EUR', effectiveOn: '2026-02-01', rate: parseRate('1.2')! },
    ]);
    const missing = new Set<string>();
    expect(t.convert(1000n, 'EUR', '2026-01-15', missing)).toBe(1100n);
    expect(t.convert(1000n, 'EUR', '2026-02-01', missing)).toBe(1200n);
    expect(t.convert(1000n, 'EUR', '2025-12-31', missing)).toBeNull();
    expect(t.convert(1000n, 'GBP', '2026-02-01', missing)).toBeNull();
    expect([...missing].sort()).toEqual(['EUR', 'GBP']);
  });
});

describe('collections metrics', () => {
  it('computes standard DSO, best possible DSO and average days delinquent', () => {
    expect(standardDso(300_000n, 900_000n, 90)).toBe(30);
    expect(standardDso(1n, 0n, 90)).toBeNull();
    expect(averageDaysDelinquent(300_000n, 100_000n, 900_000n, 90)).toBe(20);
  });

  it('counts back month by month until receivables are consumed', () => {
    // 31 days into the current month with 100 of sales, then 30-day months with 200 and 400.
    const months = [
      { days: 31, sales: 100n },
      { days: 30, sales: 200n },
      { days: 31, sales: 400n },
    ];
    expect(countbackDso(50n, months)).toBe(15.5);
    expect(countbackDso(100n, months)).toBe(31);
    expect(countbackDso(400n, months)).toBe(31 + 30 + 7.75);
    expect(countbackDso(0n, months)).toBe(0);
    expect(countbackDso(10_000n, months)).toBe(92);
    expect(countbackDso(10n, [{ days: 30, sales: 0n }])).toBeNull();
  });

  it('computes CEI and % current', () => {
    // beginning 1000, sales 500, ending 600 of which 200 current: (1500 - 600) / (1500 - 200) = 69.23 %
    expect(collectionEffectivenessIndex(1000n, 500n, 600n, 200n)).toBe(69.23);
    expect(collectionEffectivenessIndex(0n, 0n, 0n, 0n)).toBeNull();
    expect(percentCurrent(400n, 100n)).toBe(25);
    expect(percentCurrent(0n, 0n)).toBeNull();
  });
});
