import type { DataSource } from 'typeorm';
import type { JobRegistry } from '../../../platform/queue/job-registry';
import { QueueName } from '../../../platform/queue/queue-names';
import type { QueueRuntime } from '../../../platform/queue/queue-runtime';
import type { TenantService } from '../tenant.service';

export const TENANT_HEARTBEAT_FANOUT = 'tenant-heartbeat-fanout';
export const TENANT_HEARTBEAT = 'tenant-heartbeat';

export interface TenantHeartbeatJobData {
  tenantId: string;
}

/**
 * The nightly proof that scheduling, fan-out and workers run: the cron job only fans out, one
 * job per tenant (each isolated), and each marks its tenant's `lastHeartbeatAt`.
 */
export function registerTenantHeartbeatJobs(registry: JobRegistry, deps: { dataSource: DataSource; tenants: TenantService; queues: () => QueueRuntime }): void {
  registry.define<Record<string, never>>({
    queue: QueueName.MAINTENANCE,
    name: TENANT_HEARTBEAT_FANOUT,
    async handle() {
      const ids = await deps.tenants.allIds(deps.dataSource.manager);
      const day = new Date().toISOString().slice(0, 10);
      for (const tenantId of ids) {
        // The job id makes a second fan-out the same day add nothing.
        await deps.queues().enqueue<TenantHeartbeatJobData>(QueueName.MAINTENANCE, TENANT_HEARTBEAT, { tenantId }, { jobId: `heartbeat-${tenantId}-${day}` });
      }
      return { tenants: ids.length };
    },
  });
  registry.define<TenantHeartbeatJobData>({
    queue: QueueName.MAINTENANCE,
    name: TENANT_HEARTBEAT,
    async handle(data) {
      await deps.tenants.heartbeat(deps.dataSource.manager, data.tenantId, new Date());
      return { tenantId: data.tenantId };
    },
  });
  registry.schedule({ id: 'nightly-tenant-heartbeat', queue: QueueName.MAINTENANCE, jobName: TENANT_HEARTBEAT_FANOUT, pattern: '0 2 * * *', tz: 'UTC' });
}
