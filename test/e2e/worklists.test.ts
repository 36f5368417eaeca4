import { randomUUID } from 'node:crypto';
import { print } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import {
  AddNoteDocument,
  AssignTaskDocument,
  CompleteTaskDocument,
  CreateApiKeyDocument,
  CreatePromiseToPayDocument,
  CreateUserDocument,
  CustomerContactsDocument,
  CustomersPromiseReliabilityDocument,
  MeDocument,
  RevokeApiKeyDocument,
  RunEvaluationDocument,
  SetPromiseSettingsDocument,
  SetWorklistRulesDocument,
  SnoozeTaskDocument,
  TimelineDocument,
  UpsertCustomersDocument,
  UpsertEntitiesDocument,
  UpsertInvoicesDocument,
  WorklistChangedDocument,
  WorklistDocument,
  WorklistRulesDocument,
  WorklistTasksDocument,
  type WorklistChangedSubscription,
  type WorklistRulesQuery,
} from '../generated/graphql';
import { startGlobalQueryCount } from '../../src/platform/db/sql-logger';
import { WORKLIST_CHANGED } from '../../src/modules/worklists/task.service';
import * as fx from '../support/fixtures';
import { dataOf, startTestApp, type GqlResult, type TestApp } from '../support/test-app';

/**
 * Worklists, promises and timelines over HTTP and WebSocket: every new mutation refuses bad
 * input with a typed error naming the field and changes nothing; roles are enforced;
 * worklistChanged reaches a graphql-ws subscriber; pages cost a constant number of statements.
 */

type Change = WorklistChangedSubscription['worklistChanged'];

async function waitFor<T>(what: string, probe: () => T | null | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function expectError(r: GqlResult<unknown>, code: string, field?: string, reason?: string): void {
  expect(r.errors?.length).toBeGreaterThan(0);
  const ext = r.errors![0].extensions ?? {};
  expect({ code: ext.code, ...(field !== undefined ? { field: ext.field } : {}), ...(reason !== undefined ? { reason: ext.reason } : {}) }).toEqual({ code, ...(field !== undefined ? { field } : {}), ...(reason !== undefined ? { reason } : {}) });
}

describe('worklists, promises and timelines (e2e)', () => {
  let t: TestApp;
  let tenantId: string;
  const users: Record<string, string> = {};
  const keys: Record<string, { secret: string; id: string }> = {};
  const customers: Record<string, { id: string; contactId: string }> = {};
  const invoices: Record<string, string> = {};
  const clients: Client[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    tenantId = dataOf(await t.gql(MeDocument, {})).me.tenant.id;
    dataOf(await t.gql(UpsertEntitiesDocument, { input: fx.entities }));
    for (const [key, role] of [
      ['ann', 'COLLECTOR'],
      ['bob', 'COLLECTOR'],
      ['max', 'MANAGER'],
    ] as const) {
      users[key] = dataOf(await t.gql(CreateUserDocument, { input: { name: key, email: `${key}@e2e.example`, role } })).createUser.id;
    }
    for (const role of ['VIEWER', 'COLLECTOR', 'MANAGER'] as const) {
      const k = dataOf(await t.gql(CreateApiKeyDocument, { input: { name: role.toLowerCase(), role } })).createApiKey;
      keys[role] = { secret: k.secret, id: k.apiKey.id };
    }
    const r = dataOf(
      await t.gql(UpsertCustomersDocument, {
        input: ['A', 'B', 'C'].map((x, i) => ({ externalId: `E-${x}`, name: `E2E ${x}`, entityCode: 'US01', currency: 'USD', ownerId: i === 1 ? users.bob : users.ann, contacts: [{ name: `AP ${x}`, email: `ap@${x}.example` }] })),
      }),
    ).upsertCustomers;
    for (const x of r.results) {
      const contacts = dataOf(await t.gql(CustomerContactsDocument, { id: x.customer!.id })).customer!.contacts;
      customers[x.externalId] = { id: x.customer!.id, contactId: contacts[0].id };
    }
    const list = Array.from({ length: 6 }, (_, i) => ({ externalId: `EI-${i}`, customerExternalId: i % 2 ? 'E-B' : 'E-A', number: `EI-${i}`, issueDate: '2026-01-01', currency: 'USD', total: `${(i + 1) * 1000}.00`, terms: { kind: 'NET' as const, days: 30 } }));
    list.push({ externalId: 'EI-PAID', customerExternalId: 'E-A', number: 'EI-PAID', issueDate: '2026-01-01', currency: 'USD', total: '10.00', openBalance: '0.00', terms: { kind: 'NET', days: 30 } } as never);
    const inv = dataOf(await t.gql(UpsertInvoicesDocument, { input: list })).upsertInvoices;
    expect(inv.failed).toBe(0);
    for (const x of inv.results) invoices[x.externalId] = x.invoice!.id;
    // Six promises made on 03-01 for 03-05, none kept: broken on 03-09 (grace 3), one task each.
    for (let i = 0; i < 6; i++) {
      const c = i % 2 ? 'E-B' : 'E-A';
      dataOf(await t.gql(CreatePromiseToPayDocument, { input: { invoiceIds: [invoices[`EI-${i}`]], amount: '500.00', promisedDate: '2026-03-05', contactId: customers[c].contactId, channel: 'EMAIL', asOf: '2026-03-01' } }));
    }
    dataOf(await t.gql(RunEvaluationDocument, { asOf: '2026-03-09' }));
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await t?.stop();
  });

  const openTasks = async (owner: string) => dataOf(await t.gql(WorklistTasksDocument, { ownerUserId: users[owner], status: 'OPEN' })).tasks;

  it('broken promises became tasks for the customer owners', async () => {
    expect((await openTasks('ann')).map((x) => x.reasonCode)).toEqual(['BROKEN_PROMISE', 'BROKEN_PROMISE', 'BROKEN_PROMISE']);
    expect(await openTasks('bob')).toHaveLength(3);
  });

  it('bad input to every new mutation gets a typed error naming the field, and changes nothing', async () => {
    const state = async () =>
      (await t.app.dataSource.query(
        `SELECT (SELECT count(*) FROM promises_to_pay WHERE tenant_id = $1)::int AS promises,
                (SELECT string_agg(id || status || COALESCE(owner_user_id::text, '') || COALESCE(outcome, '') || COALESCE(snoozed_until::text, ''), ',' ORDER BY id) FROM tasks WHERE tenant_id = $1) AS tasks,
                (SELECT count(*) FROM interactions WHERE tenant_id = $1)::int AS interactions,
                (SELECT rules::text FROM worklist_rules WHERE tenant_id = $1) AS rules,
                (SELECT count(*) FROM promise_settings WHERE tenant_id = $1)::int AS settings,
                (SELECT count(*) FROM audit_events WHERE tenant_id = $1)::int AS audit`,
        [tenantId],
      )) as unknown[];
    const before = await state();
    const rulesBefore = dataOf(await t.gql(WorklistRulesDocument, {})).worklistRules;
    const task = (await openTasks('ann'))[0];
    const good = { invoiceIds: [invoices['EI-0']], amount: '100.00', promisedDate: '2026-03-20', contactId: customers['E-A'].contactId, channel: 'CALL' as const, asOf: '2026-03-10' };
    const promise = async (over: Partial<typeof good>) => t.gql(CreatePromiseToPayDocument, { input: { ...good, ...over } });

    expectError(await promise({ invoiceIds: [] }), 'BAD_USER_INPUT', 'invoiceIds', 'REQUIRED');
    expectError(await promise({ invoiceIds: [randomUUID()] }), 'NOT_FOUND', 'invoiceIds.0');
    expectError(await promise({ invoiceIds: ['not-an-id'] }), 'BAD_USER_INPUT', 'invoiceIds.0', 'UNKNOWN_INVOICE');
    expectError(await promise({ invoiceIds: [invoices['EI-0'], invoices['EI-1']] }), 'BAD_USER_INPUT', 'invoiceIds.1', 'OTHER_CUSTOMER');
    expectError(await promise({ invoiceIds: [invoices['EI-PAID']] }), 'BAD_USER_INPUT', 'invoiceIds.0', 'INVOICE_NOT_OPEN');
    expectError(await promise({ amount: 'ten' }), 'BAD_USER_INPUT', 'amount', 'INVALID_AMOUNT');
    expectError(await promise({ amount: '0' }), 'BAD_USER_INPUT', 'amount', 'INVALID_AMOUNT');
    expectError(await promise({ amount: '1.001' }), 'BAD_USER_INPUT', 'amount', 'INVALID_AMOUNT');
    expectError(await promise({ amount: '1000.01' }), 'BAD_USER_INPUT', 'amount', 'EXCEEDS_BALANCE');
    expectError(await promise({ promisedDate: '2026-03-09' }), 'BAD_USER_INPUT', 'promisedDate', 'DATE_IN_PAST');
    expectError(await promise({ promisedDate: '2027-03-09' }), 'BAD_USER_INPUT', 'promisedDate', 'DATE_TOO_FAR');
    expectError(await promise({ contactId: customers['E-B'].contactId }), 'BAD_USER_INPUT', 'contactId', 'UNKNOWN_CONTACT');
    expectError(await promise({ contactId: 'x' }), 'BAD_USER_INPUT', 'contactId', 'UNKNOWN_CONTACT');
    expectError(await t.gql(CreatePromiseToPayDocument, { input: { ...good, channel: 'PIGEON' as never } }), 'BAD_USER_INPUT');
    expectError(await promise({ taskId: randomUUID() } as never), 'NOT_FOUND', 'taskId');

    expectError(await t.gql(CompleteTaskDocument, { id: randomUUID(), input: { outcome: 'REACHED' } }), 'NOT_FOUND', 'id');
    expectError(await t.gql(CompleteTaskDocument, { id: task.id, input: { outcome: 'REACHED', note: 'x'.repeat(2001) } }), 'BAD_USER_INPUT', 'input.note', 'NOTE_TOO_LONG');
    expectError(await t.gql(CompleteTaskDocument, { id: task.id, input: { outcome: 'MAYBE' as never } }), 'BAD_USER_INPUT');
    expectError(await t.gql(SnoozeTaskDocument, { id: task.id, until: '2026-03-10', asOf: '2026-03-10' }), 'BAD_USER_INPUT', 'until', 'INVALID_DATE');
    expectError(await t.gql(SnoozeTaskDocument, { id: task.id, until: '2026-07-10', asOf: '2026-03-10' }), 'BAD_USER_INPUT', 'until', 'INVALID_DATE');
    expectError(await t.gql(SnoozeTaskDocument, { id: task.id, until: '2026-02-30' }), 'BAD_USER_INPUT');
    expectError(await t.gql(AssignTaskDocument, { id: task.id, userId: randomUUID() }), 'NOT_FOUND', 'userId');
    expectError(await t.gql(AssignTaskDocument, { id: task.id, userId: users.ann }), 'BAD_USER_INPUT', 'userId', 'SAME_OWNER');
    expectError(await t.gql(AssignTaskDocument, { id: 'nope', userId: users.bob }), 'NOT_FOUND', 'id');

    const rules = (over: (r: WorklistRulesQuery['worklistRules']) => unknown) => t.gql(SetWorklistRulesDocument, { input: over(JSON.parse(JSON.stringify(rulesBefore))) as never });
    expectError(await rules((r) => ({ scoring: { ...r.scoring, recentPayment: { points: 5, withinDays: -1 } }, assignment: r.assignment })), 'BAD_USER_INPUT', 'scoring.recentPayment.withinDays', 'INVALID_WEIGHT');
    expectError(await rules((r) => ({ scoring: { ...r.scoring, segments: [{ segment: 'a', points: 1 }, { segment: 'A', points: 2 }] }, assignment: r.assignment })), 'BAD_USER_INPUT', 'scoring.segments.1.segment', 'INVALID_RULES');
    expectError(await rules((r) => ({ scoring: r.scoring, assignment: { ...r.assignment, order: [] } })), 'BAD_USER_INPUT', 'assignment.order', 'INVALID_RULES');
    expectError(await rules((r) => ({ scoring: r.scoring, assignment: { ...r.assignment, segmentOwners: [{ segment: 'smb', userId: randomUUID() }] } })), 'BAD_USER_INPUT', 'assignment.segmentOwners.0.userId', 'UNKNOWN_USER');
    expectError(await rules((r) => ({ scoring: r.scoring, assignment: { ...r.assignment, roundRobinUserIds: [users.ann, 'x'] } })), 'BAD_USER_INPUT', 'assignment.roundRobinUserIds.1', 'UNKNOWN_USER');

    expectError(await t.gql(SetPromiseSettingsDocument, { graceDays: 61 }), 'BAD_USER_INPUT', 'graceDays', 'INVALID_GRACE');
    expectError(await t.gql(AddNoteDocument, { input: { customerId: customers['E-A'].id, body: '   ' } }), 'BAD_USER_INPUT', 'input.body');
    expectError(await t.gql(AddNoteDocument, { input: { customerId: randomUUID(), body: 'hello' } }), 'NOT_FOUND', 'input.customerId');
    expectError(await t.gql(AddNoteDocument, { input: { customerId: customers['E-A'].id, invoiceId: invoices['EI-1'], body: 'hello' } }), 'BAD_USER_INPUT', 'input.invoiceId');
    expectError(await t.gql(TimelineDocument, { customerId: customers['E-A'].id, invoiceId: invoices['EI-0'] }), 'BAD_USER_INPUT', 'invoiceId');
    expectError(await t.gql(TimelineDocument, { customerId: customers['E-A'].id, after: 'garbage' }), 'BAD_USER_INPUT', 'after', 'INVALID_CURSOR');
    expectError(await t.gql(WorklistDocument, { collectorId: randomUUID() }), 'NOT_FOUND', 'collectorId');

    expect(await state()).toEqual(before);
    // A promise on an invoice that already has an open one is refused too (the first, made here, is the only change).
    dataOf(await t.gql(CreatePromiseToPayDocument, { input: { ...good, invoiceIds: [invoices['EI-2']], amount: '100.00' } }));
    expectError(await t.gql(CreatePromiseToPayDocument, { input: { ...good, invoiceIds: [invoices['EI-2']] } }), 'BAD_USER_INPUT', 'invoiceIds.0', 'ALREADY_PROMISED');
  });

  it('roles: viewers read, collectors work tasks and record promises, managers set rules and reassign', async () => {
    const viewer = keys.VIEWER.secret;
    const collector = keys.COLLECTOR.secret;
    const [task, other] = await openTasks('ann');
    expect(dataOf(await t.gql(WorklistDocument, { collectorId: users.ann, asOf: '2026-03-10' }, viewer)).worklist.totalCount).toBeGreaterThan(0);
    dataOf(await t.gql(TimelineDocument, { customerId: customers['E-A'].id }, viewer));
    dataOf(await t.gql(WorklistRulesDocument, {}, viewer));
    expectError(await t.gql(CompleteTaskDocument, { id: task.id, input: { outcome: 'REACHED' } }, viewer), 'FORBIDDEN');
    expectError(await t.gql(SnoozeTaskDocument, { id: task.id, until: '2026-03-12', asOf: '2026-03-10' }, viewer), 'FORBIDDEN');
    expectError(await t.gql(AddNoteDocument, { input: { customerId: customers['E-A'].id, body: 'hi' } }, viewer), 'FORBIDDEN');
    expectError(await t.gql(CreatePromiseToPayDocument, { input: { invoiceIds: [invoices['EI-4']], amount: '1.00', promisedDate: '2026-03-20', contactId: customers['E-A'].contactId, channel: 'CALL', asOf: '2026-03-10' } }, viewer), 'FORBIDDEN');
    expectError(await t.gql(AssignTaskDocument, { id: task.id, userId: users.bob }, collector), 'FORBIDDEN');
    const { scoring, assignment } = dataOf(await t.gql(WorklistRulesDocument, {})).worklistRules;
    expectError(await t.gql(SetWorklistRulesDocument, { input: { scoring, assignment } }, collector), 'FORBIDDEN');
    expectError(await t.gql(SetPromiseSettingsDocument, { graceDays: 5 }, collector), 'FORBIDDEN');
    expectError(await t.gql(WorklistDocument, {}, null), 'UNAUTHENTICATED');

    expect(dataOf(await t.gql(CompleteTaskDocument, { id: task.id, input: { outcome: 'VOICEMAIL', asOf: '2026-03-10' } }, collector)).completeTask).toMatchObject({ status: 'DONE', outcome: 'VOICEMAIL' });
    expect(dataOf(await t.gql(SnoozeTaskDocument, { id: other.id, until: '2026-03-12', asOf: '2026-03-10' }, collector)).snoozeTask.status).toBe('SNOOZED');
    expect(dataOf(await t.gql(AddNoteDocument, { input: { customerId: customers['E-A'].id, body: 'left a voicemail', asOf: '2026-03-10' } }, collector)).addNote).toMatchObject({ kind: 'NOTE', onDate: '2026-03-10', actor: keys.COLLECTOR.id });
    expect(dataOf(await t.gql(SetPromiseSettingsDocument, { graceDays: 5 }, keys.MANAGER.secret)).setPromiseSettings.graceDays).toBe(5);
    expectError(await t.gql(CompleteTaskDocument, { id: task.id, input: { outcome: 'REACHED' } }, collector), 'BAD_USER_INPUT', 'id', 'TASK_CLOSED');
  });

  it('worklistChanged reaches a graphql-ws subscriber for its collector only, after commit; a revoked key is cut off', async () => {
    const wsUrl = t.url.replace(/^http/, 'ws');
    const received: Change[] = [];
    const errors: unknown[] = [];
    const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { Authorization: `Bearer ${keys.COLLECTOR.secret}` }, retryAttempts: 0, lazy: true });
    clients.push(client);
    client.subscribe<WorklistChangedSubscription>(
      { query: print(WorklistChangedDocument), variables: { collectorId: users.bob } },
      { next: (v) => (v.errors?.length || !v.data ? errors.push(v.errors ?? v) : received.push(v.data.worklistChanged)), error: (e) => errors.push(e), complete: () => undefined },
    );
    // No "subscribed" acknowledgement: publish markers for Bob until one arrives.
    const markers = new Set<string>();
    await waitFor('the subscription to be live', () => {
      if (received.some((c) => c.taskIds.some((id) => markers.has(id)))) return true;
      const m = randomUUID();
      markers.add(m);
      t.app.pubSub.publish(WORKLIST_CHANGED, { type: WORKLIST_CHANGED, tenantId, payload: { changes: [{ collectorId: users.bob, taskIds: [m], reason: 'MARKER' }] } });
      return false;
    });
    const real = () => received.filter((c) => c.reason !== 'MARKER');

    const annTask = (await openTasks('ann'))[0];
    dataOf(await t.gql(AssignTaskDocument, { id: annTask.id, userId: users.bob, reason: 'cover for Ann' }, keys.MANAGER.secret));
    const assigned = await waitFor('the ASSIGNED change', () => real()[0]);
    expect(assigned).toEqual({ collectorId: users.bob, taskIds: [annTask.id], reason: 'ASSIGNED' });

    // Ann's list changes: Bob's subscriber hears nothing of it.
    const annOther = dataOf(await t.gql(WorklistTasksDocument, { ownerUserId: users.ann, status: 'SNOOZED' })).tasks[0];
    dataOf(await t.gql(CompleteTaskDocument, { id: annOther.id, input: { outcome: 'WRONG_CONTACT' } }, keys.COLLECTOR.secret));
    dataOf(await t.gql(CompleteTaskDocument, { id: annTask.id, input: { outcome: 'PAID' } }, keys.COLLECTOR.secret));
    const completed = await waitFor('the COMPLETED change', () => real()[1]);
    expect(completed).toEqual({ collectorId: users.bob, taskIds: [annTask.id], reason: 'COMPLETED' });
    expect(real()).toHaveLength(2);
    expect(errors).toEqual([]);

    dataOf(await t.gql(RevokeApiKeyDocument, { id: keys.COLLECTOR.id }));
    const bobTask = (await openTasks('bob'))[0];
    dataOf(await t.gql(SnoozeTaskDocument, { id: bobTask.id, until: '2026-03-20', asOf: '2026-03-10' }));
    await waitFor('the revoked subscriber to be refused', () => errors.length > 0);
    expect(JSON.stringify(errors)).toContain('revoked');
    expect(real()).toHaveLength(2);
  });

  it('no N+1: timeline, worklist and promise reliability pages cost the same statements at any size', async () => {
    for (let i = 0; i < 30; i++) dataOf(await t.gql(AddNoteDocument, { input: { customerId: customers['E-C'].id, body: `note ${i}`, asOf: '2026-03-11' } }));
    const count = async <T,>(run: () => Promise<T>) => {
      const c = startGlobalQueryCount();
      const r = await run();
      return { r, n: c.stop().count };
    };
    const tl = async (first: number) => count(async () => dataOf(await t.gql(TimelineDocument, { customerId: customers['E-C'].id, first })).timeline);
    const small = await tl(3);
    const large = await tl(30);
    expect([small.r.nodes.length, large.r.nodes.length]).toEqual([3, 30]);
    expect(large.r.totalCount).toBe(30);
    expect(large.n).toBe(small.n);

    const wl = async (first: number) => count(async () => dataOf(await t.gql(WorklistDocument, { asOf: '2026-03-25', first })).worklist);
    const w1 = await wl(1);
    const w3 = await wl(3);
    expect(w3.r.nodes.length).toBe(3);
    expect(w3.r.nodes.every((n) => n.task.customer && n.task.invoice)).toBe(true);
    expect(w3.n).toBe(w1.n);

    const cs = async (first: number) => count(async () => dataOf(await t.gql(CustomersPromiseReliabilityDocument, { first })).customers);
    const c1 = await cs(1);
    const c3 = await cs(3);
    expect(c3.r.nodes.map((n) => n.promiseReliability.broken).sort()).toEqual([0, 3, 3]);
    expect(c3.n).toBe(c1.n);
  });
});
