import 'reflect-metadata';
import * as aging from './aging-bench';
import * as backtest from './backtest-bench';
import * as evaluation from './evaluation-bench';
import * as invoiceList from './invoice-list-bench';
import * as payments from './payments-bench';

/** `npm run bench -- <name> [--option value ...]`: each benchmark prints its ratios measured side by side in one run. */
const benches: Record<string, { run(): Promise<void> }> = {
  'invoice-list': invoiceList,
  payments,
  evaluation,
  aging,
  backtest,
};

async function main(): Promise<void> {
  const name = process.argv[2];
  if (!name || !benches[name]) {
    process.stderr.write(`usage: npm run bench -- <${Object.keys(benches).join('|')}> [options]\n`);
    process.exit(name ? 2 : 0);
  }
  process.stdout.write(`bench ${name} on ${process.env.DATABASE_URL ? 'PostgreSQL from DATABASE_URL' : 'embedded PostgreSQL'}\n`);
  await benches[name].run();
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
