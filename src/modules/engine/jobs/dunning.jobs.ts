import type { DataSource } from 'typeorm';
import { systemActor } from '../../../platform/auth/roles';
import { RequestContext } from '../../../platform/context';
import type { Logger } from '../../../platform/logging/logger';
import type { JobRegistry } from '../../../platform/queue/job-registry';
import { QueueName } from '../../../platform/queue/queue-names';
import type { QueueRuntime } from '../../../platform/queue/queue-runtime';
import { todayIn } from '../../../platform/time/dates';
import type { DispatchService } from '../../actions/dispatch.service';
import type { TenantService } from '../../tenants/tenant.service';
import type { EvaluationService } from '../evaluation.service';

export const DunningJobs = {
  DAILY_FANOUT: 'dunning-daily-fanout',
  EVALUATE_TENANT: 'dunning-evaluate-tenant',
  EVALUATE_BATCH: 'dunning-evaluate-batch',
  EVALUATE_CUSTOMERS: 'dunning-evaluate-customers',
  DISPATCH_FANOUT: 'dunning-dispatch-fanout',
  DISPATCH: 'dunning-dispatch',
} as const;

export interface EvaluateTenantData {
  tenantId: string;
  asOf: string;
}
export interface EvaluateBatchData {
  tenantId: string;
  runId: string;
  batchNo: number;
  asOf: string;
  customerIds: string[];
}
export interface EvaluateCustomersData {
  tenantId: string;
  customerIds: string[];
}
export interface DispatchData {
  tenantId: string;
}

interface Deps {
  dataSource: DataSource;
  logger: Logger;
  queues: () => QueueRuntime;
  tenants: TenantService;
  evaluation: EvaluationService;
  dispatch: DispatchService;
  /** Local hour (0-23) at which each tenant's book is evaluated. */
  evaluationHour: number;
}

/**
 * The scheduler: an hourly cron fans out one evaluation per tenant whose local time has reached
 * the evaluation hour (job id per tenant and day, so it runs once a day); each evaluation fans
 * out batches of customers; a dispatcher cron sends what is due. Every handler is idempotent.
 */
export function registerDunningJobs(registry: JobRegistry, deps: Deps): void {
  const ctxFor = (tenantId: string, job: string) => new RequestContext(tenantId, systemActor(tenantId, job), deps.dataSource.manager, job, deps.logger.child({ tenantId, job }));
  const tenantsWithZone = async () => (await deps.dataSource.query(`SELECT id, timezone FROM tenants ORDER BY id`)) as { id: string; timezone: string }[];

  registry.define<Record<string, never>>({
    queue: QueueName.DUNNING,
    name: DunningJobs.DAILY_FANOUT,
    async handle() {
      const now = new Date();
      let started = 0;
      for (const t of await tenantsWithZone()) {
        const hour = Number(new Intl.DateTimeFormat('en-GB', { hour: '2-digit', hourCycle: 'h23', timeZone: t.timezone }).format(now));
        if (hour < deps.evaluationHour) continue;
        const asOf = todayIn(t.timezone, now);
        await deps.queues().enqueue<EvaluateTenantData>(QueueName.DUNNING, DunningJobs.EVALUATE_TENANT, { tenantId: t.id, asOf }, { jobId: `eval-${t.id}-${asOf}`, removeOnComplete: { age: 3 * 24 * 3600 } });
        started++;
      }
      return { started };
    },
  });

  registry.define<EvaluateTenantData>({
    queue: QueueName.DUNNING,
    name: DunningJobs.EVALUATE_TENANT,
    async handle(data) {
      const ctx = ctxFor(data.tenantId, DunningJobs.EVALUATE_TENANT);
      const [existing] = await deps.dataSource.query(`SELECT id FROM evaluation_runs WHERE tenant_id = $1 AND as_of = $2 AND trigger = 'DAILY' ORDER BY started_at LIMIT 1`, [data.tenantId, data.asOf]);
      await deps.evaluation.prepare(ctx, data.asOf);
      const batches = await deps.evaluation.customerBatches(ctx);
      const runId = existing?.id ?? (await deps.evaluation.startRun(ctx, data.asOf, 'DAILY', batches.length));
      for (const [batchNo, customerIds] of batches.entries()) {
        await deps.queues().enqueue<EvaluateBatchData>(QueueName.DUNNING, DunningJobs.EVALUATE_BATCH, { tenantId: data.tenantId, runId, batchNo, asOf: data.asOf, customerIds }, { jobId: `evalb-${runId}-${batchNo}` });
      }
      if (batches.length === 0) await deps.queues().enqueue<DispatchData>(QueueName.DUNNING, DunningJobs.DISPATCH, { tenantId: data.tenantId }, { jobId: `dispatch-run-${runId}` });
      return { runId, batches: batches.length };
    },
  });

  registry.define<EvaluateBatchData>({
    queue: QueueName.DUNNING,
    name: DunningJobs.EVALUATE_BATCH,
    async handle(data) {
      const ctx = ctxFor(data.tenantId, DunningJobs.EVALUATE_BATCH);
      const outcome = await deps.evaluation.evaluateBatch(ctx, { runId: data.runId, batchNo: data.batchNo, asOf: data.asOf, customerIds: data.customerIds });
      const [run] = await deps.dataSource.query(`SELECT status FROM evaluation_runs WHERE id = $1`, [data.runId]);
      if (run?.status === 'DONE') await deps.queues().enqueue<DispatchData>(QueueName.DUNNING, DunningJobs.DISPATCH, { tenantId: data.tenantId }, { jobId: `dispatch-run-${data.runId}` });
      return outcome;
    },
  });

  registry.define<EvaluateCustomersData>({
    queue: QueueName.DUNNING,
    name: DunningJobs.EVALUATE_CUSTOMERS,
    async handle(data) {
      const ctx = ctxFor(data.tenantId, DunningJobs.EVALUATE_CUSTOMERS);
      const run = await deps.evaluation.run(ctx, { asOf: await deps.tenants.today(ctx), trigger: 'EVENT', customerIds: data.customerIds });
      if (run.actionsCreated > 0) await deps.queues().enqueue<DispatchData>(QueueName.DUNNING, DunningJobs.DISPATCH, { tenantId: data.tenantId }, { jobId: `dispatch-run-${run.id}` });
      return { runId: run.id, actionsCreated: run.actionsCreated };
    },
  });

  registry.define<Record<string, never>>({
    queue: QueueName.DUNNING,
    name: DunningJobs.DISPATCH_FANOUT,
    async handle() {
      const slot = Math.floor(Date.now() / 300_000);
      const tenants = await tenantsWithZone();
      for (const t of tenants) await deps.queues().enqueue<DispatchData>(QueueName.DUNNING, DunningJobs.DISPATCH, { tenantId: t.id }, { jobId: `dispatch-${t.id}-${slot}` });
      return { tenants: tenants.length };
    },
  });

  registry.define<DispatchData>({
    queue: QueueName.DUNNING,
    name: DunningJobs.DISPATCH,
    async handle(data) {
      const ctx = ctxFor(data.tenantId, DunningJobs.DISPATCH);
      return deps.dispatch.dispatchDue(ctx, await deps.tenants.today(ctx));
    },
  });

  registry.schedule({ id: 'dunning-daily-evaluation', queue: QueueName.DUNNING, jobName: DunningJobs.DAILY_FANOUT, pattern: '5 * * * *', tz: 'UTC' });
  registry.schedule({ id: 'dunning-dispatch', queue: QueueName.DUNNING, jobName: DunningJobs.DISPATCH_FANOUT, pattern: '*/5 * * * *', tz: 'UTC' });
}

/** Re-evaluates customers after an event (invoice synced, dispute opened or closed, payment applied). */
export function customersChanged(queues: () => QueueRuntime, logger: Logger) {
  return (ctx: RequestContext, customerIds: string[]): void => {
    if (customerIds.length === 0) return;
    queues()
      .enqueue<EvaluateCustomersData>(QueueName.DUNNING, DunningJobs.EVALUATE_CUSTOMERS, { tenantId: ctx.tenantId, customerIds: [...new Set(customerIds)] })
      .catch((err) => logger.warn({ err, tenantId: ctx.tenantId }, 'could not enqueue re-evaluation; the daily run will catch up'));
  };
}
