import { RequestCreditHoldDocument, UpsertCustomersDocument, UpsertEntitiesDocument } from '../generated/graphql';
import { dataOf, startTestApp, type TestApp } from '../support/test-app';

/** Outcomes decided in Recoup (here a credit-hold release) reach the tenant's connected ERP through its write-back outbox, once. */
describe('engine and approval outcomes written back to a connected ERP', () => {
  let t: TestApp;
  const q = (sql: string, params: unknown[] = []) => t.app.dataSource.query(sql, params);

  beforeAll(async () => {
    t = await startTestApp();
    dataOf(await t.gql(UpsertEntitiesDocument, { input: [{ code: 'US01', name: 'Acme Inc.', currency: 'USD', country: 'US' }] }));
    dataOf(await t.gql(UpsertCustomersDocument, { input: ['ERP-C1', 'ERP-C2'].map((e) => ({ externalId: e, name: `Cust ${e}`, entityCode: 'US01', currency: 'USD' })) }));
    await q(`UPDATE customers SET credit_hold = true`);
  });
  afterAll(async () => {
    await t?.stop();
  });

  const release = async (externalId: string) => {
    const [{ id }] = await q(`SELECT id FROM customers WHERE external_id = $1`, [externalId]);
    return dataOf(await t.gql(RequestCreditHoldDocument, { customerId: id, hold: false, reason: 'paid in full' })).requestCreditHold;
  };

  it('without a connection the outcome is only recorded; with one it is queued for the ERP with the ERP customer id and the same key', async () => {
    const first = await release('ERP-C1');
    expect(first.status).toBe('APPROVED');
    expect(await q(`SELECT count(*)::int AS n FROM writeback_outbox`)).toEqual([{ n: 0 }]);
    expect(await q(`SELECT operation, idempotency_key FROM connector_calls WHERE connector = 'erp'`)).toEqual([{ operation: 'customer.credit_hold', idempotency_key: `approval:${first.id}` }]);

    dataOf(await t.gql<{ createConnection: { id: string } }, { cfg: Record<string, unknown> }>(`mutation($cfg: JSONObject!) { createConnection(input: { kind: GENERIC_HTTP_ERP, name: "ERP", config: $cfg }) { id } }`, { cfg: { baseUrl: 'http://127.0.0.1:9' } }));
    const second = await release('ERP-C2');
    const rows = await q(`SELECT operation, idempotency_key, payload, status FROM writeback_outbox`);
    expect(rows).toEqual([{ operation: 'SET_CREDIT_HOLD', idempotency_key: `approval:${second.id}`, payload: { customerExternalId: 'ERP-C2', creditHold: false }, status: 'PENDING' }]);
  });
});
