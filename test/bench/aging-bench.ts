import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { emitEvent } from '../../src/platform/events/event-bus';
import { INVOICES_CHANGED, InvoiceChangeKind } from '../../src/modules/invoices/invoice.service';
import { AgingDimension } from '../../src/modules/aging/dto/aging.types';
import { arg, BENCH_KEY, benchEnv, gqlPost, latency, loadAverage, percentile } from './bench-env';

const AGING_QUERY = `{ aging(groupBy: [ENTITY, SEGMENT, COLLECTOR]) { asOf rows { key group { entityCode segment collectorName } currency cells { bucket amount { amount } invoiceCount } total { amount } } totals { currency total { amount } } } }`;
const SUBSCRIPTION = `subscription { agingChanged(groupBy: [ENTITY]) { reasons report { totals { currency total { amountMinor } } } } }`;

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });

async function startApiProcess(databaseUrl: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const root = path.resolve(__dirname, '../..');
  const child = spawn(process.execPath, ['-r', './bin/register.js', 'src/main.ts'], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: String(port), HOST: '127.0.0.1', RUN_WORKERS: 'false', SEED_DEMO: 'false', BOOTSTRAP_API_KEY: BENCH_KEY, LOG_LEVEL: 'warn', QUEUE_PREFIX: `bench-b-${port}` },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`API process exited with ${child.exitCode}`);
    const ok = await fetch(`${base}/readyz`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error('API process did not become ready');
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url: `${base}/graphql`, child };
}

/**
 * Issue 7 benchmark: 1M invoices; aging by entity x segment x collector through GraphQL against
 * a trivial query and a plain GROUP BY scan of the invoice table; then subscription latency with
 * 1,000 subscribers over two API processes, from the commit of a balance change to each event.
 * Options: --invoices, --customers, --iterations, --subscribers, --rounds, --no-rollover 1 (time
 * the rollups as the seed left them, before the daily job folds the tails).
 */
export async function run(): Promise<void> {
  const invoices = arg('invoices', 1_000_000);
  const customers = arg('customers', Math.max(1, Math.round(invoices / 10)));
  const iterations = arg('iterations', 200);
  const subscribers = arg('subscribers', 1000);
  const rounds = arg('rounds', 20);
  const env = await benchEnv('aging');
  const out = (k: string, v: string) => process.stdout.write(`${k.padEnd(44)} ${v}\n`);
  const children: ChildProcess[] = [];
  const clients: Client[] = [];
  try {
    const t0 = Date.now();
    let lastLog = t0;
    const summary = await env.app.modules.services.demo.seed(env.ctx, {
      customers,
      invoices,
      seed: 1,
      asOf: '2026-11-24',
      onProgress: (p) => {
        if (Date.now() - lastLog > 30_000) {
          lastLog = Date.now();
          process.stderr.write(`  seeding: ${p.invoices} invoices after ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
        }
      },
    });
    const seedSecs = (Date.now() - t0) / 1000;
    out('seed (through the invoice write path + triggers)', `${summary.invoices} invoices, ${summary.customers} customers in ${seedSecs.toFixed(1)} s = ${Math.round(summary.invoices / seedSecs)} invoices/s`);
    const { aging, metrics } = env.app.modules.services;
    const countRows = async () => {
      const [r] = (await env.app.dataSource.query(
        `SELECT (SELECT count(*)::int FROM aging_rollups WHERE tenant_id = $1 AND (invoice_count <> 0 OR open_minor <> 0)) AS per_day,
                (SELECT count(*)::int FROM aging_rollup_tails WHERE tenant_id = $1) AS tails`,
        [env.tenantId],
      )) as { per_day: number; tails: number }[];
      return `${r.per_day} per due date + ${r.tails} folded`;
    };
    const beforeFold = await countRows();
    // The steady state: the tenant's daily rollover job (snapshot, fold of the tails) has run, as it
    // does on the first 15-minute fan-out after the seed and then at each local midnight.
    const tr = Date.now();
    if (!arg('no-rollover', 0)) await metrics.rollover(env.ctx, aging.today(await aging.settings(env.ctx)));
    const rolloverMs = Date.now() - tr;
    await env.app.dataSource.query('VACUUM ANALYZE');
    const [{ n: openInvoices }] = await env.app.dataSource.query(`SELECT count(*)::int AS n FROM invoices WHERE tenant_id = $1 AND status = 'OPEN' AND open_balance_minor > 0`, [env.tenantId]);
    out('daily rollover job (snapshot + fold)', `${rolloverMs} ms`);
    out('rollup rows read by aging / open invoices', `before the rollover ${beforeFold}; after ${await countRows()}; ${openInvoices} open invoices`);
    out('load average (1, 5, 15 min) before timing', loadAverage());

    const trivial = await latency(iterations, gqlPost(env.url, '{ __typename }'));
    const agingQ = await latency(iterations, gqlPost(env.url, AGING_QUERY));
    // The same question right after a committed balance change each time: the kept aggregate is
    // stale, so every one of these reads the rollups again (the change itself is not timed).
    const [probe] = (await env.app.dataSource.query(`SELECT id FROM invoices WHERE tenant_id = $1 AND status = 'OPEN' AND open_balance_minor > 1000 ORDER BY id LIMIT 1`, [env.tenantId])) as { id: string }[];
    const afterChange: number[] = [];
    const query = gqlPost(env.url, AGING_QUERY);
    for (let i = 0; i < iterations; i++) {
      await env.app.dataSource.query(`UPDATE invoices SET open_balance_minor = open_balance_minor + $3 WHERE tenant_id = $1 AND id = $2`, [env.tenantId, probe.id, i % 2 ? 1 : -1]);
      const t1 = process.hrtime.bigint();
      await query();
      afterChange.push(Number(process.hrtime.bigint() - t1) / 1e6);
    }
    afterChange.sort((x, y) => x - y);
    // The same report from the service, without HTTP and GraphQL (the book unchanged: the kept aggregate after one version read).
    const serviceQ = await latency(iterations, () => aging.report(env.ctx, { groupBy: [AgingDimension.ENTITY, AgingDimension.SEGMENT, AgingDimension.COLLECTOR] }));
    const asOf = '2026-11-24';
    const scanSql = `SELECT i.entity_id, c.segment, c.owner_user_id, i.currency,
        CASE WHEN $2::date - i.due_date <= 0 THEN 0 ELSE 1 + width_bucket($2::date - i.due_date - 1, ARRAY[30,60,90]) END AS bucket,
        sum(i.open_balance_minor), count(*)
      FROM invoices i JOIN customers c ON c.id = i.customer_id
      WHERE i.tenant_id = $1 AND i.status = 'OPEN' AND i.open_balance_minor > 0 GROUP BY 1, 2, 3, 4, 5`;
    const scan = await latency(Math.max(5, Math.round(iterations / 20)), () => env.app.dataSource.query(scanSql, [env.tenantId, asOf]));
    const [{ rows: cells }] = [{ rows: ((await env.app.dataSource.query(scanSql, [env.tenantId, asOf])) as unknown[]).length }];
    out('trivial { __typename }', `p50 ${trivial.p50.toFixed(2)} ms  p95 ${trivial.p95.toFixed(2)} ms`);
    out('aging entity x segment x collector (GraphQL)', `p50 ${agingQ.p50.toFixed(2)} ms  p95 ${agingQ.p95.toFixed(2)} ms  (${(agingQ.p95 / trivial.p95).toFixed(2)}x trivial p95; target <= 3x)`);
    out('  same, each right after a balance change', `p50 ${percentile(afterChange, 50).toFixed(2)} ms  p95 ${percentile(afterChange, 95).toFixed(2)} ms  (${(percentile(afterChange, 95) / trivial.p95).toFixed(2)}x trivial p95; nothing kept can answer)`);
    out('  of which the aging service call', `p50 ${serviceQ.p50.toFixed(2)} ms  p95 ${serviceQ.p95.toFixed(2)} ms`);
    out('plain GROUP BY scan of invoices (SQL only)', `p50 ${scan.p50.toFixed(2)} ms  p95 ${scan.p95.toFixed(2)} ms  (${cells} cells; ${(scan.p50 / agingQ.p50).toFixed(1)}x the aging query p50)`);

    // Subscriptions: two API processes of their own (this one only holds the clients and commits).
    const apis = await Promise.all([startApiProcess(env.app.databaseUrl), startApiProcess(env.app.databaseUrl)]);
    children.push(...apis.map((x) => x.child));
    const urls = apis.map((x) => x.url);
    const received: number[][] = Array.from({ length: subscribers }, () => []);
    let ready = 0;
    for (let i = 0; i < subscribers; i++) {
      const client = createClient({ url: urls[i % 2].replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { Authorization: `Bearer ${BENCH_KEY}` }, retryAttempts: 0 });
      clients.push(client);
      client.subscribe(
        { query: SUBSCRIPTION },
        {
          next: (v) => {
            const reasons = (v.data as { agingChanged?: { reasons: string[] } } | undefined)?.agingChanged?.reasons ?? [];
            if (reasons.includes('INITIAL')) ready++;
            else received[i].push(performance.now());
          },
          error: (e) => process.stderr.write(`subscriber ${i} failed: ${JSON.stringify(e)}\n`),
          complete: () => undefined,
        },
      );
    }
    const readyDeadline = Date.now() + 120_000;
    while (ready < subscribers) {
      if (Date.now() > readyDeadline) throw new Error(`only ${ready} of ${subscribers} subscribers became live`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const [target] = (await env.app.dataSource.query(
      `SELECT id, open_balance_minor::text AS open FROM invoices WHERE tenant_id = $1 AND status = 'OPEN' AND open_balance_minor > 1000 ORDER BY id LIMIT 1`,
      [env.tenantId],
    )) as { id: string; open: string }[];
    const latencies: number[] = [];
    for (let round = 0; round < rounds; round++) {
      // The change is committed the way a payment commits: balance update and event in one transaction.
      const qr = env.app.dataSource.createQueryRunner();
      await qr.connect();
      await qr.startTransaction();
      await qr.query(`UPDATE invoices SET open_balance_minor = open_balance_minor - 1, updated_at = now() WHERE tenant_id = $1 AND id = $2`, [env.tenantId, target.id]);
      await emitEvent(qr.manager, { type: INVOICES_CHANGED, tenantId: env.tenantId, payload: { change: InvoiceChangeKind.UPDATED, ids: [target.id] } });
      const committedAt = performance.now();
      await qr.commitTransaction();
      await qr.release();
      const deadline = Date.now() + 30_000;
      while (received.some((r) => r.length <= round)) {
        if (Date.now() > deadline) throw new Error(`round ${round}: ${received.filter((r) => r.length <= round).length} subscribers got no event`);
        await new Promise((r) => setTimeout(r, 5));
      }
      for (const r of received) latencies.push(r[round] - committedAt);
      await new Promise((r) => setTimeout(r, 400)); // past the coalescing interval, so each round is its own event
    }
    const extra = received.reduce((s, r) => s + Math.max(0, r.length - rounds), 0);
    latencies.sort((x, y) => x - y);
    out('load average (1, 5, 15 min) at the end', loadAverage());
    out(`subscription latency (${subscribers} subs, 2 processes, ${rounds} commits)`, `p50 ${percentile(latencies, 50).toFixed(1)} ms  p95 ${percentile(latencies, 95).toFixed(1)} ms  p99 ${percentile(latencies, 99).toFixed(1)} ms  max ${latencies[latencies.length - 1].toFixed(1)} ms  (target p99 <= 100 ms; duplicate events: ${extra})`);
  } finally {
    await Promise.all(clients.map((c) => c.dispose()));
    for (const child of children) {
      if (child.exitCode !== null) continue;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    await env.close();
  }
}
