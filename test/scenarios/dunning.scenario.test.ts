import {
  ActionsDocument,
  AssignDunningPolicyDocument,
  CreateDunningPolicyDocument,
  DispatchActionsDocument,
  OpenDisputeDocument,
  PublishDunningPolicyDocument,
  RunEvaluationDocument,
  UpsertCustomersDocument,
  UpsertEntitiesDocument,
  UpsertInvoicesDocument,
  type UpsertInvoiceInput,
} from '../generated/graphql';
import { addDays } from '../../src/platform/time/dates';
import { dataOf, startTestApp, type TestApp } from '../support/test-app';
import * as fx from '../support/fixtures';
import { typicalPolicy } from '../support/policies';

const inv = (p: Partial<UpsertInvoiceInput> & { externalId: string; customerExternalId: string }): UpsertInvoiceInput => ({
  number: p.externalId,
  issueDate: '2026-01-01',
  currency: 'USD',
  total: '1000.00',
  terms: { kind: 'NET', days: 30 },
  ...p,
});

describe('dunning scenarios, day by day through the API', () => {
  let t: TestApp;
  let policyId: string;

  async function day(asOf: string) {
    const run = dataOf(await t.gql(RunEvaluationDocument, { asOf })).runEvaluation;
    const sent = dataOf(await t.gql(DispatchActionsDocument, { asOf })).dispatchActions;
    return { run, sent };
  }
  async function sentFor(invoiceNumber: string) {
    const all = dataOf(await t.gql(ActionsDocument, { filter: { status: ['SENT'], kind: 'STEP' } })).actions.nodes;
    return all.filter((a) => a.invoice?.number === invoiceNumber).map((a) => ({ day: a.scheduledFor, step: a.stepKey, channels: a.channels })).sort((a, b) => a.day.localeCompare(b.day));
  }
  async function walk(from: string, to: string) {
    for (let d = from; d <= to; d = addDays(d, 1)) await day(d);
  }

  beforeAll(async () => {
    t = await startTestApp();
    dataOf(await t.gql(UpsertEntitiesDocument, { input: fx.entities }));
    const customers = [
      { externalId: 'SCN-1', name: 'Steady Co', entityCode: 'US01', currency: 'USD', segment: 'smb', tier: 'standard', contacts: [{ name: 'Pat AP', email: 'ap@steady.example', phone: '+14155550101' }] },
      { externalId: 'SCN-2', name: 'Late Again Inc', entityCode: 'US01', currency: 'USD', segment: 'smb', contacts: [{ name: 'Lee', email: 'lee@late.example' }] },
      { externalId: 'SCN-3', name: 'Big Strategic Corp', entityCode: 'US01', currency: 'USD', segment: 'enterprise', tier: 'strategic', contacts: [{ name: 'Kim', email: 'kim@big.example' }] },
      { externalId: 'SCN-4', name: 'Small Clean LLC', entityCode: 'US01', currency: 'USD', segment: 'smb', contacts: [{ name: 'Sam', email: 'sam@small.example' }] },
      { externalId: 'SCN-5', name: 'Three Lines Ltd', entityCode: 'US01', currency: 'USD', segment: 'smb', contacts: [{ name: 'Tess', email: 'tess@lines.example' }] },
      // Each story gets its own customer: an account escalated to people gets no automated reminders.
      { externalId: 'SCN-6', name: 'Synced Late GmbH', entityCode: 'US01', currency: 'USD', segment: 'smb', contacts: [{ name: 'Uwe', email: 'uwe@synced.example' }] },
      { externalId: 'SCN-7', name: 'Rerun Partners', entityCode: 'US01', currency: 'USD', segment: 'smb', contacts: [{ name: 'Ria', email: 'ria@rerun.example' }] },
    ];
    expect(dataOf(await t.gql(UpsertCustomersDocument, { input: customers })).upsertCustomers.failed).toBe(0);
    const created = dataOf(await t.gql(CreateDunningPolicyDocument, { input: { name: 'Standard', definition: typicalPolicy } })).createDunningPolicy;
    expect(created.errors).toEqual([]);
    policyId = created.policy!.id;
    dataOf(await t.gql(PublishDunningPolicyDocument, { policyId, effectiveFrom: '2025-01-01' }));
    dataOf(await t.gql(AssignDunningPolicyDocument, { policyId, scope: 'GLOBAL' }));
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('the 6-step policy: each message on its day, on its channels, once', async () => {
    dataOf(await t.gql(UpsertInvoicesDocument, { input: [inv({ externalId: 'S-1', customerExternalId: 'SCN-1' })] })); // due 2026-01-31
    await walk('2026-01-20', '2026-03-05');
    expect(await sentFor('S-1')).toEqual([
      { day: '2026-01-24', step: 'pre-due', channels: ['EMAIL'] },
      { day: '2026-01-31', step: 'due', channels: ['EMAIL'] },
      { day: '2026-02-03', step: 'overdue-3', channels: ['EMAIL'] },
      { day: '2026-02-10', step: 'overdue-10', channels: ['EMAIL', 'PORTAL'] },
      { day: '2026-02-21', step: 'escalation-21', channels: ['EMAIL', 'INTERNAL'] },
      { day: '2026-03-02', step: 'hold-30', channels: ['EMAIL'] },
    ]);
    const mails = await t.app.dataSource.query(`SELECT channel, to_addresses, subject FROM outbound_messages m JOIN actions a ON a.id = m.action_id JOIN invoices i ON i.id = a.invoice_id WHERE i.number = 'S-1' ORDER BY m.created_at`);
    expect(mails.filter((m: { channel: string }) => m.channel === 'EMAIL')).toHaveLength(6);
    expect(mails.every((m: { channel: string; to_addresses: string[] }) => m.channel !== 'EMAIL' || m.to_addresses[0] === 'ap@steady.example')).toBe(true);
    const [flags] = await t.app.dataSource.query(`SELECT account_flags FROM customers WHERE external_id = 'SCN-1'`);
    expect(flags.account_flags).toEqual(['HOLD_NOTICE_SENT']);
  });

  it('net-30 and net-60 invoices issued the same day get their first reminders 30 days apart; pre-due 7 days before due', async () => {
    dataOf(
      await t.gql(UpsertInvoicesDocument, {
        input: [
          inv({ externalId: 'N-30', customerExternalId: 'SCN-4', issueDate: '2026-04-01', terms: { kind: 'NET', days: 30 } }),
          inv({ externalId: 'N-60', customerExternalId: 'SCN-4', issueDate: '2026-04-01', terms: { kind: 'NET', days: 60 } }),
        ],
      }),
    );
    await walk('2026-04-20', '2026-06-02');
    const n30 = await sentFor('N-30');
    const n60 = await sentFor('N-60');
    expect(n30[0]).toEqual({ day: '2026-04-24', step: 'pre-due', channels: ['EMAIL'] }); // due 05-01
    expect(n60[0]).toEqual({ day: '2026-05-24', step: 'pre-due', channels: ['EMAIL'] }); // due 05-31
  });

  it('an invoice synced at 25 days past due gets one reminder, not three', async () => {
    dataOf(await t.gql(UpsertInvoicesDocument, { input: [inv({ externalId: 'LATE-25', customerExternalId: 'SCN-6', issueDate: '2026-06-01', terms: { kind: 'NET', days: 30 } })] })); // due 07-01
    await walk('2026-07-26', '2026-07-30');
    expect(await sentFor('LATE-25')).toEqual([{ day: '2026-07-26', step: 'escalation-21', channels: ['EMAIL', 'INTERNAL'] }]);
  });

  it('evaluating five times on one day sends each reminder once', async () => {
    dataOf(await t.gql(UpsertInvoicesDocument, { input: [inv({ externalId: 'RERUN', customerExternalId: 'SCN-7', issueDate: '2026-08-01' })] })); // due 08-31
    for (let i = 0; i < 5; i++) await day('2026-09-03');
    expect(await sentFor('RERUN')).toEqual([{ day: '2026-09-03', step: 'overdue-3', channels: ['EMAIL'] }]);
    const runs = await t.app.dataSource.query(`SELECT actions_created FROM evaluation_runs WHERE as_of = '2026-09-03' ORDER BY started_at`);
    expect(runs).toHaveLength(5);
    expect(runs[0].actions_created).toBeGreaterThanOrEqual(1);
    expect(runs.slice(1).map((r: { actions_created: number }) => r.actions_created)).toEqual([0, 0, 0, 0]);
    const mails = await t.app.dataSource.query(`SELECT count(*)::int AS n FROM outbound_messages m JOIN actions a ON a.id = m.action_id JOIN invoices i ON i.id = a.invoice_id WHERE i.number = 'RERUN'`);
    expect(mails[0].n).toBe(1);
  });

  it('a disputed line on a three-line invoice: the reminder asks for the other two lines only', async () => {
    const r = dataOf(
      await t.gql(UpsertInvoicesDocument, {
        input: [
          inv({
            externalId: 'LINES',
            customerExternalId: 'SCN-5',
            issueDate: '2026-09-01',
            total: '1000.00',
            lines: [
              { description: 'Platform', amount: '600.00' },
              { description: 'Onboarding', amount: '300.00' },
              { description: 'Travel', amount: '100.00' },
            ],
          }),
        ],
      }),
    ).upsertInvoices.results[0].invoice!;
    const [line] = await t.app.dataSource.query(`SELECT id FROM invoice_lines WHERE invoice_id = $1 AND line_no = 2`, [r.id]);
    const d = dataOf(await t.gql(OpenDisputeDocument, { input: { invoiceId: r.id, lineIds: [line.id], reasonCode: 'SERVICE', detail: 'Onboarding not delivered' } })).openDispute;
    expect(d.amount).toEqual({ amount: '300.00', currency: 'USD' });
    await day('2026-10-04'); // due 10-01, +3
    const actions = dataOf(await t.gql(ActionsDocument, { filter: { invoiceId: r.id } })).actions.nodes;
    expect(actions).toHaveLength(1);
    expect(actions[0]).toMatchObject({ status: 'SENT', stepKey: 'overdue-3', amountDue: { amount: '700.00', currency: 'USD' } });
    const [mail] = await t.app.dataSource.query(`SELECT body FROM outbound_messages WHERE action_id = $1 AND channel = 'EMAIL'`, [actions[0].id]);
    expect(mail.body).toMatch(/700\.00/);
  });
});
