import fc from 'fast-check';
import { AllocatePaymentDocument, RecordPaymentsDocument, ReversePaymentDocument, TrialBalanceDocument, UpsertCustomersDocument, UpsertEntitiesDocument, UpsertInvoicesDocument } from '../generated/graphql';
import { formatMinor } from '../../src/platform/money/money';
import { dataOf, startTestApp, type TestApp } from '../support/test-app';

/**
 * For random books (some invoices in EUR), payments (some ambiguous, some over- or under-paying),
 * manual allocations (some invalid, some across currencies at random rates) and reversals, through
 * the API: applied + unapplied + reversed = received, no balance below zero, allocations explain
 * every balance, every journal entry balances, and the ledger agrees with the book per currency.
 */
describe('payments property: conservation, no negative balance, a balanced journal', () => {
  let t: TestApp;
  let run = 0;
  const q = <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => t.app.dataSource.query(sql, params) as Promise<T[]>;

  beforeAll(async () => {
    t = await startTestApp();
    dataOf(await t.gql(UpsertEntitiesDocument, { input: [{ code: 'US01', name: 'Acme Inc.', currency: 'USD', country: 'US' }] }));
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('holds for random payments and allocations', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ total: fc.integer({ min: 1, max: 500_00 }), eur: fc.boolean() }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.record({ amount: fc.integer({ min: 1, max: 900_00 }), refs: fc.array(fc.nat(7), { maxLength: 3 }), reverse: fc.boolean() }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.record({ payment: fc.nat(10), invoice: fc.nat(10), amount: fc.integer({ min: -100, max: 600_00 }), rateMicros: fc.integer({ min: 1, max: 3_000_000 }) }), { maxLength: 6 }),
        async (totals, payments, manual) => {
          const k = ++run;
          const cust = `PROP-${k}`;
          dataOf(await t.gql(UpsertCustomersDocument, { input: [{ externalId: cust, name: `Property ${k}`, entityCode: 'US01', currency: 'USD' }] }));
          const invs = dataOf(
            await t.gql(UpsertInvoicesDocument, {
              input: totals.map((c, i) => ({ externalId: `${cust}-${i}`, number: `P${k}-${100 + i}`, customerExternalId: cust, issueDate: '2026-01-01', currency: c.eur ? 'EUR' : 'USD', total: formatMinor(BigInt(c.total), 'USD'), terms: { kind: 'NET' as const, days: 30 } })),
            }),
          ).upsertInvoices.results.map((r) => r.invoice!);
          const rec = dataOf(
            await t.gql(RecordPaymentsDocument, {
              input: payments.map((p, i) => ({
                source: 'prop',
                externalId: `${cust}-pay-${i}`,
                method: 'ACH' as const,
                currency: 'USD',
                amount: formatMinor(BigInt(p.amount), 'USD'),
                customerExternalId: cust,
                remittanceText: p.refs.map((r) => `P${k}-${100 + r}`).join(' '),
              })),
            }),
          ).recordPayments.results.map((r) => r.payment!);
          for (const m of manual) {
            const p = rec[m.payment % rec.length];
            const inv = invs[m.invoice % invs.length];
            const amount = m.amount < 0 ? '-1.00' : formatMinor(BigInt(m.amount), 'USD');
            const rate = inv.total.currency === 'EUR' ? (m.rateMicros / 1e6).toFixed(6) : null;
            await t.gql(AllocatePaymentDocument, { paymentId: p.id, allocations: [{ invoiceId: inv.id, amount, rate }] }); // may be refused: fine
          }
          for (const [i, p] of payments.entries()) if (p.reverse) await t.gql(ReversePaymentDocument, { paymentId: rec[i].id, reason: 'NSF' });

          const bad = await q(`SELECT id FROM payments WHERE source = 'prop' AND external_id LIKE $1 AND applied_minor + unapplied_minor + reversed_minor <> amount_minor`, [`${cust}-%`]);
          expect(bad).toEqual([]);
          const allocs = await q<{ id: string; applied: string; placed: string }>(
            `SELECT p.id, p.applied_minor::text AS applied, coalesce(sum(a.source_amount_minor) FILTER (WHERE a.reversed_at IS NULL), 0)::text AS placed
             FROM payments p LEFT JOIN payment_allocations a ON a.payment_id = p.id WHERE p.external_id LIKE $1 GROUP BY p.id`,
            [`${cust}-%`],
          );
          for (const a of allocs) expect(a.placed).toBe(a.applied);
          const books = await q<{ total: string; open: string; paid: string; status: string }>(
            `SELECT i.total_minor::text AS total, i.open_balance_minor::text AS open, i.status,
               coalesce((SELECT sum(amount_minor) FROM payment_allocations a WHERE a.invoice_id = i.id AND a.reversed_at IS NULL), 0)::text AS paid
             FROM invoices i JOIN customers c ON c.id = i.customer_id WHERE c.external_id = $1`,
            [cust],
          );
          for (const b of books) {
            expect(BigInt(b.open)).toBeGreaterThanOrEqual(0n);
            expect(BigInt(b.total) - BigInt(b.paid)).toBe(BigInt(b.open));
            expect(b.status).toBe(BigInt(b.open) === 0n ? 'PAID' : 'OPEN');
          }
          const unbalanced = await q(`SELECT entry_id FROM journal_lines GROUP BY entry_id HAVING sum(debit_minor) <> sum(credit_minor)`);
          expect(unbalanced).toEqual([]);
          expect(dataOf(await t.gql(TrialBalanceDocument, { asOf: '2999-12-31' })).trialBalance.balanced).toBe(true);
          // The ledger agrees with the book, per currency: AR = what was paid off invoices in that
          // currency; the exchange account holds, on each side, what crossed currencies; cash = what
          // was received and not reversed.
          const rows = await q<{ currency: string; account: string; balance: string }>(
            `SELECT e.currency, l.account, sum(l.debit_minor - l.credit_minor)::text AS balance
             FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id
             WHERE l.customer_id = (SELECT id FROM customers WHERE external_id = $1) GROUP BY 1, 2`,
            [cust],
          );
          const bal = (currency: string, account: string) => BigInt(rows.find((r) => r.currency === currency && r.account === account)?.balance ?? '0');
          const [placed] = await q<{ usd: string; eur: string; eur_source: string }>(
            `SELECT coalesce(sum(a.amount_minor) FILTER (WHERE a.currency = 'USD'), 0)::text AS usd, coalesce(sum(a.amount_minor) FILTER (WHERE a.currency = 'EUR'), 0)::text AS eur,
                    coalesce(sum(a.source_amount_minor) FILTER (WHERE a.currency = 'EUR'), 0)::text AS eur_source
             FROM payment_allocations a JOIN payments p ON p.id = a.payment_id WHERE p.external_id LIKE $1 AND a.reversed_at IS NULL`,
            [`${cust}-%`],
          );
          expect(bal('USD', 'AR')).toBe(-BigInt(placed.usd));
          expect(bal('EUR', 'AR')).toBe(-BigInt(placed.eur));
          expect(bal('EUR', 'CURRENCY_EXCHANGE')).toBe(BigInt(placed.eur));
          expect(bal('USD', 'CURRENCY_EXCHANGE')).toBe(-BigInt(placed.eur_source));
          const ledger = { cash: bal('USD', 'CASH').toString(), unapplied: (-bal('USD', 'UNAPPLIED_CASH')).toString(), ar: bal('USD', 'AR') + bal('USD', 'CURRENCY_EXCHANGE') };
          const [book] = await q<{ received: string; unapplied: string; paid: string }>(
            `SELECT coalesce(sum(amount_minor - reversed_minor), 0)::text AS received, coalesce(sum(unapplied_minor), 0)::text AS unapplied, coalesce(sum(applied_minor), 0)::text AS paid FROM payments WHERE external_id LIKE $1`,
            [`${cust}-%`],
          );
          expect(ledger.cash).toBe(book.received);
          expect(ledger.unapplied).toBe(book.unapplied);
          expect(ledger.ar).toBe(-BigInt(book.paid));
        },
      ),
      { numRuns: 25 },
    );
  });
});
