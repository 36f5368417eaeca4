import { addDays, type IsoDate } from '../../src/platform/time/dates';
import { policyDefinitionSchema } from '../../src/modules/policies/policy-definition';
import { AssignmentScope } from '../../src/modules/policies/policy.entities';
import { typicalPolicy } from '../support/policies';
import { benchEnv, loadAverage } from './bench-env';

/**
 * `npm run bench -- backtest [--invoices 100000] [--customers 10000] [--days 365]`
 *
 * 12 months of history over N invoices (set-based SQL: customers in three segments with
 * different habits, the typical 6-step policy's reminders as SENT actions, payments as the
 * invoice's closed_on), then one backtest of a candidate policy against it: the response model
 * fitted once, customers streamed in batches of 1,000, the pure engine day by day in memory for
 * both arms. Prints the wall time and invoice-days per second. Target: under 60 s at 100k.
 */
const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};

export async function run(): Promise<void> {
  const invoices = arg('invoices', 100_000);
  const customers = arg('customers', Math.max(10, Math.round(invoices / 10)));
  const days = arg('days', 365);
  const out = (s: string) => process.stdout.write(`${s}\n`);
  out(`load average ${loadAverage()}`);
  const to: IsoDate = '2026-11-24';
  const from = addDays(to, -days);
  const env = await benchEnv('backtest');
  try {
    const { policies, backtests, legalEntities } = env.app.modules.services;
    const ctx = env.ctx;
    const [entity] = await legalEntities.upsert(ctx, [{ code: 'US01', name: 'Bench Inc.', currency: 'USD', country: 'US' }]);
    const created = await policies.create(ctx, { name: 'Standard', definition: typicalPolicy });
    if (!created.policy || !created.version) throw new Error(JSON.stringify(created.problems));
    await policies.publish(ctx, created.policy.id, created.version.id, '2020-01-01');
    await policies.assign(ctx, created.policy.id, AssignmentScope.GLOBAL, null);

    let t0 = Date.now();
    const q = (sql: string, params: unknown[] = []) => env.app.dataSource.query(sql, params);
    await q(
      `INSERT INTO customers (tenant_id, external_id, entity_id, name, segment, tier, country, currency)
       SELECT $1, 'BC-' || g, $2, 'Bench customer ' || g, (ARRAY['A','B','C'])[1 + g % 3], CASE WHEN g % 50 = 0 THEN 'strategic' ELSE NULL END, 'US', 'USD'
       FROM generate_series(0, $3 - 1) g`,
      [env.tenantId, entity.id, customers],
    );
    // Habits by segment (h1, h2: two deterministic uniforms per invoice):
    //  A pays within 0-5 days of the due date 70% of the time, else 20-60 days late;
    //  B pays 10-14 days late (after the +10 reminder) 60%, else 25-90 days late;
    //  C pays 0-20 days late 40%, 30-120 days late 40%, never 20%.
    await q(
      `WITH c AS (SELECT id, segment, row_number() OVER (ORDER BY external_id) - 1 AS k FROM customers WHERE tenant_id = $1),
       g AS (SELECT n, ((n * 2654435761::bigint) % 1000) / 1000.0 AS h1, ((n * 40503::bigint + 17) % 997) / 997.0 AS h2 FROM generate_series(0, $2 - 1) n),
       base AS (SELECT g.n, g.h1, g.h2, c.id AS customer_id, c.segment, ($3::date - 395 + (g.n % 365))::date AS issue_date FROM g JOIN c ON c.k = g.n % $4),
       d AS (SELECT *, CASE
                 WHEN segment = 'A' THEN CASE WHEN h1 < 0.7 THEN floor(h2 * 6) ELSE 20 + floor(h2 * 41) END
                 WHEN segment = 'B' THEN CASE WHEN h1 < 0.6 THEN 10 + floor(h2 * 5) ELSE 25 + floor(h2 * 66) END
                 ELSE CASE WHEN h1 < 0.4 THEN floor(h2 * 21) WHEN h1 < 0.8 THEN 30 + floor(h2 * 91) ELSE NULL END END::int AS delay FROM base)
       INSERT INTO invoices (tenant_id, external_id, entity_id, customer_id, number, issue_date, terms_kind, terms_days, due_date, currency, total_minor, open_balance_minor, status, closed_on)
       SELECT $1, 'BI-' || n, $5, customer_id, 'BI-' || n, issue_date, 'NET', 30, issue_date + 30, 'USD', t, CASE WHEN paid THEN 0 ELSE t END, CASE WHEN paid THEN 'PAID' ELSE 'OPEN' END, CASE WHEN paid THEN issue_date + 30 + delay END
       FROM (SELECT *, 10000 + (n * 7919 % 500000)::bigint AS t, delay IS NOT NULL AND issue_date + 30 + delay <= $3::date AS paid FROM d) x`,
      [env.tenantId, invoices, to, customers, entity.id],
    );
    // The typical policy's reminders, sent on their day while the invoice was unpaid.
    await q(
      `INSERT INTO actions (tenant_id, idempotency_key, customer_id, invoice_id, policy_version_id, kind, step_key, step_offset, channels, template_key, mode, status, reason, amount_due_minor, currency, scheduled_for, sent_at)
       SELECT i.tenant_id, 'step:' || i.id || ':' || $2 || ':' || s.key, i.customer_id, i.id, $2::uuid, 'STEP', s.key, s.off, s.ch, s.tpl, 'AUTO', 'SENT', '{}'::jsonb, i.total_minor, 'USD', i.due_date + s.off, (i.due_date + s.off)::timestamptz
       FROM invoices i CROSS JOIN (VALUES ('pre-due', -7, ARRAY['EMAIL'], 'pre-due-reminder'), ('due', 0, ARRAY['EMAIL'], 'due-today'), ('overdue-3', 3, ARRAY['EMAIL'], 'overdue-friendly'),
            ('overdue-10', 10, ARRAY['EMAIL','PORTAL'], 'overdue-firm'), ('escalation-21', 21, ARRAY['EMAIL','INTERNAL'], 'escalation-notice'), ('hold-30', 30, ARRAY['EMAIL'], 'credit-hold-notice')) AS s(key, off, ch, tpl)
       WHERE i.tenant_id = $1 AND i.due_date + s.off <= COALESCE(i.closed_on, $3::date) AND i.due_date + s.off <= $3::date`,
      [env.tenantId, created.version.id, to],
    );
    await q(`VACUUM (ANALYZE) invoices`);
    await q(`VACUUM (ANALYZE) actions`);
    await q(`VACUUM (ANALYZE) customers`);
    const [counts] = await q(`SELECT (SELECT count(*) FROM invoices)::int AS invoices, (SELECT count(*) FROM invoices WHERE status = 'OPEN')::int AS open, (SELECT count(*) FROM actions)::int AS actions`);
    out(`seeded ${counts.invoices.toLocaleString('en-US')} invoices (${counts.open.toLocaleString('en-US')} open on ${to}), ${customers.toLocaleString('en-US')} customers, ${counts.actions.toLocaleString('en-US')} reminders in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    // Candidate: no pre-due and no +3 reminder, an SMS at +10.
    const steps = typicalPolicy.steps.filter((s) => s.key !== 'pre-due' && s.key !== 'overdue-3').map((s) => (s.key === 'overdue-10' ? { ...s, channels: ['SMS', 'EMAIL'] } : s));
    const candidate = { ref: { id: '00000000-0000-0000-0000-000000000000', version: 0 }, def: policyDefinitionSchema.parse({ ...typicalPolicy, steps }) };
    out(`backtest ${from} → ${to} (${days + 1} days), candidate: ${steps.map((s) => `${s.key}@${s.offsetDays}`).join(', ')}`);
    let last = 0;
    const rss: number[] = [];
    t0 = Date.now();
    const { result, model } = await backtests.backtest(ctx, { policyId: created.policy.id, candidate, from, to }, async (done, total) => {
      rss.push(process.memoryUsage().rss);
      const pct = Math.floor((100 * done) / total);
      if (pct >= last + 10) {
        last = pct;
        out(`  ${pct}% (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      }
    });
    const secs = (Date.now() - t0) / 1000;
    const perArm = result.invoiceDays / 2;
    out('');
    out(`model: fitted on ${model.invoices.toLocaleString('en-US')} invoices; P(paid within 5 days | EMAIL) by segment: ${['A', 'B', 'C'].map((s) => `${s} ${(100 * (result.model.find((m) => m.segment === s && m.kind === 'EMAIL')?.within5 ?? 0)).toFixed(1)}%`).join(', ')}`);
    out(`replayed ${result.customers.toLocaleString('en-US')} customers, ${result.invoices.toLocaleString('en-US')} invoices, ${perArm.toLocaleString('en-US')} invoice-days per arm (${result.invoiceDays.toLocaleString('en-US')} both arms)`);
    const cash = (a: typeof result.candidate) => (Number(a.cash.find((c) => c.currency === 'USD')?.amountMinor ?? 0) / 100).toLocaleString('en-US', { maximumFractionDigits: 0 });
    out(`candidate: cash ${cash(result.candidate)} USD, DSO ${result.candidate.dso[0]?.days?.toFixed(1)}, touches ${result.candidate.touches.toFixed(0)}, escalations ${JSON.stringify(result.candidate.escalations)}`);
    out(`current:   cash ${cash(result.current)} USD, DSO ${result.current.dso[0]?.days?.toFixed(1)}, touches ${result.current.touches.toFixed(0)}, escalations ${JSON.stringify(result.current.escalations)}`);
    out(`actual cash in the window: ${(Number(result.actualCash[0]?.amountMinor ?? 0) / 100).toLocaleString('en-US')} USD (no payment rows are seeded: closed_on only)`);
    out('');
    out(`wall time ${secs.toFixed(1)} s (target < 60 s at 100k invoices) — ${Math.round(result.invoiceDays / secs).toLocaleString('en-US')} invoice-days/s (both arms), ${Math.round((invoices * (days + 1)) / secs).toLocaleString('en-US')} book invoice-days/s (invoices × days / wall)`);
    out(`peak RSS ${(Math.max(...rss, process.memoryUsage().rss) / 2 ** 20).toFixed(0)} MiB; load average after: ${loadAverage()}`);
  } finally {
    await env.close();
  }
}
