import { systemActor } from '../../src/platform/auth/roles';
import { RequestContext } from '../../src/platform/context';
import { QueueName } from '../../src/platform/queue/queue-names';
import { addDays, todayIn } from '../../src/platform/time/dates';
import { DispatchService } from '../../src/modules/actions/dispatch.service';
import { HookRegistry, RecordingConnector } from '../../src/modules/actions/connectors';
import { TierActionExecutor } from '../../src/modules/actions/tier-action-executor';
import { DunningJobs } from '../../src/modules/engine/jobs/dunning.jobs';
import { PermanentSendError } from '../../src/modules/outreach/channels/send-errors';
import { MessageTransport } from '../../src/modules/outreach/outreach.enums';
import {
  ActionsDocument,
  AssignDunningPolicyDocument,
  CreateDunningPolicyDocument,
  EvaluationRunsDocument,
  PublishDunningPolicyDocument,
  UpsertCustomersDocument,
  UpsertEntitiesDocument,
  UpsertInvoicesDocument,
} from '../generated/graphql';
import * as fx from '../support/fixtures';
import { typicalPolicy } from '../support/policies';
import { dataOf, startTestApp, type TestApp } from '../support/test-app';
import { waitFor } from '../support/wait';

/** The scheduler for real: BullMQ workers (Redis or PostgreSQL), events, hooks, failures. */
describe('dunning jobs and dispatch (workers running)', () => {
  let t: TestApp;
  let ctx: RequestContext;
  let today: string;
  const customerIds: Record<string, string> = {};

  beforeAll(async () => {
    t = await startTestApp({ runWorkers: true, env: { EVALUATION_HOUR: '0' } });
    const tenantId = (await t.app.dataSource.query('SELECT id FROM tenants LIMIT 1'))[0].id;
    ctx = new RequestContext(tenantId, systemActor(tenantId, 'test'), t.app.dataSource.manager, 'test', t.app.logger);
    today = todayIn('America/New_York');
    dataOf(await t.gql(UpsertEntitiesDocument, { input: fx.entities }));
    const customers = ['EVT', 'HOOK-NO', 'HOOK-YES', 'FAIL', 'DE'].map((id) => ({
      externalId: id,
      name: `Customer ${id}`,
      entityCode: 'US01',
      currency: 'USD',
      locale: id === 'DE' ? 'de' : 'en',
      contacts: [{ name: `AP ${id}`, email: `ap-${id.toLowerCase()}@example.com` }],
    }));
    dataOf(await t.gql(UpsertCustomersDocument, { input: customers })).upsertCustomers.results.forEach((r) => (customerIds[r.externalId] = r.customer!.id));
    const policy = dataOf(await t.gql(CreateDunningPolicyDocument, { input: { name: 'Standard', definition: typicalPolicy } })).createDunningPolicy.policy!;
    dataOf(await t.gql(PublishDunningPolicyDocument, { policyId: policy.id, effectiveFrom: '2020-01-01' }));
    dataOf(await t.gql(AssignDunningPolicyDocument, { policyId: policy.id, scope: 'GLOBAL' }));
  });
  afterAll(async () => {
    if (t && t.app.queues.backend === 'redis') {
      for (const q of [QueueName.DUNNING, QueueName.MAINTENANCE]) await t.app.queues.queue(q).obliterate({ force: true });
    }
    await t?.stop();
  });

  it('registers the daily evaluation and the dispatcher schedulers', async () => {
    const ids = (await t.app.queues.queue(QueueName.DUNNING).getJobSchedulers()).map((s) => s.key ?? s.id);
    expect(ids).toEqual(expect.arrayContaining(['dunning-daily-evaluation', 'dunning-dispatch']));
  });

  it('an invoice synced late is evaluated and its reminder sent right after the sync, by the workers', async () => {
    const issueDate = addDays(today, -54); // net 30: due 24 days ago
    dataOf(await t.gql(UpsertInvoicesDocument, { input: [{ externalId: 'EVT-1', customerExternalId: 'EVT', number: 'EVT-1', issueDate, currency: 'USD', total: '800.00', terms: { kind: 'NET', days: 30 } }] }));
    const sent = await waitFor('the event-driven reminder to be sent', async () => {
      const nodes = dataOf(await t.gql(ActionsDocument, { filter: { customerId: customerIds.EVT } })).actions.nodes;
      return nodes.find((a) => a.status === 'SENT');
    });
    expect(sent).toMatchObject({ stepKey: 'escalation-21', scheduledFor: today });
    const runs = dataOf(await t.gql(EvaluationRunsDocument, { limit: 50 })).evaluationRuns;
    expect(runs.some((r) => r.trigger === 'EVENT' && r.status === 'DONE')).toBe(true);
  });

  it('the daily fan-out evaluates each tenant once a day in batches, then dispatches', async () => {
    await t.app.queues.enqueue(QueueName.DUNNING, DunningJobs.DAILY_FANOUT, {});
    const run = await waitFor('a DAILY run to finish', async () => {
      const runs = dataOf(await t.gql(EvaluationRunsDocument, { limit: 50 })).evaluationRuns;
      return runs.find((r) => r.trigger === 'DAILY' && r.status === 'DONE');
    });
    expect(run.asOf).toBe(today);
    // A second fan-out the same day adds no second run (job id per tenant and day).
    await t.app.queues.enqueue(QueueName.DUNNING, DunningJobs.DAILY_FANOUT, {});
    await new Promise((r) => setTimeout(r, 1500));
    const daily = dataOf(await t.gql(EvaluationRunsDocument, { limit: 50 })).evaluationRuns.filter((r) => r.trigger === 'DAILY');
    expect(daily).toHaveLength(1);
  });

  it('a before hook can veto a credit hold; an approved one holds the account and writes back to the ERP once', async () => {
    const { hooks } = t.app.modules.services;
    hooks.register('credit-insurance', async (_c, input) => (input.customerId === customerIds['HOOK-NO'] ? { proceed: false, reason: 'insured: insurer handles collection' } : { proceed: true }));
    const def = { steps: [{ key: 'due', offsetDays: 0, channels: ['EMAIL'], templateKey: 'due-today' }], tiers: [{ level: 3, name: 'Hold', entry: [{ minDaysPastDue: 30 }], actions: [{ type: 'CREDIT_HOLD', hooks: { before: ['credit-insurance'] } }] }] };
    const p = dataOf(await t.gql(CreateDunningPolicyDocument, { input: { name: 'Hold with insurance check', definition: def } })).createDunningPolicy.policy!;
    dataOf(await t.gql(PublishDunningPolicyDocument, { policyId: p.id, effectiveFrom: '2020-01-01' }));
    for (const c of ['HOOK-NO', 'HOOK-YES']) dataOf(await t.gql(AssignDunningPolicyDocument, { policyId: p.id, scope: 'CUSTOMER', value: customerIds[c] }));
    const issueDate = addDays(today, -70);
    dataOf(
      await t.gql(UpsertInvoicesDocument, {
        input: ['HOOK-NO', 'HOOK-YES'].map((c) => ({ externalId: `${c}-1`, customerExternalId: c, number: `${c}-1`, issueDate, currency: 'USD', total: '500.00', terms: { kind: 'NET' as const, days: 30 } })),
      }),
    );
    const settled = async (c: string) =>
      waitFor(`the ${c} credit hold action to settle`, async () => {
        const a = dataOf(await t.gql(ActionsDocument, { filter: { customerId: customerIds[c], kind: 'TIER_ENTRY' } })).actions.nodes[0];
        return a && a.status !== 'PLANNED' ? a : null;
      });
    expect(await settled('HOOK-NO')).toMatchObject({ status: 'SUPPRESSED', statusReason: 'insured: insurer handles collection' });
    expect(await settled('HOOK-YES')).toMatchObject({ status: 'SENT', actionType: 'CREDIT_HOLD' });
    const holds = await t.app.dataSource.query(`SELECT external_id, credit_hold FROM customers WHERE external_id LIKE 'HOOK-%' ORDER BY external_id`);
    expect(holds).toEqual([
      { external_id: 'HOOK-NO', credit_hold: false },
      { external_id: 'HOOK-YES', credit_hold: true },
    ]);
    const calls = await t.app.dataSource.query(`SELECT connector, operation, payload FROM connector_calls`);
    expect(calls).toEqual([{ connector: 'erp', operation: 'customer.credit_hold', payload: { customerId: customerIds['HOOK-YES'], creditHold: true } }]);
  });

  it('messages go out in the customer\'s language', async () => {
    dataOf(await t.gql(UpsertInvoicesDocument, { input: [{ externalId: 'DE-1', customerExternalId: 'DE', number: 'DE-1', issueDate: addDays(today, -33), currency: 'USD', total: '100.00', terms: { kind: 'NET', days: 30 } }] }));
    const mail = await waitFor('the German reminder', async () => (await t.app.dataSource.query(`SELECT subject, body FROM outbound_messages WHERE customer_id = $1 AND channel = 'EMAIL'`, [customerIds.DE]))[0]);
    const [en] = await t.app.dataSource.query(`SELECT subject FROM outbound_messages WHERE customer_id = $1 AND channel = 'EMAIL'`, [customerIds.EVT]);
    expect(mail.subject).not.toBe(en.subject);
    expect(`${mail.subject} ${mail.body}`).toMatch(/Rechnung/);
  });

  it('failed sends retry with backoff, and a permanent failure becomes a task for a person', async () => {
    const issueDate = addDays(today, -33);
    // Evaluate without the workers' dispatcher getting there first: a dedicated failing dispatcher.
    await t.app.queues.queue(QueueName.DUNNING).pause();
    try {
      dataOf(await t.gql(UpsertInvoicesDocument, { input: [{ externalId: 'FAIL-1', customerExternalId: 'FAIL', number: 'FAIL-1', issueDate, currency: 'USD', total: '100.00', terms: { kind: 'NET', days: 30 } }] }));
      await t.app.modules.services.evaluation.run(ctx, { asOf: today, trigger: 'MANUAL', customerIds: [customerIds.FAIL] });
      const [action] = await t.app.dataSource.query(`SELECT id FROM actions WHERE customer_id = $1`, [customerIds.FAIL]);
      const tiers = new TierActionExecutor(new HookRegistry(), new RecordingConnector('erp'), new RecordingConnector('crm'), t.app.modules.services.audit, async () => undefined);
      let fail: Error = new Error('SMTP timeout');
      const flaky = new DispatchService(
        { render: async () => ({ subject: 's', body: 'b' }), send: async () => Promise.reject(fail), isRetryable: (e) => !(e instanceof PermanentSendError) },
        tiers,
        { buildModel: async () => ({ sender: { email: 'billing@example.com' } }) },
      );
      expect(await flaky.dispatchOne(ctx, action.id, today)).toBe('PLANNED');
      const [after1] = await t.app.dataSource.query(`SELECT status, attempts, last_error, next_attempt_at > now() AS later FROM actions WHERE id = $1`, [action.id]);
      expect(after1).toEqual({ status: 'PLANNED', attempts: 1, last_error: 'SMTP timeout', later: true });
      // Not due again until the backoff passes.
      expect((await flaky.dispatchDue(ctx, today)).retrying).toBe(0);
      fail = new PermanentSendError('550 mailbox unavailable', MessageTransport.SMTP);
      await t.app.dataSource.query(`UPDATE actions SET next_attempt_at = now() - interval '1 second' WHERE id = $1`, [action.id]);
      expect(await flaky.dispatchOne(ctx, action.id, today)).toBe('FAILED');
      const [task] = await t.app.dataSource.query(`SELECT reason_code, next_action FROM tasks WHERE customer_id = $1`, [customerIds.FAIL]);
      expect(task.reason_code).toBe('SEND_FAILED');
      expect(task.next_action).toMatch(/550 mailbox unavailable/);
      expect((await t.app.dataSource.query(`SELECT count(*)::int AS n FROM outbound_messages WHERE action_id = $1`, [action.id]))[0].n).toBe(0);
    } finally {
      await t.app.queues.queue(QueueName.DUNNING).resume();
    }
  });
});
