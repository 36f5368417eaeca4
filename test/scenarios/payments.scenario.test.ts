import {
  ActionsDocument,
  AssignDunningPolicyDocument,
  CreateDunningPolicyDocument,
  DispatchActionsDocument,
  InvoiceDocument,
  PaymentDocument,
  PublishDunningPolicyDocument,
  RecordPaymentsDocument,
  ReversePaymentDocument,
  RunEvaluationDocument,
  SetPaymentApplicationRulesDocument,
  CustomerCreditDocument,
  JournalEntriesDocument,
  TrialBalanceDocument,
  UpsertCustomersDocument,
  UpsertEntitiesDocument,
  UpsertInvoicesDocument,
  type RecordPaymentInput,
  type UpsertInvoiceInput,
} from '../generated/graphql';
import { addDays } from '../../src/platform/time/dates';
import { dataOf, startTestApp, type TestApp } from '../support/test-app';
import * as fx from '../support/fixtures';
import { typicalPolicy } from '../support/policies';

const inv = (p: Partial<UpsertInvoiceInput> & { externalId: string; customerExternalId: string }): UpsertInvoiceInput => ({
  number: p.externalId,
  issueDate: '2026-03-01',
  currency: 'USD',
  total: '1000.00',
  terms: { kind: 'NET', days: 30 },
  ...p,
});
const pay = (p: Partial<RecordPaymentInput> & { externalId: string; amount: string }): RecordPaymentInput => ({ source: 'bank', method: 'WIRE', currency: 'USD', ...p });

/** Payment stories through the API, with the typical dunning policy live. */
describe('payments: application, suppression, partials, reversals', () => {
  let t: TestApp;

  async function invoicesOf(customerExternalId: string) {
    const rows: { id: string; number: string }[] = await t.app.dataSource.query(`SELECT i.id, i.number FROM invoices i JOIN customers c ON c.id = i.customer_id WHERE c.external_id = $1 ORDER BY i.number`, [customerExternalId]);
    const out: Record<string, { id: string; status: string; open: string; closedOn: string | null }> = {};
    for (const r of rows) {
      const i = dataOf(await t.gql(InvoiceDocument, { id: r.id })).invoice!;
      const [c] = await t.app.dataSource.query(`SELECT to_char(closed_on, 'YYYY-MM-DD') AS closed_on FROM invoices WHERE id = $1`, [r.id]);
      out[r.number] = { id: r.id, status: i.status, open: i.openBalance.amount, closedOn: c.closed_on };
    }
    return out;
  }
  async function day(asOf: string, dispatch = true) {
    dataOf(await t.gql(RunEvaluationDocument, { asOf }));
    if (dispatch) dataOf(await t.gql(DispatchActionsDocument, { asOf }));
  }
  async function walk(from: string, to: string) {
    for (let d = from; d <= to; d = addDays(d, 1)) await day(d);
  }
  async function actionsFor(prefix: string) {
    const all = dataOf(await t.gql(ActionsDocument, { first: 500 })).actions.nodes;
    return all.filter((a) => a.invoice?.number.startsWith(prefix));
  }
  async function record(input: RecordPaymentInput[]) {
    return dataOf(await t.gql(RecordPaymentsDocument, { input })).recordPayments;
  }

  beforeAll(async () => {
    t = await startTestApp();
    dataOf(await t.gql(UpsertEntitiesDocument, { input: fx.entities }));
    const c = (externalId: string, name: string, entityCode = 'US01', currency = 'USD') => ({ externalId, name, entityCode, currency, segment: 'smb', contacts: [{ name: 'AP', email: `ap@${externalId.toLowerCase()}.example` }] });
    const r = dataOf(
      await t.gql(UpsertCustomersDocument, {
        input: [c('P-WIRE', 'Monthly Wire Co'), c('P-SHORT', 'Short Pay Corp'), c('P-CTRL', 'Unpaid Control Corp'), c('P-REF', 'Reference Ltd'), c('P-REV', 'Returned ACH Inc'), c('P-PROP', 'Proportional plc', 'UK01', 'GBP')],
      }),
    ).upsertCustomers;
    expect(r.failed).toBe(0);
    const created = dataOf(await t.gql(CreateDunningPolicyDocument, { input: { name: 'Standard', definition: typicalPolicy } })).createDunningPolicy;
    dataOf(await t.gql(PublishDunningPolicyDocument, { policyId: created.policy!.id, effectiveFrom: '2025-01-01' }));
    dataOf(await t.gql(AssignDunningPolicyDocument, { policyId: created.policy!.id, scope: 'GLOBAL' }));
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('a $180,000 wire settles a month of six invoices: five close, the reconciling one is held, the rest is credit, no reminder on a closed invoice', async () => {
    const month = [
      inv({ externalId: 'W-3101', customerExternalId: 'P-WIRE', total: '20000.00', billingModel: 'SUBSCRIPTION' }),
      inv({ externalId: 'W-3102', customerExternalId: 'P-WIRE', total: '20000.00', billingModel: 'SUBSCRIPTION' }),
      inv({ externalId: 'W-3103', customerExternalId: 'P-WIRE', total: '20000.00', billingModel: 'SUBSCRIPTION' }),
      inv({ externalId: 'W-3104', customerExternalId: 'P-WIRE', total: '24000.00', billingModel: 'USAGE' }),
      inv({ externalId: 'W-3105', customerExternalId: 'P-WIRE', total: '15000.00', billingModel: 'USAGE', reconciliationHold: true }),
      inv({ externalId: 'W-3106', customerExternalId: 'P-WIRE', total: '18000.00', billingModel: 'SERVICES' }),
    ]; // all due 2026-03-31
    expect(dataOf(await t.gql(UpsertInvoicesDocument, { input: month })).upsertInvoices.failed).toBe(0);
    await day('2026-03-24'); // pre-due reminders go out
    await day('2026-03-31', false); // "due" reminders planned, not yet sent
    const planned = (await actionsFor('W-')).filter((a) => a.status === 'PLANNED');
    expect(planned.map((a) => a.invoice!.number).sort()).toEqual(['W-3101', 'W-3102', 'W-3103', 'W-3104', 'W-3106']);

    const r = await record([pay({ externalId: 'WIRE-180K', amount: '180000.00', receivedOn: '2026-03-31', payerName: 'Monthly Wire Co', remittanceText: 'March: W-3101 W-3102 W-3103 W-3104 W-3105 W-3106' })]);
    const p = r.results[0].payment!;
    expect(r.results[0].errors).toEqual([]);
    expect(p.status).toBe('PARTIALLY_APPLIED');
    expect(p.applied.amount).toBe('102000.00');
    expect(p.unapplied.amount).toBe('78000.00');
    expect(p.allocations.map((a) => a.invoice!.number).sort()).toEqual(['W-3101', 'W-3102', 'W-3103', 'W-3104', 'W-3106']);
    expect(p.allocations.every((a) => a.rule === 'BY_REFERENCE')).toBe(true);
    const book = await invoicesOf('P-WIRE');
    for (const n of ['W-3101', 'W-3102', 'W-3103', 'W-3104', 'W-3106']) expect(book[n]).toMatchObject({ status: 'PAID', open: '0.00', closedOn: '2026-03-31' });
    expect(book['W-3105']).toMatchObject({ status: 'OPEN', open: '15000.00', closedOn: null });
    // The planned reminders of the paid invoices were cancelled in the payment's transaction.
    const after = await actionsFor('W-');
    expect(after.filter((a) => planned.some((x) => x.id === a.id)).map((a) => a.status)).toEqual(['CANCELLED', 'CANCELLED', 'CANCELLED', 'CANCELLED', 'CANCELLED']);
    const credit = dataOf(await t.gql(CustomerCreditDocument, { customerId: p.customerId! })).customerCredit;
    expect(credit).toEqual([{ unapplied: { amount: '78000.00', currency: 'USD' }, creditMemos: { amount: '0.00', currency: 'USD' } }]);

    const sentBefore = (await actionsFor('W-')).filter((a) => a.status === 'SENT').length;
    await walk('2026-03-31', '2026-05-05');
    const sentAfter = (await actionsFor('W-')).filter((a) => a.status === 'SENT');
    expect(sentAfter).toHaveLength(sentBefore); // nothing more went out: five paid, one on hold
    expect(sentAfter.every((a) => a.stepKey === 'pre-due' && a.invoice!.number !== 'W-3105')).toBe(true);
  });

  it('a $50,000 invoice paid $45,000: balance $5,000, courtesy path, no escalation (an unpaid twin escalates)', async () => {
    dataOf(
      await t.gql(UpsertInvoicesDocument, {
        input: [
          inv({ externalId: 'SP-5001', customerExternalId: 'P-SHORT', total: '50000.00', issueDate: '2026-04-01' }),
          inv({ externalId: 'CT-5002', customerExternalId: 'P-CTRL', total: '50000.00', issueDate: '2026-04-01' }),
        ],
      }),
    ); // due 2026-05-01
    const r = await record([pay({ externalId: 'ACH-45K', method: 'ACH', amount: '45000.00', receivedOn: '2026-05-02', customerExternalId: 'P-SHORT', references: ['SP-5001'] })]);
    expect(r.results[0].payment!.applied.amount).toBe('45000.00');
    expect((await invoicesOf('P-SHORT'))['SP-5001']).toMatchObject({ status: 'OPEN', open: '5000.00' });
    dataOf(await t.gql(RunEvaluationDocument, { asOf: '2026-05-20' })); // 19 days past due
    const short = await actionsFor('SP-');
    expect(short.map((a) => [a.kind, a.stepKey, (a.reason.facts as { path?: string }).path])).toEqual([['STEP', 'courtesy', 'COURTESY']]);
    const tierRows: { customer: string; n: number }[] = await t.app.dataSource.query(
      `SELECT c.external_id AS customer, count(*)::int AS n FROM actions a JOIN customers c ON c.id = a.customer_id WHERE a.kind = 'TIER_ENTRY' AND c.external_id IN ('P-SHORT','P-CTRL') GROUP BY c.external_id`,
    );
    expect(tierRows).toEqual([{ customer: 'P-CTRL', n: 2 }]); // the unpaid twin enters tier 2; the short-paid one does not
  });

  it('a payment through the portal resets the escalation counters of the customer; a wire does not', async () => {
    const tierOf = async (externalId: string) =>
      ((await t.app.dataSource.query(`SELECT e.tier FROM customer_escalations e JOIN customers c ON c.id = e.customer_id WHERE c.external_id = $1`, [externalId])) as { tier: number }[])[0]?.tier ?? 0;
    expect(await tierOf('P-CTRL')).toBe(2); // the unpaid twin above
    await record([pay({ externalId: 'WIRE-CT-1', amount: '100.00', receivedOn: '2026-05-21', customerExternalId: 'P-CTRL', references: ['CT-5002'] })]);
    expect(await tierOf('P-CTRL')).toBe(2);
    const r = await record([pay({ externalId: 'PORTAL-CT-1', method: 'PORTAL', amount: '1000.00', receivedOn: '2026-05-21', customerExternalId: 'P-CTRL', references: ['CT-5002'] })]);
    expect(await tierOf('P-CTRL')).toBe(0);
    type Events = { auditEvents: { nodes: { subjectType: string; data: { previousTier: number; paymentId: string }; reason: string }[] } };
    const events = dataOf(await t.gql<Events, Record<string, never>>(`{ auditEvents(filter: { action: "dunning.counters_reset" }) { nodes { subjectType subjectId data reason } } }`)).auditEvents.nodes;
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ subjectType: 'Customer', reason: 'payment through the portal', data: { previousTier: 2, paymentId: r.results[0].payment!.id } });
  });

  it('a short pay with a stated reason opens a deduction dispute for what stays open', async () => {
    dataOf(await t.gql(UpsertInvoicesDocument, { input: [inv({ externalId: 'SP-5003', customerExternalId: 'P-SHORT', total: '1200.00' })] }));
    const r = await record([pay({ externalId: 'CHK-DED', method: 'CHECK', amount: '1000.00', customerExternalId: 'P-SHORT', remittanceText: 'SP-5003 less damaged goods', shortPayReason: 'two units damaged', deductionCode: 'QUANTITY' })]);
    expect(r.results[0].payment!.applied.amount).toBe('1000.00');
    const [d] = await t.app.dataSource.query(`SELECT reason_code, amount_minor, detail FROM disputes d JOIN invoices i ON i.id = d.invoice_id WHERE i.number = 'SP-5003'`);
    expect(d).toMatchObject({ reason_code: 'QUANTITY', amount_minor: '20000' });
    expect(d.detail).toContain('two units damaged');
  });

  it('remittance "INV 1042/1043" splits by reference; the same bank line again changes nothing', async () => {
    dataOf(
      await t.gql(UpsertInvoicesDocument, {
        input: [
          inv({ externalId: 'R-1042', number: 'INV-1042', customerExternalId: 'P-REF', total: '1000.00' }),
          inv({ externalId: 'R-1043', number: 'INV-1043', customerExternalId: 'P-REF', total: '2500.00' }),
          inv({ externalId: 'R-1044', number: 'INV-1044', customerExternalId: 'P-REF', total: '1000.00' }),
        ],
      }),
    );
    // No customer given: the references find the payer across the tenant.
    const line = pay({ externalId: 'LB-77', source: 'lockbox', method: 'CHECK', amount: '3500.00', remittanceText: 'inv 1042/1043', payerName: 'Someone at Reference' });
    const first = await record([line]);
    const p = first.results[0].payment!;
    expect(first.results[0].created).toBe(true);
    expect(p.allocations.map((a) => [a.invoice!.number, a.amount.amount, a.rule]).sort()).toEqual([
      ['INV-1042', '1000.00', 'BY_REFERENCE'],
      ['INV-1043', '2500.00', 'BY_REFERENCE'],
    ]);
    expect(p.status).toBe('APPLIED');
    const counts = async () => (await t.app.dataSource.query(`SELECT (SELECT count(*) FROM payments)::int AS p, (SELECT count(*) FROM payment_allocations)::int AS a, (SELECT count(*) FROM journal_entries)::int AS j, (SELECT count(*) FROM audit_events)::int AS e`))[0];
    const before = await counts();
    const again = await record([line]);
    expect(again.results[0]).toMatchObject({ created: false, errors: [] });
    expect(again.results[0].payment!.id).toBe(p.id);
    expect(await counts()).toEqual(before);
    expect((await invoicesOf('P-REF'))['INV-1044']).toMatchObject({ status: 'OPEN', open: '1000.00' });
    // The same line with another amount is refused, not merged.
    const changed = await record([{ ...line, amount: '3600.00' }]);
    expect(changed.results[0].errors).toEqual([expect.objectContaining({ field: 'externalId', code: 'CHANGED_REDELIVERY' })]);
    expect(await counts()).toEqual(before);
  });

  it('a returned ACH reopens the invoice, restores the balance, logs why, and dunning resumes at the next step', async () => {
    dataOf(await t.gql(UpsertInvoicesDocument, { input: [inv({ externalId: 'RV-6001', customerExternalId: 'P-REV', issueDate: '2026-06-01', total: '4000.00' })] })); // due 06-31 -> 07-01
    await walk('2026-06-24', '2026-07-04'); // pre-due 06-24, due 07-01, overdue-3 07-04
    const r = await record([pay({ externalId: 'ACH-RV', method: 'ACH', amount: '4000.00', receivedOn: '2026-07-05', customerExternalId: 'P-REV', references: ['RV-6001'] })]);
    const p = r.results[0].payment!;
    expect((await invoicesOf('P-REV'))['RV-6001']).toMatchObject({ status: 'PAID', closedOn: '2026-07-05' });
    await walk('2026-07-05', '2026-07-07');
    const rev = dataOf(await t.gql(ReversePaymentDocument, { paymentId: p.id, reason: 'RETURNED_ACH', note: 'R01 insufficient funds' })).reversePayment;
    expect(rev).toMatchObject({ status: 'REVERSED', applied: { amount: '0.00' }, unapplied: { amount: '0.00' }, reversed: { amount: '4000.00' }, reversalReason: 'RETURNED_ACH' });
    expect(rev.allocations.every((a) => a.reversedAt)).toBe(true);
    expect((await invoicesOf('P-REV'))['RV-6001']).toMatchObject({ status: 'OPEN', open: '4000.00', closedOn: null });
    const [audit] = await t.app.dataSource.query(`SELECT data FROM audit_events WHERE action = 'payment.reversed' AND subject_id = $1`, [p.id]);
    expect(audit.data).toMatchObject({ reason: 'RETURNED_ACH', note: 'R01 insufficient funds' });
    await walk('2026-07-08', '2026-07-12');
    const sent = (await actionsFor('RV-')).filter((a) => a.status === 'SENT' && a.kind === 'STEP').map((a) => [a.scheduledFor, a.stepKey]).sort();
    expect(sent).toEqual([
      ['2026-06-24', 'pre-due'],
      ['2026-07-01', 'due'],
      ['2026-07-04', 'overdue-3'],
      ['2026-07-11', 'overdue-10'],
    ]);
    // Reversing twice is refused; the ledger still balances.
    const twice = await t.gql(ReversePaymentDocument, { paymentId: p.id, reason: 'NSF' });
    expect(twice.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'paymentId', reason: 'ALREADY_REVERSED' });
    const entries = dataOf(await t.gql(JournalEntriesDocument, { filter: { sourceId: p.id } })).journalEntries.nodes;
    expect(entries.map((e) => e.kind).sort()).toEqual(['PAYMENT_APPLIED', 'PAYMENT_RECEIVED', 'PAYMENT_REVERSED']);
    expect(dataOf(await t.gql(TrialBalanceDocument, { asOf: '2026-12-31' })).trialBalance.balanced).toBe(true);
  });

  it('100.00 proportional over three equal invoices: 33.34 + 33.33 + 33.33 (rules of one legal entity)', async () => {
    dataOf(await t.gql(SetPaymentApplicationRulesDocument, { input: { entityCode: 'UK01', strategies: [{ kind: 'PROPORTIONAL' }] } }));
    dataOf(
      await t.gql(UpsertInvoicesDocument, {
        input: [
          inv({ externalId: 'PR-1', customerExternalId: 'P-PROP', currency: 'GBP', total: '100.00', issueDate: '2026-02-01' }),
          inv({ externalId: 'PR-2', customerExternalId: 'P-PROP', currency: 'GBP', total: '100.00', issueDate: '2026-02-02' }),
          inv({ externalId: 'PR-3', customerExternalId: 'P-PROP', currency: 'GBP', total: '100.00', issueDate: '2026-02-03' }),
        ],
      }),
    );
    const r = await record([pay({ externalId: 'GBP-100', currency: 'GBP', amount: '100.00', customerExternalId: 'P-PROP' })]);
    const p = r.results[0].payment!;
    expect(p.allocations.map((a) => [a.invoice!.number, a.amount.amount, a.rule]).sort()).toEqual([
      ['PR-1', '33.34', 'PROPORTIONAL'],
      ['PR-2', '33.33', 'PROPORTIONAL'],
      ['PR-3', '33.33', 'PROPORTIONAL'],
    ]);
    expect(p).toMatchObject({ status: 'APPLIED', applied: { amount: '100.00' }, unapplied: { amount: '0.00' } });
    const again = dataOf(await t.gql(PaymentDocument, { id: p.id })).payment!;
    expect(again.allocations.reduce((s, a) => s + BigInt(a.amount.amountMinor), 0n)).toBe(10000n);
  });
});
