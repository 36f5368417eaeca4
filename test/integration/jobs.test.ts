import { QueueName } from '../../src/platform/queue/queue-names';
import { TENANT_HEARTBEAT_FANOUT } from '../../src/modules/tenants/jobs/tenant-heartbeat.job';
import { CreateTenantDocument, MeDocument } from '../generated/graphql';
import { dataOf, startTestApp, type TestApp } from '../support/test-app';
import { waitFor } from '../support/wait';

/**
 * The queue runs for real (BullMQ on Redis when REDIS_URL is set, else on PostgreSQL): the
 * nightly scheduler is registered, and the heartbeat fan-out reaches every tenant.
 */

describe('jobs (workers running)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ runWorkers: true });
  });
  afterAll(async () => {
    // The test database is dropped after the run; Redis keys under this run's prefix are not.
    if (t && t.app.queues.backend === 'redis') await t.app.queues.queue(QueueName.MAINTENANCE).obliterate({ force: true });
    await t?.stop();
  });

  it('uses BullMQ on Redis when REDIS_URL is set, else on PostgreSQL', async () => {
    expect(t.app.queues.backend).toBe(process.env.REDIS_URL ? 'redis' : 'postgres');
    expect(await t.app.queues.ping()).toBe(true);
  });

  it('registers the nightly-tenant-heartbeat job scheduler at 02:00 UTC', async () => {
    const schedulers = await t.app.queues.queue(QueueName.MAINTENANCE).getJobSchedulers();
    const nightly = schedulers.find((s) => s.key === 'nightly-tenant-heartbeat' || s.id === 'nightly-tenant-heartbeat');
    expect(nightly).toBeDefined();
    expect(nightly).toMatchObject({ pattern: '0 2 * * *', tz: 'UTC', name: TENANT_HEARTBEAT_FANOUT });
    expect(nightly!.next).toBeGreaterThan(Date.now());
    expect(new Date(nightly!.next!).getUTCHours()).toBe(2);
  });

  it('the heartbeat fan-out marks every tenant', async () => {
    const created = dataOf(await t.gql(CreateTenantDocument, { input: { name: 'Second Co', timezone: 'Europe/Paris', functionalCurrency: 'EUR' } })).createTenant;
    const keys = [t.adminKey, created.adminKey.secret];
    const tenants = await Promise.all(keys.map(async (k) => dataOf(await t.gql(MeDocument, {}, k)).me.tenant));
    expect(new Set(tenants.map((x) => x.id)).size).toBe(2);
    expect(tenants.map((x) => x.lastHeartbeatAt)).toEqual([null, null]);

    const jobId = await t.app.queues.enqueue(QueueName.MAINTENANCE, TENANT_HEARTBEAT_FANOUT, {});
    expect(jobId).toBeTruthy();

    const beats = await waitFor('a heartbeat on both tenants', async () => {
      const now = await Promise.all(keys.map(async (k) => dataOf(await t.gql(MeDocument, {}, k)).me.tenant.lastHeartbeatAt as string | null));
      return now.every(Boolean) && (now as string[]);
    });
    for (const at of beats) expect(Number.isNaN(new Date(at).getTime())).toBe(false);
    const result = await waitFor('the fan-out job to complete', async () => {
      const job = await t.app.queues.queue(QueueName.MAINTENANCE).getJob(jobId!);
      return job?.finishedOn ? { returnvalue: job.returnvalue, failedReason: job.failedReason ?? null } : null;
    });
    expect(result).toEqual({ returnvalue: { tenants: 2 }, failedReason: null });
  });

  it('refuses to enqueue a job nobody defined', async () => {
    await expect(t.app.queues.enqueue(QueueName.MAINTENANCE, 'no-such-job', {})).rejects.toThrow(/no job maintenance:no-such-job/);
    await expect(t.app.queues.enqueue('nope' as QueueName, TENANT_HEARTBEAT_FANOUT, {})).rejects.toThrow(/is defined/);
  });
});
