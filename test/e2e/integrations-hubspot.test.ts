import { readFileSync } from 'node:fs';
import path from 'node:path';
import { idempotencyMarker } from '../../integrations/hubspot/hubspot.connector';
import { dataOf, startTestApp, type GqlResult, type TestApp } from '../support/test-app';
import { syncThroughApi, until } from '../fixtures/integrations/helpers';
import { FakeHubSpotServer } from '../fixtures/hubspot/fake-hubspot-server';

type Cust = { externalId: string; renewalDate: string | null; tier: string | null; owner: { email: string } | null };
const fixture = (name: string) => JSON.parse(readFileSync(path.join(__dirname, '../fixtures/hubspot', name), 'utf8'));

describe('HubSpot CRM: owners, renewal dates and tiers in; activity notes out, once', () => {
  let t: TestApp;
  let hs: FakeHubSpotServer;
  let connectionId: string;
  let gql: <T>(q: string, v?: Record<string, unknown>) => Promise<GqlResult<T>>;

  const { syncNow, finished } = syncThroughApi(() => t, () => connectionId);
  const customers = async () =>
    Object.fromEntries(dataOf(await gql<{ customers: { nodes: Cust[] } }>(`{ customers(first: 50) { nodes { externalId renewalDate tier owner { email } } } }`)).customers.nodes.map((c) => [c.externalId, c]));

  beforeAll(async () => {
    hs = new FakeHubSpotServer();
    await hs.start();
    hs.owners.push(
      { id: '101', email: 'Alice@recoup.test', firstName: 'Alice', lastName: 'Ames', archived: false },
      { id: '102', email: 'bob@recoup.test', firstName: 'Bob', lastName: 'Best', archived: false },
      { id: '103', email: 'carol@elsewhere.test', firstName: 'Carol', lastName: 'Cole', archived: false },
      { id: '104', email: 'dan@recoup.test', firstName: 'Dan', lastName: 'Doe', archived: true },
    );
    const co = (id: string, p: Record<string, string | null>) => hs.companies.push({ id, properties: { name: `Company ${id}`, domain: `${id}.example`, ...p } });
    co('5001', { erp_customer_number: 'C-1', hubspot_owner_id: '101', renewal_date: '2025-09-30', customer_tier: 'Enterprise' });
    co('5002', { erp_customer_number: 'C-2', hubspot_owner_id: '102', renewal_date: '1767225600000', customer_tier: 'Mid-market' }); // date property as epoch ms (2026-01-01)
    co('5003', { erp_customer_number: 'C-3', hubspot_owner_id: '103', renewal_date: '2026-03-15', customer_tier: 'SMB' }); // owner with no Recoup user
    co('5004', { erp_customer_number: null, hubspot_owner_id: '101', renewal_date: '2025-12-01' }); // a prospect: not linked to the ERP
    co('5005', { erp_customer_number: 'C-404', hubspot_owner_id: '101' }); // linked to a customer Recoup does not have
    co('5006', { erp_customer_number: 'C-4', hubspot_owner_id: '104', renewal_date: '2025-07-01', customer_tier: 'SMB' }); // archived owner, still a user

    t = await startTestApp({ runWorkers: true });
    gql = (q, v) => t.gql(q, v as never);
    dataOf(await t.gql(`mutation { upsertEntities(input: [{ code: "US01", name: "Acme Inc.", currency: "USD", country: "US" }]) { __typename } }`));
    for (const [email, name] of [['alice@recoup.test', 'Alice Ames'], ['bob@recoup.test', 'Bob Best'], ['dan@recoup.test', 'Dan Doe']]) {
      dataOf(await gql(`mutation($e: String!, $n: String!) { createUser(input: { email: $e, name: $n, role: COLLECTOR }) { id } }`, { e: email, n: name }));
    }
    const up = dataOf(
      await gql<{ upsertCustomers: { failed: number } }>(`mutation($in: [UpsertCustomerInput!]!) { upsertCustomers(input: $in) { failed } }`, {
        in: [1, 2, 3, 4].map((i) => ({ externalId: `C-${i}`, name: `Customer ${i}`, currency: 'USD', entityCode: 'US01' })),
      }),
    );
    expect(up.upsertCustomers.failed).toBe(0);
    connectionId = dataOf(
      await gql<{ createConnection: { id: string } }>(`mutation($cfg: JSONObject!) { createConnection(input: { kind: HUBSPOT, name: "HubSpot", config: $cfg, credentials: { accessToken: "pat-na1-recoup" } }) { id } }`, {
        cfg: { baseUrl: hs.url, pageSize: 2, timeoutMs: 800, retryBaseMs: 300, customerNumberProperty: 'erp_customer_number', renewalDateProperty: 'renewal_date', tierProperty: 'customer_tier' },
      }),
    ).createConnection.id;
  });
  afterAll(async () => {
    await t?.stop();
    await hs?.stop();
  });

  it('pulling sets owner, renewal date and tier on the matched customers, page by page with after', async () => {
    const run = await finished((await syncNow()).id);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.pages).toBe(3);
    expect(run.counts).toEqual([{ stream: 'CUSTOMERS', created: 0, updated: 4, unchanged: 0, failed: 1 }]);
    expect(run.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'VALIDATION', stream: 'CUSTOMERS', externalId: 'C-404', field: 'customerExternalId' }),
        expect.objectContaining({ kind: 'VALIDATION', stream: 'CUSTOMERS', externalId: 'C-3', field: 'ownerEmail' }),
      ]),
    );
    // Pages of 2 followed paging.next.after; the company properties asked for are the configured ones.
    const pages = hs.requests('GET', '/crm/v3/objects/companies');
    expect(pages.map((r) => r.query.after ?? null)).toEqual([null, '2', '4']);
    expect(pages[0].query.properties.split(',')).toEqual(expect.arrayContaining(['erp_customer_number', 'hubspot_owner_id', 'renewal_date', 'customer_tier']));
    // Owners were read once for the whole sync (active and archived).
    expect(hs.requests('GET', '/crm/v3/owners')).toHaveLength(2);

    const c = await customers();
    expect(c['C-1']).toMatchObject({ owner: { email: 'alice@recoup.test' }, renewalDate: '2025-09-30', tier: 'Enterprise' });
    expect(c['C-2']).toMatchObject({ owner: { email: 'bob@recoup.test' }, renewalDate: '2026-01-01', tier: 'Mid-market' });
    expect(c['C-3']).toMatchObject({ owner: null, renewalDate: '2026-03-15', tier: 'SMB' });
    expect(c['C-4']).toMatchObject({ owner: { email: 'dan@recoup.test' }, renewalDate: '2025-07-01' });
  });

  it('a second pull changes nothing; a change in HubSpot is picked up on the next pass', async () => {
    const again = await finished((await syncNow()).id);
    expect(again.counts).toEqual([{ stream: 'CUSTOMERS', created: 0, updated: 0, unchanged: 4, failed: 1 }]);
    hs.companies[0].properties.renewal_date = '2026-09-30';
    hs.companies[0].properties.hubspot_owner_id = '102';
    const changed = await finished((await syncNow()).id);
    expect(changed.counts).toEqual([{ stream: 'CUSTOMERS', created: 0, updated: 1, unchanged: 3, failed: 1 }]);
    expect((await customers())['C-1']).toMatchObject({ owner: { email: 'bob@recoup.test' }, renewalDate: '2026-09-30' });
  });

  it('retries a HubSpot 429 (RATE_LIMITS) and resumes at the page it was on', async () => {
    hs.fault('GET', '/crm/v3/objects/companies', { status: 429, body: fixture('error-rate-limit.json'), headers: { 'retry-after': '1' } });
    const run = await finished((await syncNow()).id);
    expect(run).toMatchObject({ status: 'SUCCEEDED', attempts: 2 });
    expect(run.errors.find((e) => e.kind === 'RATE_LIMITED')?.message).toContain('RATE_LIMITS/SECONDLY');
  });

  it('pushes a note once even when the first attempt times out after HubSpot stored it', async () => {
    const [customer] = await t.app.dataSource.query(`SELECT id FROM customers WHERE external_id = 'C-2'`);
    hs.slowNotes = { count: 1, delayMs: 2500 }; // stored, then answered after the 800 ms client timeout
    const WB = `id status attempts reconciled lastError idempotencyKey`;
    const wb = dataOf(
      await gql<{ requestWriteBack: { id: string; idempotencyKey: string } }>(
        `mutation($c: ID!, $conn: ID!) { requestWriteBack(input: { connectionId: $conn, operation: LOG_ACTIVITY, customerId: $c, subject: "Reminder sent", note: "Second reminder for INV-1042 sent by email." }) { ${WB} } }`,
        { c: customer.id, conn: connectionId },
      ),
    ).requestWriteBack;
    const done = await until('the note to settle', async () => {
      const w = dataOf(await gql<{ writeBacks: { id: string; status: string; attempts: number; reconciled: boolean; lastError: string | null }[] }>(`query($conn: ID!) { writeBacks(connectionId: $conn) { ${WB} } }`, { conn: connectionId })).writeBacks.find((x) => x.id === wb.id)!;
      return w.status === 'APPLIED' || w.status === 'FAILED' ? w : undefined;
    });
    expect(done).toMatchObject({ status: 'APPLIED', attempts: 2, reconciled: true });
    expect(done.lastError).toContain('TIMEOUT');
    expect(hs.requests('POST', '/crm/v3/objects/notes')).toHaveLength(1);
    expect(hs.notes).toHaveLength(1);
    expect(hs.notes[0].companyIds).toEqual(['5002']);
    expect(hs.notes[0].properties.hs_note_body).toContain('Reminder sent');
    expect(hs.notes[0].properties.hs_note_body).toContain(idempotencyMarker(wb.idempotencyKey));
    // The retry searched the company's notes for the marker instead of creating another.
    const search = hs.requests('POST', '/crm/v3/objects/notes/search');
    expect(search).toHaveLength(1);
    expect(JSON.stringify(search[0].body)).toContain(idempotencyMarker(wb.idempotencyKey));

    // A promise logged without trouble: one call, applied at once.
    const promise = dataOf(
      await gql<{ requestWriteBack: { id: string } }>(`mutation($c: ID!, $conn: ID!) { requestWriteBack(input: { connectionId: $conn, operation: LOG_ACTIVITY, customerId: $c, subject: "Promise to pay", note: "Will pay 1,200.00 on 2025-03-12" }) { id } }`, {
        c: customer.id,
        conn: connectionId,
      }),
    ).requestWriteBack;
    await until('the promise note', async () => dataOf(await gql<{ writeBacks: { id: string; status: string }[] }>(`query($conn: ID!) { writeBacks(connectionId: $conn) { id status } }`, { conn: connectionId })).writeBacks.find((x) => x.id === promise.id && x.status === 'APPLIED'));
    expect(hs.notes).toHaveLength(2);
  });

  it('refuses write-backs a CRM cannot take, with a clear error', async () => {
    const [customer] = await t.app.dataSource.query(`SELECT id FROM customers WHERE external_id = 'C-1'`);
    const wb = dataOf(await gql<{ requestWriteBack: { id: string } }>(`mutation($c: ID!, $conn: ID!) { requestWriteBack(input: { connectionId: $conn, operation: SET_CREDIT_HOLD, customerId: $c, creditHold: true }) { id } }`, { c: customer.id, conn: connectionId })).requestWriteBack;
    const done = await until('the refused write-back', async () => dataOf(await gql<{ writeBacks: { id: string; status: string; lastError: string | null }[] }>(`query($conn: ID!) { writeBacks(connectionId: $conn) { id status lastError } }`, { conn: connectionId })).writeBacks.find((x) => x.id === wb.id && x.status === 'FAILED'));
    expect(done.lastError).toContain('LOG_ACTIVITY');
  });
});
