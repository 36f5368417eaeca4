import 'reflect-metadata';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/platform/config/config';
import { createLogger } from '../../src/platform/logging/logger';
import { JobRegistry } from '../../src/platform/queue/job-registry';
import { QueueRuntime } from '../../src/platform/queue/queue-runtime';
import { registerPaymentJobs } from '../../src/modules/payments/jobs/apply-payments.job';

/** One benchmark worker process: the real app's services, a BullMQ worker on the payments queue only. */
async function main(): Promise<void> {
  const config = loadConfig({ ...process.env, RUN_WORKERS: 'false', SEED_DEMO: 'false', LOG_LEVEL: 'warn' });
  const logger = createLogger('warn', 'bench-payments-worker');
  const app = await createApp(config, logger);
  const registry = new JobRegistry();
  let rt: QueueRuntime | null = null;
  registerPaymentJobs(registry, { dataSource: app.dataSource, logger, queues: () => rt!, application: app.modules.services.paymentApplication });
  rt = await QueueRuntime.create({ redisUrl: config.REDIS_URL, databaseUrl: config.DATABASE_URL!, prefix: config.QUEUE_PREFIX, logger, registry, concurrency: Number(process.env.BENCH_CONCURRENCY ?? 3) });
  rt.startWorkers();
  process.send?.('ready');
  process.on('message', async (m) => {
    if (m !== 'stop') return;
    await rt!.close();
    await app.stop();
    process.exit(0);
  });
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
