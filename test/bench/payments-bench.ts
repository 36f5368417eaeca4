import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { APPLY_CHUNK } from '../../src/modules/payments/payment-application.service';
import type { RecordPaymentInput } from '../../src/modules/payments/payment.service';
import { PaymentMethod } from '../../src/modules/payments/payment.entity';
import { arg, benchEnv, loadAverage } from './bench-env';

/**
 * Payment application benchmark: N payments (10% batch settlements over 5 invoices, 10%
 * ambiguous, the rest single invoices by reference, by remittance account, unknown payer, or
 * exact amount) applied by W worker processes through BullMQ on real PostgreSQL. Then the
 * raw-SQL limit on the same data in the same run: the same allocation rows inserted and
 * balances updated directly, W connections in parallel. Conservation is checked to the cent.
 */
export async function run(): Promise<void> {
  const total = arg('payments', 100_000);
  const workers = arg('workers', 4);
  const concurrency = arg('concurrency', 3);
  const profileAt = process.argv.indexOf('--profile');
  const profileDir = profileAt > 0 ? process.argv[profileAt + 1] : null;
  // --app-only: application alone, no twin tenant or limits (for comparing changes quickly; prints no ratio).
  const appOnly = process.argv.includes('--app-only');
  // --table-stats: rows each table gained, changed and lost per payment during the application.
  const tableStats = process.argv.includes('--table-stats');
  const env = await benchEnv('payments');
  const dbUrl = (env.app.dataSource.options as { url: string }).url;
  const t = env.tenantId;
  const db = env.app.dataSource;
  const children: ChildProcess[] = [];
  try {
    // ---- the book: customers, invoices, known remittance accounts (raw SQL: setup, not measured)
    const nBatch = Math.round(total * 0.1);
    const nAmb = Math.round(total * 0.1);
    const nSingle = total - nBatch - nAmb;
    const customers = Math.max(1, Math.round(total / 5));
    const [{ id: entityId }] = await db.query(`INSERT INTO legal_entities (tenant_id, code, name, currency, country) VALUES ($1, 'US01', 'Bench Inc.', 'USD', 'US') RETURNING id`, [t]);
    await db.query(
      `INSERT INTO customers (tenant_id, external_id, entity_id, name, currency) SELECT $1, 'C' || g, $2, 'Customer ' || g, 'USD' FROM generate_series(0, $3 - 1) g`,
      [t, entityId, customers],
    );
    const custIds: string[] = (await db.query(`SELECT id FROM customers WHERE tenant_id = $1 ORDER BY (substring(external_id from 2))::int`, [t])).map((r: { id: string }) => r.id);
    const inv: { c: number; no: number; amount: number }[] = [];
    const payments: RecordPaymentInput[] = [];
    let seq = 1_000_000;
    const perCustomer = new Map<number, number>();
    const next = (c: number) => {
      const k = perCustomer.get(c) ?? 0;
      perCustomer.set(c, k + 1);
      return k;
    };
    for (let i = 0; i < nSingle; i++) {
      const c = i % customers;
      const k = next(c);
      const amount = 100_000 + k * 1000 + (c % 500); // distinct per customer
      const no = seq++;
      inv.push({ c, no, amount });
      const mode = i % 4;
      payments.push({
        source: 'bench',
        externalId: `S${i}`,
        method: [PaymentMethod.ACH, PaymentMethod.WIRE, PaymentMethod.CHECK, PaymentMethod.CARD][mode],
        amount: (amount / 100).toFixed(2),
        currency: 'USD',
        receivedOn: '2026-11-20',
        ...(mode === 0 ? { customerExternalId: `C${c}`, remittanceText: `INV-${no}` } : mode === 1 ? { payerAccount: `ACCT-${c}`, remittanceText: `inv ${no}` } : mode === 2 ? { payerName: 'Unknown Payer', references: [`INV-${no}`] } : { customerExternalId: `C${c}` }),
      });
    }
    for (let i = 0; i < nBatch; i++) {
      const c = i % customers;
      const nos: number[] = [];
      let sum = 0;
      for (let j = 0; j < 5; j++) {
        const amount = 500_000 + j * 1111 + (i % 97);
        const no = seq++;
        inv.push({ c, no, amount });
        nos.push(no);
        sum += amount;
      }
      payments.push({ source: 'bench', externalId: `B${i}`, method: PaymentMethod.BATCH_SETTLEMENT, amount: (sum / 100).toFixed(2), currency: 'USD', receivedOn: '2026-11-20', customerExternalId: `C${c}`, remittanceText: `Settlement ${nos.map((n) => `INV-${n}`).join(', ')}` });
    }
    for (let i = 0; i < nAmb; i++) {
      const c = (i * 7 + 3) % customers;
      const amount = 777_700 + (i % 100) * 10 + next(c) * 100_000;
      inv.push({ c, no: seq++, amount }, { c, no: seq++, amount });
      payments.push({ source: 'bench', externalId: `A${i}`, method: PaymentMethod.PORTAL, amount: (amount / 100).toFixed(2), currency: 'USD', receivedOn: '2026-11-20', customerExternalId: `C${c}`, remittanceText: 'thanks' });
    }
    for (let i = 0; i < inv.length; i += 20_000) {
      const part = inv.slice(i, i + 20_000);
      await db.query(
        `INSERT INTO invoices (tenant_id, external_id, entity_id, customer_id, number, issue_date, terms_kind, terms_days, due_date, currency, total_minor, open_balance_minor, status)
         SELECT $1, 'I' || v.no, $2, v.cid, 'INV-' || v.no, '2026-10-01', 'NET', 30, '2026-10-31', 'USD', v.amount, v.amount, 'OPEN'
         FROM unnest($3::int[], $4::uuid[], $5::bigint[]) AS v(no, cid, amount)`,
        [t, entityId, part.map((x) => x.no), part.map((x) => custIds[x.c]), part.map((x) => x.amount)],
      );
    }
    await db.query(`INSERT INTO payer_accounts (tenant_id, account, customer_id) SELECT $1, 'ACCT-' || (substring(external_id from 2)), id FROM customers WHERE tenant_id = $1`, [t]);
    // Shuffle deterministically so that batches mix customers and kinds, as a bank file does.
    let s = 42;
    for (let i = payments.length - 1; i > 0; i--) {
      s = (s * 1103515245 + 12345) & 0x7fffffff;
      const j = s % (i + 1);
      [payments[i], payments[j]] = [payments[j], payments[i]];
    }
    await db.query('ANALYZE');
    process.stdout.write(`book: ${customers} customers, ${inv.length} invoices; ${total} payments (${nSingle} single, ${nBatch} batch settlements of 5, ${nAmb} ambiguous)\n`);

    // ---- intake: recordPayments' service, 1,000 per call, applyNow false -> one apply job per call
    const t0 = Date.now();
    for (let i = 0; i < payments.length; i += 1000) await env.app.modules.services.payments.record(env.ctx, payments.slice(i, i + 1000), { applyNow: false });
    const intakeSecs = (Date.now() - t0) / 1000;
    process.stdout.write(`intake: ${total} payments recorded (with their cash postings) in ${intakeSecs.toFixed(1)} s = ${Math.round(total / intakeSecs)} payments/s\n`);

    // ---- a twin tenant for the raw-SQL limit on the real tables (same rows, same indexes,
    // constraints and triggers): created before the application run so that both runs see
    // tables of the same size.
    const rawTenant = appOnly ? null : await twinTenant(db, t);
    // Statistics as autovacuum keeps them in production: intake (and the twin) filled payments and
    // the journal after the ANALYZE above; on a server with autovacuum off, plans would be made for
    // empty tables. Then a checkpoint, so that the application and the limit both start with no
    // dirty buffers and pay the same full-page writes.
    await db.query('ANALYZE');
    await db.query('CHECKPOINT');

    // ---- application by W worker processes through BullMQ
    const script = path.join(__dirname, 'payments-worker.ts');
    const ready: Promise<void>[] = [];
    for (let w = 0; w < workers; w++) {
      const child = fork(script, [], {
        // --profile DIR: each worker writes a V8 CPU profile there when it stops.
        // BENCH_WORKER_FLAGS: extra node flags for the workers (e.g. --trace-gc, which NODE_OPTIONS refuses).
        execArgv: ['-r', path.join(__dirname, '../../bin/register.js'), ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), ...(process.env.BENCH_WORKER_FLAGS?.split(' ').filter(Boolean) ?? [])],
        env: { ...process.env, DATABASE_URL: dbUrl, QUEUE_PREFIX: new URL(dbUrl).pathname.slice(1), BENCH_CONCURRENCY: String(concurrency), DB_POOL_SIZE: String(concurrency + 2) },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      children.push(child);
      ready.push(new Promise((res, rej) => {
        child.once('message', () => res());
        child.once('exit', (code) => rej(new Error(`worker exited with ${code}`)));
      }));
    }
    const a0 = Date.now();
    await Promise.all(ready);
    const startedSecs = (Date.now() - a0) / 1000;
    const pids = () => children.map((c) => c.pid!);
    const stats0 = tableStats ? await writesPerTable(db) : null;
    // The workers' main threads apart: the rest is V8's compiler and GC helper threads and libuv's pool.
    const cpu0 = { pg: postgresCpuMs(), workers: processCpuMs(pids()), main: processCpuMs(pids(), undefined, true) };
    const w0 = Date.now();
    for (;;) {
      // An index probe, not a count: the poll must not load the server it measures.
      const [{ pending }] = await db.query(`SELECT EXISTS (SELECT 1 FROM payments WHERE tenant_id = $1 AND status = 'PENDING') AS pending`, [t]);
      if (!pending) break;
      if (Date.now() - w0 > 30 * 60_000) throw new Error('payments still pending after 30 minutes');
      await new Promise((r) => setTimeout(r, 50));
    }
    const applySecs = (Date.now() - w0) / 1000;
    const appCpu = { pg: postgresCpuMs() - cpu0.pg, workers: processCpuMs(pids()) - cpu0.workers, main: processCpuMs(pids(), undefined, true) - cpu0.main };
    const appRate = total / applySecs;
    // Stopped and gone before the limit runs: their backends' CPU must not leave the limit's reading.
    await Promise.all(children.map((c) => new Promise<void>((res) => (c.exitCode !== null ? res() : (c.once('exit', () => res()), c.send('stop'))))));
    if (stats0) {
      await new Promise((r) => setTimeout(r, 1500)); // backends flush their counters at most once a second
      const stats1 = await writesPerTable(db);
      process.stdout.write('rows written per payment during application (pg_stat_user_tables; indexes per table):\n');
      for (const [table, s] of stats1) {
        const b = stats0.get(table) ?? { ins: 0, upd: 0, hot: 0, del: 0, indexes: s.indexes };
        const d = (k: 'ins' | 'upd' | 'hot' | 'del') => ((s[k] - b[k]) / total).toFixed(2);
        if (s.ins + s.upd + s.del > b.ins + b.upd + b.del) process.stdout.write(`  ${table.padEnd(28)} inserted ${d('ins')}, updated ${d('upd')} (HOT ${d('hot')}), deleted ${d('del')}; ${s.indexes} indexes\n`);
      }
    }
    const perPayment = (ms: number) => (Number.isNaN(ms) ? 'n/a' : `${Math.round((ms * 1000) / total)} us`);
    if (!rawTenant) {
      process.stdout.write(`application          ${total} payments in ${applySecs.toFixed(1)} s = ${Math.round(appRate)} payments/s; CPU per payment: PostgreSQL ${perPayment(appCpu.pg)}, workers ${perPayment(appCpu.workers)} (main threads ${perPayment(appCpu.main)}) (--app-only: no limit, no ratio)\n`);
      return;
    }

    // ---- the raw-SQL limits: the same allocations written directly, same chunking, W connections.
    // (1) on the real tables, for the twin tenant: INSERT into payment_allocations, UPDATE of
    // invoices (balance, status, closed_on) and payments (applied, unapplied, status), with every
    // index, constraint and trigger the product has; (2) on bare copies with a primary key only.
    await db.query('CHECKPOINT');
    const realLimit = await rawOnRealTables(db, dbUrl, t, rawTenant, workers);
    await db.query(`CREATE TABLE bench_raw_invoices AS SELECT id, total_minor AS open_balance_minor FROM invoices WHERE tenant_id = $1`, [t]);
    await db.query(`ALTER TABLE bench_raw_invoices ADD PRIMARY KEY (id)`);
    await db.query(`CREATE TABLE bench_raw_payments AS SELECT id, amount_minor, 0::bigint AS applied_minor, amount_minor AS unapplied_minor FROM payments WHERE tenant_id = $1`, [t]);
    await db.query(`ALTER TABLE bench_raw_payments ADD PRIMARY KEY (id)`);
    await db.query(`CREATE TABLE bench_raw_allocations (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), payment_id uuid NOT NULL, invoice_id uuid NOT NULL, amount_minor bigint NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`);
    await db.query(`CREATE INDEX ON bench_raw_allocations (payment_id)`);
    const allocRows: { payment_id: string; invoice_id: string; amount_minor: string }[] = await db.query(`SELECT payment_id, invoice_id, amount_minor FROM payment_allocations WHERE tenant_id = $1`, [t]);
    const byPayment = new Map<string, { invoice_id: string; amount_minor: string }[]>();
    const allPayments: { id: string }[] = await db.query(`SELECT id FROM payments WHERE tenant_id = $1 ORDER BY id`, [t]);
    allPayments.forEach((p) => byPayment.set(p.id, []));
    allocRows.forEach((a) => byPayment.get(a.payment_id)!.push(a));
    const ids = [...byPayment.keys()];
    const r0 = Date.now();
    await Promise.all(
      Array.from({ length: workers }, async (_, w) => {
        const c = new Client({ connectionString: dbUrl });
        await c.connect();
        try {
          const mine = ids.filter((_id, i) => i % workers === w);
          for (let i = 0; i < mine.length; i += APPLY_CHUNK) {
            const chunk = mine.slice(i, i + APPLY_CHUNK);
            const al = chunk.flatMap((p) => byPayment.get(p)!.map((a) => ({ p, ...a })));
            const perInv = new Map<string, bigint>();
            al.forEach((a) => perInv.set(a.invoice_id, (perInv.get(a.invoice_id) ?? 0n) + BigInt(a.amount_minor)));
            const perPay = new Map<string, bigint>(chunk.map((p) => [p, 0n]));
            al.forEach((a) => perPay.set(a.p, perPay.get(a.p)! + BigInt(a.amount_minor)));
            await c.query('BEGIN');
            await c.query(`INSERT INTO bench_raw_allocations (payment_id, invoice_id, amount_minor) SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bigint[])`, [al.map((a) => a.p), al.map((a) => a.invoice_id), al.map((a) => a.amount_minor)]);
            await c.query(`UPDATE bench_raw_invoices i SET open_balance_minor = i.open_balance_minor - v.a FROM unnest($1::uuid[], $2::bigint[]) AS v(id, a) WHERE i.id = v.id`, [[...perInv.keys()], [...perInv.values()].map(String)]);
            await c.query(`UPDATE bench_raw_payments p SET applied_minor = v.a, unapplied_minor = p.amount_minor - v.a FROM unnest($1::uuid[], $2::bigint[]) AS v(id, a) WHERE p.id = v.id`, [[...perPay.keys()], [...perPay.values()].map(String)]);
            await c.query('COMMIT');
          }
        } finally {
          await c.end();
        }
      }),
    );
    const bareSecs = (Date.now() - r0) / 1000;
    const bareRate = total / bareSecs;
    const rawSecs = realLimit.secs;
    const rawRate = total / rawSecs;

    // ---- conservation, to the cent
    const [cons] = await db.query(
      `SELECT
         (SELECT count(*) FROM payments WHERE tenant_id = $1 AND applied_minor + unapplied_minor + reversed_minor <> amount_minor)::int AS bad_payments,
         (SELECT count(*) FROM (SELECT p.id FROM payments p LEFT JOIN payment_allocations a ON a.payment_id = p.id WHERE p.tenant_id = $1 GROUP BY p.id, p.applied_minor HAVING coalesce(sum(a.source_amount_minor), 0) <> p.applied_minor) x)::int AS bad_allocs,
         (SELECT count(*) FROM (SELECT i.id FROM invoices i LEFT JOIN payment_allocations a ON a.invoice_id = i.id WHERE i.tenant_id = $1 GROUP BY i.id HAVING i.total_minor - coalesce(sum(a.amount_minor), 0) <> i.open_balance_minor OR i.open_balance_minor < 0) x)::int AS bad_invoices,
         (SELECT count(*) FROM (SELECT entry_id FROM journal_lines WHERE tenant_id = $1 GROUP BY entry_id HAVING sum(debit_minor) <> sum(credit_minor)) x)::int AS bad_entries,
         (SELECT sum(amount_minor) FROM payments WHERE tenant_id = $1)::text AS received,
         (SELECT sum(applied_minor) FROM payments WHERE tenant_id = $1)::text AS applied,
         (SELECT sum(unapplied_minor) FROM payments WHERE tenant_id = $1)::text AS unapplied,
         (SELECT sum(source_amount_minor) FROM payment_allocations WHERE tenant_id = $1)::text AS allocated,
         (SELECT sum(debit_minor - credit_minor) FILTER (WHERE account = 'CASH') FROM journal_lines WHERE tenant_id = $1)::text AS ledger_cash,
         (SELECT sum(credit_minor - debit_minor) FILTER (WHERE account = 'UNAPPLIED_CASH') FROM journal_lines WHERE tenant_id = $1)::text AS ledger_unapplied,
         (SELECT sum(credit_minor - debit_minor) FILTER (WHERE account = 'AR') FROM journal_lines WHERE tenant_id = $1)::text AS ledger_ar_paid,
         (SELECT count(*) FROM payments WHERE tenant_id = $1 AND status = 'APPLIED')::int AS applied_n,
         (SELECT count(*) FROM payments WHERE tenant_id = $1 AND status = 'UNAPPLIED')::int AS unapplied_n,
         (SELECT count(*) FROM payments WHERE tenant_id = $1 AND status = 'PARTIALLY_APPLIED')::int AS partial_n,
         (SELECT count(*) FROM payment_allocations WHERE tenant_id = $1)::int AS alloc_rows,
         (SELECT count(*) FROM payment_suggestions WHERE tenant_id = $1)::int AS suggestions`,
      [t],
    );
    const [raw] = await db.query(
      `SELECT (SELECT sum(applied_minor) FROM bench_raw_payments)::text AS applied,
              (SELECT count(*) FROM bench_raw_invoices r JOIN invoices i ON i.id = r.id WHERE r.open_balance_minor <> i.open_balance_minor)::int
            + (SELECT count(*) FROM invoices i JOIN bench_idmap m ON m.old = i.id JOIN invoices r ON r.id = m.new WHERE r.open_balance_minor <> i.open_balance_minor OR r.status <> i.status)::int AS differ,
              (SELECT sum(applied_minor) FROM payments WHERE tenant_id = $1)::text AS twin_applied`,
      [rawTenant],
    );
    const conserved =
      cons.bad_payments === 0 &&
      cons.bad_allocs === 0 &&
      cons.bad_invoices === 0 &&
      cons.bad_entries === 0 &&
      BigInt(cons.applied) + BigInt(cons.unapplied) === BigInt(cons.received) &&
      cons.allocated === cons.applied &&
      cons.ledger_cash === cons.received &&
      cons.ledger_unapplied === cons.unapplied &&
      cons.ledger_ar_paid === cons.applied &&
      raw.applied === cons.applied &&
      raw.twin_applied === cons.applied &&
      raw.differ === 0;
    const usd = (m: string) => `$${(BigInt(m) / 100n).toLocaleString('en-US')}.${(BigInt(m) % 100n).toString().padStart(2, '0')}`;
    const rows = [
      ['workers', `${workers} processes x concurrency ${concurrency}, BullMQ on ${process.env.REDIS_URL ? 'Redis' : 'PostgreSQL'}, ${APPLY_CHUNK} payments per transaction (workers up in ${startedSecs.toFixed(1)} s, not counted)`],
      ['application', `${total} payments in ${applySecs.toFixed(1)} s = ${Math.round(appRate)} payments/s (target >= 5,000)`],
      ['outcome', `${cons.applied_n} applied, ${cons.partial_n} partially applied, ${cons.unapplied_n} unapplied (queue, ${cons.suggestions} suggestions); ${cons.alloc_rows} allocation rows`],
      ['raw-SQL limit', `same ${cons.alloc_rows} allocation rows + invoice and payment balance updates on the real tables (twin tenant), ${workers} connections: ${rawSecs.toFixed(1)} s = ${Math.round(rawRate)} payments/s`],
      ['CPU per payment', `application: PostgreSQL ${perPayment(appCpu.pg)}, worker processes ${perPayment(appCpu.workers)} (main threads ${perPayment(appCpu.main)}); raw-SQL limit: PostgreSQL ${perPayment(realLimit.pgCpuMs)} (from /proc)`],
      ['ratio to the limit', `${(appRate / rawRate).toFixed(2)}x (target >= 0.5x)`],
      ['bare-copy limit', `the same writes into copies with a primary key only (no other index, constraint or trigger): ${bareSecs.toFixed(1)} s = ${Math.round(bareRate)} payments/s; ratio ${(appRate / bareRate).toFixed(2)}x (for comparison)`],
      ['load average', loadAverage()],
      ['conservation', `${conserved ? 'OK' : 'FAILED'}: received ${usd(cons.received)} = applied ${usd(cons.applied)} + unapplied ${usd(cons.unapplied)}; allocations ${usd(cons.allocated)}; ledger cash ${usd(cons.ledger_cash)}, AR credited ${usd(cons.ledger_ar_paid)}, unapplied ${usd(cons.ledger_unapplied)}; bad payments/allocs/invoices/entries ${cons.bad_payments}/${cons.bad_allocs}/${cons.bad_invoices}/${cons.bad_entries}; raw run agrees: ${raw.applied === cons.applied && raw.differ === 0}`],
    ];
    for (const [k, v] of rows) process.stdout.write(`${k.padEnd(20)} ${v}\n`);
    if (!conserved) throw new Error('conservation check failed');
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill();
    await env.close();
  }
}

/** CPU time (user + system, ms) of the given processes so far, with `reaped` their exited children's too, or with `mainThreadOnly` their main threads' alone; NaN where /proc is not readable (not Linux). */
function processCpuMs(pids: number[], reaped: (pid: number) => boolean = () => false, mainThreadOnly = false): number {
  if (!fs.existsSync('/proc/self/stat')) return NaN;
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = fs.readFileSync(mainThreadOnly ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]) + (reaped(pid) ? Number(fields[13]) + Number(fields[14]) : 0);
    } catch {
      // exited meanwhile
    }
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}

/**
 * CPU time of the PostgreSQL server on this machine (meaningful when the server in DATABASE_URL
 * is local): every live postgres process, plus what the postmaster reaped from backends that
 * exited (a connection closed during the measurement keeps its CPU in the total).
 */
function postgresCpuMs(): number {
  if (!fs.existsSync('/proc/self/stat')) return NaN;
  const stat = (pid: string) => {
    try {
      return { comm: fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), ppid: Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]) };
    } catch {
      return null;
    }
  };
  const procs = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map((d) => ({ pid: Number(d), s: stat(d) })).filter((p) => p.s?.comm === 'postgres');
  const pids = new Set(procs.map((p) => p.pid));
  const postmasters = new Set(procs.filter((p) => !pids.has(p.s!.ppid)).map((p) => p.pid));
  return processCpuMs([...pids], (pid) => postmasters.has(pid));
}

/** Cumulative row counters of every user table, and its index count. */
async function writesPerTable(db: DataSource): Promise<Map<string, { ins: number; upd: number; hot: number; del: number; indexes: number }>> {
  const rows: { relname: string; ins: string; upd: string; hot: string; del: string; indexes: number }[] = await db.query(
    `SELECT relname, n_tup_ins AS ins, n_tup_upd AS upd, n_tup_hot_upd AS hot, n_tup_del AS del,
            (SELECT count(*) FROM pg_index i WHERE i.indrelid = t.relid)::int AS indexes
     FROM pg_stat_user_tables t ORDER BY relname`,
  );
  return new Map(rows.map((r) => [r.relname, { ins: Number(r.ins), upd: Number(r.upd), hot: Number(r.hot), del: Number(r.del), indexes: r.indexes }]));
}

/** Copies a tenant's entities, customers, invoices and payments under a new tenant with new ids (bench_idmap: old id -> new id). */
async function twinTenant(db: DataSource, t: string): Promise<string> {
  const [{ id }] = await db.query(`INSERT INTO tenants (name, timezone, functional_currency) SELECT name || ' (raw-SQL twin)', timezone, functional_currency FROM tenants WHERE id = $1 RETURNING id`, [t]);
  await db.query(`CREATE TABLE bench_idmap (old uuid PRIMARY KEY, new uuid NOT NULL DEFAULT gen_random_uuid())`);
  for (const table of ['legal_entities', 'customers', 'invoices', 'payments']) await db.query(`INSERT INTO bench_idmap (old) SELECT id FROM ${table} WHERE tenant_id = $1`, [t]);
  const remap = (cols: string[]) => cols.map((c) => `'${c}', (SELECT new FROM bench_idmap WHERE old = x.${c})`).join(', ');
  const copy = (table: string, cols: string[]) =>
    db.query(
      `INSERT INTO ${table} SELECT (jsonb_populate_record(NULL::${table}, to_jsonb(x) || jsonb_build_object('id', m.new, 'tenant_id', $2::uuid${cols.length ? `, ${remap(cols)}` : ''}))).*
       FROM ${table} x JOIN bench_idmap m ON m.old = x.id WHERE x.tenant_id = $1`,
      [t, id],
    );
  await copy('legal_entities', []);
  await copy('customers', ['entity_id']);
  await copy('invoices', ['entity_id', 'customer_id']);
  await copy('payments', ['entity_id', 'customer_id']);
  await db.query('ANALYZE');
  return id;
}

/** The application's allocations replayed for the twin tenant as bare SQL on the real tables, same chunks, W connections. */
async function rawOnRealTables(db: DataSource, dbUrl: string, t: string, twin: string, workers: number): Promise<{ secs: number; pgCpuMs: number }> {
  const rows: { p: string; i: string; c: string; a: string; cur: string; rule: string; received_on: string }[] = await db.query(
    `SELECT mp.new AS p, mi.new AS i, mc.new AS c, a.amount_minor::text AS a, a.currency AS cur, a.rule, to_char(p.received_on, 'YYYY-MM-DD') AS received_on
     FROM payment_allocations a JOIN payments p ON p.id = a.payment_id
     JOIN bench_idmap mp ON mp.old = a.payment_id JOIN bench_idmap mi ON mi.old = a.invoice_id JOIN bench_idmap mc ON mc.old = a.customer_id
     WHERE a.tenant_id = $1`,
    [t],
  );
  const pays: { id: string; amount: string }[] = await db.query(`SELECT id, amount_minor::text AS amount FROM payments WHERE tenant_id = $1 ORDER BY id`, [twin]);
  const byPayment = new Map(pays.map((p) => [p.id, [] as typeof rows]));
  rows.forEach((r) => byPayment.get(r.p)!.push(r));
  const ids = [...byPayment.keys()];
  // Connected first and ended after the CPU reading, so that their backends' CPU time is counted.
  const clients = await Promise.all(
    Array.from({ length: workers }, async () => {
      const c = new Client({ connectionString: dbUrl });
      await c.connect();
      return c;
    }),
  );
  const cpu0 = postgresCpuMs();
  const r0 = Date.now();
  await Promise.all(
    clients.map(async (c, w) => {
      const mine = ids.filter((_id, i) => i % workers === w);
      for (let i = 0; i < mine.length; i += APPLY_CHUNK) {
        const chunk = mine.slice(i, i + APPLY_CHUNK);
        const al = chunk.flatMap((p) => byPayment.get(p)!);
        const perInv = new Map<string, { a: bigint; on: string }>();
        al.forEach((x) => perInv.set(x.i, { a: (perInv.get(x.i)?.a ?? 0n) + BigInt(x.a), on: x.received_on }));
        const perPay = new Map<string, bigint>(chunk.map((p) => [p, 0n]));
        al.forEach((x) => perPay.set(x.p, perPay.get(x.p)! + BigInt(x.a)));
        const invIds = [...perInv.keys()].sort();
        await c.query('BEGIN');
        await c.query(
          `INSERT INTO payment_allocations (tenant_id, created_by, payment_id, invoice_id, customer_id, amount_minor, currency, source_amount_minor, source_currency, rule)
           SELECT $1, 'bench-raw', p, i, c, a, cur, a, cur, r FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::bigint[], $6::text[], $7::text[]) AS v(p, i, c, a, cur, r)`,
          [twin, al.map((x) => x.p), al.map((x) => x.i), al.map((x) => x.c), al.map((x) => x.a), al.map((x) => x.cur), al.map((x) => x.rule)],
        );
        await c.query(
          `UPDATE invoices i SET open_balance_minor = i.open_balance_minor - v.a,
             status = CASE WHEN i.open_balance_minor - v.a = 0 THEN 'PAID' ELSE i.status END,
             closed_on = CASE WHEN i.open_balance_minor - v.a = 0 THEN v.d ELSE i.closed_on END, updated_at = now()
           FROM unnest($2::uuid[], $3::bigint[], $4::date[]) AS v(id, a, d) WHERE i.tenant_id = $1 AND i.id = v.id`,
          [twin, invIds, invIds.map((id) => perInv.get(id)!.a.toString()), invIds.map((id) => perInv.get(id)!.on)],
        );
        await c.query(
          `UPDATE payments p SET applied_minor = v.a, unapplied_minor = p.amount_minor - v.a,
             status = CASE WHEN v.a = p.amount_minor THEN 'APPLIED' WHEN v.a > 0 THEN 'PARTIALLY_APPLIED' ELSE 'UNAPPLIED' END, updated_at = now()
           FROM unnest($2::uuid[], $3::bigint[]) AS v(id, a) WHERE p.tenant_id = $1 AND p.id = v.id`,
          [twin, [...perPay.keys()], [...perPay.values()].map(String)],
        );
        await c.query('COMMIT');
      }
    }),
  );
  const secs = (Date.now() - r0) / 1000;
  const pgCpuMs = postgresCpuMs() - cpu0;
  await Promise.all(clients.map((c) => c.end()));
  return { secs, pgCpuMs };
}
