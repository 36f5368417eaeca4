import {
  ActionsDocument,
  ApproveActionDocument,
  AssignDunningPolicyDocument,
  CreateApiKeyDocument,
  CreateDunningPolicyDocument,
  DunningPolicyDocument,
  UpdateDunningPolicyDraftDocument,
  DispatchActionsDocument,
  EffectivePolicyDocument,
  OpenDisputeDocument,
  PauseDunningDocument,
  PreviewDunningPolicyDocument,
  PublishDunningPolicyDocument,
  RejectActionDocument,
  ResumeDunningDocument,
  RunEvaluationDocument,
  TasksDocument,
  UpsertCustomersDocument,
  UpsertEntitiesDocument,
  UpsertInvoicesDocument,
  type UpsertCustomerInput,
  type UpsertInvoiceInput,
} from '../generated/graphql';
import { systemActor } from '../../src/platform/auth/roles';
import { RequestContext } from '../../src/platform/context';
import * as fx from '../support/fixtures';
import { dataOf, startTestApp, type TestApp } from '../support/test-app';
import { typicalPolicy } from '../support/policies';

const cust = (externalId: string, p: Partial<UpsertCustomerInput> = {}): UpsertCustomerInput => ({
  externalId,
  name: `Customer ${externalId}`,
  entityCode: 'US01',
  currency: 'USD',
  segment: 'smb',
  contacts: [{ name: `AP ${externalId}`, email: `ap-${externalId.toLowerCase()}@example.com` }],
  ...p,
});
const inv = (externalId: string, customerExternalId: string, p: Partial<UpsertInvoiceInput> = {}): UpsertInvoiceInput => ({
  externalId,
  customerExternalId,
  number: externalId,
  issueDate: '2026-01-01',
  currency: 'USD',
  total: '3000.00',
  terms: { kind: 'NET', days: 30 },
  ...p,
});

describe('dunning rules through the API', () => {
  let t: TestApp;
  let standardId: string;
  const ids: Record<string, string> = {};

  const day = async (asOf: string) => {
    dataOf(await t.gql(RunEvaluationDocument, { asOf }));
    return dataOf(await t.gql(DispatchActionsDocument, { asOf })).dispatchActions;
  };
  const actionsOf = async (customerExternalId: string) =>
    dataOf(await t.gql(ActionsDocument, { filter: { customerId: ids[customerExternalId] } })).actions.nodes.sort((a, b) => a.scheduledFor.localeCompare(b.scheduledFor));

  beforeAll(async () => {
    t = await startTestApp();
    dataOf(await t.gql(UpsertEntitiesDocument, { input: fx.entities }));
    const customers = [
      cust('STRAT', { segment: 'enterprise', tier: 'strategic' }),
      cust('SMB'),
      cust('CHRONIC'),
      cust('FIRST'),
      cust('EXCL'),
      cust('PAUSED'),
      cust('SEG', { segment: 'mid-market' }),
    ];
    const r = dataOf(await t.gql(UpsertCustomersDocument, { input: customers })).upsertCustomers;
    r.results.forEach((x) => (ids[x.externalId] = x.customer!.id));
    const created = dataOf(await t.gql(CreateDunningPolicyDocument, { input: { name: 'Standard', definition: typicalPolicy } })).createDunningPolicy;
    standardId = created.policy!.id;
    dataOf(await t.gql(PublishDunningPolicyDocument, { policyId: standardId, effectiveFrom: '2025-01-01' }));
    dataOf(await t.gql(AssignDunningPolicyDocument, { policyId: standardId, scope: 'GLOBAL' }));
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('refuses a bad policy with field-level errors and saves nothing', async () => {
    const bad = dataOf(
      await t.gql(CreateDunningPolicyDocument, {
        input: {
          name: 'Broken',
          definition: {
            steps: [
              { key: 'b', offsetDays: 10, channels: ['EMAIL'], templateKey: 'overdue-firm' },
              { key: 'a', offsetDays: 3, channels: ['FAX'], templateKey: 'overdue-friendly' },
            ],
          },
        },
      }),
    ).createDunningPolicy;
    expect(bad.policy).toBeNull();
    expect(bad.errors.map((e) => [e.field, e.code])).toEqual([['definition.steps.1.channels.0', 'INVALID_DEFINITION']]);
    const unordered = dataOf(
      await t.gql(CreateDunningPolicyDocument, {
        input: {
          name: 'Broken 3',
          definition: {
            steps: [
              { key: 'b', offsetDays: 10, channels: ['EMAIL'], templateKey: 'overdue-firm' },
              { key: 'a', offsetDays: 3, channels: ['EMAIL'], templateKey: 'overdue-friendly' },
            ],
          },
        },
      }),
    ).createDunningPolicy;
    expect(unordered.errors).toEqual([expect.objectContaining({ field: 'definition.steps.1.offsetDays', message: 'steps must be in increasing offset order: 3 follows 10' })]);
    const unknownTemplate = dataOf(
      await t.gql(CreateDunningPolicyDocument, { input: { name: 'Broken 2', definition: { steps: [{ key: 'x', offsetDays: 1, channels: ['EMAIL'], templateKey: 'no-such-template' }] } } }),
    ).createDunningPolicy;
    expect(unknownTemplate.errors).toEqual([expect.objectContaining({ field: 'definition.steps.0.templateKey', code: 'UNKNOWN_TEMPLATE' })]);
    const empty = dataOf(await t.gql(CreateDunningPolicyDocument, { input: { name: 'Empty', definition: { steps: [] } } })).createDunningPolicy;
    expect(empty.errors[0]).toMatchObject({ field: 'definition.steps', message: 'a policy needs at least one step' });
    const [{ n }] = await t.app.dataSource.query(`SELECT count(*)::int AS n FROM dunning_policies WHERE name LIKE 'Broken%' OR name = 'Empty'`);
    expect(n).toBe(0);
  });

  it('the most specific assignment wins, and says why', async () => {
    const seg = dataOf(await t.gql(CreateDunningPolicyDocument, { input: { name: 'Mid-market', definition: { steps: [{ key: 'gentle', offsetDays: 5, channels: ['EMAIL'], templateKey: 'overdue-friendly' }] } } })).createDunningPolicy.policy!;
    dataOf(await t.gql(PublishDunningPolicyDocument, { policyId: seg.id, effectiveFrom: '2025-01-01' }));
    dataOf(await t.gql(AssignDunningPolicyDocument, { policyId: seg.id, scope: 'SEGMENT', value: 'mid-market' }));
    const e = dataOf(await t.gql(EffectivePolicyDocument, { customerId: ids.SEG, asOf: '2026-02-01' })).effectivePolicy!;
    expect(e).toMatchObject({ policy: { name: 'Mid-market' }, assignment: { scope: 'SEGMENT', scopeValue: 'mid-market' } });
    expect(e.reason).toMatch(/segment = mid-market is the most specific assignment.*also matched: global default/);
    const g = dataOf(await t.gql(EffectivePolicyDocument, { customerId: ids.SMB, asOf: '2026-02-01' })).effectivePolicy!;
    expect(g).toMatchObject({ policy: { name: 'Standard' }, assignment: { scope: 'GLOBAL' } });
  });

  it('a $200K strategic invoice with a prior dispute reaches tier 2 at 7 days; a $3K clean SMB invoice stays automated past 30', async () => {
    const r = dataOf(
      await t.gql(UpsertInvoicesDocument, {
        input: [inv('OLD-STRAT', 'STRAT', { issueDate: '2025-06-01', total: '500.00', terms: { kind: 'NET', days: 30 } }), inv('BIG', 'STRAT', { total: '200000.00' }), inv('SMALL', 'SMB')],
      }),
    ).upsertInvoices.results;
    // A dispute earlier in the year, since resolved.
    const d = dataOf(await t.gql(OpenDisputeDocument, { input: { invoiceId: r[0].invoice!.id, reasonCode: 'PRICING' } })).openDispute;
    await t.app.dataSource.query(`UPDATE disputes SET status = 'RESOLVED', resolved_at = now(), opened_at = '2026-01-15' WHERE id = $1`, [d.id]);
    await t.app.dataSource.query(`UPDATE invoices SET status = 'PAID', open_balance_minor = 0, closed_on = '2026-01-20' WHERE external_id = 'OLD-STRAT'`);
    await day('2026-02-06'); // BIG is 6 days late: tier 1
    expect((await actionsOf('STRAT')).filter((a) => a.kind === 'TIER_ENTRY')).toEqual([]);
    await day('2026-02-07'); // 7 days: tier 2
    const tierActions = (await actionsOf('STRAT')).filter((a) => a.kind === 'TIER_ENTRY').sort((a, b) => a.actionType!.localeCompare(b.actionType!));
    expect(tierActions.map((a) => [a.tier, a.actionType, a.status])).toEqual([
      [2, 'ASSIGN_COLLECTOR', 'SENT'],
      [2, 'CREATE_TASK', 'SENT'],
    ]);
    expect(tierActions[0].reason.rule).toBe('tier:2 "Personal outreach" entry group 2');
    expect(tierActions[0].reason.facts).toMatchObject({ customerTier: 'strategic', disputes: 1, maxDaysPastDue: 7 });
    const tasks = dataOf(await t.gql(TasksDocument, { customerId: ids.STRAT })).tasks;
    // (The dispute's own follow-up task, closed behind the API above, is not the tier's.)
    expect(tasks.filter((x) => x.reasonCode !== 'DISPUTE_FOLLOW_UP')).toEqual([expect.objectContaining({ reasonCode: 'TIER_2', nextAction: 'Call the AP contact', status: 'OPEN' })]);
    // People took over: no more automated reminders for BIG.
    await day('2026-02-10');
    const stepsAfter = (await actionsOf('STRAT')).filter((a) => a.kind === 'STEP' && a.scheduledFor >= '2026-02-07');
    expect(stepsAfter).toEqual([]);
    // The small SMB invoice: reminders continue, no tier actions, past 30 days.
    for (const asOf of ['2026-02-03', '2026-02-10', '2026-02-21', '2026-03-02', '2026-03-05']) await day(asOf);
    const smb = await actionsOf('SMB');
    expect(smb.filter((a) => a.kind === 'TIER_ENTRY')).toEqual([]);
    expect(smb.filter((a) => a.status === 'SENT').map((a) => a.stepKey)).toEqual(['overdue-3', 'overdue-10', 'escalation-21', 'hold-30']);
  });

  it('a chronic-late customer gets the firmer cadence from day one', async () => {
    const behaviour = dataOf(
      await t.gql(CreateDunningPolicyDocument, {
        input: {
          name: 'By behaviour',
          definition: {
            steps: [
              { key: 'firm-on-due', offsetDays: 0, channels: ['EMAIL'], templateKey: 'overdue-firm', tone: 'FIRM', conditions: { behaviour: 'CHRONIC_LATE' } },
              { key: 'friendly-3', offsetDays: 3, channels: ['EMAIL'], templateKey: 'overdue-friendly', conditions: { behaviour: 'FIRST_TIME_LATE' } },
            ],
          },
        },
      }),
    ).createDunningPolicy.policy!;
    dataOf(await t.gql(PublishDunningPolicyDocument, { policyId: behaviour.id, effectiveFrom: '2025-01-01' }));
    for (const c of ['CHRONIC', 'FIRST']) dataOf(await t.gql(AssignDunningPolicyDocument, { policyId: behaviour.id, scope: 'CUSTOMER', value: ids[c] }));
    // CHRONIC paid three invoices late last year; FIRST never was late.
    dataOf(
      await t.gql(UpsertInvoicesDocument, {
        input: [
          ...[1, 2, 3].map((n) => inv(`CH-OLD-${n}`, 'CHRONIC', { issueDate: `2025-0${n + 3}-01`, openBalance: '0.00' })),
          inv('CH-NEW', 'CHRONIC', { issueDate: '2026-03-01' }),
          inv('FT-NEW', 'FIRST', { issueDate: '2026-03-01' }),
        ],
      }),
    );
    await t.app.dataSource.query(`UPDATE invoices SET closed_on = due_date + 40 WHERE external_id LIKE 'CH-OLD-%'`);
    for (const asOf of ['2026-03-31', '2026-04-01', '2026-04-02', '2026-04-03']) await day(asOf);
    expect((await actionsOf('CHRONIC')).map((a) => [a.scheduledFor, a.stepKey])).toEqual([['2026-03-31', 'firm-on-due']]);
    expect((await actionsOf('FIRST')).map((a) => [a.scheduledFor, a.stepKey])).toEqual([['2026-04-03', 'friendly-3']]);
  });

  it('an excluded account waits for a person: approve with an edit, or reject; collectors cannot approve', async () => {
    dataOf(await t.gql(PauseDunningDocument, { input: { customerId: ids.EXCL, kind: 'EXCLUSION', reason: 'Key account: CFO handles it' } }));
    dataOf(await t.gql(UpsertInvoicesDocument, { input: [inv('EX-1', 'EXCL', { issueDate: '2026-05-01' }), inv('EX-2', 'EXCL', { issueDate: '2026-05-01', number: 'EX-2' })] }));
    expect(await day('2026-06-03')).toMatchObject({ sent: 0 });
    const waiting = await actionsOf('EXCL');
    expect(waiting.map((a) => a.status)).toEqual(['AWAITING_APPROVAL', 'AWAITING_APPROVAL']);
    const packet = waiting[0].packet as { exceptionReason: string; draft: { subject: string; body: string }; invoices: unknown[] };
    expect(packet.exceptionReason).toMatch(/excluded from automation: Key account/);
    expect(packet.draft.subject.length).toBeGreaterThan(5);
    expect(packet.invoices).toHaveLength(2);
    const collector = dataOf(await t.gql(CreateApiKeyDocument, { input: { name: 'c', role: 'COLLECTOR' } })).createApiKey.secret;
    expect((await t.gql(ApproveActionDocument, { id: waiting[0].id }, collector)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    dataOf(await t.gql(ApproveActionDocument, { id: waiting[0].id, input: { subject: 'A personal note about your invoice' } }));
    dataOf(await t.gql(RejectActionDocument, { id: waiting[1].id, reason: 'Already discussed by phone' }));
    expect(await day('2026-06-03')).toMatchObject({ sent: 1 });
    const [mail] = await t.app.dataSource.query(`SELECT subject FROM outbound_messages WHERE action_id = $1 AND channel = 'EMAIL'`, [waiting[0].id]);
    expect(mail.subject).toBe('A personal note about your invoice');
    expect((await t.app.dataSource.query(`SELECT count(*)::int AS n FROM outbound_messages WHERE action_id = $1`, [waiting[1].id]))[0].n).toBe(0);
    // The next step's packet shows the outreach so far: the approved reminder, sent; not the rejected one.
    await day('2026-06-10');
    const next = (await actionsOf('EXCL')).filter((a) => a.status === 'AWAITING_APPROVAL');
    expect(next.length).toBeGreaterThan(0);
    const prior = (next[0].packet as { priorOutreach: { step: string; status: string }[] }).priorOutreach;
    expect(prior.filter((p) => p.status === 'SENT').map((p) => p.step)).toEqual([waiting[0].stepKey]);
    expect(prior.some((p) => p.status === 'REJECTED')).toBe(false);
  });

  it('a paused customer gets nothing until resumed, then only the step now due', async () => {
    dataOf(await t.gql(UpsertInvoicesDocument, { input: [inv('PA-1', 'PAUSED', { issueDate: '2026-07-01' })] })); // due 07-31
    dataOf(await t.gql(PauseDunningDocument, { input: { customerId: ids.PAUSED, reason: 'Merger in progress', until: '2026-08-20' } }));
    for (const asOf of ['2026-08-03', '2026-08-10', '2026-08-20']) await day(asOf);
    expect(await actionsOf('PAUSED')).toEqual([]);
    expect(dataOf(await t.gql(ResumeDunningDocument, { customerId: ids.PAUSED })).resumeDunning).toBe(true);
    await day('2026-08-22');
    expect((await actionsOf('PAUSED')).map((a) => [a.stepKey, a.status])).toEqual([['escalation-21', 'SENT']]);
  });

  it('versions: a draft goes live from its effective date, older versions stay, and publishing an old one rolls back', async () => {
    const p = dataOf(await t.gql(CreateDunningPolicyDocument, { input: { name: 'Versioned', definition: { steps: [{ key: 'v1-step', offsetDays: 1, channels: ['EMAIL'], templateKey: 'overdue-friendly' }] } } })).createDunningPolicy;
    const v1 = dataOf(await t.gql(PublishDunningPolicyDocument, { policyId: p.policy!.id, effectiveFrom: '2026-01-01' })).publishDunningPolicy.version;
    const draft = dataOf(await t.gql(UpdateDunningPolicyDraftDocument, { policyId: p.policy!.id, input: { definition: { steps: [{ key: 'v2-step', offsetDays: 2, channels: ['EMAIL', 'CALL_TASK'], templateKey: 'overdue-firm' }] } } })).updateDunningPolicyDraft;
    expect(draft.version).toMatchObject({ version: 2, status: 'DRAFT' });
    dataOf(await t.gql(PublishDunningPolicyDocument, { policyId: p.policy!.id, effectiveFrom: '2026-03-01' }));
    const live = async (asOf: string) => dataOf(await t.gql(DunningPolicyDocument, { id: p.policy!.id, asOf })).dunningPolicy!;
    expect((await live('2026-02-15')).liveVersion?.version).toBe(1);
    const after = await live('2026-03-02');
    expect(after.liveVersion?.version).toBe(2);
    expect(after.versions.map((v) => [v.version, v.status])).toEqual([
      [2, 'PUBLISHED'],
      [1, 'RETIRED'],
    ]);
    dataOf(await t.gql(PublishDunningPolicyDocument, { policyId: p.policy!.id, versionId: v1.id, effectiveFrom: '2026-04-01' }));
    expect((await live('2026-04-02')).liveVersion?.version).toBe(1);
    expect((await live('2026-03-15')).liveVersion?.version).toBe(2);
    // A call step becomes a task for the account's collector.
    dataOf(await t.gql(AssignDunningPolicyDocument, { policyId: p.policy!.id, scope: 'CUSTOMER', value: ids.SEG }));
    dataOf(await t.gql(UpsertInvoicesDocument, { input: [inv('CALL-1', 'SEG', { issueDate: '2026-02-01' })] })); // due 03-03
    await day('2026-03-05');
    expect((await actionsOf('SEG')).map((a) => [a.stepKey, a.channels, a.status])).toEqual([['v2-step', ['EMAIL', 'CALL_TASK'], 'SENT']]);
    expect(dataOf(await t.gql(TasksDocument, { customerId: ids.SEG })).tasks).toEqual([expect.objectContaining({ reasonCode: 'CALL_STEP', nextAction: expect.stringMatching(/^Call AP SEG about invoice CALL-1/) })]);
  });

  it('previews an unsaved policy over the real book without writing anything', async () => {
    const before = (await t.app.dataSource.query('SELECT count(*)::int AS n FROM actions'))[0].n;
    const gentle = { ...typicalPolicy, steps: typicalPolicy.steps.map((s) => (s.key === 'overdue-3' ? { ...s, offsetDays: 5 } : s)) };
    const p = dataOf(await t.gql(PreviewDunningPolicyDocument, { input: { policyId: standardId, definition: gentle, asOf: '2026-09-10', limit: 50 } })).previewDunningPolicy;
    expect(p.problems).toEqual([]);
    expect(p.customersEvaluated).toBeGreaterThan(0);
    expect(p.items.every((i) => typeof i.rule === 'string' && i.rule.length > 0)).toBe(true);
    expect(typeof p.candidate).toBe('object');
    expect((await t.app.dataSource.query('SELECT count(*)::int AS n FROM actions'))[0].n).toBe(before);
  });

  it('a worker killed mid-run and restarted sends nothing twice and misses nothing', async () => {
    const { evaluation, dispatch } = t.app.modules.services;
    const tenantId = (await t.app.dataSource.query('SELECT id FROM tenants ORDER BY created_at LIMIT 1'))[0].id;
    const ctx = new RequestContext(tenantId, systemActor(tenantId, 'test'), t.app.dataSource.manager, 'crash-test', t.app.logger);
    const asOf = '2026-10-15';
    const batches = await evaluation.customerBatches(ctx, 2); // small batches: several jobs
    expect(batches.length).toBeGreaterThan(1);
    const runId = await evaluation.startRun(ctx, asOf, 'DAILY', batches.length);
    // First worker: evaluates the first batch, then dies before its job is acknowledged.
    await evaluation.evaluateBatch(ctx, { runId, batchNo: 0, asOf, customerIds: batches[0] });
    // BullMQ redelivers every unacknowledged job to the restarted worker, the first one again.
    for (const [batchNo, customerIds] of batches.entries()) await evaluation.evaluateBatch(ctx, { runId, batchNo, asOf, customerIds });
    const [run] = await t.app.dataSource.query(`SELECT status, customers, pending_batches FROM evaluation_runs WHERE id = $1`, [runId]);
    expect(run).toMatchObject({ status: 'DONE', pending_batches: 0 });
    expect(run.customers).toBe(batches.flat().length);
    // A clean rerun finds nothing new: nothing was missed.
    const again = await evaluation.run(ctx, { asOf, trigger: 'MANUAL' });
    expect(again.actionsCreated).toBe(0);
    // Dispatch dies after sending one action, restarts: each action's message exists once.
    const due = (await t.app.dataSource.query(`SELECT id FROM actions WHERE status = 'PLANNED' AND scheduled_for <= $1`, [asOf])) as { id: string }[];
    if (due.length) await dispatch.dispatchOne(ctx, due[0].id, asOf);
    await dispatch.dispatchDue(ctx, asOf);
    await dispatch.dispatchDue(ctx, asOf);
    const dupes = await t.app.dataSource.query(`SELECT action_id, channel, count(*)::int AS n FROM outbound_messages WHERE action_id IS NOT NULL GROUP BY 1, 2 HAVING count(*) > 1`);
    expect(dupes).toEqual([]);
    expect((await t.app.dataSource.query(`SELECT count(*)::int AS n FROM actions WHERE status = 'PLANNED' AND scheduled_for <= $1`, [asOf]))[0].n).toBe(0);
  });
});
