import os from 'node:os';
import { IsNull } from 'typeorm';
import { bookCustomer, customerBatches, generateInvoice, type BookCustomer, customerPicker } from '../../src/modules/demo/demo-book';
import { Action, ActionKind, ActionMode, ActionStatus } from '../../src/modules/actions/action.entity';
import { Customer } from '../../src/modules/customers/customer.entity';
import { Dispute, DisputeStatus } from '../../src/modules/disputes/dispute.entity';
import { DunningPause } from '../../src/modules/engine/dunning-pause.entity';
import { evaluateCustomer } from '../../src/modules/engine/engine';
import type { Decision } from '../../src/modules/engine/engine.types';
import type { EvaluationRun } from '../../src/modules/engine/evaluation-run.entity';
import { EVALUATION_BATCH } from '../../src/modules/engine/evaluation.service';
import type { LoadedCustomer } from '../../src/modules/engine/snapshot-loader';
import { Invoice, InvoiceStatus } from '../../src/modules/invoices/invoice.entity';
import { InvoiceLine } from '../../src/modules/invoices/invoice-line.entity';
import { AssignmentScope } from '../../src/modules/policies/policy.entities';
import type { LiveVersion } from '../../src/modules/policies/policy.service';
import { addDays, type IsoDate } from '../../src/platform/time/dates';
import { typicalPolicy } from '../support/policies';
import { arg, benchEnv, type BenchEnv } from './bench-env';

/**
 * Dunning evaluation benchmark: the real path (`evaluation.run`, batches of 500 customers,
 * set-based loads, pure engine, one insert per 1,000 actions) against, in the same run on the
 * same rows, one set-based SQL pass that computes the same kind of step decision (the practical
 * limit) and a naive per-invoice ORM loop on a sample (what the engine must beat).
 *
 * `--invoices N` is the number of OPEN invoices wanted: the generator leaves about 15% of its
 * invoices open as of the book day, so the bench estimates that share from a sample of the
 * generator's own draws and seeds N / share invoices (no change to the generated data).
 */
export async function run(): Promise<void> {
  const openWanted = arg('invoices', 1_000_000);
  const customers = arg('customers', Math.max(1, Math.round(openWanted / 10)));
  const naiveSample = arg('naive', 20_000);
  const repeat = Math.max(1, arg('repeat', 2));
  const seed = arg('seed', 1);
  // The generator's book day: open balances age relative to it, so evaluating on that day puts
  // open invoices in every step window (not yet due, pre-due, due, +3, +10, +21, +30 and 60+).
  const asOf: IsoDate = '2026-11-24';
  const out = (s: string) => process.stdout.write(`${s}\n`);
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  const rate = (n: number, secs: number) => `${Math.round(n / secs).toLocaleString('en-US')}/s`;

  // --- sizing: how many invoices to generate for `openWanted` open ones -------------------------
  const share = estimateOpenShare({ seed, customers, asOf }, openWanted);
  const generate = Math.ceil(openWanted / share.share);
  out(`sizing: the generator leaves ${(share.share * 100).toFixed(2)}% of invoices open on ${asOf} (sample of ${share.sampled.toLocaleString('en-US')} draws) -> generating ${generate.toLocaleString('en-US')} invoices for ~${openWanted.toLocaleString('en-US')} open, ${customers.toLocaleString('en-US')} customers`);

  const env = await benchEnv('evaluation');
  const db = env.app.dataSource;
  const q = <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => db.query(sql, params) as Promise<T[]>;
  try {
    // --- 1. seed --------------------------------------------------------------------------------
    let t0 = Date.now();
    let lastLog = 0;
    // Autovacuum may be off (it is on the machine this was written on): without fresh
    // statistics the seeder's per-batch lookups plan as on an empty table and seeding turns
    // quadratic. ANALYZE on another connection whenever the book has doubled (then every 500k).
    let analyzedAt = 10_000;
    let analyzing: Promise<unknown> | null = null;
    const summary = await env.app.modules.services.demo.seed(env.ctx, {
      customers,
      invoices: generate,
      seed,
      asOf,
      onProgress: (p) => {
        if (!analyzing && p.invoices >= Math.min(analyzedAt * 2, analyzedAt + 500_000)) {
          analyzedAt = p.invoices;
          analyzing = q('ANALYZE invoices, invoice_lines, customers').finally(() => (analyzing = null));
        }
        if (Date.now() - lastLog > 30_000) {
          lastLog = Date.now();
          out(`  seeding: ${p.customers.toLocaleString('en-US')} customers, ${p.invoices.toLocaleString('en-US')} invoices, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
        }
      },
    });
    await analyzing;
    const seedSecs = (Date.now() - t0) / 1000;
    const [book] = await q<{ open: number; open_customers: number; pre_due: number; due: number; d3: number; d10: number; d21: number; d30: number; d60: number; later: number; hold: number }>(
      `SELECT count(*)::int AS open, count(DISTINCT customer_id)::int AS open_customers,
              count(*) FILTER (WHERE $2::date - due_date < -7)::int AS later,
              count(*) FILTER (WHERE $2::date - due_date BETWEEN -7 AND -1)::int AS pre_due,
              count(*) FILTER (WHERE $2::date - due_date BETWEEN 0 AND 2)::int AS due,
              count(*) FILTER (WHERE $2::date - due_date BETWEEN 3 AND 9)::int AS d3,
              count(*) FILTER (WHERE $2::date - due_date BETWEEN 10 AND 20)::int AS d10,
              count(*) FILTER (WHERE $2::date - due_date BETWEEN 21 AND 29)::int AS d21,
              count(*) FILTER (WHERE $2::date - due_date BETWEEN 30 AND 59)::int AS d30,
              count(*) FILTER (WHERE $2::date - due_date >= 60)::int AS d60,
              count(*) FILTER (WHERE reconciliation_hold)::int AS hold
       FROM invoices WHERE tenant_id = $1 AND status = 'OPEN' AND open_balance_minor > 0`,
      [env.tenantId, asOf],
    );
    out(`seed: ${summary.invoices.toLocaleString('en-US')} invoices, ${summary.customers.toLocaleString('en-US')} customers in ${seedSecs.toFixed(1)} s = ${rate(summary.invoices, seedSecs)} invoices`);
    out(`  open on ${asOf}: ${book.open.toLocaleString('en-US')} invoices of ${book.open_customers.toLocaleString('en-US')} customers; by days past due: not yet in a step window ${book.later}, pre-due (-7..-1) ${book.pre_due}, due (0..2) ${book.due}, +3 ${book.d3}, +10 ${book.d10}, +21 ${book.d21}, +30 (30..59) ${book.d30}, 60+ ${book.d60}; reconciliation hold ${book.hold}`);

    // --- the policy: the 6-step, 3-tier policy of the scenario tests ----------------------------
    const policies = env.app.modules.services.policies;
    const created = await policies.create(env.ctx, { name: 'Standard', definition: typicalPolicy });
    if (!created.policy) throw new Error(`policy rejected: ${JSON.stringify(created.problems)}`);
    await policies.publish(env.ctx, created.policy.id, null, '2020-01-01');
    await policies.assign(env.ctx, created.policy.id, AssignmentScope.GLOBAL, null);
    const live = [...(await policies.book(env.ctx, asOf)).live.values()][0];

    t0 = Date.now();
    await q('VACUUM (ANALYZE)');
    out(`VACUUM (ANALYZE) after seeding: ${((Date.now() - t0) / 1000).toFixed(1)} s (same state for the three measurements)`);

    // --- 3 and 2: the practical limit and the real path, alternating ---------------------------
    // Each is measured `--repeat` times (default 2), limit then real, and the faster attempt of
    // each is kept: the machine may be shared, and a burst of other work must not decide the
    // ratio. Before a repeated real run the dunning tables go back to empty (TRUNCATE).
    let limit: LimitResult | null = null;
    let real: RealResult | null = null;
    let peakAll = 0;
    let bounded = true;
    for (let attempt = 1; attempt <= repeat; attempt++) {
      const l = await limitPass(env, live, asOf);
      out(`limit #${attempt} (one SQL statement): ${l.invoices.toLocaleString('en-US')} open invoices -> ${l.rows.toLocaleString('en-US')} action rows in ${l.secs.toFixed(2)} s = ${rate(l.invoices, l.secs)} invoices; load average ${l.load.toFixed(2)}`);
      if (!limit || l.secs < limit.secs) limit = l;
      if (attempt > 1) {
        await q(`TRUNCATE actions, customer_escalations, evaluation_run_batches, evaluation_runs CASCADE`);
        await q('VACUUM (ANALYZE) actions, customer_escalations, evaluation_runs, evaluation_run_batches');
      }
      const r = await realRun(env, asOf, out, process.argv.includes('--profile') && attempt === repeat);
      out(
        `real #${attempt} (evaluation.run): ${r.run.customers.toLocaleString('en-US')} customers, ${r.run.invoices.toLocaleString('en-US')} invoices in ${r.secs.toFixed(2)} s = ${rate(r.run.invoices, r.secs)} invoices; evaluation_runs.duration_ms ${r.run.durationMs}; ` +
          `${r.run.actionsCreated.toLocaleString('en-US')} actions created (${r.steps.toLocaleString('en-US')} steps, ${r.tiers.toLocaleString('en-US')} tier entries), ${r.batches} batches of ${EVALUATION_BATCH} customers; load average ${r.load.toFixed(2)}`,
      );
      out(`  RSS before ${mib(r.rssBefore)}, peak ${mib(r.peakRss)}; peak over the first half of the batches ${mib(r.firstHalfPeak)}, over the second half ${mib(r.secondHalfPeak)}`);
      if (attempt === 1) out(`  outcomes: ${Object.entries(r.run.outcomes as Record<string, number>).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
      if (!real || r.secs < real.secs) real = r;
      peakAll = Math.max(peakAll, r.peakRss);
      bounded &&= r.secondHalfPeak - r.firstHalfPeak <= 64 * 2 ** 20;
    }
    const realSecs = real!.secs;
    const runRow = real!.run;
    const realRate = runRow.invoices / realSecs;
    const { rssBefore, firstHalfPeak, secondHalfPeak } = real!;

    // --- 4. the naive per-invoice ORM loop on a sample ----------------------------------------
    const naive = naiveSample > 0 ? await naiveLoop(env, live, asOf, naiveSample) : { invoices: 0, secs: NaN, saved: 0, deleted: 0 };
    out(
      `naive (per-invoice ORM loop): ${naive.invoices.toLocaleString('en-US')} sampled open invoices in ${naive.secs.toFixed(2)} s = ${rate(naive.invoices, naive.secs)} invoices (extrapolated to ${book.open.toLocaleString('en-US')}: ${((book.open / naive.invoices) * naive.secs / 60).toFixed(1)} min); ` +
        `${naive.saved} actions saved one by one; the real run had made ${naive.deleted} step actions for these invoices (${naive.saved === naive.deleted ? 'same decisions' : 'DIFFERENT decisions'})`,
    );

    // --- 5. results ------------------------------------------------------------------------------
    const vsLimit = realRate / (limit!.invoices / limit!.secs);
    const vsNaive = realRate / (naive.invoices / naive.secs);
    const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');
    out('');
    out('what the limit does: for each open invoice (status OPEN, open balance > 0), days past due from due_date, the latest step of the');
    out('  policy whose offset <= dpd (a VALUES list of the 6 standard steps), and one INSERT ... SELECT of the action rows (idempotency key,');
    out('  step, channels, template, amount, reason and packet jsonb) into a copy of `actions` (same columns, indexes, unique key, checks');
    out('  and foreign keys) with ON CONFLICT DO NOTHING. What it does NOT do: suppressions (reconciliation hold, pauses, promises,');
    out('  disputes), the courtesy path, step conditions, customer behaviour history, tiers (entry, tier actions, stop of automated');
    out('  reminders), already-sent checks, the run bookkeeping (batches, counts, escalation state) or approval packets.');
    out('what the naive loop does, per invoice: repository lookups one by one (the invoice, its customer, the customer\'s open invoices,');
    out('  their lines when disputed, disputes, pause, promises, escalation, late-invoice history, existing actions), the pure engine on');
    out('  that customer, and repository.save of the invoice\'s decisions one at a time (each save its own transaction).');
    out('');
    out('== dunning evaluation ==');
    const rows: [string, string, string][] = [
      ['open invoices / customers', `${book.open.toLocaleString('en-US')} / ${book.open_customers.toLocaleString('en-US')}`, ''],
      ['real path', `${rate(runRow.invoices, realSecs)} invoices (${realSecs.toFixed(1)} s, ${runRow.actionsCreated.toLocaleString('en-US')} actions; best of ${repeat})`, ''],
      ['practical limit (1 SQL pass)', `${rate(limit!.invoices, limit!.secs)} invoices (${limit!.secs.toFixed(1)} s, ${limit!.rows.toLocaleString('en-US')} rows; best of ${repeat})`, ''],
      ['naive ORM loop (sample)', `${rate(naive.invoices, naive.secs)} invoices (${naive.invoices.toLocaleString('en-US')} in ${naive.secs.toFixed(1)} s)`, ''],
      ['real / limit', `${vsLimit.toFixed(2)}x (target >= 0.5x)`, verdict(vsLimit >= 0.5)],
      ['real / naive', `${vsNaive.toFixed(1)}x (target >= 20x)`, verdict(vsNaive >= 20)],
      ['peak RSS during the runs', `${mib(peakAll)} (before ${mib(rssBefore)}; best run: second half ${secondHalfPeak >= firstHalfPeak ? '+' : ''}${mib(secondHalfPeak - firstHalfPeak)} over first half; target: no growth > 64 MiB)`, verdict(bounded)],
    ];
    for (const [k, v, r] of rows) out(`${k.padEnd(30)} ${v.padEnd(92)} ${r}`);
  } finally {
    await env.close();
  }
}

/**
 * The share of the generator's invoices that are open on `asOf`, from every k-th draw of the
 * generator itself (the customers are generated whole: invoice draws depend on their weights).
 */
function estimateOpenShare(o: { seed: number; customers: number; asOf: IsoDate }, openWanted: number): { share: number; sampled: number } {
  const refs = { entityIdByCode: new Map([['US01', 'us'], ['UK01', 'uk'], ['DE01', 'de']]), collectorIds: ['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8'] };
  const customers: BookCustomer[] = [];
  let share = 0.155;
  let sampled = 0;
  for (const batch of customerBatches({ seed: o.seed, customers: o.customers, invoices: 1, asOf: o.asOf }, refs, 1000)) for (const c of batch) customers.push(bookCustomer(c, `x${customers.length}`));
  const pick = customerPicker(customers);
  const asOfDay = Math.round(Date.parse(`${o.asOf}T00:00:00Z`) / 86_400_000);
  // Twice: the share depends slightly on the total (issue dates are spread by n / total).
  for (let pass = 0; pass < 2; pass++) {
    const total = Math.ceil(openWanted / share);
    const step = Math.max(1, Math.floor(total / 100_000));
    let open = 0;
    sampled = 0;
    for (let n = 1; n <= total; n += step) {
      sampled++;
      if (generateInvoice({ seed: o.seed, customers: o.customers, invoices: total, asOf: o.asOf }, n, asOfDay, pick).openBalanceMinor! > 0n) open++;
    }
    share = open / sampled;
  }
  return { share, sampled };
}

interface RealResult {
  run: EvaluationRun;
  secs: number;
  steps: number;
  tiers: number;
  batches: number;
  rssBefore: number;
  peakRss: number;
  firstHalfPeak: number;
  secondHalfPeak: number;
  load: number;
}

/** The real path, `evaluation.run`, timed, with RSS sampled every 50 ms and after each batch. */
async function realRun(env: BenchEnv, asOf: IsoDate, out: (s: string) => void, profiled: boolean): Promise<RealResult> {
  const db = env.app.dataSource;
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  const evaluation = env.app.modules.services.evaluation;
  const rssBefore = process.memoryUsage().rss;
  let peakRss = rssBefore;
  const perBatchRss: number[] = [];
  let t0 = Date.now();
  // Progress and memory per batch: a wrapper around the instance's method, same behaviour.
  const original = evaluation.evaluateBatch.bind(evaluation);
  // A production database has statistics on `actions`; this one starts empty and grows by
  // ~200k rows during the run. When autovacuum is off on the server (it is on the machine this
  // was written on), do what it would do with its defaults: ANALYZE the tables the run writes
  // once the rows added pass threshold + scale factor x rows, at most once per naptime (the
  // launcher's first visit taken at the first crossing). Without it the planner keeps believing
  // `actions` is empty and reads every action of the tenant for each batch.
  const settings: { name: string; setting: string }[] = await db.query(
    `SELECT name, setting FROM pg_settings WHERE name IN ('autovacuum', 'autovacuum_naptime', 'autovacuum_analyze_threshold', 'autovacuum_analyze_scale_factor')`,
  );
  const setting = (n: string) => settings.find((x) => x.name === n)!.setting;
  const emulate = setting('autovacuum') === 'off';
  const naptimeMs = Number(setting('autovacuum_naptime')) * 1000;
  let added = 0;
  let analyzedRows = 0;
  let analyzedAt = -Infinity;
  let analyzes = 0;
  let analyzing: Promise<unknown> | null = null;
  evaluation.evaluateBatch = async (ctx, b) => {
    const o = await original(ctx, b);
    added += o.actionsCreated;
    if (emulate && !analyzing && added > Number(setting('autovacuum_analyze_threshold')) + Number(setting('autovacuum_analyze_scale_factor')) * analyzedRows && Date.now() - analyzedAt >= naptimeMs) {
      analyzedAt = Date.now();
      analyzedRows += added;
      added = 0;
      analyzes++;
      analyzing = db.query('ANALYZE actions, customer_escalations').finally(() => (analyzing = null));
    }
    const rss = process.memoryUsage().rss;
    peakRss = Math.max(peakRss, rss);
    perBatchRss.push(rss);
    if (perBatchRss.length % 50 === 0) out(`  evaluation: ${perBatchRss.length} batches, ${((Date.now() - t0) / 1000).toFixed(0)} s, RSS ${mib(rss)}`);
    return o;
  };
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  const profile = profiled ? profileQueries() : null;
  const cpu = profiled ? await cpuProfile() : null;
  await db.query('CHECKPOINT');
  t0 = Date.now();
  let run: EvaluationRun;
  try {
    run = await evaluation.run(env.ctx, { asOf, trigger: 'MANUAL' });
  } finally {
    clearInterval(sampler);
    evaluation.evaluateBatch = original;
  }
  const secs = (Date.now() - t0) / 1000;
  const load = os.loadavg()[0];
  await analyzing;
  if (emulate) out(`  autovacuum is off on this server: ${analyzes} ANALYZE of actions and customer_escalations during the run, as autovacuum would (threshold ${setting('autovacuum_analyze_threshold')} + ${setting('autovacuum_analyze_scale_factor')} x rows, naptime ${naptimeMs / 1000} s)`);
  if (profile) {
    const top = await cpu!.stop();
    out(`  CPU profile of this process during the run (self time, by file then by function):`);
    for (const [fn, ms] of top) out(`    ${(ms / 1000).toFixed(2).padStart(7)} s  ${fn}`);
    const stats = profile.stop();
    const sqlMs = [...stats.values()].reduce((a, b) => a + b.ms, 0);
    out(`  time waited on SQL, summed over connections: ${(sqlMs / 1000).toFixed(2)} s; by statement:`);
    for (const [sql, v] of [...stats.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 16)) out(`    ${(v.ms / 1000).toFixed(2).padStart(7)} s ${String(v.n).padStart(7)}x  ${sql}`);
  }
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  const [acts]: { steps: number; tiers: number }[] = await db.query(
    `SELECT count(*) FILTER (WHERE kind = 'STEP')::int AS steps, count(*) FILTER (WHERE kind = 'TIER_ENTRY')::int AS tiers FROM actions WHERE tenant_id = $1`,
    [env.tenantId],
  );
  const half = Math.floor(perBatchRss.length / 2);
  return {
    run,
    secs,
    steps: acts.steps,
    tiers: acts.tiers,
    batches: perBatchRss.length,
    rssBefore,
    peakRss,
    firstHalfPeak: Math.max(rssBefore, ...perBatchRss.slice(0, Math.max(1, half))),
    secondHalfPeak: Math.max(rssBefore, ...perBatchRss.slice(half)),
    load,
  };
}

interface LimitResult {
  invoices: number;
  rows: number;
  secs: number;
  load: number;
}

/** The practical limit: one INSERT ... SELECT over every open invoice into a copy of `actions`. */
async function limitPass(env: BenchEnv, live: LiveVersion, asOf: IsoDate): Promise<LimitResult> {
  const db = env.app.dataSource;
  await db.query(`CREATE TABLE bench_limit_actions (LIKE actions INCLUDING ALL)`);
  // The same foreign keys as `actions`, so each row costs the same checks.
  await db.query(`ALTER TABLE bench_limit_actions
    ADD FOREIGN KEY (tenant_id) REFERENCES tenants(id), ADD FOREIGN KEY (customer_id) REFERENCES customers(id),
    ADD FOREIGN KEY (invoice_id) REFERENCES invoices(id), ADD FOREIGN KEY (policy_version_id) REFERENCES dunning_policy_versions(id),
    ADD FOREIGN KEY (evaluation_run_id) REFERENCES evaluation_runs(id)`);
  const steps = live.definition.steps;
  const params: unknown[] = [env.tenantId, live.versionId, asOf];
  const values = steps
    .map((s, i) => {
      params.push(s.key, s.offsetDays, i + 1 < steps.length ? steps[i + 1].offsetDays : 2 ** 31 - 1, s.channels, s.templateKey, s.tone);
      const p = params.length - 5;
      return `($${p}::text, $${p + 1}::int, $${p + 2}::int, $${p + 3}::text[], $${p + 4}::text, $${p + 5}::text)`;
    })
    .join(', ');
  const [{ n: invoices }] = await db.query(`SELECT count(*)::int AS n FROM invoices WHERE tenant_id = $1 AND status = 'OPEN' AND open_balance_minor > 0`, [env.tenantId]);
  await db.query('CHECKPOINT');
  const t0 = Date.now();
  await db.query(
    `INSERT INTO bench_limit_actions (tenant_id, idempotency_key, customer_id, invoice_id, policy_version_id, kind, step_key, step_offset, channels, template_key,
                                      mode, status, reason, amount_due_minor, currency, scheduled_for, packet)
     SELECT i.tenant_id, 'step:' || i.id || ':' || $2 || ':' || s.key, i.customer_id, i.id, $2::uuid, 'STEP', s.key, s.off, s.channels, s.template,
            'AUTO', 'PLANNED',
            jsonb_build_object('rule', 'step:' || s.key || ' (offset ' || s.off || 'd)',
                               'facts', jsonb_build_object('daysPastDue', i.dpd, 'amountDueMinor', i.open_balance_minor::text, 'currency', i.currency, 'path', 'STANDARD')),
            i.open_balance_minor, i.currency, $3::date, jsonb_build_object('step', jsonb_build_object('tone', s.tone, 'path', 'STANDARD'))
     FROM (SELECT id, tenant_id, customer_id, currency, open_balance_minor, $3::date - due_date AS dpd
           FROM invoices WHERE tenant_id = $1 AND status = 'OPEN' AND open_balance_minor > 0) i
     JOIN (VALUES ${values}) AS s(key, off, next_off, channels, template, tone) ON i.dpd >= s.off AND i.dpd < s.next_off
     ON CONFLICT (tenant_id, idempotency_key) DO NOTHING`,
    params,
  );
  const secs = (Date.now() - t0) / 1000;
  const load = os.loadavg()[0];
  const [{ rows }] = await db.query(`SELECT count(*)::int AS rows FROM bench_limit_actions`);
  await db.query(`DROP TABLE bench_limit_actions`);
  return { invoices, rows, secs, load };
}

/**
 * The naive way: one invoice at a time, every fact fetched with its own repository call, the
 * engine run on that invoice's customer, the invoice's decisions saved one by one. The sample's
 * step actions made by the real run are deleted first, so the loop writes them again.
 */
async function naiveLoop(env: BenchEnv, live: LiveVersion, asOf: IsoDate, size: number): Promise<{ invoices: number; secs: number; saved: number; deleted: number }> {
  const db = env.app.dataSource;
  const em = db.manager;
  const t = env.tenantId;
  const sample: { id: string }[] = await db.query(`SELECT id FROM invoices WHERE tenant_id = $1 AND status = 'OPEN' AND open_balance_minor > 0 ORDER BY md5(id::text) LIMIT $2`, [t, size]);
  const ids = sample.map((s) => s.id);
  const [, deleted] = await db.query(`DELETE FROM actions WHERE tenant_id = $1 AND kind = 'STEP' AND invoice_id = ANY($2::uuid[])`, [t, ids]);
  await db.query('VACUUM (ANALYZE) actions');
  const yearAgo = addDays(asOf, -365);
  const packetBuilder = env.app.modules.services.evaluation.packetBuilder;
  const policy = { ref: { id: live.versionId, version: live.version }, def: live.definition };
  let saved = 0;
  const t0 = Date.now();
  for (const id of ids) {
    const invoice = await em.getRepository(Invoice).findOneByOrFail({ tenantId: t, id });
    const customer = await em.getRepository(Customer).findOneByOrFail({ tenantId: t, id: invoice.customerId });
    const open = await em.getRepository(Invoice).find({ where: { tenantId: t, customerId: customer.id, status: InvoiceStatus.OPEN }, order: { dueDate: 'ASC', id: 'ASC' } });
    const disputes = await em.getRepository(Dispute).findBy({ tenantId: t, customerId: customer.id });
    const openDisputes = disputes.filter((d) => d.status !== DisputeStatus.RESOLVED);
    const disputedLineInvoices = [...new Set(openDisputes.filter((d) => d.lineIds.length).map((d) => d.invoiceId))];
    const lines = disputedLineInvoices.length ? await em.getRepository(InvoiceLine).findBy(disputedLineInvoices.map((invoiceId) => ({ tenantId: t, invoiceId }))) : [];
    const pause = await em.getRepository(DunningPause).findOneBy({ tenantId: t, customerId: customer.id, endedAt: IsNull() });
    const promises: { invoice_ids: string[]; until: string; status: string; created_at: Date }[] = await em.query(
      `SELECT invoice_ids, to_char(promised_date + grace_days * interval '1 day', 'YYYY-MM-DD') AS until, status, created_at FROM promises_to_pay WHERE tenant_id = $1 AND customer_id = $2`,
      [t, customer.id],
    );
    const [esc]: { policy_version_id: string; tier: number }[] = await em.query(`SELECT policy_version_id, tier FROM customer_escalations WHERE tenant_id = $1 AND customer_id = $2`, [t, customer.id]);
    const [{ late }]: { late: number }[] = await em.query(
      `SELECT count(*)::int AS late FROM invoices WHERE tenant_id = $1 AND customer_id = $2 AND due_date >= $3::date
         AND ((closed_on IS NOT NULL AND closed_on - due_date > 15) OR (status = 'OPEN' AND open_balance_minor > 0 AND $4::date - due_date >= 30))`,
      [t, customer.id, yearAgo, asOf],
    );
    // (step_offset is not mapped on the Action entity, so this one is a plain query too.)
    const existing: { idempotency_key: string; invoice_id: string | null; step_offset: number | null; kind: string; status: string; policy_version_id: string }[] = await em.query(
      `SELECT idempotency_key, invoice_id, step_offset, kind, status, policy_version_id FROM actions WHERE tenant_id = $1 AND customer_id = $2`,
      [t, customer.id],
    );

    const openPromises = promises.filter((p) => p.status === 'OPEN');
    const snap: LoadedCustomer = {
      id: customer.id,
      segment: customer.segment,
      tier: customer.tier,
      country: customer.country,
      ownerUserId: customer.ownerUserId,
      renewalDate: customer.renewalDate,
      pause: pause ? { kind: pause.kind, reason: pause.reason, by: pause.createdBy, until: pause.until } : null,
      invoices: open
        .filter((i) => i.openBalanceMinor > 0n)
        .map((i) => ({
          id: i.id,
          number: i.number,
          status: i.status,
          currency: i.currency,
          totalMinor: i.totalMinor,
          openBalanceMinor: i.openBalanceMinor,
          issueDate: i.issueDate,
          dueDate: i.dueDate,
          billingModel: i.billingModel,
          reconciliationHold: i.reconciliationHold,
          lines: lines.filter((l) => l.invoiceId === i.id).map((l) => ({ id: l.id, amountMinor: l.amountMinor })),
          disputes: openDisputes.filter((d) => d.invoiceId === i.id).map((d) => ({ id: d.id, lineIds: d.lineIds, amountMinor: d.amountMinor })),
          promiseUntil: openPromises.filter((p) => p.invoice_ids.includes(i.id)).reduce<string | null>((m, p) => (m === null || p.until > m ? p.until : m), null),
        })),
      history: {
        lateInvoices: late,
        disputes: disputes.filter((d) => d.openedAt >= new Date(`${yearAgo}T00:00:00Z`)).length,
        brokenPromises: promises.filter((p) => p.status === 'BROKEN' && p.created_at >= new Date(`${yearAgo}T00:00:00Z`)).length,
      },
      escalation: esc ? { versionId: esc.policy_version_id, tier: esc.tier } : null,
      keys: new Set(existing.filter((a) => a.policy_version_id === live.versionId).map((a) => a.idempotency_key)),
      lastStepOffset: existing
        .filter((a) => a.kind === 'STEP' && a.invoice_id && a.step_offset !== null && !['CANCELLED', 'SUPPRESSED', 'FAILED'].includes(a.status))
        .reduce((m, a) => m.set(a.invoice_id!, Math.max(m.get(a.invoice_id!) ?? -Infinity, a.step_offset!)), new Map<string, number>()),
    };
    const currentTier = snap.escalation?.versionId === live.versionId ? snap.escalation.tier : 0;
    const ev = evaluateCustomer({ ...snap, currentTier, existingKeys: snap.keys, lastStepOffset: snap.lastStepOffset }, policy, asOf);
    // This invoice's decisions (tier entries belong to the customer and exist already).
    for (const d of ev.decisions.filter((x): x is Extract<Decision, { kind: 'STEP' }> => x.kind === 'STEP' && x.invoiceId === id)) {
      const packet = d.mode === 'APPROVAL' ? (await packetBuilder(env.ctx, [{ customer: snap, decision: d }], asOf))[0] : {};
      await em.getRepository(Action).save({
        tenantId: t,
        idempotencyKey: d.idempotencyKey,
        customerId: customer.id,
        invoiceId: d.invoiceId,
        policyVersionId: live.versionId,
        evaluationRunId: null,
        kind: ActionKind.STEP,
        stepKey: d.step.key,
        stepOffset: d.step.offsetDays,
        tier: null,
        actionType: null,
        channels: d.channels,
        templateKey: d.step.templateKey,
        mode: d.mode as ActionMode,
        status: d.mode === 'APPROVAL' ? ActionStatus.AWAITING_APPROVAL : ActionStatus.PLANNED,
        reason: { rule: d.reason.rule, facts: { ...d.reason.facts } },
        amountDueMinor: d.amountDueMinor,
        currency: d.currency,
        scheduledFor: asOf,
        packet: { ...packet, step: { tone: d.step.tone, sender: d.step.sender, notify: d.step.notify ?? null, accountFlag: d.step.accountFlag ?? null, path: d.path } },
      } as Partial<Action>);
      saved++;
    }
  }
  return { invoices: ids.length, secs: (Date.now() - t0) / 1000, saved, deleted: Number(deleted) };
}

/** `--profile`: time spent waiting on each SQL statement (by its first words), through TypeORM's query runner. */
export function profileQueries(): { stop(): Map<string, { n: number; ms: number }> } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { PostgresQueryRunner } = require('typeorm/driver/postgres/PostgresQueryRunner') as { PostgresQueryRunner: { prototype: { query: (...a: unknown[]) => Promise<unknown> } } };
  const proto = PostgresQueryRunner.prototype;
  const original = proto.query;
  const stats = new Map<string, { n: number; ms: number }>();
  proto.query = async function (this: unknown, ...a: unknown[]) {
    const key = String(a[0]).replace(/\s+/g, ' ').trim().slice(0, 110);
    const t0 = process.hrtime.bigint();
    try {
      return await original.apply(this, a);
    } finally {
      const s = stats.get(key) ?? { n: 0, ms: 0 };
      s.n++;
      s.ms += Number(process.hrtime.bigint() - t0) / 1e6;
      stats.set(key, s);
    }
  };
  return {
    stop() {
      proto.query = original;
      return stats;
    },
  };
}

/** `--profile`: a V8 CPU profile of this process, summed by function (self time). */
export async function cpuProfile(): Promise<{ stop(): Promise<[string, number][]> }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Session } = require('node:inspector') as typeof import('node:inspector');
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) => new Promise<any>((resolve, reject) => session.post(method, params, (err, r) => (err ? reject(err) : resolve(r)))); // eslint-disable-line @typescript-eslint/no-explicit-any
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 500 });
  await post('Profiler.start');
  return {
    async stop() {
      const { profile } = (await post('Profiler.stop')) as { profile: { nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[]; samples: number[]; timeDeltas: number[] } };
      session.disconnect();
      const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
      const self = new Map<string, number>();
      const byFile = new Map<string, number>();
      profile.samples.forEach((id, i) => {
        const f = byNode.get(id)!.callFrame;
        const file = f.url.replace(/^.*\/(node_modules\/)?/, '') || '(native)';
        const key = `${f.functionName || '(anonymous)'} ${file}:${f.lineNumber + 1}`;
        self.set(key, (self.get(key) ?? 0) + profile.timeDeltas[i] / 1000);
        byFile.set(`[file] ${file}`, (byFile.get(`[file] ${file}`) ?? 0) + profile.timeDeltas[i] / 1000);
      });
      const top = (m: Map<string, number>, n: number) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
      return [...top(byFile, 10), ...top(self, 15)];
    },
  };
}
