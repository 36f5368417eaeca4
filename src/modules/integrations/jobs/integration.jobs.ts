import type { DataSource } from 'typeorm';
import { systemActor } from '../../../platform/auth/roles';
import { RequestContext } from '../../../platform/context';
import type { Logger } from '../../../platform/logging/logger';
import type { JobRegistry } from '../../../platform/queue/job-registry';
import { QueueName } from '../../../platform/queue/queue-names';
import type { QueueRuntime } from '../../../platform/queue/queue-runtime';
import type { SyncJobData, SyncService } from '../sync.service';
import type { WriteBackJobData, WriteBackService } from '../writeback.service';

export const IntegrationJobs = {
  SYNC: 'integrations-sync',
  SYNC_FANOUT: 'integrations-sync-fanout',
  WRITE_BACK: 'integrations-write-back',
  WRITE_BACK_SWEEP: 'integrations-write-back-sweep',
} as const;

interface Deps {
  dataSource: DataSource;
  logger: Logger;
  queues: () => QueueRuntime;
  sync: SyncService;
  writeBacks: WriteBackService;
}

/**
 * Sync and write-back jobs. Their retries are decided by the services per error kind
 * (Retry-After on 429, backoff on 5xx and timeouts, none on 4xx or invalid answers) and
 * scheduled as delayed jobs with their own ids; BullMQ's own attempts only cover crashes
 * and lost locks, and a handler run twice changes nothing the second time.
 */
export function registerIntegrationJobs(registry: JobRegistry, deps: Deps): void {
  const ctxFor = (tenantId: string, job: string) => new RequestContext(tenantId, systemActor(tenantId, job), deps.dataSource.manager, job, deps.logger.child({ tenantId, job }));

  deps.sync.enqueue = async (data, opts) => {
    await deps.queues().enqueue<SyncJobData>(QueueName.INTEGRATIONS, IntegrationJobs.SYNC, data, { jobId: opts.jobId, delay: opts.delayMs });
  };
  deps.writeBacks.enqueue = async (data, opts) => {
    await deps.queues().enqueue<WriteBackJobData>(QueueName.INTEGRATIONS, IntegrationJobs.WRITE_BACK, data, { jobId: opts.jobId, delay: opts.delayMs });
  };

  registry.define<SyncJobData>({
    queue: QueueName.INTEGRATIONS,
    name: IntegrationJobs.SYNC,
    attempts: 5,
    backoffMs: 5000,
    handle: (data) => deps.sync.execute(ctxFor(data.tenantId, IntegrationJobs.SYNC), data),
  });

  registry.define<Record<string, never>>({
    queue: QueueName.INTEGRATIONS,
    name: IntegrationJobs.SYNC_FANOUT,
    async handle() {
      const tenants: { tenant_id: string }[] = await deps.dataSource.query(`SELECT DISTINCT tenant_id FROM integration_connections WHERE active AND (config->>'scheduleMinutes') IS NOT NULL`);
      let started = 0;
      for (const t of tenants) {
        try {
          const ctx = ctxFor(t.tenant_id, IntegrationJobs.SYNC_FANOUT);
          for (const id of await deps.sync.dueForSchedule(ctx)) {
            await deps.sync.requestSync(ctx, id, { trigger: 'SCHEDULED' });
            started++;
          }
        } catch (err) {
          deps.logger.warn({ err, tenantId: t.tenant_id }, 'scheduled sync fan-out failed for a tenant');
        }
      }
      return { started };
    },
  });

  registry.define<WriteBackJobData>({
    queue: QueueName.INTEGRATIONS,
    name: IntegrationJobs.WRITE_BACK,
    attempts: 5,
    backoffMs: 5000,
    handle: (data) => deps.writeBacks.process(ctxFor(data.tenantId, IntegrationJobs.WRITE_BACK), data),
  });

  registry.define<Record<string, never>>({
    queue: QueueName.INTEGRATIONS,
    name: IntegrationJobs.WRITE_BACK_SWEEP,
    async handle() {
      // Rows queued inside a caller's transaction (no enqueue before commit), or whose enqueue was lost.
      const rows: { id: string; tenant_id: string }[] = await deps.dataSource.query(`SELECT id, tenant_id FROM writeback_outbox WHERE status = 'PENDING' AND attempts = 0 AND created_at < now() - interval '30 seconds' LIMIT 1000`);
      for (const r of rows) await deps.writeBacks.enqueue({ tenantId: r.tenant_id, outboxId: r.id }, { jobId: `wb-${r.id}-0` });
      return { queued: rows.length };
    },
  });

  registry.schedule({ id: 'integrations-sync-fanout', queue: QueueName.INTEGRATIONS, jobName: IntegrationJobs.SYNC_FANOUT, pattern: '*/5 * * * *', tz: 'UTC' });
  registry.schedule({ id: 'integrations-write-back-sweep', queue: QueueName.INTEGRATIONS, jobName: IntegrationJobs.WRITE_BACK_SWEEP, pattern: '* * * * *', tz: 'UTC' });
}
