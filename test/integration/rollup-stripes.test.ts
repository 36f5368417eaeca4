import { Client } from 'pg';
import { UpsertCustomersDocument, UpsertEntitiesDocument, UpsertInvoicesDocument } from '../generated/graphql';
import { dataOf, startTestApp, type TestApp } from '../support/test-app';

/**
 * Aging rollup rows are shared by every invoice of a group and due date. Two transactions
 * changing balances in the same group must not queue behind each other on that row, and the
 * totals must stay exact, before and after the stripes are folded back.
 */
describe('striped aging rollups', () => {
  let t: TestApp;
  const clients: Client[] = [];
  const connect = async () => {
    const c = new Client({ connectionString: t.databaseUrl });
    await c.connect();
    clients.push(c);
    return c;
  };
  const totals = async () => {
    const [r] = await t.app.dataSource.query(
      `SELECT (SELECT sum(open_balance_minor) FROM invoices WHERE status = 'OPEN' AND open_balance_minor > 0)::text AS invoices,
              (SELECT sum(open_minor) FROM aging_rollups)::text AS rollups,
              (SELECT count(*) FROM aging_rollups WHERE due_date = '2026-03-31')::int AS rows_for_key`,
    );
    return r as { invoices: string; rollups: string; rows_for_key: number };
  };

  beforeAll(async () => {
    t = await startTestApp();
    dataOf(await t.gql(UpsertEntitiesDocument, { input: [{ code: 'US01', name: 'Acme Inc.', currency: 'USD', country: 'US' }] }));
    dataOf(await t.gql(UpsertCustomersDocument, { input: ['S-1', 'S-2'].map((e) => ({ externalId: e, name: `Cust ${e}`, entityCode: 'US01', currency: 'USD' })) }));
    // Same entity, segment (none), owner (none), currency, billing model and due date: one rollup key.
    dataOf(
      await t.gql(UpsertInvoicesDocument, {
        input: [
          { externalId: 'ST-1', number: 'ST-1', customerExternalId: 'S-1', issueDate: '2026-03-01', dueDate: '2026-03-31', currency: 'USD', total: '1000.00' },
          { externalId: 'ST-2', number: 'ST-2', customerExternalId: 'S-2', issueDate: '2026-03-01', dueDate: '2026-03-31', currency: 'USD', total: '400.00' },
        ],
      }),
    );
  });
  afterAll(async () => {
    for (const c of clients) await c.end().catch(() => undefined);
    await t?.stop();
  });

  it('a second writer of the same key does not wait for the first to commit; totals stay exact; the rollover folds stripes back', async () => {
    expect(await totals()).toEqual({ invoices: '140000', rollups: '140000', rows_for_key: 1 });
    const a = await connect();
    const b = await connect();
    await a.query('BEGIN');
    await a.query(`UPDATE invoices SET open_balance_minor = open_balance_minor - 25000 WHERE number = 'ST-1'`);
    // A holds its stripe of the key until it commits; B must get through on another stripe.
    await b.query(`SET statement_timeout = '3s'`);
    await b.query('BEGIN');
    await b.query(`UPDATE invoices SET open_balance_minor = open_balance_minor - 10000 WHERE number = 'ST-2'`);
    await b.query('COMMIT');
    await a.query('COMMIT');
    expect(await totals()).toEqual({ invoices: '105000', rollups: '105000', rows_for_key: 2 });

    const [{ id: tenantId }] = await t.app.dataSource.query(`SELECT id FROM tenants LIMIT 1`);
    await t.app.dataSource.query(`SELECT fold_rollup_stripes($1)`, [tenantId]);
    expect(await totals()).toEqual({ invoices: '105000', rollups: '105000', rows_for_key: 1 });
  });

  it('without stripes the same second writer would have waited: the first holds the one row', async () => {
    const a = await connect();
    const b = await connect();
    await a.query('BEGIN');
    await a.query(`UPDATE invoices SET open_balance_minor = open_balance_minor - 100 WHERE number = 'ST-1'`);
    await b.query(`SET lock_timeout = '500ms'`);
    // The row A's stripe-0 claim holds is locked: writing it directly waits (and times out here).
    await expect(b.query(`UPDATE aging_rollups SET open_minor = open_minor WHERE due_date = '2026-03-31' AND stripe = 0`)).rejects.toThrow(/lock timeout/);
    await a.query('ROLLBACK');
  });
});
