import type { DataSource } from 'typeorm';
import { systemActor } from '../../../platform/auth/roles';
import { RequestContext } from '../../../platform/context';
import type { Logger } from '../../../platform/logging/logger';
import type { JobRegistry } from '../../../platform/queue/job-registry';
import { QueueName } from '../../../platform/queue/queue-names';
import type { QueueRuntime } from '../../../platform/queue/queue-runtime';
import { todayIn } from '../../../platform/time/dates';
import type { BacktestService } from '../../backtest/backtest.service';
import type { RecommendationService } from '../recommendation.service';
import type { SegmentationService } from '../segmentation.service';

export const BehaviourJobs = {
  DAILY_FANOUT: 'behaviour-daily-fanout',
  REFRESH_TENANT: 'behaviour-refresh-tenant',
  BACKTEST: 'backtest-run',
} as const;

/** Local hour from which a tenant's behaviour, segments and recommendations are refreshed each day. */
export const BEHAVIOUR_HOUR = 2;

export interface RefreshTenantData {
  tenantId: string;
  asOf: string;
}
export interface BacktestJobData {
  tenantId: string;
  runId: string;
}

interface Deps {
  dataSource: DataSource;
  logger: Logger;
  queues: () => QueueRuntime;
  segmentation: SegmentationService;
  recommendations: RecommendationService;
  backtests: BacktestService;
}

/**
 * Daily: behaviour statistics, then segmentation (which re-evaluates the customers whose segment
 * changed), then recommendations, per tenant once its local day has reached BEHAVIOUR_HOUR (job id
 * per tenant and day: once a day). On demand: backtests too large to run inside a request.
 */
export function registerBehaviourJobs(registry: JobRegistry, deps: Deps): void {
  const ctxFor = (tenantId: string, job: string) => new RequestContext(tenantId, systemActor(tenantId, job), deps.dataSource.manager, job, deps.logger.child({ tenantId, job }));

  registry.define<Record<string, never>>({
    queue: QueueName.BEHAVIOUR,
    name: BehaviourJobs.DAILY_FANOUT,
    async handle() {
      const now = new Date();
      let started = 0;
      for (const t of (await deps.dataSource.query(`SELECT id, timezone FROM tenants ORDER BY id`)) as { id: string; timezone: string }[]) {
        const hour = Number(new Intl.DateTimeFormat('en-GB', { hour: '2-digit', hourCycle: 'h23', timeZone: t.timezone }).format(now));
        if (hour < BEHAVIOUR_HOUR) continue;
        const asOf = todayIn(t.timezone, now);
        await deps.queues().enqueue<RefreshTenantData>(QueueName.BEHAVIOUR, BehaviourJobs.REFRESH_TENANT, { tenantId: t.id, asOf }, { jobId: `behaviour-${t.id}-${asOf}`, removeOnComplete: { age: 3 * 24 * 3600 } });
        started++;
      }
      return { started };
    },
  });

  registry.define<RefreshTenantData>({
    queue: QueueName.BEHAVIOUR,
    name: BehaviourJobs.REFRESH_TENANT,
    async handle(data) {
      const ctx = ctxFor(data.tenantId, BehaviourJobs.REFRESH_TENANT);
      const seg = await deps.segmentation.run(ctx, data.asOf);
      const recs = await deps.recommendations.generate(ctx, data.asOf);
      return { customers: seg.customers, segmentsChanged: seg.changed, recommendations: recs.length };
    },
  });

  registry.define<BacktestJobData>({
    queue: QueueName.BEHAVIOUR,
    name: BehaviourJobs.BACKTEST,
    attempts: 2,
    async handle(data) {
      await deps.backtests.execute(ctxFor(data.tenantId, BehaviourJobs.BACKTEST), data.runId);
      return { runId: data.runId };
    },
  });

  deps.backtests.enqueue = async (ctx, runId) => {
    await deps.queues().enqueue<BacktestJobData>(QueueName.BEHAVIOUR, BehaviourJobs.BACKTEST, { tenantId: ctx.tenantId, runId }, { jobId: `backtest-${runId}` });
  };

  registry.schedule({ id: 'behaviour-daily', queue: QueueName.BEHAVIOUR, jobName: BehaviourJobs.DAILY_FANOUT, pattern: '20 * * * *', tz: 'UTC' });
}
