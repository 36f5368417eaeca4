import 'reflect-metadata';
import { createApp } from './app';
import { bootstrapTenant, seedDemoIfEmpty } from './bootstrap';
import { loadConfigOrExit } from './platform/config/config';
import { createLogger } from './platform/logging/logger';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger(config.LOG_LEVEL);
  const app = await createApp(config, logger);
  app.lifecycle.installSignalHandlers(config.SHUTDOWN_GRACE_MS);
  try {
    const boot = await bootstrapTenant(app);
    // The key first: whatever happens next, the operator has it.
    if (boot?.generated) process.stdout.write(`\n  API key (shown once, store it now): ${boot.secret}\n`);
    let seeded: { customers: number; invoices: number } | null = null;
    try {
      seeded = await seedDemoIfEmpty(app);
    } catch (err) {
      logger.error({ err }, 'demo seed failed; the API runs without it and the next start retries');
    }
    const http = await app.listen();
    logger.info({ url: http.url, database: config.embedded ? 'embedded' : 'external', queue: app.queues.backend }, 'Recoup API ready');
    const key = boot?.generated ? boot.secret : '<your key>';
    const lines = [
      '',
      `  Recoup is running: ${http.url}`,
      `  Database: ${config.embedded ? `embedded PostgreSQL (data in ${config.dataDir})` : 'DATABASE_URL'}; queue: BullMQ on ${app.queues.backend}`,
    ];
    if (boot?.generated) lines.push(`  API key (shown once, store it now): ${boot.secret}`);
    else if (boot) lines.push('  API key: the value of BOOTSTRAP_API_KEY');
    if (seeded) lines.push(`  Demo book loaded: ${seeded.customers} customers, ${seeded.invoices} invoices`);
    lines.push(
      '',
      `  curl -s ${http.url.replace('localhost', '127.0.0.1')} -H 'content-type: application/json' \\`,
      `    -H 'authorization: Bearer ${key}' \\`,
      `    -d '{"query":"{ me { tenant { name } role } invoices(first: 5, filter: { overdue: true }) { totalCount nodes { number daysPastDue openBalance { amount currency } customer { name } } } }"}'`,
      '',
    );
    process.stdout.write(`${lines.join('\n')}\n`);
  } catch (err) {
    await app.stop();
    throw err;
  }
}

main().catch((err) => {
  process.stderr.write(`Recoup failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
