import 'reflect-metadata';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { createApp } from './app';
import { systemActor } from './platform/auth/roles';
import { loadConfigOrExit } from './platform/config/config';
import { RequestContext } from './platform/context';
import { createLogger } from './platform/logging/logger';
import { isIsoDate, todayIn } from './platform/time/dates';
import { printAppSchema, SCHEMA_FILE } from './schema-file';
import { IMPORT_USAGE, runImportCommand } from './modules/integrations/import-cli';

const USAGE = `recoup <command> [options]

  migrate                         apply pending database migrations
  seed [--customers N] [--invoices M] [--seed S] [--tenant ID] [--as-of YYYY-MM-DD]
                                  load a deterministic demo AR book (streams in batches)
  schema [--check]                write schema/schema.graphql (or fail if it is stale)
${IMPORT_USAGE}`;

async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'schema') {
    const { values } = parseArgs({ args: rest, options: { check: { type: 'boolean' } } });
    const sdl = await printAppSchema();
    if (values.check) {
      const current = fs.existsSync(SCHEMA_FILE) ? fs.readFileSync(SCHEMA_FILE, 'utf8') : '';
      if (current !== sdl) {
        process.stderr.write('schema/schema.graphql is stale: run npm run schema\n');
        return 1;
      }
      return 0;
    }
    fs.writeFileSync(SCHEMA_FILE, sdl);
    process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
    return 0;
  }
  if (command !== 'migrate' && command !== 'seed' && command !== 'import' && command !== 'import-bank') {
    process.stderr.write(USAGE);
    return command ? 2 : 0;
  }
  const config = { ...loadConfigOrExit(), SEED_DEMO: false };
  const logger = createLogger(config.LOG_LEVEL, 'recoup-cli');
  const app = await createApp(config, logger); // applies migrations
  try {
    if (command === 'import' || command === 'import-bank') {
      const tenantArg = rest[rest.indexOf('--tenant') + 1];
      const tenantId = rest.includes('--tenant') ? tenantArg : (await app.modules.services.tenants.allIds(app.dataSource.manager))[0];
      if (!tenantId) throw new Error('no tenant: start the app once or pass --tenant');
      const ctx = new RequestContext(tenantId, systemActor(tenantId, `cli-${command}`), app.dataSource.manager, `cli-${command}`, logger);
      return await runImportCommand(command, rest, app.modules.integrations.services, ctx);
    }
    if (command === 'migrate') {
      process.stdout.write('database is up to date\n');
      return 0;
    }
    const { values } = parseArgs({
      args: rest,
      options: {
        customers: { type: 'string', default: '500' },
        invoices: { type: 'string', default: '5000' },
        seed: { type: 'string', default: '42' },
        tenant: { type: 'string' },
        'as-of': { type: 'string' },
      },
    });
    const customers = Number(values.customers);
    const invoices = Number(values.invoices);
    const seed = Number(values.seed);
    if (![customers, invoices, seed].every((n) => Number.isInteger(n) && n >= 0)) throw new Error('--customers, --invoices and --seed take whole numbers');
    if (customers === 0 && invoices > 0) throw new Error('invoices need at least one customer');
    let tenantId = values.tenant;
    if (!tenantId) {
      const boot = await app.modules.services.onboarding.bootstrap(app.dataSource.manager, logger, config.BOOTSTRAP_API_KEY);
      if (boot?.generated) process.stdout.write(`created the first tenant; API key (shown once): ${boot.secret}\n`);
      tenantId = (await app.modules.services.tenants.allIds(app.dataSource.manager))[0];
    }
    const [tenant] = await app.dataSource.query('SELECT timezone FROM tenants WHERE id = $1', [tenantId]);
    if (!tenant) throw new Error(`no tenant ${tenantId}`);
    const asOf = values['as-of'] ?? todayIn(tenant.timezone);
    if (!isIsoDate(asOf)) throw new Error('--as-of takes YYYY-MM-DD');
    const ctx = new RequestContext(tenantId, systemActor(tenantId, 'cli-seed'), app.dataSource.manager, 'cli-seed', logger);
    const started = Date.now();
    const summary = await app.modules.services.demo.seed(ctx, {
      customers,
      invoices,
      seed,
      asOf,
      onProgress: (p) => process.stderr.write(`\r  customers ${p.customers}/${customers}  invoices ${p.invoices}/${invoices}   `),
    });
    const secs = (Date.now() - started) / 1000;
    process.stderr.write('\n');
    process.stdout.write(`seeded ${JSON.stringify(summary)} in ${secs.toFixed(1)} s (${Math.round(summary.invoices / secs)} invoices/s)\n`);
    return 0;
  } finally {
    await app.stop();
  }
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
