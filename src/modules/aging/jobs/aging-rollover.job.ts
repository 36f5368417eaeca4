import type { DataSource } from 'typeorm';
import { systemActor } from '../../../platform/auth/roles';
import { RequestContext } from '../../../platform/context';
import type { Logger } from '../../../platform/logging/logger';
import type { JobRegistry } from '../../../platform/queue/job-registry';
import { QueueName } from '../../../platform/queue/queue-names';
import type { QueueRuntime } from '../../../platform/queue/queue-runtime';
import { todayIn } from '../../../platform/time/dates';
import type { AgingService } from '../aging.service';
import type { MetricsService } from '../metrics.service';

export const AgingJobs = {
  ROLLOVER_FANOUT: 'aging-rollover-fanout',
  ROLLOVER: 'aging-rollover',
} as const;

export interface AgingRolloverData {
  tenantId: string;
  /** The tenant's new local date. */
  today: string;
}

/**
 * Every 15 minutes (zones with half- and quarter-hour offsets included) the fan-out enqueues one
 * rollover per tenant whose local date is new; the rollover snapshots the day that ended and
 * tells subscribers that invoices changed bucket. Job ids are per tenant and day; the handler
 * is idempotent per day on top of that.
 */
export function registerAgingJobs(registry: JobRegistry, deps: { dataSource: DataSource; logger: Logger; queues: () => QueueRuntime; aging: AgingService; metrics: MetricsService }): void {
  registry.define<Record<string, never>>({
    queue: QueueName.MAINTENANCE,
    name: AgingJobs.ROLLOVER_FANOUT,
    async handle() {
      const now = deps.aging.clock();
      const tenants = (await deps.dataSource.query(
        `SELECT t.id, t.timezone, to_char(s.rolled_over_on, 'YYYY-MM-DD') AS rolled FROM tenants t LEFT JOIN aging_settings s ON s.tenant_id = t.id ORDER BY t.id`,
      )) as { id: string; timezone: string; rolled: string | null }[];
      let started = 0;
      for (const t of tenants) {
        try {
          const today = todayIn(t.timezone, now);
          if (t.rolled && t.rolled >= today) continue;
          await deps.queues().enqueue<AgingRolloverData>(QueueName.MAINTENANCE, AgingJobs.ROLLOVER, { tenantId: t.id, today }, { jobId: `aging-rollover-${t.id}-${today}` });
          started++;
        } catch (err) {
          deps.logger.error({ err, tenantId: t.id }, 'could not enqueue the aging rollover');
        }
      }
      return { started };
    },
  });
  registry.define<AgingRolloverData>({
    queue: QueueName.MAINTENANCE,
    name: AgingJobs.ROLLOVER,
    async handle(data) {
      const ctx = new RequestContext(data.tenantId, systemActor(data.tenantId, AgingJobs.ROLLOVER), deps.dataSource.manager, AgingJobs.ROLLOVER, deps.logger.child({ tenantId: data.tenantId }));
      return { rolledOver: await deps.metrics.rollover(ctx, data.today) };
    },
  });
  registry.schedule({ id: 'aging-rollover', queue: QueueName.MAINTENANCE, jobName: AgingJobs.ROLLOVER_FANOUT, pattern: '*/15 * * * *', tz: 'UTC' });
}
