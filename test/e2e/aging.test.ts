import { systemActor } from '../../src/platform/auth/roles';
import { RequestContext } from '../../src/platform/context';
import { startGlobalQueryCount } from '../../src/platform/db/sql-logger';
import {
  AgingDocument,
  AgingInvoicesDocument,
  CeiDocument,
  CollectionsMetricsDocument,
  CreateDunningPolicyDocument,
  CreateUserDocument,
  DsoDocument,
  MeDocument,
  OpenDisputeDocument,
  PauseDunningDocument,
  RecordPaymentsDocument,
  SetAgingBucketsDocument,
  SetFxRatesDocument,
  UpsertCustomersDocument,
  UpsertEntitiesDocument,
  UpsertInvoicesDocument,
  VoidInvoiceDocument,
  type AgingQuery,
  type AgingQueryVariables,
  type PaymentMethod,
} from '../generated/graphql';
import * as fx from '../support/fixtures';
import { typicalPolicy } from '../support/policies';
import { bucketsFromInvoices } from '../support/aging-expected';
import { dataOf, startTestApp, type TestApp } from '../support/test-app';

/**
 * Aging through the API: totals that equal the open balances to the cent after every kind of
 * change (whoever writes the invoice), cuts, filters on collections state, drill-down with
 * history, tenant bucket edges, FX conversion, the day rollover in the tenant's zone, DSO/CEI.
 */

const AS_OF = '2026-03-31';
type Report = AgingQuery['aging'];

describe('aging (e2e)', () => {
  let t: TestApp;
  let tenantId: string;
  const ids: Record<string, string> = {};
  const customers: Record<string, string> = {};
  let collector: string;
  let policyVersionId: string;

  const aging = async (v: AgingQueryVariables = {}): Promise<Report> => dataOf(await t.gql(AgingDocument, { asOf: AS_OF, ...v })).aging;

  /** Buckets and totals recomputed straight from the invoice table, per currency. */
  const expected = (edges = [30, 60, 90]): Promise<Map<string, bigint[]>> => bucketsFromInvoices(t.app.dataSource, tenantId, AS_OF, edges);

  /** Every cut adds up to the same totals, and the totals equal the invoices, bucket by bucket, to the cent. */
  async function expectTotalsMatchInvoices(): Promise<void> {
    const want = await expected();
    for (const groupBy of [[], ['ENTITY'], ['SEGMENT'], ['COLLECTOR'], ['CUSTOMER'], ['CURRENCY'], ['ENTITY', 'SEGMENT', 'COLLECTOR'], ['BILLING_MODEL']] as AgingQueryVariables['groupBy'][]) {
      const r = await aging({ groupBy });
      const got = new Map(r.totals.map((tot) => [tot.currency, tot.cells.map((c) => BigInt(c.amount.amountMinor))]));
      expect({ groupBy, totals: got }).toEqual({ groupBy, totals: want });
      const fromRows = new Map<string, bigint[]>();
      for (const row of r.rows) {
        const b = fromRows.get(row.currency) ?? row.cells.map(() => 0n);
        row.cells.forEach((c, i) => (b[i] += BigInt(c.amount.amountMinor)));
        fromRows.set(row.currency, b);
        expect(BigInt(row.total.amountMinor)).toBe(row.cells.reduce((s, c) => s + BigInt(c.amount.amountMinor), 0n));
      }
      expect({ groupBy, rows: fromRows }).toEqual({ groupBy, rows: want });
    }
  }

  beforeAll(async () => {
    t = await startTestApp();
    tenantId = dataOf(await t.gql(MeDocument, {})).me.tenant.id;
    collector = dataOf(await t.gql(CreateUserDocument, { input: { name: 'Cora Collector', email: 'cora@example.com', role: 'COLLECTOR' } })).createUser.id;
    dataOf(await t.gql(UpsertEntitiesDocument, { input: fx.entities }));
    const input = fx.customers.map((c) => (c.externalId === 'C-1' ? { ...c, ownerId: collector } : c));
    const cs = dataOf(await t.gql(UpsertCustomersDocument, { input })).upsertCustomers;
    expect(cs.failed).toBe(0);
    for (const r of cs.results) customers[r.externalId] = r.customer!.id;
    const inv = dataOf(await t.gql(UpsertInvoicesDocument, { input: fx.invoices })).upsertInvoices;
    expect(inv.failed).toBe(0);
    for (const r of inv.results) ids[r.externalId] = r.invoice!.id;
    policyVersionId = dataOf(await t.gql(CreateDunningPolicyDocument, { input: { name: 'Standard', definition: typicalPolicy } })).createDunningPolicy.version!.id;
  });
  afterAll(async () => t?.stop());

  it('buckets the book as of a day: current, 1-30, 31-60, 61-90, 90+', async () => {
    const r = await aging();
    expect(r.buckets.map((b) => b.label)).toEqual(['Current', '1-30', '31-60', '61-90', '90+']);
    const usd = r.totals.find((x) => x.currency === 'USD')!;
    // I-1 due 2025-12-01 (120 days), I-2 due 2026-02-14 (45), I-3 due 2026-04-19 (current), I-4 due 2026-03-15 (16),
    // I-5 due 2026-03-01 (30), I-6 due 2026-01-10 (80), I-7 due 2026-04-09 (current); I-10 is paid.
    expect(usd.cells.map((c) => c.amount.amount)).toEqual(['842.00', '399.99', '5400.50', '1500.00', '12000.00']);
    expect(usd.total.amount).toBe('20142.49');
    expect(r.totals.find((x) => x.currency === 'GBP')!.cells.map((c) => c.amount.amount)).toEqual(['0.00', '2500.00', '7000.00', '0.00', '0.00']);
    await expectTotalsMatchInvoices();
  });

  it('groups by customer, entity, collector, segment and currency', async () => {
    const byCustomer = await aging({ groupBy: ['CUSTOMER'] });
    expect(byCustomer.rows.map((r) => [r.group.customerName, r.currency, r.total.amount])).toEqual([
      ['Globex Corporation', 'USD', '18200.50'],
      ['Initech LLC', 'USD', '1941.99'],
      ['Wayne Enterprises UK', 'GBP', '9500.00'],
    ]);
    const byEntity = await aging({ groupBy: ['ENTITY'] });
    expect(byEntity.rows.map((r) => [r.group.entityCode, r.group.entityName, r.currency, r.total.amount])).toEqual([
      ['UK01', 'Acme Ltd', 'GBP', '9500.00'],
      ['US01', 'Acme Inc.', 'USD', '20142.49'],
    ]);
    const byCollector = await aging({ groupBy: ['COLLECTOR'] });
    expect(byCollector.rows.map((r) => [r.group.collectorName, r.currency, r.total.amount])).toEqual([
      ['Cora Collector', 'USD', '18200.50'],
      [null, 'GBP', '9500.00'],
      [null, 'USD', '1941.99'],
    ]);
    const bySegment = await aging({ groupBy: ['SEGMENT', 'CURRENCY'] });
    expect(bySegment.rows.map((r) => [r.group.segment, r.group.currency, r.total.amount])).toEqual([
      ['enterprise', 'GBP', '9500.00'],
      ['enterprise', 'USD', '18200.50'],
      ['smb', 'USD', '1941.99'],
    ]);
  });

  it('converts into the functional currency with stored FX rates, rounding half to even per cell', async () => {
    const before = await aging({ currencyMode: 'FUNCTIONAL' });
    expect(before.missingFxRates).toEqual(['GBP']);
    expect(before.totals).toHaveLength(1);
    expect(before.totals[0].total.amount).toBe('20142.49');

    const set = dataOf(await t.gql(SetFxRatesDocument, { rates: [{ currency: 'GBP', rate: '1.26785', effectiveOn: '2026-01-01' }] })).setFxRates;
    expect(set).toEqual([{ currency: 'GBP', functionalCurrency: 'USD', rate: '1.26785', effectiveOn: '2026-01-01' }]);
    const r = await aging({ currencyMode: 'FUNCTIONAL', groupBy: ['ENTITY'] });
    expect(r.missingFxRates).toEqual([]);
    const uk = r.rows.find((x) => x.group.entityCode === 'UK01')!;
    // 2500.00 GBP x 1.26785 = 3169.625 -> 3169.62 (half to even); 7000.00 x 1.26785 = 8874.95
    expect(uk.currency).toBe('USD');
    expect(uk.cells.map((c) => c.amount.amount)).toEqual(['0.00', '3169.62', '8874.95', '0.00', '0.00']);
    expect(r.totals[0].total.amount).toBe((2014249n + 316962n + 887495n).toString().replace(/(\d\d)$/, '.$1'));
    // A rate before its effective day does not apply.
    expect((await aging({ currencyMode: 'FUNCTIONAL', asOf: '2025-12-31' })).missingFxRates).toEqual(['GBP']);
    // Bad input is refused with the field named.
    const bad = await t.gql(SetFxRatesDocument, { rates: [{ currency: 'GBP', rate: '-1' }] });
    expect(bad.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'rates.0.rate' });
  });

  it('filters by entity, segment, collector, billing model and currency', async () => {
    const [us] = (await t.app.dataSource.query(`SELECT id FROM legal_entities WHERE tenant_id = $1 AND code = 'US01'`, [tenantId])) as { id: string }[];
    expect((await aging({ filter: { entityIds: [us.id] } })).totals.map((x) => [x.currency, x.total.amount])).toEqual([['USD', '20142.49']]);
    expect((await aging({ filter: { segments: ['smb'] } })).totals.map((x) => x.total.amount)).toEqual(['1941.99']);
    expect((await aging({ filter: { collectorIds: [collector] } })).totals.map((x) => x.total.amount)).toEqual(['18200.50']);
    expect((await aging({ filter: { currencies: ['GBP'] } })).totals.map((x) => x.total.amount)).toEqual(['9500.00']);
    expect((await aging({ filter: { billingModels: ['SUBSCRIPTION'] } })).totals).toEqual([]);
    expect((await aging({ filter: { billingModels: ['SERVICES'] } })).totals.map((x) => x.total.amount)).toEqual(['9500.00', '20142.49']);
  });

  it('filters by dunning status (paused, disputed, promised, escalation tier, in sequence) and payment method', async () => {
    const total = async (filter: AgingQueryVariables['filter']) => (await aging({ filter })).totals.map((x) => `${x.total.amount} ${x.currency}`);
    expect(await total({ dunningStatuses: ['PAUSED'] })).toEqual([]);
    dataOf(await t.gql(PauseDunningDocument, { input: { customerId: customers['C-2'], reason: 'talking to the CFO' } }));
    expect(await total({ dunningStatuses: ['PAUSED'] })).toEqual(['1941.99 USD']);

    dataOf(await t.gql(OpenDisputeDocument, { input: { invoiceId: ids['I-8'], reasonCode: 'PRICING' } }));
    expect(await total({ dunningStatuses: ['DISPUTED'] })).toEqual(['7000.00 GBP']);
    expect(await total({ dunningStatuses: ['DISPUTED', 'PAUSED'] })).toEqual(['7000.00 GBP', '1941.99 USD']);

    await t.app.dataSource.query(`INSERT INTO promises_to_pay (tenant_id, customer_id, invoice_ids, amount_minor, currency, promised_date, created_by) VALUES ($1, $2, $3::uuid[], 540050, 'USD', '2026-04-10', 'test')`, [
      tenantId,
      customers['C-1'],
      [ids['I-2']],
    ]);
    expect(await total({ dunningStatuses: ['PROMISED'] })).toEqual(['5400.50 USD']);

    await t.app.dataSource.query(`INSERT INTO customer_escalations (tenant_id, customer_id, policy_version_id, tier, entered_on) VALUES ($1, $2, $3, 3, '2026-03-01')`, [tenantId, customers['C-1'], policyVersionId]);
    expect(await total({ escalationTiers: [3] })).toEqual(['18200.50 USD']);
    expect(await total({ escalationTiers: [2] })).toEqual([]);
    expect(await total({ dunningStatuses: ['ESCALATED'] })).toEqual(['18200.50 USD']);

    // In sequence: a step was sent for I-1 (Globex: not paused, not disputed, not promised for I-1); I-2 is promised.
    for (const inv of ['I-1', 'I-2']) {
      await t.app.dataSource.query(
        `INSERT INTO actions (tenant_id, idempotency_key, customer_id, invoice_id, policy_version_id, kind, step_key, channels, mode, status, reason, scheduled_for, sent_at)
         VALUES ($1, $2, $3, $4, $5, 'STEP', 'overdue-10', '{EMAIL}', 'AUTO', 'SENT', '{}', '2026-03-10', '2026-03-10T14:00:00Z')`,
        [tenantId, `test-${inv}`, customers['C-1'], ids[inv], policyVersionId],
      );
    }
    expect(await total({ dunningStatuses: ['IN_SEQUENCE'] })).toEqual(['12000.00 USD']);

    const bad = await t.gql(AgingDocument, { asOf: AS_OF, filter: { paymentMethods: ['BITCOIN'] } });
    expect(bad.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.paymentMethods' });
    expect(await total({ paymentMethods: ['WIRE'] })).toEqual([]);
  });

  it('drills down from a cell to its invoices, with steps executed and the current tier', async () => {
    const r = await aging({ groupBy: ['CUSTOMER'] });
    const globex = r.rows.find((x) => x.group.customerName === 'Globex Corporation')!;
    const cell = globex.cells.find((c) => c.amount.amount === '12000.00')!;
    const d = dataOf(await t.gql(AgingInvoicesDocument, { cell: { rowKey: globex.key, bucket: cell.bucket }, asOf: AS_OF })).agingInvoices;
    expect(d.totalCount).toBe(1);
    expect(d.nodes).toEqual([
      {
        daysPastDue: 120,
        bucket: 4,
        invoice: { id: ids['I-1'], number: 'INV-1001', dueDate: '2025-12-01', status: 'OPEN', openBalance: { amount: '12000.00', amountMinor: '1200000', currency: 'USD' } },
        collections: { stepsExecuted: [{ stepKey: 'overdue-10', channels: ['EMAIL'], sentAt: '2026-03-10T14:00:00.000Z', scheduledFor: '2026-03-10' }], currentTier: 3, tierEnteredOn: '2026-03-01', lastPortalInteractionAt: null },
      },
    ]);
    // A whole row (bucket null), paged: every invoice behind the row total, oldest due first.
    const p1 = dataOf(await t.gql(AgingInvoicesDocument, { cell: { rowKey: globex.key }, asOf: AS_OF, first: 2 })).agingInvoices;
    const p2 = dataOf(await t.gql(AgingInvoicesDocument, { cell: { rowKey: globex.key }, asOf: AS_OF, first: 2, after: p1.pageInfo.endCursor })).agingInvoices;
    expect(p1.totalCount).toBe(globex.invoiceCount);
    const all = [...p1.nodes, ...p2.nodes];
    expect(all.map((n) => n.invoice.number)).toEqual(['INV-1001', 'INV-1002', 'INV-1003']);
    expect(all.reduce((s, n) => s + BigInt(n.invoice.openBalance.amountMinor), 0n).toString()).toBe(globex.total.amountMinor);
    // A total row drills down too; a forged key is refused.
    const gbp = r.totals.find((x) => x.currency === 'GBP')!;
    expect(dataOf(await t.gql(AgingInvoicesDocument, { cell: { rowKey: gbp.key, bucket: 2 }, asOf: AS_OF })).agingInvoices.nodes.map((n) => n.invoice.number)).toEqual(['UK-2001']);
    const bad = await t.gql(AgingInvoicesDocument, { cell: { rowKey: 'not-a-key' }, asOf: AS_OF });
    expect(bad.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'cell.rowKey' });

    // The last portal interaction: Globex's latest PORTAL payment received by asOf (recorded, not applied here, so balances stay).
    const pay = (externalId: string, method: PaymentMethod, receivedOn: string) => ({ externalId, source: 'portal-test', method, receivedOn, customerId: customers['C-1'], amount: '10.00', currency: 'USD' });
    const rec = dataOf(
      await t.gql(RecordPaymentsDocument, { input: [pay('P-1', 'PORTAL', '2026-03-05'), pay('P-2', 'PORTAL', '2026-03-20'), pay('P-3', 'WIRE', '2026-03-25'), pay('P-4', 'PORTAL', '2026-04-05')], applyNow: false }),
    ).recordPayments;
    expect(rec.succeeded).toBe(4);
    const createdAt = async (externalId: string) =>
      ((await t.app.dataSource.query(`SELECT created_at FROM payments WHERE tenant_id = $1 AND source = 'portal-test' AND external_id = $2`, [tenantId, externalId])) as { created_at: Date }[])[0].created_at.toISOString();
    const lastPortal = async (asOf: string) =>
      [...new Set(dataOf(await t.gql(AgingInvoicesDocument, { cell: { rowKey: globex.key }, asOf })).agingInvoices.nodes.map((n) => n.collections.lastPortalInteractionAt))];
    expect(await lastPortal(AS_OF)).toEqual([await createdAt('P-2')]);
    expect(await lastPortal('2026-03-10')).toEqual([await createdAt('P-1')]);
    expect(await lastPortal('2026-03-01')).toEqual([null]);
  });

  it('keeps totals equal to the open balances after every kind of change, whoever writes', async () => {
    const i2 = fx.invoices.find((i) => i.externalId === 'I-2')!;
    const i6 = fx.invoices.find((i) => i.externalId === 'I-6')!;
    const i7 = fx.invoices.find((i) => i.externalId === 'I-7')!;
    // create
    dataOf(await t.gql(UpsertInvoicesDocument, { input: [{ externalId: 'I-20', customerExternalId: 'C-2', number: 'INV-1020', issueDate: '2026-02-01', currency: 'USD', total: '333.33', dueDate: '2026-02-20' }] }));
    await expectTotalsMatchInvoices();
    // update: a new total and a new due date
    dataOf(await t.gql(UpsertInvoicesDocument, { input: [{ ...i6, total: '1600.01', dueDate: '2026-03-20' }] }));
    await expectTotalsMatchInvoices();
    // partial payment, then full payment (the balance the source reports)
    dataOf(await t.gql(UpsertInvoicesDocument, { input: [{ ...i2, openBalance: '1000.25' }] }));
    await expectTotalsMatchInvoices();
    dataOf(await t.gql(UpsertInvoicesDocument, { input: [{ ...i7, openBalance: '0.00' }] }));
    await expectTotalsMatchInvoices();
    // void
    dataOf(await t.gql(VoidInvoiceDocument, { id: ids['I-3'], reason: 'issued twice' }));
    await expectTotalsMatchInvoices();
    // dispute (no balance change) and a write-off by another writer straight in SQL
    dataOf(await t.gql(OpenDisputeDocument, { input: { invoiceId: ids['I-9'], reasonCode: 'QUANTITY' } }));
    await t.app.dataSource.query(`UPDATE invoices SET status = 'WRITTEN_OFF', open_balance_minor = 0 WHERE tenant_id = $1 AND id = $2`, [tenantId, ids['I-5']]);
    await expectTotalsMatchInvoices();
    // the customer's segment and owner change: money moves between cuts, totals do not move
    dataOf(await t.gql(UpsertCustomersDocument, { input: [{ ...fx.customers[1], segment: 'mid-market', ownerId: collector }] }));
    await expectTotalsMatchInvoices();
    const seg = await aging({ groupBy: ['SEGMENT'] });
    expect(seg.rows.map((r) => r.group.segment)).toEqual(['enterprise', 'enterprise', 'mid-market']);
    expect((await aging({ filter: { collectorIds: [collector] } })).totals[0].total.amountMinor).toBe(
      ((await expected()).get('USD') ?? []).reduce((s, v) => s + v, 0n).toString(),
    );
    // a deleted invoice (no payments, no history) leaves the rollups too
    await t.app.dataSource.query(`DELETE FROM invoices WHERE tenant_id = $1 AND external_id = 'I-20'`, [tenantId]);
    await expectTotalsMatchInvoices();
    // and the rollups equal a full rebuild from the invoices
    const [diff] = await t.app.dataSource.query(
      `SELECT count(*)::int AS n FROM (
         (SELECT entity_id, segment, owner_user_id, currency, billing_model, due_date, open_minor, invoice_count FROM aging_rollups WHERE tenant_id = $1 AND invoice_count <> 0
          EXCEPT SELECT i.entity_id, c.segment, c.owner_user_id, i.currency, i.billing_model, i.due_date, sum(i.open_balance_minor), count(*) FROM invoices i JOIN customers c ON c.id = i.customer_id
          WHERE i.tenant_id = $1 AND i.status = 'OPEN' AND i.open_balance_minor > 0 GROUP BY 1, 2, 3, 4, 5, 6)
         UNION ALL
         (SELECT i.entity_id, c.segment, c.owner_user_id, i.currency, i.billing_model, i.due_date, sum(i.open_balance_minor), count(*) FROM invoices i JOIN customers c ON c.id = i.customer_id
          WHERE i.tenant_id = $1 AND i.status = 'OPEN' AND i.open_balance_minor > 0 GROUP BY 1, 2, 3, 4, 5, 6
          EXCEPT SELECT entity_id, segment, owner_user_id, currency, billing_model, due_date, open_minor, invoice_count FROM aging_rollups WHERE tenant_id = $1 AND invoice_count <> 0)) d`,
      [tenantId],
    );
    expect(diff.n).toBe(0);
  });

  it('answers a repeated question from the kept aggregate while the book is unchanged, and afresh after any change, names included', async () => {
    const question = { groupBy: ['ENTITY', 'COLLECTOR'] } as AgingQueryVariables;
    const first = await aging(question);
    const counter = startGlobalQueryCount();
    const again = await aging(question);
    const { statements } = counter.stop();
    expect(again).toEqual(first);
    expect(statements.some((q) => q.includes('aging_versions'))).toBe(true);
    expect(statements.some((q) => q.includes('aging_rollups'))).toBe(false);
    // an entity renamed through the API, a collector renamed behind its back: both show at once
    const entity = fx.entities[0];
    dataOf(await t.gql(UpsertEntitiesDocument, { input: [{ ...entity, name: `${entity.name} (renamed)` }] }));
    expect((await aging(question)).rows.filter((r) => r.group.entityCode === entity.code).every((r) => r.group.entityName === `${entity.name} (renamed)`)).toBe(true);
    await t.app.dataSource.query(`UPDATE users SET name = 'Cora Renamed' WHERE tenant_id = $1 AND id = $2`, [tenantId, collector]);
    const renamed = await aging(question);
    expect(renamed.rows.some((r) => r.group.collectorName === 'Cora Renamed')).toBe(true);
    expect(renamed.rows.some((r) => r.group.collectorName === 'Cora Collector')).toBe(false);
    await t.app.dataSource.query(`UPDATE users SET name = 'Cora Collector' WHERE tenant_id = $1 AND id = $2`, [tenantId, collector]);
    // a balance changed in SQL by another writer moves the totals at once
    const usdTotal = async () => BigInt((await aging(question)).totals.find((x) => x.currency === 'USD')!.total.amountMinor);
    const before = await usdTotal();
    await t.app.dataSource.query(`UPDATE invoices SET open_balance_minor = open_balance_minor - 1 WHERE tenant_id = $1 AND id = $2`, [tenantId, ids['I-1']]);
    expect(await usdTotal()).toBe(before - 1n);
    await t.app.dataSource.query(`UPDATE invoices SET open_balance_minor = open_balance_minor + 1 WHERE tenant_id = $1 AND id = $2`, [tenantId, ids['I-1']]);
    await expectTotalsMatchInvoices();
  });

  it('uses the tenant\'s bucket edges', async () => {
    const set = dataOf(await t.gql(SetAgingBucketsDocument, { edges: [15, 45] })).setAgingBuckets;
    expect(set.buckets.map((b) => b.label)).toEqual(['Current', '1-15', '16-45', '45+']);
    const r = await aging();
    expect(r.buckets.map((b) => [b.label, b.fromDays, b.toDays])).toEqual([
      ['Current', null, 0],
      ['1-15', 1, 15],
      ['16-45', 16, 45],
      ['45+', 46, null],
    ]);
    const want = await expected([15, 45]);
    expect(new Map(r.totals.map((x) => [x.currency, x.cells.map((c) => BigInt(c.amount.amountMinor))]))).toEqual(want);
    const bad = await t.gql(SetAgingBucketsDocument, { edges: [60, 30] });
    expect(bad.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'edges', reason: 'INVALID_BUCKET_EDGES' });
    dataOf(await t.gql(SetAgingBucketsDocument, { edges: [30, 60, 90] }));
  });

  it('rolls an invoice from 1-30 into 31-60 at the tenant\'s midnight, not UTC\'s', async () => {
    // The tenant is in America/New_York. INV-1099 is due 2026-06-01: 30 days past due on 2026-07-01 local, 31 on 2026-07-02.
    dataOf(await t.gql(UpsertInvoicesDocument, { input: [{ externalId: 'I-99', customerExternalId: 'C-2', number: 'INV-1099', issueDate: '2026-05-01', currency: 'USD', total: '77.00', dueDate: '2026-06-01' }] }));
    const svc = t.app.modules.services.aging;
    const bucketOfInv = async () => {
      const r = dataOf(await t.gql(AgingDocument, { groupBy: ['CUSTOMER'], filter: { customerIds: [customers['C-2']], currencies: ['USD'] } })).aging;
      const d = dataOf(await t.gql(AgingInvoicesDocument, { cell: { rowKey: r.rows[0].key } })).agingInvoices;
      const n = d.nodes.find((x) => x.invoice.number === 'INV-1099')!;
      return [r.asOf, r.buckets[n.bucket].label];
    };
    try {
      svc.clock = () => new Date('2026-07-02T02:00:00Z'); // 22:00 on 2026-07-01 in New York, already 2026-07-02 in UTC
      expect(await bucketOfInv()).toEqual(['2026-07-01', '1-30']);
      svc.clock = () => new Date('2026-07-02T03:59:00Z'); // 23:59 in New York
      expect(await bucketOfInv()).toEqual(['2026-07-01', '1-30']);
      svc.clock = () => new Date('2026-07-02T04:00:00Z'); // midnight in New York
      expect(await bucketOfInv()).toEqual(['2026-07-02', '31-60']);
    } finally {
      svc.clock = () => new Date();
    }
  });

  it('reports DSO (standard and countback), CEI, average days delinquent and % current, and keeps daily snapshots as a series', async () => {
    const ctx = new RequestContext(tenantId, systemActor(tenantId, 'test'), t.app.dataSource.manager, 'test', t.app.logger);
    const metrics = t.app.modules.services.metrics;
    await metrics.takeSnapshot(ctx, '2026-01-30');
    await metrics.takeSnapshot(ctx, AS_OF);
    const dso = dataOf(await t.gql(DsoDocument, { asOf: AS_OF, filter: { segments: ['enterprise'] } })).dso;
    expect(dso.receivables.currency).toBe('USD');
    expect(dso.periodDays).toBe(90);
    // Enterprise credit sales 2026-01-01..03-31: I-2 5400.50 + I-10 900.00 USD, and I-8 + I-9 9500.00 GBP converted once:
    // 9500.00 x 1.26785 = 12044.575 -> 12044.58 (half to even)
    expect(dso.creditSales.amountMinor).toBe((540050n + 90000n + 1204458n).toString());
    const ar = BigInt(dso.receivables.amountMinor);
    expect(dso.standard).toBeCloseTo((Number(ar) / Number(dso.creditSales.amountMinor)) * 90, 2);
    expect(dso.countback).not.toBeNull();
    expect(dso.averageDaysDelinquent).toBeCloseTo(dso.standard! - dso.bestPossible!, 2);
    expect(dso.percentCurrent).toBeCloseTo((Number(dso.currentReceivables.amountMinor) / Number(ar)) * 100, 2);

    const cei = dataOf(await t.gql(CeiDocument, { from: '2026-01-30', to: AS_OF })).cei;
    expect(cei.beginningReceivables).not.toBeNull();
    const b = BigInt(cei.beginningReceivables!.amountMinor);
    const s = BigInt(cei.creditSales.amountMinor);
    const e = BigInt(cei.endingReceivables.amountMinor);
    const c = BigInt(cei.endingCurrentReceivables.amountMinor);
    expect(cei.cei).toBeCloseTo((Number(b + s - e) / Number(b + s - c)) * 100, 2);
    expect(dataOf(await t.gql(CeiDocument, { from: '2026-01-29', to: AS_OF })).cei.cei).toBeNull();

    const series = dataOf(await t.gql(CollectionsMetricsDocument, { from: '2026-01-01', to: AS_OF, groupBy: 'ENTITY_SEGMENT', periodDays: 60 })).collectionsMetrics;
    expect(series.series.map((x) => [x.group.entityCode, x.group.segment, x.points.map((p) => p.date)])).toEqual([
      ['UK01', 'enterprise', ['2026-01-30', '2026-03-31']],
      ['US01', 'enterprise', ['2026-01-30', '2026-03-31']],
      ['US01', 'mid-market', ['2026-01-30', '2026-03-31']],
    ]);
    const whole = dataOf(await t.gql(CollectionsMetricsDocument, { from: AS_OF, to: AS_OF, periodDays: 60 })).collectionsMetrics.series[0].points[0];
    expect(whole.receivables.amountMinor).toBe(dataOf(await t.gql(DsoDocument, { asOf: AS_OF })).dso.receivables.amountMinor);
    expect(whole.cei).not.toBeNull(); // 2026-01-30, 60 days back, has a snapshot
    expect(dataOf(await t.gql(CollectionsMetricsDocument, { from: AS_OF, to: AS_OF })).collectionsMetrics.series[0].points[0].cei).toBeNull(); // 90 days back has none
  });
});
