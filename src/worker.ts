import 'reflect-metadata';
import { createApp } from './app';
import { loadConfigOrExit } from './platform/config/config';
import { createLogger } from './platform/logging/logger';

/** Runs only the BullMQ workers and job schedulers (scale these out as separate processes). */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger(config.LOG_LEVEL, 'recoup-worker');
  const app = await createApp(config, logger);
  app.lifecycle.installSignalHandlers(config.SHUTDOWN_GRACE_MS);
  await app.queues.registerSchedules();
  app.queues.startWorkers();
  logger.info({ queue: app.queues.backend }, 'Recoup worker ready');
}

main().catch((err) => {
  process.stderr.write(`Recoup worker failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
