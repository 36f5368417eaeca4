import {
  ActionsDocument,
  AddNoteDocument,
  AssignDunningPolicyDocument,
  AssignTaskDocument,
  CompleteTaskDocument,
  CreateDunningPolicyDocument,
  CreatePromiseToPayDocument,
  CreateUserDocument,
  CustomerContactsDocument,
  CustomerPromiseReliabilityDocument,
  DispatchActionsDocument,
  PromisesToPayDocument,
  PublishDunningPolicyDocument,
  RecordPaymentsDocument,
  RunEvaluationDocument,
  SetPromiseSettingsDocument,
  SetWorklistRulesDocument,
  SnoozeTaskDocument,
  TimelineDocument,
  UpsertCustomersDocument,
  UpsertEntitiesDocument,
  UpsertInvoicesDocument,
  WorklistDocument,
  WorklistRulesDocument,
  WorklistTasksDocument,
  type UpsertInvoiceInput,
} from '../generated/graphql';
import { addDays } from '../../src/platform/time/dates';
import * as fx from '../support/fixtures';
import { dataOf, startTestApp, type TestApp } from '../support/test-app';

/**
 * Worklists and promises to pay, day by day through the API: a promise pauses the reminders on
 * its invoices; kept, they never resume; broken, the cadence resumes at the step that is due,
 * a task is raised and the broken promise counts toward escalation. The worklist ranks a $90K
 * invoice with a payment last week above a $2K one at the same age, and says why.
 */

const policy = {
  steps: [
    { key: 'due', offsetDays: 0, channels: ['EMAIL'], templateKey: 'due-today' },
    { key: 'overdue-3', offsetDays: 3, channels: ['EMAIL'], templateKey: 'overdue-friendly' },
    { key: 'overdue-10', offsetDays: 10, channels: ['EMAIL'], templateKey: 'overdue-firm', tone: 'FIRM' },
    { key: 'overdue-20', offsetDays: 20, channels: ['EMAIL'], templateKey: 'overdue-firm', tone: 'FIRM' },
    { key: 'call-30', offsetDays: 30, channels: ['CALL_TASK'], templateKey: 'overdue-firm' },
  ],
  tiers: [{ level: 2, name: 'Promise broken', entry: [{ minDaysPastDue: 1, minBrokenPromises: 1 }], actions: [{ type: 'CREATE_TASK', params: { nextAction: 'Escalate: a promise was broken', slaDays: 1 } }] }],
  personOnlyTiers: [],
};

const inv = (p: Partial<UpsertInvoiceInput> & { externalId: string; customerExternalId: string }): UpsertInvoiceInput => ({
  number: p.externalId,
  issueDate: '2026-01-01', // NET 30: due 2026-01-31
  currency: 'USD',
  total: '1000.00',
  terms: { kind: 'NET', days: 30 },
  ...p,
});

describe('worklists and promises to pay, day by day through the API', () => {
  let t: TestApp;
  const users: Record<string, string> = {};
  const customers: Record<string, { id: string; contactId: string }> = {};
  const invoices: Record<string, string> = {};

  async function day(asOf: string) {
    dataOf(await t.gql(RunEvaluationDocument, { asOf }));
    dataOf(await t.gql(DispatchActionsDocument, { asOf }));
  }
  async function walk(from: string, to: string) {
    for (let d = from; d <= to; d = addDays(d, 1)) await day(d);
  }
  async function sentFor(invoiceNumber: string) {
    const all = dataOf(await t.gql(ActionsDocument, { filter: { status: ['SENT'], kind: 'STEP' }, first: 500 })).actions.nodes;
    return all
      .filter((a) => a.invoice?.number === invoiceNumber)
      .map((a) => `${a.scheduledFor} ${a.stepKey}`)
      .sort();
  }
  async function upsertInvoices(list: UpsertInvoiceInput[]) {
    const r = dataOf(await t.gql(UpsertInvoicesDocument, { input: list })).upsertInvoices;
    expect(r.failed).toBe(0);
    for (const x of r.results) invoices[x.externalId] = x.invoice!.id;
  }
  const tasksOf = async (customer: string) => dataOf(await t.gql(WorklistTasksDocument, { customerId: customers[customer].id })).tasks;

  beforeAll(async () => {
    t = await startTestApp();
    dataOf(await t.gql(UpsertEntitiesDocument, { input: fx.entities }));
    for (const [key, name, role] of [
      ['ann', 'Ann Collector', 'COLLECTOR'],
      ['bob', 'Bob Collector', 'COLLECTOR'],
      ['cy', 'Cy Collector', 'COLLECTOR'],
      ['max', 'Max Manager', 'MANAGER'],
    ] as const) {
      users[key] = dataOf(await t.gql(CreateUserDocument, { input: { name, email: `${key}@recoup.example`, role } })).createUser.id;
    }
    const c = (externalId: string, owner: string | null, segment = 'smb') => ({
      externalId,
      name: `${externalId} Inc`,
      entityCode: 'US01',
      currency: 'USD',
      segment,
      ownerId: owner ? users[owner] : null,
      contacts: [{ name: `AP of ${externalId}`, email: `ap@${externalId.toLowerCase()}.example`, phone: '+14155550111' }],
    });
    const r = dataOf(
      await t.gql(UpsertCustomersDocument, {
        input: [c('P-KEPT', 'ann'), c('P-BROKEN', 'ann'), c('W-BIG', 'bob', 'enterprise'), c('W-SMALL', 'bob'), c('R-MID', null, 'mid'), c('R-RR1', null, 'other'), c('R-RR2', null, 'other')],
      }),
    ).upsertCustomers;
    expect(r.failed).toBe(0);
    for (const x of r.results) {
      const contacts = dataOf(await t.gql(CustomerContactsDocument, { id: x.customer!.id })).customer!.contacts;
      customers[x.externalId] = { id: x.customer!.id, contactId: contacts[0].id };
    }
    const created = dataOf(await t.gql(CreateDunningPolicyDocument, { input: { name: 'With calls', definition: policy } })).createDunningPolicy;
    expect(created.errors).toEqual([]);
    dataOf(await t.gql(PublishDunningPolicyDocument, { policyId: created.policy!.id, effectiveFrom: '2025-01-01' }));
    dataOf(await t.gql(AssignDunningPolicyDocument, { policyId: created.policy!.id, scope: 'GLOBAL' }));
    expect(dataOf(await t.gql(SetPromiseSettingsDocument, { graceDays: 3 })).setPromiseSettings.graceDays).toBe(3);
    await upsertInvoices([inv({ externalId: 'K-1', customerExternalId: 'P-KEPT' }), inv({ externalId: 'B-1', customerExternalId: 'P-BROKEN', total: '2000.00' })]);
    // A partner listens for broken promises (nothing answers at this address; only the event matters here).
    dataOf(await t.gql<{ createWebhookEndpoint: { secret: string } }, Record<string, never>>(`mutation { createWebhookEndpoint(input: { url: "http://127.0.0.1:9/hook", eventTypes: ["promise.broken"] }) { secret } }`));
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('a promise pauses the reminders until its date plus grace; kept, they never resume; broken, they resume at the step that is due and a task is raised', async () => {
    await walk('2026-01-31', '2026-02-03');
    expect(await sentFor('K-1')).toEqual(['2026-01-31 due', '2026-02-03 overdue-3']);

    // Day 4 past due: the collector reaches both customers; each promises to pay in full by 02-12.
    const promise = async (customer: string, invoice: string, amount: string) =>
      dataOf(await t.gql(CreatePromiseToPayDocument, { input: { invoiceIds: [invoices[invoice]], amount, promisedDate: '2026-02-12', contactId: customers[customer].contactId, channel: 'CALL', asOf: '2026-02-04' } })).createPromiseToPay;
    const kept = await promise('P-KEPT', 'K-1', '1000.00');
    const broken = await promise('P-BROKEN', 'B-1', '2000.00');
    expect(kept).toMatchObject({ status: 'OPEN', promisedDate: '2026-02-12', graceDays: 3, pausedUntil: '2026-02-15', madeOn: '2026-02-04', channel: 'CALL', amount: { amount: '1000.00', currency: 'USD' }, contact: { name: 'AP of P-KEPT' }, invoices: [{ number: 'K-1' }] });

    // overdue-10 (due 02-10) is held back while the promises are open.
    await walk('2026-02-04', '2026-02-10');
    expect(await sentFor('K-1')).toEqual(['2026-01-31 due', '2026-02-03 overdue-3']);
    expect(await sentFor('B-1')).toEqual(['2026-01-31 due', '2026-02-03 overdue-3']);

    // P-KEPT pays on 02-11; P-BROKEN does not.
    const paid = dataOf(await t.gql(RecordPaymentsDocument, { input: [{ source: 'bank', externalId: 'PAY-K-1', amount: '1000.00', currency: 'USD', method: 'ACH', customerId: customers['P-KEPT'].id, references: ['K-1'], receivedOn: '2026-02-11' }] })).recordPayments;
    expect(paid.failed).toBe(0);
    await walk('2026-02-11', '2026-02-15');
    expect(await sentFor('B-1')).toEqual(['2026-01-31 due', '2026-02-03 overdue-3']);

    const promises = dataOf(await t.gql(PromisesToPayDocument, { first: 10 })).promisesToPay.nodes;
    expect(promises.find((p) => p.id === kept.id)).toMatchObject({ status: 'KEPT', resolvedOn: '2026-02-11', received: { amount: '1000.00' } });
    expect(promises.find((p) => p.id === broken.id)).toMatchObject({ status: 'OPEN' });
    expect(await tasksOf('P-BROKEN')).toEqual([]);

    // 02-16, the day after grace: broken. overdue-10 goes out that day (not a repeat of overdue-3, not a jump to overdue-20).
    await day('2026-02-16');
    const after = dataOf(await t.gql(PromisesToPayDocument, { customerId: customers['P-BROKEN'].id })).promisesToPay.nodes[0];
    expect(after).toMatchObject({ status: 'BROKEN', resolvedOn: '2026-02-16', received: { amount: '0.00' } });
    expect(await sentFor('B-1')).toEqual(['2026-01-31 due', '2026-02-03 overdue-3', '2026-02-16 overdue-10']);
    const hooks = await t.app.dataSource.query(`SELECT type, payload->>'promiseId' AS promise FROM webhook_events ORDER BY id`);
    expect(hooks).toEqual([{ type: 'promise.broken', promise: broken.id }]);

    // A task for the owner, and the broken promise counts toward escalation (tier 2 wants one broken promise).
    const tasks = await tasksOf('P-BROKEN');
    const brokenTask = tasks.find((x) => x.reasonCode === 'BROKEN_PROMISE')!;
    expect(brokenTask).toMatchObject({ status: 'OPEN', ownerUserId: users.ann, assignmentRule: 'CUSTOMER_OWNER', dueDate: '2026-02-17', sourceKind: 'PROMISE', sourceId: broken.id, invoice: { number: 'B-1' } });
    expect(brokenTask.nextAction).toBe('Call AP of P-BROKEN: promised 2000.00 USD by 2026-02-12 for B-1; received 0.00 USD');
    expect(tasks.find((x) => x.reasonCode === 'TIER_2')).toMatchObject({ nextAction: 'Escalate: a promise was broken', ownerUserId: users.ann, sourceKind: 'ACTION' });

    // The cadence carries on from there; the kept invoice, paid, hears nothing more.
    await walk('2026-02-17', '2026-02-20');
    expect(await sentFor('B-1')).toEqual(['2026-01-31 due', '2026-02-03 overdue-3', '2026-02-16 overdue-10', '2026-02-20 overdue-20']);
    expect(await sentFor('K-1')).toEqual(['2026-01-31 due', '2026-02-03 overdue-3']);

    const rel = async (c: string) => dataOf(await t.gql(CustomerPromiseReliabilityDocument, { id: customers[c].id })).customer!.promiseReliability;
    expect(await rel('P-KEPT')).toEqual({ kept: 1, partiallyKept: 0, broken: 0, open: 0, keptRate: 1, lastBrokenOn: null });
    expect(await rel('P-BROKEN')).toEqual({ kept: 0, partiallyKept: 0, broken: 1, open: 0, keptRate: 0, lastBrokenOn: '2026-02-16' });

    // The collector calls and logs it; the timeline has every touch, newest first.
    const done = dataOf(await t.gql(CompleteTaskDocument, { id: brokenTask.id, input: { outcome: 'REACHED', note: 'AP says the cheque is in the post', asOf: '2026-02-17' } })).completeTask;
    expect(done).toMatchObject({ status: 'DONE', outcome: 'REACHED', completedOn: '2026-02-17' });
    dataOf(await t.gql(AddNoteDocument, { input: { customerId: customers['P-BROKEN'].id, invoiceId: invoices['B-1'], body: 'Asked for proof of posting', asOf: '2026-02-17' } }));
    const timeline = dataOf(await t.gql(TimelineDocument, { customerId: customers['P-BROKEN'].id, first: 50 })).timeline;
    const kinds = timeline.nodes.map((n) => `${n.onDate} ${n.kind}`);
    expect(kinds).toEqual([
      '2026-02-17 NOTE',
      '2026-02-17 TASK_COMPLETED',
      '2026-02-20 REMINDER_SENT',
      '2026-02-16 REMINDER_SENT',
      '2026-02-16 TIER_CHANGED',
      '2026-02-16 PROMISE_BROKEN',
      '2026-02-04 PROMISE_MADE',
      '2026-02-03 REMINDER_SENT',
      '2026-01-31 REMINDER_SENT',
    ]);
    expect(timeline.totalCount).toBe(9);
    expect(timeline.nodes.find((n) => n.kind === 'PROMISE_MADE')).toMatchObject({ invoiceNumber: 'B-1', amount: { amount: '2000.00', currency: 'USD' } });
    expect(timeline.nodes.find((n) => n.kind === 'TASK_COMPLETED')!.summary).toContain('AP says the cheque is in the post');

    // Keyset pages walk the same list; the kept invoice's own timeline shows its payment.
    const page1 = dataOf(await t.gql(TimelineDocument, { customerId: customers['P-BROKEN'].id, first: 4 })).timeline;
    const page2 = dataOf(await t.gql(TimelineDocument, { customerId: customers['P-BROKEN'].id, first: 10, after: page1.pageInfo.endCursor })).timeline;
    expect([...page1.nodes, ...page2.nodes].map((n) => n.id)).toEqual(timeline.nodes.map((n) => n.id));
    expect(page2.pageInfo.hasNextPage).toBe(false);
    const k1 = dataOf(await t.gql(TimelineDocument, { invoiceId: invoices['K-1'], direction: 'ASC' })).timeline.nodes;
    expect(k1.map((n) => n.kind)).toEqual(['REMINDER_SENT', 'REMINDER_SENT', 'PROMISE_MADE', 'PAYMENT_APPLIED', 'PROMISE_KEPT']);
    expect(k1[3]).toMatchObject({ onDate: '2026-02-11', amount: { amount: '1000.00' } });
  });

  it('ranks a $90K invoice with a payment last week above a $2K one at the same age, says why, and applies the assignment rules', async () => {
    // Tasks without a customer owner go by segment, then round robin between Ann and Bob.
    const rules = dataOf(await t.gql(WorklistRulesDocument, {})).worklistRules;
    expect(rules.assignment.order).toEqual(['CUSTOMER_OWNER', 'SEGMENT', 'ROUND_ROBIN']);
    const set = dataOf(
      await t.gql(SetWorklistRulesDocument, {
        input: { scoring: rules.scoring, assignment: { order: ['CUSTOMER_OWNER', 'SEGMENT', 'ROUND_ROBIN'], segmentOwners: [{ segment: 'mid', userId: users.cy }], roundRobinUserIds: [users.ann, users.bob] } },
      }),
    ).setWorklistRules;
    expect(set.assignment.segmentOwners).toEqual([{ segment: 'mid', userId: users.cy }]);

    const due = { issueDate: '2026-01-30' }; // NET 30: due 2026-03-01
    await upsertInvoices([
      inv({ externalId: 'WB-0', customerExternalId: 'W-BIG', total: '500.00', issueDate: '2026-01-20' }),
      inv({ externalId: 'WB-1', customerExternalId: 'W-BIG', total: '90000.00', ...due }),
      inv({ externalId: 'WS-1', customerExternalId: 'W-SMALL', total: '2000.00', ...due }),
      inv({ externalId: 'RM-1', customerExternalId: 'R-MID', ...due }),
      inv({ externalId: 'RR-1', customerExternalId: 'R-RR1', ...due }),
      inv({ externalId: 'RR-2', customerExternalId: 'R-RR2', ...due }),
    ]);
    // W-BIG paid its small older invoice last week.
    const paid = dataOf(await t.gql(RecordPaymentsDocument, { input: [{ source: 'bank', externalId: 'PAY-WB-0', amount: '500.00', currency: 'USD', method: 'WIRE', customerId: customers['W-BIG'].id, references: ['WB-0'], receivedOn: '2026-03-24' }] })).recordPayments;
    expect(paid.results[0].payment!.status).toBe('APPLIED');

    await day('2026-03-31'); // 30 days past due: the call step raises a task per invoice

    const wl = dataOf(await t.gql(WorklistDocument, { collectorId: users.bob, asOf: '2026-03-31', first: 10 })).worklist;
    const numbers = wl.nodes.map((n) => n.task.invoice?.number);
    expect(numbers.slice(0, 2)).toEqual(['WB-1', 'WS-1']);
    const [big, small] = wl.nodes;
    expect(big).toMatchObject({ rank: 1, daysPastDue: 30, slaBreached: false, openAmount: { amount: '90000.00', currency: 'USD' }, task: { reasonCode: 'CALL_STEP', ownerUserId: users.bob, assignmentRule: 'CUSTOMER_OWNER' } });
    expect(big.breakdown).toEqual([
      { term: 'DAYS_PAST_DUE', points: 30, detail: '30 days past due' },
      { term: 'OPEN_AMOUNT', points: 49.54, detail: '90000.00 USD open' },
      { term: 'RECENT_PAYMENT', points: 25, detail: 'payment received 2026-03-24 (7 days ago)' },
    ]);
    expect(big.score).toBe(104.54);
    expect(big.explanation).toContain('payment received 2026-03-24 (7 days ago) (+25)');
    expect(small).toMatchObject({ rank: 2, score: 63.01, daysPastDue: 30 });
    expect(small.breakdown.map((b) => b.term)).toEqual(['DAYS_PAST_DUE', 'OPEN_AMOUNT']);

    // Keyset pages over the ranking.
    const p1 = dataOf(await t.gql(WorklistDocument, { collectorId: users.bob, asOf: '2026-03-31', first: 1 })).worklist;
    const p2 = dataOf(await t.gql(WorklistDocument, { collectorId: users.bob, asOf: '2026-03-31', first: 1, after: p1.pageInfo.endCursor })).worklist;
    expect([p1.nodes[0].task.id, p2.nodes[0].task.id]).toEqual([big.task.id, small.task.id]);
    expect(p1.totalCount).toBe(wl.totalCount);

    // Assignment rules: segment, then round robin (one each).
    const owner = async (c: string) => (await tasksOf(c)).map((x) => [x.ownerUserId, x.assignmentRule]);
    expect(await owner('R-MID')).toEqual([[users.cy, 'SEGMENT']]);
    const rr = [...(await owner('R-RR1')), ...(await owner('R-RR2'))];
    expect(rr.map((r) => r[1])).toEqual(['ROUND_ROBIN', 'ROUND_ROBIN']);
    expect(rr.map((r) => r[0]).sort()).toEqual([users.ann, users.bob].sort());

    // Reassign, snooze, complete: the worklist follows.
    dataOf(await t.gql(AssignTaskDocument, { id: small.task.id, userId: users.ann, reason: 'Ann knows them' }));
    const snoozed = dataOf(await t.gql(SnoozeTaskDocument, { id: big.task.id, until: '2026-04-03', asOf: '2026-03-31' })).snoozeTask;
    expect(snoozed).toMatchObject({ status: 'SNOOZED', snoozedUntil: '2026-04-03' });
    const ids = async (who: string, asOf: string) => dataOf(await t.gql(WorklistDocument, { collectorId: users[who], asOf })).worklist.nodes.map((n) => n.task.id);
    expect(await ids('bob', '2026-03-31')).not.toContain(big.task.id);
    expect(await ids('bob', '2026-03-31')).not.toContain(small.task.id);
    expect(await ids('ann', '2026-03-31')).toContain(small.task.id);
    expect((await ids('bob', '2026-04-03'))[0]).toBe(big.task.id);
    dataOf(await t.gql(CompleteTaskDocument, { id: big.task.id, input: { outcome: 'PROMISED', asOf: '2026-04-03' } }));
    expect(await ids('bob', '2026-04-03')).not.toContain(big.task.id);
  });
});
