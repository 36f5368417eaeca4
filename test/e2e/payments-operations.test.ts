import {
  AcceptSuggestionDocument,
  AllocatePaymentDocument,
  ApplyCreditMemoDocument,
  ApproveWriteOffDocument,
  CreateAdjustmentDocument,
  CreateApiKeyDocument,
  CreateCreditMemoDocument,
  CreateDebitMemoDocument,
  DecideApprovalDocument,
  InvoiceDocument,
  JournalEntriesDocument,
  PaymentApplicationRulesDocument,
  RecordPaymentsDocument,
  ReleaseReconciliationHoldDocument,
  RequestWriteOffDocument,
  ReversePaymentDocument,
  SetFxRatesDocument,
  SetPaymentApplicationRulesDocument,
  TrialBalanceDocument,
  UnappliedCashDocument,
  UpsertCustomersDocument,
  UpsertEntitiesDocument,
  UpsertInvoicesDocument,
  type RecordPaymentInput,
  type UpsertInvoiceInput,
} from '../generated/graphql';
import { dataOf, startTestApp, type TestApp } from '../support/test-app';

const inv = (externalId: string, customerExternalId: string, total: string, extra: Partial<UpsertInvoiceInput> = {}): UpsertInvoiceInput => ({
  externalId,
  number: externalId,
  customerExternalId,
  issueDate: '2026-03-01',
  currency: 'USD',
  total,
  terms: { kind: 'NET', days: 30 },
  ...extra,
});
const pay = (p: Partial<RecordPaymentInput> & { externalId: string; amount: string }): RecordPaymentInput => ({ source: 'bank', method: 'ACH', currency: 'USD', ...p });

describe('payments API: queue, manual work, credits, write-offs, rules, bad input', () => {
  let t: TestApp;
  const ids: Record<string, string> = {};
  let managerKey: string;
  let collectorKey: string;

  const counts = async () =>
    (await t.app.dataSource.query(`SELECT (SELECT count(*) FROM payments)::int AS p, (SELECT count(*) FROM payment_allocations)::int AS a, (SELECT count(*) FROM journal_lines)::int AS j, (SELECT coalesce(sum(open_balance_minor),0)::text FROM invoices) AS open`))[0];
  const record = async (input: RecordPaymentInput[]) => dataOf(await t.gql(RecordPaymentsDocument, { input })).recordPayments;
  const open = async (number: string) => dataOf(await t.gql(InvoiceDocument, { id: ids[number] })).invoice!;

  beforeAll(async () => {
    t = await startTestApp();
    dataOf(await t.gql(UpsertEntitiesDocument, { input: [{ code: 'US01', name: 'Acme Inc.', currency: 'USD', country: 'US' }, { code: 'HK01', name: 'Acme HK', currency: 'USD', country: 'HK' }] }));
    dataOf(
      await t.gql(UpsertCustomersDocument, {
        input: [
          { externalId: 'Q-1', name: 'Queue Co', entityCode: 'US01', currency: 'USD' },
          { externalId: 'Q-2', name: 'Credit Co', entityCode: 'US01', currency: 'USD' },
          { externalId: 'Q-3', name: 'Hook Co', entityCode: 'HK01', currency: 'USD' },
        ],
      }),
    );
    const r = dataOf(
      await t.gql(UpsertInvoicesDocument, {
        input: [
          inv('Q-7001', 'Q-1', '500.00'),
          inv('Q-7002', 'Q-1', '500.00'),
          inv('Q-7003', 'Q-1', '800.00'),
          inv('Q-7004', 'Q-1', '300.00', { reconciliationHold: true, billingModel: 'USAGE' }),
          inv('C-8001', 'Q-2', '1000.00'),
          inv('C-8002', 'Q-2', '400.00'),
          inv('C-8003', 'Q-2', '900.00'),
          inv('E-8101', 'Q-2', '250.00', { currency: 'EUR' }),
          inv('H-9001', 'Q-3', '100.00', { issueDate: '2026-01-01' }),
          inv('H-9002', 'Q-3', '700.00', { issueDate: '2026-02-01' }),
        ],
      }),
    ).upsertInvoices;
    r.results.forEach((x) => (ids[x.externalId] = x.invoice!.id));
    managerKey = dataOf(await t.gql(CreateApiKeyDocument, { input: { name: 'manager', role: 'MANAGER' } })).createApiKey.secret;
    collectorKey = dataOf(await t.gql(CreateApiKeyDocument, { input: { name: 'collector', role: 'COLLECTOR' } })).createApiKey.secret;
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('bad input: a typed error naming the field, nothing written', async () => {
    const before = await counts();
    const r = await record([
      pay({ externalId: 'B-1', amount: '0.00', customerExternalId: 'Q-1' }),
      pay({ externalId: 'B-2', amount: '-5.00', customerExternalId: 'Q-1' }),
      pay({ externalId: 'B-3', amount: '5.00', currency: 'XYZ' }),
      pay({ externalId: 'B-4', amount: '5.001' }),
      pay({ externalId: 'B-5', amount: '5.00', customerExternalId: 'NOPE' }),
      pay({ externalId: '', amount: '5.00' }),
    ]);
    expect(r.results.map((x) => x.errors.map((e) => [e.field, e.code]))).toEqual([
      [['amount', 'NON_POSITIVE_AMOUNT']],
      [['amount', 'NON_POSITIVE_AMOUNT']],
      [['currency', 'UNKNOWN_CURRENCY']],
      [['amount', 'INVALID_AMOUNT']],
      [['customerExternalId', 'UNKNOWN_CUSTOMER']],
      [['externalId', 'REQUIRED']],
    ]);
    expect(r.failed).toBe(6);
    expect(await counts()).toEqual(before);

    // A payment with cash to place, then every way of placing it wrongly.
    const p = (await record([pay({ externalId: 'BAD-CASH', amount: '100.00', remittanceText: 'no idea' })])).results[0].payment!;
    expect(p.status).toBe('UNAPPLIED');
    const mid = await counts();
    const cases: [unknown[], string, string][] = [
      [[{ invoiceId: ids['C-8001'], amount: '150.00' }], 'allocations', 'EXCEEDS_UNAPPLIED'],
      [[{ invoiceId: ids['C-8002'], amount: '60.00' }, { invoiceId: ids['C-8003'], amount: '60.00' }], 'allocations', 'EXCEEDS_UNAPPLIED'],
      [[{ invoiceId: ids['E-8101'], amount: '10.00' }], 'allocations.0.invoiceId', 'CURRENCY_MISMATCH'],
      [[{ invoiceId: ids['C-8001'], amount: '0' }], 'allocations.0.amount', 'NON_POSITIVE_AMOUNT'],
      [[{ invoiceId: ids['C-8001'], amount: '-1.00' }], 'allocations.0.amount', 'NON_POSITIVE_AMOUNT'],
      [[{ invoiceId: '00000000-0000-0000-0000-000000000000', amount: '1.00' }], 'allocations.0.invoiceId', 'UNKNOWN_INVOICE'],
    ];
    for (const [allocations, field, reason] of cases) {
      const res = await t.gql(AllocatePaymentDocument, { paymentId: p.id, allocations: allocations as never });
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field, reason });
    }
    // More than an invoice's balance (the payment has enough).
    const big = (await record([pay({ externalId: 'BIG-CASH', amount: '5000.00', remittanceText: 'no idea either' })])).results[0].payment!;
    const over = await t.gql(AllocatePaymentDocument, { paymentId: big.id, allocations: [{ invoiceId: ids['C-8002'], amount: '400.01' }] });
    expect(over.errors?.[0].extensions).toMatchObject({ field: 'allocations.0.amount', reason: 'EXCEEDS_BALANCE' });
    expect((await counts()).a).toBe(mid.a);
    // A reversed payment cannot be allocated.
    dataOf(await t.gql(ReversePaymentDocument, { paymentId: big.id, reason: 'CHARGEBACK' }, managerKey));
    const rev = await t.gql(AllocatePaymentDocument, { paymentId: big.id, allocations: [{ invoiceId: ids['C-8002'], amount: '1.00' }] });
    expect(rev.errors?.[0].extensions).toMatchObject({ field: 'paymentId', reason: 'PAYMENT_REVERSED' });
    expect((await open('C-8002')).openBalance.amount).toBe('400.00');
    // Unknown hook names and strategy misuse are refused.
    const bad = await t.gql(SetPaymentApplicationRulesDocument, { input: { strategies: [{ kind: 'CUSTOM', hook: 'nope' }] } });
    expect(bad.errors?.[0].extensions).toMatchObject({ field: 'strategies.0.hook', reason: 'UNKNOWN_HOOK' });
  });

  it('ambiguous cash lands in the queue with ranked suggestions; accepting one applies it, audited', async () => {
    const r = await record([pay({ externalId: 'AMB-500', amount: '500.00', customerExternalId: 'Q-1', remittanceText: 'payment' })]);
    const p = r.results[0].payment!;
    expect(p.status).toBe('UNAPPLIED');
    expect(p.suggestions.length).toBeGreaterThanOrEqual(2);
    expect(p.suggestions[0]).toMatchObject({ rank: 1, reason: 'AMOUNT_FIT' });
    expect(p.suggestions.slice(0, 2).map((s) => s.invoices[0].number).sort()).toEqual(['Q-7001', 'Q-7002']);
    const queue = dataOf(await t.gql(UnappliedCashDocument, { first: 50 })).unappliedCash.nodes;
    expect(queue.map((x) => x.id)).toContain(p.id);
    const accepted = dataOf(await t.gql(AcceptSuggestionDocument, { suggestionId: p.suggestions[0].id }, collectorKey)).acceptSuggestion;
    expect(accepted).toMatchObject({ status: 'APPLIED', unapplied: { amount: '0.00' } });
    expect(accepted.allocations.map((a) => a.rule)).toEqual(['SUGGESTION']);
    expect(accepted.suggestions).toEqual([]);
    const [a] = await t.app.dataSource.query(`SELECT actor_id, data FROM audit_events WHERE action = 'payment.suggestion_accepted' AND subject_id = $1`, [p.id]);
    expect(a.data.note).toContain(p.suggestions[0].id);
    // A reference to an invoice on reconciliation hold is never paid automatically, only suggested.
    const held = (await record([pay({ externalId: 'HOLD-300', amount: '300.00', customerExternalId: 'Q-1', remittanceText: 'Q-7004' })])).results[0].payment!;
    expect(held.status).toBe('UNAPPLIED');
    expect(held.suggestions[0].invoices[0].number).toBe('Q-7004');
    dataOf(await t.gql(ReleaseReconciliationHoldDocument, { invoiceId: ids['Q-7004'], note: 'usage agreed' }));
    const split = dataOf(await t.gql(AllocatePaymentDocument, { paymentId: held.id, allocations: [{ invoiceId: ids['Q-7004'], amount: '200.00' }, { invoiceId: ids['Q-7003'], amount: '100.00' }] })).allocatePayment;
    expect(split.allocations.map((x) => [x.invoice!.number, x.amount.amount, x.rule]).sort()).toEqual([
      ['Q-7003', '100.00', 'MANUAL'],
      ['Q-7004', '200.00', 'MANUAL'],
    ]);
    expect((await open('Q-7004')).openBalance.amount).toBe('100.00');
  });

  it('a payer name that paid for a customer before suggests that customer\'s invoices for its unidentified cash', async () => {
    dataOf(await t.gql(UpsertCustomersDocument, { input: [{ externalId: 'Q-9', name: 'Globex Corp', entityCode: 'US01', currency: 'USD' }] }));
    dataOf(await t.gql(UpsertInvoicesDocument, { input: [inv('G-6001', 'Q-9', '400.00'), inv('G-6002', 'Q-9', '650.00'), inv('G-6003', 'Q-9', '275.00')] }));
    const first = (await record([pay({ externalId: 'GLX-1', amount: '400.00', customerExternalId: 'Q-9', payerName: 'Globex Treasury', remittanceText: 'G-6001' })])).results[0].payment!;
    expect(first.status).toBe('APPLIED');
    expect(await t.app.dataSource.query(`SELECT name FROM payer_names WHERE customer_id = (SELECT id FROM customers WHERE external_id = 'Q-9')`)).toEqual([{ name: 'globex treasury' }]);
    // No customer, no reference, an amount that fits nothing: only the name's history can help.
    const later = (await record([pay({ externalId: 'GLX-2', amount: '123.45', payerName: '  GLOBEX Treasury ', remittanceText: 'thanks' })])).results[0].payment!;
    expect(later.status).toBe('UNAPPLIED');
    const fromHistory = later.suggestions.filter((s) => s.reason === 'PAYER_HISTORY');
    expect(fromHistory.length).toBeGreaterThan(0);
    expect(fromHistory.flatMap((s) => s.invoices.map((i) => i.number)).every((n) => ['G-6002', 'G-6003'].includes(n))).toBe(true);
  });

  it('credit memos, debit memos and adjustments post balanced entries and move balances', async () => {
    const memo = dataOf(await t.gql(CreateCreditMemoDocument, { input: { customerId: await customerId('Q-2'), number: 'CM-1', amount: '300.00', reason: 'service credit' } })).createCreditMemo;
    expect(memo.open.amount).toBe('300.00');
    const over = await t.gql(ApplyCreditMemoDocument, { creditMemoId: memo.id, allocations: [{ invoiceId: ids['C-8003'], amount: '300.01' }] });
    expect(over.errors?.[0].extensions).toMatchObject({ field: 'allocations', reason: 'EXCEEDS_UNAPPLIED' });
    const applied = dataOf(await t.gql(ApplyCreditMemoDocument, { creditMemoId: memo.id, allocations: [{ invoiceId: ids['C-8003'], amount: '200.00' }] })).applyCreditMemo;
    expect(applied.open.amount).toBe('100.00');
    expect((await open('C-8003')).openBalance.amount).toBe('700.00');
    const adj = dataOf(await t.gql(CreateAdjustmentDocument, { input: { invoiceId: ids['C-8003'], amount: '-50.00', account: 'DISCOUNTS', reason: 'early-pay discount' } }, managerKey)).createAdjustment;
    expect(adj).toMatchObject({ kind: 'ADJUSTMENT', account: 'DISCOUNTS', amount: { amount: '-50.00' } });
    expect((await open('C-8003')).openBalance.amount).toBe('650.00');
    const tooHigh = await t.gql(CreateAdjustmentDocument, { input: { invoiceId: ids['C-8003'], amount: '300.00', reason: 'x' } }, managerKey);
    expect(tooHigh.errors?.[0].extensions).toMatchObject({ field: 'amount', reason: 'EXCEEDS_BALANCE' });
    const dm = dataOf(await t.gql(CreateDebitMemoDocument, { input: { customerId: await customerId('Q-2'), number: 'DM-8900', amount: '75.00', reason: 'late fee' } })).createDebitMemo;
    const raised = dataOf(await t.gql(InvoiceDocument, { id: dm.invoiceId! })).invoice!;
    expect(raised).toMatchObject({ number: 'DM-8900', status: 'OPEN', openBalance: { amount: '75.00' } });
    const tb = dataOf(await t.gql(TrialBalanceDocument, { asOf: '2999-12-31' })).trialBalance;
    expect(tb.balanced).toBe(true);
    const line = (acct: string) => tb.lines.find((l) => l.account === acct && l.debit.currency === 'USD');
    expect(line('CUSTOMER_CREDIT')!.balance.amount).toBe('-100.00');
    expect(line('DISCOUNTS')!.balance.amount).toBe('50.00');
  });

  it('write-offs go through an approval that the requester can never give', async () => {
    const req = dataOf(await t.gql(RequestWriteOffDocument, { input: { invoiceId: ids['C-8002'], reason: 'customer insolvent' } }, collectorKey)).requestWriteOff;
    expect(req).toMatchObject({ kind: 'WRITE_OFF', status: 'PENDING', amount: { amount: '400.00' } });
    expect((await t.gql(ApproveWriteOffDocument, { id: req.id }, collectorKey)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect((await open('C-8002')).status).toBe('OPEN');
    // A manager who asked cannot approve their own request either.
    const own = dataOf(await t.gql(RequestWriteOffDocument, { input: { invoiceId: ids['C-8001'], amount: '10.00', reason: 'rounding' } }, managerKey)).requestWriteOff;
    expect((await t.gql(DecideApprovalDocument, { id: own.id, approve: true }, managerKey)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const approved = dataOf(await t.gql(ApproveWriteOffDocument, { id: req.id, note: 'ok' }, managerKey)).approveWriteOff;
    expect(approved.status).toBe('APPROVED');
    expect(await open('C-8002')).toMatchObject({ status: 'WRITTEN_OFF', openBalance: { amount: '0.00' } });
    const [entry] = await t.app.dataSource.query(`SELECT e.kind, sum(l.debit_minor)::text AS dr FROM journal_entries e JOIN journal_lines l ON l.entry_id = e.id WHERE e.kind = 'WRITE_OFF' GROUP BY e.kind`);
    expect(entry).toEqual({ kind: 'WRITE_OFF', dr: '40000' });
    const rejected = dataOf(await t.gql(DecideApprovalDocument, { id: own.id, approve: false, note: 'not worth it' })).decideApproval;
    expect(rejected.status).toBe('REJECTED');
  });

  it('a CUSTOM strategy hook with before/after hooks, configured for one legal entity', async () => {
    const seen: string[] = [];
    const s = t.app.modules.services.paymentHooks;
    // Largest balance first: a house rule some AR teams use.
    s.registerStrategy('largest-first', async ({ amountMinor, invoices }) => {
      const sorted = [...invoices].sort((a, b) => (a.openMinor === b.openMinor ? 0 : a.openMinor > b.openMinor ? -1 : 1));
      let left = amountMinor;
      return sorted.flatMap((i) => {
        const x = i.openMinor < left ? i.openMinor : left;
        left -= x;
        return x > 0n ? [{ invoiceId: i.id, amountMinor: x }] : [];
      });
    });
    s.registerBefore('log-before', async (_ctx, p) => void seen.push(`before:${p.amountMinor}`));
    s.registerAfter('log-after', async (_ctx, _p, placements) => void seen.push(`after:${placements.length}`));
    dataOf(await t.gql(SetPaymentApplicationRulesDocument, { input: { entityCode: 'HK01', strategies: [{ kind: 'BY_REFERENCE' }, { kind: 'CUSTOM', hook: 'largest-first' }], beforeHooks: ['log-before'], afterHooks: ['log-after'] } }));
    const rules = dataOf(await t.gql(PaymentApplicationRulesDocument, { entityCode: 'HK01' })).paymentApplicationRules;
    expect(rules).toMatchObject({ configured: true, strategies: [{ kind: 'BY_REFERENCE' }, { kind: 'CUSTOM', hook: 'largest-first' }] });
    expect(dataOf(await t.gql(PaymentApplicationRulesDocument, {})).paymentApplicationRules.configured).toBe(false);
    const p = (await record([pay({ externalId: 'HOOK-750', amount: '750.00', customerExternalId: 'Q-3' })])).results[0].payment!;
    expect(p.allocations.map((a) => [a.invoice!.number, a.amount.amount, a.rule]).sort()).toEqual([['H-9002', '700.00', 'CUSTOM'], ['H-9001', '50.00', 'CUSTOM']].sort());
    expect(seen).toEqual(['before:75000', 'after:2']);
  });

  it('places cash on invoices in other currencies at a given or stored rate, each currency balanced, and reverses both sides', async () => {
    dataOf(await t.gql(UpsertCustomersDocument, { input: [{ externalId: 'FX-1', name: 'Global Trading', entityCode: 'US01', currency: 'USD' }] }));
    const r = dataOf(await t.gql(UpsertInvoicesDocument, { input: [inv('FX-9001', 'FX-1', '1000.00', { currency: 'EUR' }), inv('FX-9002', 'FX-1', '500.00', { currency: 'GBP' }), inv('FX-9003', 'FX-1', '200.00')] })).upsertInvoices;
    r.results.forEach((x) => (ids[x.externalId] = x.invoice!.id));
    const p = (await record([pay({ externalId: 'FX-WIRE', amount: '1234.56', customerExternalId: 'FX-1', remittanceText: 'fx wire', receivedOn: '2026-04-02' })])).results[0].payment!;
    expect(p.status).toBe('UNAPPLIED');

    // Bad input: no rate known, a malformed rate, a rate on a same-currency invoice, more than the balance once converted. Nothing written.
    const before = await counts();
    const cases: [unknown[], string, string][] = [
      [[{ invoiceId: ids['FX-9001'], amount: '100.00' }], 'allocations.0.invoiceId', 'CURRENCY_MISMATCH'],
      [[{ invoiceId: ids['FX-9001'], amount: '100.00', rate: 'abc' }], 'allocations.0.rate', 'INVALID_RATE'],
      [[{ invoiceId: ids['FX-9001'], amount: '100.00', rate: '0' }], 'allocations.0.rate', 'INVALID_RATE'],
      [[{ invoiceId: ids['FX-9003'], amount: '100.00', rate: '1' }], 'allocations.0.rate', 'INVALID_RATE'],
      [[{ invoiceId: ids['FX-9001'], amount: '1100.00', rate: '0.925' }], 'allocations.0.amount', 'EXCEEDS_BALANCE'],
      [[{ invoiceId: ids['FX-9001'], amount: '0.01', rate: '0.1' }], 'allocations.0.amount', 'NON_POSITIVE_AMOUNT'],
    ];
    for (const [allocations, field, reason] of cases) {
      const res = await t.gql(AllocatePaymentDocument, { paymentId: p.id, allocations: allocations as never });
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field, reason });
    }
    expect(await counts()).toEqual(before);

    // A rate given: 540.00 USD at 0.925925925926 EUR per USD pays 500.00 EUR; 200.00 USD on the USD invoice.
    const first = dataOf(
      await t.gql(AllocatePaymentDocument, { paymentId: p.id, allocations: [{ invoiceId: ids['FX-9001'], amount: '540.00', rate: '0.925925925926' }, { invoiceId: ids['FX-9003'], amount: '200.00' }] }),
    ).allocatePayment!;
    expect(first).toMatchObject({ status: 'PARTIALLY_APPLIED', applied: { amount: '740.00' }, unapplied: { amount: '494.56' } });
    const eur = first.allocations.find((a) => a.invoiceId === ids['FX-9001'])!;
    expect(eur).toMatchObject({ rate: '0.925925925926', amount: { amount: '500.00', currency: 'EUR' }, sourceAmount: { amount: '540.00', currency: 'USD' } });
    expect(first.allocations.find((a) => a.invoiceId === ids['FX-9003'])).toMatchObject({ rate: null, amount: { amount: '200.00', currency: 'USD' }, sourceAmount: { amount: '200.00', currency: 'USD' } });
    expect((await open('FX-9001')).openBalance.amount).toBe('500.00');
    expect((await open('FX-9003')).status).toBe('PAID');

    // No rate given: the cross rate of the stored rates on the day received (USD 1, GBP 1.25 -> 0.8 GBP per USD).
    dataOf(await t.gql(SetFxRatesDocument, { rates: [{ currency: 'GBP', rate: '1.25', effectiveOn: '2026-01-01' }, { currency: 'EUR', rate: '1.08', effectiveOn: '2026-01-01' }, { currency: 'GBP', rate: '2', effectiveOn: '2026-05-01' }] }));
    const over = await t.gql(AllocatePaymentDocument, { paymentId: p.id, allocations: [{ invoiceId: ids['FX-9002'], amount: '700.00' }] });
    expect(over.errors?.[0].extensions).toMatchObject({ field: 'allocations.0.amount', reason: 'EXCEEDS_BALANCE' });
    const second = dataOf(await t.gql(AllocatePaymentDocument, { paymentId: p.id, allocations: [{ invoiceId: ids['FX-9002'], amount: '250.00' }] })).allocatePayment!;
    expect(second.allocations.find((a) => a.invoiceId === ids['FX-9002'])).toMatchObject({ rate: '0.8', amount: { amount: '200.00', currency: 'GBP' }, sourceAmount: { amount: '250.00', currency: 'USD' } });
    expect(second).toMatchObject({ applied: { amount: '990.00' }, unapplied: { amount: '244.56' } });
    expect((await open('FX-9002')).openBalance.amount).toBe('300.00');

    // The ledger: every entry in one currency and balanced; the exchange account bridges them.
    const entries = dataOf(await t.gql(JournalEntriesDocument, { filter: { sourceId: p.id }, first: 50 })).journalEntries.nodes;
    expect(entries.map((e) => `${e.kind} ${e.currency}`).sort()).toEqual(['PAYMENT_APPLIED EUR', 'PAYMENT_APPLIED GBP', 'PAYMENT_APPLIED USD', 'PAYMENT_APPLIED USD', 'PAYMENT_RECEIVED USD']);
    for (const e of entries) expect(e.lines.reduce((s, l) => s + BigInt(l.debit.amountMinor) - BigInt(l.credit.amountMinor), 0n)).toBe(0n);
    const exchange = async () => {
      const tb = dataOf(await t.gql(TrialBalanceDocument, { asOf: '2999-12-31' })).trialBalance;
      expect(tb.balanced).toBe(true);
      return Object.fromEntries(tb.lines.filter((l) => l.account === 'CURRENCY_EXCHANGE').map((l) => [l.debit.currency, l.balance.amount]));
    };
    expect(await exchange()).toEqual({ USD: '-790.00', EUR: '500.00', GBP: '200.00' });

    // Reversal gives every invoice back what it lost, in its currency, and empties the exchange account.
    dataOf(await t.gql(ReversePaymentDocument, { paymentId: p.id, reason: 'RETURNED_ACH' }, managerKey));
    expect((await open('FX-9001')).openBalance.amount).toBe('1000.00');
    expect((await open('FX-9002')).openBalance.amount).toBe('500.00');
    expect((await open('FX-9003'))).toMatchObject({ status: 'OPEN', openBalance: { amount: '200.00' } });
    expect(Object.values(await exchange()).every((b) => BigInt(b.replace('.', '')) === 0n)).toBe(true);

    // A credit memo in USD on the EUR invoice at the stored rates of the day it is applied (EUR 1.08: 100.00 USD is 92.59 EUR).
    const memo = dataOf(await t.gql(CreateCreditMemoDocument, { input: { customerId: await customerId('FX-1'), number: 'CM-FX', amount: '100.00', reason: 'goodwill' } })).createCreditMemo;
    const applied = dataOf(await t.gql(ApplyCreditMemoDocument, { creditMemoId: memo.id, allocations: [{ invoiceId: ids['FX-9001'], amount: '100.00' }] })).applyCreditMemo;
    expect(applied.open.amount).toBe('0.00');
    expect((await open('FX-9001')).openBalance.amount).toBe('907.41');
    expect(await exchange()).toMatchObject({ USD: '-100.00', EUR: '92.59' });
  });

  async function customerId(ext: string): Promise<string> {
    const [c] = await t.app.dataSource.query(`SELECT id FROM customers WHERE external_id = $1`, [ext]);
    return c.id;
  }
});
