import type { DataSource } from 'typeorm';
import { systemActor } from '../../../platform/auth/roles';
import { RequestContext } from '../../../platform/context';
import type { Logger } from '../../../platform/logging/logger';
import type { JobRegistry } from '../../../platform/queue/job-registry';
import { QueueName } from '../../../platform/queue/queue-names';
import type { QueueRuntime } from '../../../platform/queue/queue-runtime';
import type { WebhookEventSource } from '../webhook-events';
import type { WebhookDeliveryJobData, WebhookService } from '../webhook.service';

export const WebhookJobs = {
  DELIVER: 'webhooks-deliver',
  SWEEP: 'webhooks-sweep',
  OVERDUE_FANOUT: 'webhooks-overdue-fanout',
} as const;

/** Attempts per delivery: with a 10 s base the last retry is about 21 minutes after the first failure. */
export const WEBHOOK_MAX_ATTEMPTS = 8;

interface Deps {
  dataSource: DataSource;
  logger: Logger;
  queues: () => QueueRuntime;
  webhooks: WebhookService;
  events: WebhookEventSource;
}

export function registerWebhookJobs(registry: JobRegistry, deps: Deps): void {
  const ctxFor = (tenantId: string, job: string) => new RequestContext(tenantId, systemActor(tenantId, job), deps.dataSource.manager, job, deps.logger.child({ tenantId, job }));
  deps.webhooks.enqueue = async (data, opts) => {
    await deps.queues().enqueue<WebhookDeliveryJobData>(QueueName.WEBHOOKS, WebhookJobs.DELIVER, data, { jobId: opts.jobId });
  };

  registry.define<WebhookDeliveryJobData>({
    queue: QueueName.WEBHOOKS,
    name: WebhookJobs.DELIVER,
    attempts: WEBHOOK_MAX_ATTEMPTS,
    backoffMs: deps.webhooks.retryBaseMs,
    handle: (data, run) => deps.webhooks.deliver(ctxFor(data.tenantId, WebhookJobs.DELIVER), data, { attemptsMade: run.attemptsMade, maxAttempts: WEBHOOK_MAX_ATTEMPTS }),
  });

  registry.define<Record<string, never>>({
    queue: QueueName.WEBHOOKS,
    name: WebhookJobs.SWEEP,
    handle: async () => ({ queued: await deps.webhooks.sweep(ctxFor('00000000-0000-0000-0000-000000000000', WebhookJobs.SWEEP)) }),
  });

  registry.define<Record<string, never>>({
    queue: QueueName.WEBHOOKS,
    name: WebhookJobs.OVERDUE_FANOUT,
    async handle() {
      const tenants: { tenant_id: string }[] = await deps.dataSource.query(`SELECT DISTINCT tenant_id FROM webhook_endpoints WHERE active`);
      let events = 0;
      for (const t of tenants) {
        try {
          events += await deps.events.overdue(ctxFor(t.tenant_id, WebhookJobs.OVERDUE_FANOUT));
        } catch (err) {
          deps.logger.warn({ err, tenantId: t.tenant_id }, 'invoice.overdue scan failed for a tenant');
        }
      }
      return { events };
    },
  });

  registry.schedule({ id: 'webhooks-sweep', queue: QueueName.WEBHOOKS, jobName: WebhookJobs.SWEEP, pattern: '* * * * *', tz: 'UTC' });
  registry.schedule({ id: 'webhooks-overdue', queue: QueueName.WEBHOOKS, jobName: WebhookJobs.OVERDUE_FANOUT, pattern: '20 * * * *', tz: 'UTC' });
}
