import type { DataSource } from 'typeorm';
import { systemActor } from '../../../platform/auth/roles';
import { RequestContext } from '../../../platform/context';
import type { Logger } from '../../../platform/logging/logger';
import type { JobRegistry } from '../../../platform/queue/job-registry';
import { QueueName } from '../../../platform/queue/queue-names';
import type { QueueRuntime } from '../../../platform/queue/queue-runtime';
import type { PaymentApplicationService } from '../payment-application.service';

export const PaymentJobs = {
  APPLY: 'payments-apply',
  RETRY_FANOUT: 'payments-retry-fanout',
  RETRY_TENANT: 'payments-retry-tenant',
} as const;

/** Ids only: the payments of one tenant to apply (at most 1,000 per job). */
export interface ApplyPaymentsData {
  tenantId: string;
  paymentIds: string[];
  retry?: boolean;
}
export interface RetryTenantData {
  tenantId: string;
}

interface Deps {
  dataSource: DataSource;
  logger: Logger;
  queues: () => QueueRuntime;
  application: PaymentApplicationService;
}

/**
 * Application on intake and a retry schedule for unapplied cash. Handlers are idempotent: only
 * PENDING (or due UNAPPLIED) payments are taken, under FOR UPDATE SKIP LOCKED, so a job run twice
 * or by two workers at once applies each payment once.
 */
export function registerPaymentJobs(registry: JobRegistry, deps: Deps): void {
  const ctxFor = (tenantId: string, job: string) => new RequestContext(tenantId, systemActor(tenantId, job), deps.dataSource.manager, job, deps.logger.child({ tenantId, job }));

  registry.define<ApplyPaymentsData>({
    queue: QueueName.PAYMENTS,
    name: PaymentJobs.APPLY,
    attempts: 8,
    handle: (data) => deps.application.apply(ctxFor(data.tenantId, PaymentJobs.APPLY), data.paymentIds, { retry: data.retry }),
  });

  registry.define<Record<string, never>>({
    queue: QueueName.PAYMENTS,
    name: PaymentJobs.RETRY_FANOUT,
    async handle() {
      const tenants: { tenant_id: string }[] = await deps.dataSource.query(
        `SELECT DISTINCT tenant_id FROM payments WHERE status IN ('PENDING','UNAPPLIED') AND (next_attempt_at IS NULL OR next_attempt_at <= now())`,
      );
      for (const t of tenants) {
        try {
          await deps.queues().enqueue<RetryTenantData>(QueueName.PAYMENTS, PaymentJobs.RETRY_TENANT, { tenantId: t.tenant_id });
        } catch (err) {
          deps.logger.warn({ err, tenantId: t.tenant_id }, 'could not enqueue the unapplied-cash retry');
        }
      }
      return { tenants: tenants.length };
    },
  });

  registry.define<RetryTenantData>({
    queue: QueueName.PAYMENTS,
    name: PaymentJobs.RETRY_TENANT,
    async handle(data) {
      const ctx = ctxFor(data.tenantId, PaymentJobs.RETRY_TENANT);
      const ids = await deps.application.dueForRetry(ctx, 5000);
      return deps.application.apply(ctx, ids, { retry: true });
    },
  });

  registry.schedule({ id: 'payments-unapplied-retry', queue: QueueName.PAYMENTS, jobName: PaymentJobs.RETRY_FANOUT, pattern: '17 * * * *', tz: 'UTC' });
}

/** Enqueues application jobs for newly recorded payments, 1,000 ids per job. */
export function paymentsRecorded(queues: () => QueueRuntime, logger: Logger) {
  return (ctx: RequestContext, ids: string[]): void => {
    for (let i = 0; i < ids.length; i += 1000) {
      queues()
        .enqueue<ApplyPaymentsData>(QueueName.PAYMENTS, PaymentJobs.APPLY, { tenantId: ctx.tenantId, paymentIds: ids.slice(i, i + 1000) })
        .catch((err) => logger.warn({ err, tenantId: ctx.tenantId }, 'could not enqueue payment application; the hourly retry will pick it up'));
    }
  };
}
