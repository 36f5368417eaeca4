import {
  CreateApiKeyDocument,
  InvoicesDocument,
  MeDocument,
  UpsertCustomersDocument,
  UpsertEntitiesDocument,
  UpsertInvoicesDocument,
  type InvoicesQuery,
} from '../generated/graphql';
import * as fx from '../support/fixtures';
import { dataOf, startTestApp, type TestApp } from '../support/test-app';

/**
 * The foundation's "done when": bootstrap key -> a collector key -> 3 customers and 10
 * invoices -> the overdue invoices of one entity with their customers, paged, as the
 * collector -> the collector cannot create API keys.
 */
describe('foundation walk (e2e over HTTP)', () => {
  let t: TestApp;
  let collectorKey: string;
  const asOf = '2026-03-31';

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('mints a collector key with the bootstrap admin key', async () => {
    const r = dataOf(await t.gql(CreateApiKeyDocument, { input: { name: 'Casey (collector)', role: 'COLLECTOR' } }));
    expect(r.createApiKey.apiKey).toMatchObject({ name: 'Casey (collector)', role: 'COLLECTOR', partner: false, revokedAt: null });
    expect(r.createApiKey.secret).toMatch(/^rk_/);
    expect(r.createApiKey.secret.startsWith(r.createApiKey.apiKey.prefix)).toBe(true);
    collectorKey = r.createApiKey.secret;
    const me = dataOf(await t.gql(MeDocument, {}, collectorKey)).me;
    expect(me).toMatchObject({ role: 'COLLECTOR', partner: false, apiKey: { name: 'Casey (collector)' } });
  });

  it('loads entities, 3 customers and 10 invoices', async () => {
    dataOf(await t.gql(UpsertEntitiesDocument, { input: fx.entities }));
    const c = dataOf(await t.gql(UpsertCustomersDocument, { input: fx.customers })).upsertCustomers;
    expect(c).toMatchObject({ succeeded: 3, failed: 0 });
    expect(c.results[0].customer).toMatchObject({ externalId: 'C-1', creditLimit: { amount: '250000.00', currency: 'USD' }, contacts: [{ email: 'ap@globex.example', role: 'AP' }] });
    const i = dataOf(await t.gql(UpsertInvoicesDocument, { input: fx.invoices })).upsertInvoices;
    expect(i.failed).toBe(0);
    expect(i.succeeded).toBe(10);
    const byExt = Object.fromEntries(i.results.map((r) => [r.externalId, r.invoice!]));
    expect(byExt['I-1']).toMatchObject({ dueDate: '2025-12-01', status: 'OPEN', total: { amount: '12000.00', currency: 'USD' }, terms: { label: 'Net 30' } });
    expect(byExt['I-4']).toMatchObject({ dueDate: '2026-03-15', terms: { kind: 'EOM_PLUS', days: 15, label: 'EOM + 15' } });
    expect(byExt['I-5'].dueDate).toBe('2026-03-01');
    expect(byExt['I-6'].dueDate).toBe('2026-01-10');
    expect(byExt['I-10']).toMatchObject({ status: 'PAID', openBalance: { amount: '0.00' } });
  });

  it('is idempotent: the same upsert again writes, audits and announces nothing', async () => {
    const audits = async () => (await t.app.dataSource.query('SELECT count(*)::int AS n FROM audit_events'))[0].n as number;
    const before = await audits();
    const c = dataOf(await t.gql(UpsertCustomersDocument, { input: fx.customers })).upsertCustomers;
    expect(c.results.map((r) => [r.created, r.changed])).toEqual(fx.customers.map(() => [false, false]));
    const i = dataOf(await t.gql(UpsertInvoicesDocument, { input: fx.invoices })).upsertInvoices;
    expect(i.results.every((r) => r.created === false && r.changed === false && r.errors.length === 0)).toBe(true);
    expect(await audits()).toBe(before);
    const counts = await t.app.dataSource.query('SELECT (SELECT count(*) FROM invoices)::int AS i, (SELECT count(*) FROM invoice_lines)::int AS l, (SELECT count(*) FROM contacts)::int AS c');
    expect(counts[0]).toEqual({ i: 10, l: 2, c: 3 });
    // A real change is written and audited.
    const changed = dataOf(await t.gql(UpsertInvoicesDocument, { input: [{ ...fx.invoices[2], total: '850.00' }] })).upsertInvoices.results[0];
    expect(changed).toMatchObject({ created: false, changed: true, invoice: { total: { amount: '850.00' }, openBalance: { amount: '850.00' } } });
    expect(await audits()).toBe(before + 1);
  });

  it('lists the overdue invoices of US01 with their customers, paged, as the collector', async () => {
    const me = dataOf(await t.gql(MeDocument, {}, collectorKey));
    expect(me.me.role).toBe('COLLECTOR');
    const entityId = (await t.app.dataSource.query(`SELECT id FROM legal_entities WHERE code = 'US01'`))[0].id as string;
    const seen: InvoicesQuery['invoices']['nodes'] = [];
    let after: string | null | undefined = null;
    let pages = 0;
    let total: number | undefined;
    do {
      const page: InvoicesQuery = dataOf(await t.gql(InvoicesDocument, { first: 2, after, filter: { overdue: true, entityIds: [entityId] }, asOf }, collectorKey));
      total = page.invoices.totalCount;
      seen.push(...page.invoices.nodes);
      after = page.invoices.pageInfo.hasNextPage ? page.invoices.pageInfo.endCursor : null;
      expect(page.invoices.pageInfo.hasPreviousPage).toBe(pages > 0);
      pages++;
    } while (after);
    // Overdue in US01 as of 2026-03-31: I-1 (due 12-01), I-6 (01-10), I-2 (02-14), I-5 (03-01), I-4 (03-15).
    expect(seen.map((n) => n.number)).toEqual(['INV-1001', 'INV-1006', 'INV-1002', 'INV-1005', 'INV-1004']);
    expect(total).toBe(5);
    expect(pages).toBe(3);
    expect(seen.map((n) => n.daysPastDue)).toEqual([120, 80, 45, 30, 16]);
    expect(seen.map((n) => n.agingBucket)).toEqual(['DAYS_90_PLUS', 'DAYS_61_90', 'DAYS_31_60', 'DAYS_1_30', 'DAYS_1_30']);
    expect(seen.every((n) => n.entity.code === 'US01')).toBe(true);
    expect(seen[0].customer).toMatchObject({ name: 'Globex Corporation', segment: 'enterprise', contacts: [{ email: 'ap@globex.example' }] });
    expect(seen.find((n) => n.number === 'INV-1004')!.lines.map((l) => l.description)).toEqual(['Licence', 'Support']);
  });

  it('refuses API key creation to the collector, and unknown keys altogether', async () => {
    const r = await t.gql(CreateApiKeyDocument, { input: { name: 'sneaky', role: 'ADMIN' } }, collectorKey);
    expect(r.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(r.data).toBeNull();
    const none = await t.gql(MeDocument, {}, null);
    expect(none.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    const unknown = await t.gql(MeDocument, {}, 'rk_this-key-does-not-exist-at-all-000000');
    expect(unknown.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    const keys = await t.app.dataSource.query(`SELECT count(*)::int AS n FROM api_keys`);
    expect(keys[0].n).toBe(2);
  });
});
