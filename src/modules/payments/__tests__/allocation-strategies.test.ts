import fc from 'fast-check';
import { exactSubsets, matchPayment, proportional, StrategyKind, suggest, type OpenInvoice } from '../allocation-strategies';
import { parseReferences } from '../reference-parser';

const inv = (id: string, openMinor: bigint, extra: Partial<OpenInvoice> = {}): OpenInvoice => ({
  id,
  customerId: 'c1',
  number: `INV-${1000 + Number(id)}`,
  dueDate: `2026-01-${id.padStart(2, '0').slice(-2)}`,
  issueDate: '2025-12-01',
  currency: 'USD',
  totalMinor: openMinor,
  openMinor,
  reconciliationHold: false,
  ...extra,
});
const payment = (amountMinor: bigint, text: string | null = null) => ({ id: 'p', currency: 'USD', amountMinor, remittanceText: text, refs: [], customerId: 'c1' });

describe('reference parsing', () => {
  it('reads the ways people write invoice numbers', () => {
    expect(parseReferences('inv 1042/1043').map((r) => r.digits)).toEqual(['1042', '1043']);
    expect(parseReferences('INV-1042').map((r) => r.full)).toEqual(['INV1042']);
    expect(parseReferences('paying #001042 and 1043', ['INV-77777']).map((r) => r.digits)).toEqual(['77777', '1042', '1043']);
    expect(parseReferences('2 items')).toEqual([]);
  });
});

describe('allocation strategies', () => {
  it('proportional: 100.00 over three equal invoices is 33.34 + 33.33 + 33.33, oldest first', () => {
    const out = proportional(10000n, [inv('3', 10000n), inv('1', 10000n), inv('2', 10000n)]);
    expect(out.map((p) => [p.invoiceId, p.amountMinor])).toEqual([
      ['1', 3334n],
      ['2', 3333n],
      ['3', 3333n],
    ]);
  });

  it('proportional places every cent and never more than a balance (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: 1n, max: 10_000_000n }), { minLength: 1, maxLength: 12 }), fc.bigInt({ min: 1n, max: 200_000_000n }), (balances, amount) => {
        const invs = balances.map((b, i) => inv(String(i + 1), b));
        const out = proportional(amount, invs);
        const total = balances.reduce((s, b) => s + b, 0n);
        const placed = out.reduce((s, p) => s + p.amountMinor, 0n);
        expect(placed).toBe(amount < total ? amount : total);
        for (const p of out) expect(p.amountMinor).toBeLessThanOrEqual(invs.find((i) => i.id === p.invoiceId)!.openMinor);
      }),
    );
  });

  it('exact amount: one combination applies, two are ambiguous, the search is bounded', async () => {
    const invs = [inv('1', 100n), inv('2', 250n), inv('3', 400n)];
    expect((await matchPayment(payment(650n), invs, [{ kind: StrategyKind.EXACT_AMOUNT }])).placements.map((p) => p.invoiceId).sort()).toEqual(['2', '3']);
    const amb = await matchPayment(payment(500n), [inv('1', 250n), inv('2', 250n), inv('3', 400n), inv('4', 100n)], [{ kind: StrategyKind.EXACT_AMOUNT }]);
    expect(amb.placements).toEqual([]);
    expect(amb.ambiguity[0].reason).toBe('AMOUNT_FIT');
    const many = Array.from({ length: 40 }, (_, i) => inv(String(i + 1), 1000n + BigInt(i)));
    const t0 = Date.now();
    exactSubsets(999_999n, many);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('held invoices are never paid by amount or reference, only suggested', async () => {
    const invs = [inv('1', 300n, { reconciliationHold: true }), inv('2', 500n)];
    const m = await matchPayment(payment(300n, 'INV-1001'), invs, [{ kind: StrategyKind.BY_REFERENCE }, { kind: StrategyKind.EXACT_AMOUNT }, { kind: StrategyKind.OLDEST_FIRST }]);
    expect(m.placements).toEqual([{ invoiceId: '2', amountMinor: 300n, rule: StrategyKind.OLDEST_FIRST }]);
    expect(m.heldReferences).toEqual(['1']);
    const s = suggest(payment(300n, 'INV-1001'), invs, { ambiguity: [] });
    expect(s[0].invoiceIds).toEqual(['1']);
  });

  it('strategies never place more than the payment or a balance (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.bigInt({ min: 1n, max: 100_000n }), { minLength: 0, maxLength: 10 }),
        fc.bigInt({ min: 1n, max: 500_000n }),
        fc.shuffledSubarray([StrategyKind.BY_REFERENCE, StrategyKind.EXACT_AMOUNT, StrategyKind.OLDEST_FIRST, StrategyKind.PROPORTIONAL], { minLength: 1 }),
        async (balances, amount, kinds) => {
          const invs = balances.map((b, i) => inv(String(i + 1), b));
          const m = await matchPayment(payment(amount, 'INV-1001 INV-1003'), invs, kinds.map((kind) => ({ kind })));
          const placed = m.placements.reduce((s, p) => s + p.amountMinor, 0n);
          expect(placed).toBeLessThanOrEqual(amount);
          const per = new Map<string, bigint>();
          for (const p of m.placements) per.set(p.invoiceId, (per.get(p.invoiceId) ?? 0n) + p.amountMinor);
          for (const [id, x] of per) expect(x).toBeLessThanOrEqual(invs.find((i) => i.id === id)!.openMinor);
        },
      ),
    );
  });
});
