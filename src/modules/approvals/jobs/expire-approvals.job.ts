import type { DataSource } from 'typeorm';
import { systemActor } from '../../../platform/auth/roles';
import { RequestContext } from '../../../platform/context';
import type { Logger } from '../../../platform/logging/logger';
import type { JobRegistry } from '../../../platform/queue/job-registry';
import { QueueName } from '../../../platform/queue/queue-names';
import type { QueueRuntime } from '../../../platform/queue/queue-runtime';
import type { ApprovalService } from '../approval.service';

export const APPROVALS_EXPIRE_FANOUT = 'approvals-expire-fanout';
export const APPROVALS_EXPIRE = 'approvals-expire';

export interface ExpireApprovalsData {
  tenantId: string;
}

/**
 * Every ten minutes: one job per tenant with pending requests past their expiry marks them
 * EXPIRED (their handlers cancel what waited on them). Reads check expiry too, so a request is
 * never approved late even between runs.
 */
export function registerApprovalJobs(registry: JobRegistry, deps: { dataSource: DataSource; queues: () => QueueRuntime; logger: Logger; approvals: ApprovalService }): void {
  registry.define<Record<string, never>>({
    queue: QueueName.MAINTENANCE,
    name: APPROVALS_EXPIRE_FANOUT,
    attempts: 1,
    async handle() {
      const rows: { tenant_id: string }[] = await deps.dataSource.query(`SELECT DISTINCT tenant_id FROM approval_requests WHERE status = 'PENDING' AND expires_at <= now()`);
      for (const r of rows) {
        await deps.queues().enqueue<ExpireApprovalsData>(QueueName.MAINTENANCE, APPROVALS_EXPIRE, { tenantId: r.tenant_id }, { jobId: `approvals-expire-${r.tenant_id}`, removeOnComplete: true, removeOnFail: true });
      }
      return { tenants: rows.length };
    },
  });
  registry.define<ExpireApprovalsData>({
    queue: QueueName.MAINTENANCE,
    name: APPROVALS_EXPIRE,
    async handle(data) {
      const ctx = new RequestContext(data.tenantId, systemActor(data.tenantId, APPROVALS_EXPIRE), deps.dataSource.manager, APPROVALS_EXPIRE, deps.logger.child({ tenantId: data.tenantId, job: APPROVALS_EXPIRE }));
      return { expired: await deps.approvals.expireDue(ctx) };
    },
  });
  registry.schedule({ id: 'approvals-expire-every-10m', queue: QueueName.MAINTENANCE, jobName: APPROVALS_EXPIRE_FANOUT, pattern: '*/10 * * * *', tz: 'UTC' });
}
