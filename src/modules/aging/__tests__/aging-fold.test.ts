import { Client } from 'pg';
import { systemActor } from '../../../platform/auth/roles';
import { RequestContext } from '../../../platform/context';
import { EVENTS_CHANNEL } from '../../../platform/events/event-bus';
import { addDays } from '../../../platform/time/dates';
import { AgingDocument, MeDocument, PauseDunningDocument, ResumeDunningDocument, SetAgingBucketsDocument, UpsertCustomersDocument, UpsertEntitiesDocument, UpsertInvoicesDocument, type AgingQueryVariables } from '../../../../test/generated/graphql';
import { bucketsFromInvoices } from '../../../../test/support/aging-expected';
import * as fx from '../../../../test/support/fixtures';
import { dataOf, startTestApp, type TestApp } from '../../../../test/support/test-app';
import { FOLD_MARGIN_DAYS } from '../aging.service';

/**
 * Folded tails (ADR 014): after the daily fold, aging, its cuts and the metrics' weighted days
 * still equal the open invoices to the cent, for today, for replayed days before the fold, after
 * writes to folded invoices and after edges are widened past the fold. Pauses announce
 * themselves to live aging reports.
 */
describe('aging folded tails (e2e)', () => {
  let t: TestApp;
  let tenantId: string;
  let ctx: RequestContext;
  const customers: Record<string, string> = {};
  const TODAY = '2026-03-31';

  beforeAll(async () => {
    t = await startTestApp();
    tenantId = dataOf(await t.gql(MeDocument, {})).me.tenant.id;
    ctx = new RequestContext(tenantId, systemActor(tenantId, 'test'), t.app.dataSource.manager, 'test', t.app.logger);
    dataOf(await t.gql(UpsertEntitiesDocument, { input: fx.entities }));
    const cs = dataOf(await t.gql(UpsertCustomersDocument, { input: fx.customers })).upsertCustomers;
    for (const r of cs.results) customers[r.externalId] = r.customer!.id;
    // The fixtures, plus old invoices spread over the months before the fold line.
    const old = Array.from({ length: 12 }, (_, k) => ({
      externalId: `O-${k}`,
      customerExternalId: `C-${1 + (k % 3)}`,
      number: `OLD-${k}`,
      issueDate: addDays('2025-06-01', k * 17),
      currency: k % 4 === 0 ? 'GBP' : 'USD',
      total: `${1000 + k * 37}.${String(k * 7).padStart(2, '0')}`,
      dueDate: addDays('2025-07-01', k * 17),
    }));
    expect(dataOf(await t.gql(UpsertInvoicesDocument, { input: [...fx.invoices, ...old] })).upsertInvoices.failed).toBe(0);
    t.app.modules.services.aging.clock = () => new Date(`${TODAY}T16:00:00Z`);
  });
  afterAll(async () => {
    if (t) t.app.modules.services.aging.clock = () => new Date();
    await t?.stop();
  });

  async function expected(asOf: string, edges: number[]): Promise<Map<string, string[]>> {
    const out = await bucketsFromInvoices(t.app.dataSource, tenantId, asOf, edges);
    return new Map([...out].map(([c, b]) => [c, b.map(String)]));
  }

  async function expectAgingMatches(asOf: string | null, edges = [30, 60, 90]): Promise<void> {
    const want = await expected(asOf ?? TODAY, edges);
    for (const groupBy of [[], ['ENTITY', 'SEGMENT', 'COLLECTOR'], ['CUSTOMER'], ['BILLING_MODEL']] as AgingQueryVariables['groupBy'][]) {
      const r = dataOf(await t.gql(AgingDocument, { groupBy, ...(asOf ? { asOf } : {}) })).aging;
      expect(r.asOf).toBe(asOf ?? TODAY);
      expect({ groupBy, totals: new Map(r.totals.map((x) => [x.currency, x.cells.map((c) => c.amount.amountMinor)])) }).toEqual({ groupBy, totals: want });
      const fromRows = new Map<string, bigint[]>();
      for (const row of r.rows) {
        const b = fromRows.get(row.currency) ?? row.cells.map(() => 0n);
        row.cells.forEach((c, i) => (b[i] += BigInt(c.amount.amountMinor)));
        fromRows.set(row.currency, b);
      }
      expect(new Map([...fromRows].map(([c, b]) => [c, b.map(String)]))).toEqual(want);
    }
  }

  /** Amount x days past due as of a day, straight from the invoices, per currency. */
  async function weighted(asOf: string): Promise<Record<string, string>> {
    const rows: { currency: string; w: string }[] = await t.app.dataSource.query(
      `SELECT currency, sum(open_balance_minor::numeric * GREATEST($2::date - due_date, 0))::text AS w FROM invoices
       WHERE tenant_id = $1 AND status = 'OPEN' AND open_balance_minor > 0 GROUP BY currency`,
      [tenantId, asOf],
    );
    return Object.fromEntries(rows.map((r) => [r.currency, r.w]));
  }
  async function snapshotWeighted(day: string): Promise<Record<string, string>> {
    await t.app.modules.services.metrics.takeSnapshot(ctx, day);
    const rows: { currency: string; w: string }[] = await t.app.dataSource.query(
      `SELECT currency, sum(days_weighted_minor)::text AS w FROM aging_snapshots WHERE tenant_id = $1 AND snapshot_date = $2 GROUP BY currency`,
      [tenantId, day],
    );
    return Object.fromEntries(rows.map((r) => [r.currency, r.w]));
  }

  it('folds the tails into one row per group and keeps every figure exact', async () => {
    await expectAgingMatches(null);
    const before = await snapshotWeighted(TODAY);
    expect(before).toEqual(await weighted(TODAY));

    const { foldedThrough, groups } = await t.app.modules.services.aging.foldTails(ctx, TODAY);
    expect(foldedThrough).toBe(addDays(TODAY, -(90 + 1 + FOLD_MARGIN_DAYS)));
    expect(groups).toBeGreaterThan(0);
    const [{ n }] = await t.app.dataSource.query(`SELECT count(*)::int AS n FROM aging_rollups WHERE tenant_id = $1 AND due_date <= $2`, [tenantId, foldedThrough]);
    expect(n).toBe(0);

    await expectAgingMatches(null);
    expect(await snapshotWeighted(TODAY)).toEqual(before);
    // a day inside the margin still reads the rollups; a day before the fold reads the invoices
    await expectAgingMatches(addDays(TODAY, -FOLD_MARGIN_DAYS));
    await expectAgingMatches('2025-09-30');
    expect(await snapshotWeighted('2025-12-31')).toEqual(await weighted('2025-12-31'));

    // writes to folded invoices after the fold: a partial payment (count unchanged), a full one, a new old invoice
    await t.app.dataSource.query(`UPDATE invoices SET open_balance_minor = open_balance_minor - 12345 WHERE tenant_id = $1 AND external_id = 'O-1'`, [tenantId]);
    await t.app.dataSource.query(`UPDATE invoices SET open_balance_minor = 0, status = 'PAID' WHERE tenant_id = $1 AND external_id = 'O-2'`, [tenantId]);
    dataOf(await t.gql(UpsertInvoicesDocument, { input: [{ externalId: 'O-NEW', customerExternalId: 'C-2', number: 'OLD-NEW', issueDate: '2025-05-01', currency: 'USD', total: '99.99', dueDate: '2025-06-01' }] }));
    await expectAgingMatches(null);
    expect(await snapshotWeighted(TODAY)).toEqual(await weighted(TODAY));

    // the next fold takes those rows too, and the figures do not move
    await t.app.modules.services.aging.foldTails(ctx, addDays(TODAY, 1));
    await expectAgingMatches(null);
  });

  it('unfolds when wider edges need the due dates again', async () => {
    dataOf(await t.gql(SetAgingBucketsDocument, { edges: [30, 60, 90, 180, 365] }));
    const [s] = await t.app.dataSource.query(`SELECT to_char(folded_through, 'YYYY-MM-DD') AS f FROM aging_settings WHERE tenant_id = $1`, [tenantId]);
    expect(s.f).toBe(addDays(TODAY, -(365 + 1 + FOLD_MARGIN_DAYS)));
    await expectAgingMatches(null, [30, 60, 90, 180, 365]);
    dataOf(await t.gql(SetAgingBucketsDocument, { edges: [30, 60, 90] }));
    await expectAgingMatches(null);
    // rollups + tails add up to the open invoices, per group
    const [diff] = await t.app.dataSource.query(
      `SELECT count(*)::int AS n FROM (
         SELECT entity_id, segment, owner_user_id, currency, billing_model, sum(o) AS o, sum(c) AS c FROM (
           SELECT entity_id, segment, owner_user_id, currency, billing_model, open_minor AS o, invoice_count AS c FROM aging_rollups WHERE tenant_id = $1
           UNION ALL SELECT entity_id, segment, owner_user_id, currency, billing_model, open_minor, invoice_count FROM aging_rollup_tails WHERE tenant_id = $1) x
         GROUP BY 1, 2, 3, 4, 5 HAVING sum(o) <> 0 OR sum(c) <> 0
         EXCEPT SELECT i.entity_id, c.segment, c.owner_user_id, i.currency, i.billing_model, sum(i.open_balance_minor), count(*) FROM invoices i JOIN customers c ON c.id = i.customer_id
           WHERE i.tenant_id = $1 AND i.status = 'OPEN' AND i.open_balance_minor > 0 GROUP BY 1, 2, 3, 4, 5) d`,
      [tenantId],
    );
    expect(diff.n).toBe(0);
  });

  it('announces pauses to live aging reports (the PAUSED cut)', async () => {
    const listener = new Client({ connectionString: t.app.databaseUrl });
    await listener.connect();
    const events: { type: string; tenantId: string; payload: { reason?: string } }[] = [];
    listener.on('notification', (m) => m.payload && events.push(JSON.parse(m.payload)));
    await listener.query(`LISTEN ${EVENTS_CHANNEL}`);
    try {
      dataOf(await t.gql(PauseDunningDocument, { input: { customerId: customers['C-2'], reason: 'talking to the CFO' } }));
      dataOf(await t.gql(ResumeDunningDocument, { customerId: customers['C-2'] }));
      const deadline = Date.now() + 5000;
      const paused = () => events.filter((e) => e.type === 'aging.changed' && e.tenantId === tenantId && e.payload.reason === 'PAUSES');
      while (paused().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(paused()).toHaveLength(2);
    } finally {
      await listener.end();
    }
  });
});
