import 'reflect-metadata';
import { createApp } from './app';
import { bootstrap } from './bootstrap';
import { loadConfigOrExit } from './platform/config/config';
import { createLogger } from './platform/logging/logger';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger(config.LOG_LEVEL);
  const app = await createApp(config, logger);
  app.lifecycle.installSignalHandlers(config.SHUTDOWN_GRACE_MS);
  const boot = await bootstrap(app);
  const http = await app.listen();
  logger.info({ url: http.url, database: config.embedded ? 'embedded' : 'external', queue: app.queues.backend }, 'Recoup API ready');
  const lines = [
    '',
    `  Recoup is running: ${http.url}`,
    `  Database: ${config.embedded ? `embedded PostgreSQL (data in ${config.dataDir})` : 'DATABASE_URL'}; queue: BullMQ on ${app.queues.backend}`,
  ];
  if (boot?.generated) lines.push(`  API key (shown once, store it now): ${boot.secret}`);
  else if (boot) lines.push('  API key: the value of BOOTSTRAP_API_KEY');
  if (boot?.seeded) lines.push(`  Demo book loaded: ${config.SEED_CUSTOMERS} customers, ${config.SEED_INVOICES} invoices`);
  lines.push(
    '',
    `  curl -s ${http.url.replace('localhost', '127.0.0.1')} -H 'content-type: application/json' \\`,
    `    -H 'authorization: Bearer ${boot?.generated ? boot.secret : '<your key>'}' \\`,
    `    -d '{"query":"{ me { tenant { name } role } invoices(first: 5, filter: { overdue: true }) { totalCount nodes { number daysPastDue openBalance { amount currency } customer { name } } } }"}'`,
    '',
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err) => {
  process.stderr.write(`Recoup failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
