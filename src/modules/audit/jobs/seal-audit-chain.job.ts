import type { DataSource } from 'typeorm';
import type { Logger } from '../../../platform/logging/logger';
import type { JobRegistry } from '../../../platform/queue/job-registry';
import { QueueName } from '../../../platform/queue/queue-names';
import type { QueueRuntime } from '../../../platform/queue/queue-runtime';
import type { AuditChainService } from '../audit-chain.service';

export const AUDIT_SEAL_FANOUT = 'audit-seal-fanout';
export const AUDIT_SEAL_TENANT = 'audit-seal-tenant';

export interface SealAuditChainData {
  tenantId: string;
}

/**
 * Every five seconds: one sealing job per tenant with unsealed events below the horizon. The
 * job id dedupes a tenant whose job is still waiting; a sealer already running for the tenant
 * makes the second one skip (advisory lock), so nothing is sealed twice.
 */
export function registerAuditJobs(registry: JobRegistry, deps: { dataSource: DataSource; queues: () => QueueRuntime; logger: Logger; chain: AuditChainService }): void {
  registry.define<Record<string, never>>({
    queue: QueueName.MAINTENANCE,
    name: AUDIT_SEAL_FANOUT,
    attempts: 1,
    async handle() {
      const ids = await deps.chain.tenantsToSeal(deps.dataSource.manager);
      for (const tenantId of ids) {
        await deps.queues().enqueue<SealAuditChainData>(QueueName.MAINTENANCE, AUDIT_SEAL_TENANT, { tenantId }, { jobId: `audit-seal-${tenantId}`, removeOnComplete: true, removeOnFail: true });
      }
      return { tenants: ids.length };
    },
  });
  registry.define<SealAuditChainData>({
    queue: QueueName.MAINTENANCE,
    name: AUDIT_SEAL_TENANT,
    attempts: 3,
    async handle(data) {
      const r = await deps.chain.seal(deps.dataSource.manager, data.tenantId);
      return { tenantId: data.tenantId, ...r };
    },
  });
  registry.schedule({ id: 'audit-seal-every-5s', queue: QueueName.MAINTENANCE, jobName: AUDIT_SEAL_FANOUT, pattern: '*/5 * * * * *', tz: 'UTC' });
}
