import { InvoicesDocument, UpsertCustomersDocument, UpsertEntitiesDocument, UpsertInvoicesDocument, CustomersDocument } from '../generated/graphql';
import { startGlobalQueryCount } from '../../src/platform/db/sql-logger';
import * as fx from '../support/fixtures';
import { dataOf, startTestApp, type TestApp } from '../support/test-app';

/** A page of invoices with customer, contacts and lines costs a constant number of SQL statements. */
describe('no N+1', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
    dataOf(await t.gql(UpsertEntitiesDocument, { input: fx.entities }));
    const customers = Array.from({ length: 40 }, (_, i) => ({
      externalId: `NC-${i}`,
      name: `Customer ${i}`,
      entityCode: i % 2 ? 'US01' : 'UK01',
      currency: i % 2 ? 'USD' : 'GBP',
      contacts: [{ name: `AP ${i}`, email: `ap${i}@example.com` }, { name: `CFO ${i}`, email: `cfo${i}@example.com` }],
    }));
    dataOf(await t.gql(UpsertCustomersDocument, { input: customers }));
    const invoices = Array.from({ length: 150 }, (_, i) => ({
      externalId: `NI-${i}`,
      customerExternalId: `NC-${i % 40}`,
      number: `N-${1000 + i}`,
      issueDate: '2026-01-01',
      currency: i % 40 % 2 ? 'USD' : 'GBP',
      total: '30.00',
      terms: { kind: 'NET' as const, days: i % 60 },
      lines: [{ description: 'one', amount: '10.00' }, { description: 'two', amount: '20.00' }],
    }));
    const r = dataOf(await t.gql(UpsertInvoicesDocument, { input: invoices })).upsertInvoices;
    expect(r.failed).toBe(0);
  });
  afterAll(async () => {
    await t?.stop();
  });

  async function statementsFor(first: number): Promise<{ count: number; nodes: number }> {
    const counter = startGlobalQueryCount();
    const r = dataOf(await t.gql(InvoicesDocument, { first, asOf: '2026-03-01' }));
    const { count, statements } = counter.stop();
    if (process.env.SHOW_SQL) console.log(statements.join("\n---\n"));
    expect(r.invoices.nodes.every((n) => n.customer.contacts.length === 2 && n.lines.length === 2)).toBe(true);
    return { count, nodes: r.invoices.nodes.length };
  }

  it('invoices page: 10 and 100 rows cost the same number of statements', async () => {
    const small = await statementsFor(10);
    const large = await statementsFor(100);
    expect(small.nodes).toBe(10);
    expect(large.nodes).toBe(100);
    expect(large.count).toBe(small.count);
    // auth + tenant + page + count + customers + contacts + lines + entities, give or take the key touch
    expect(large.count).toBeLessThanOrEqual(10);
  });

  it('customers page with open balances: constant too', async () => {
    const run = async (first: number) => {
      const counter = startGlobalQueryCount();
      const r = dataOf(await t.gql(CustomersDocument, { first }));
      return { count: counter.stop().count, r };
    };
    const a = await run(5);
    const b = await run(40);
    expect(b.r.customers.nodes).toHaveLength(40);
    expect(b.r.customers.nodes.find((c) => c.externalId === 'NC-1')!.openBalances).toEqual([{ amount: '120.00', currency: 'USD' }]);
    expect(b.count).toBe(a.count);
  });
});
