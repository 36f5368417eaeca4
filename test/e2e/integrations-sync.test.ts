import { dataOf, startAppOn, startTestApp, type GqlResult, type TestApp } from '../support/test-app';
import { erpCustomer, erpInvoice, FakeErpServer } from '../fixtures/integrations/fake-erp-server';
import { syncThroughApi, until } from '../fixtures/integrations/helpers';

const RUN_FIELDS = `id status attempts pages trigger durationMs nextRetryAt counts { stream created updated unchanged failed } errors { kind message stream externalId field attempt }`;
type Run = { id: string; status: string; attempts: number; pages: number; durationMs: number | null; counts: { stream: string; created: number; updated: number; unchanged: number; failed: number }[]; errors: { kind: string; message: string; stream: string | null; externalId: string | null; field: string | null }[] };

describe('integrations: connections, syncs by cursor, retries, write-backs', () => {
  let t: TestApp;
  let erp: FakeErpServer;
  let connectionId: string;
  type Gql = <T>(q: string, v?: Record<string, unknown>) => Promise<GqlResult<T>>;
  let gql: Gql;

  const { syncNow, finished } = syncThroughApi<Run>(() => t, () => connectionId, RUN_FIELDS);
  const count = (stream: string, run: Run) => run.counts.find((c) => c.stream === stream);
  const cursors = async () =>
    Object.fromEntries(dataOf(await gql<{ connections: { id: string; cursors: { stream: string; cursor: string | null }[] }[] }>(`{ connections { id cursors { stream cursor } } }`)).connections.find((c) => c.id === connectionId)!.cursors.map((c) => [c.stream, c.cursor]));
  const book = async () => (await t.app.dataSource.query(`SELECT (SELECT count(*) FROM customers)::int AS customers, (SELECT count(*) FROM invoices)::int AS invoices, (SELECT count(DISTINCT external_id) FROM invoices)::int AS distinct_invoices, (SELECT count(*) FROM invoice_lines)::int AS lines`))[0];

  beforeAll(async () => {
    erp = new FakeErpServer();
    await erp.start();
    for (let i = 1; i <= 5; i++) erp.customers.push(erpCustomer(i));
    for (let i = 1; i <= 12; i++) erp.invoices.push(erpInvoice(i));
    t = await startTestApp({ runWorkers: true });
    gql = (q, v) => t.gql(q, v as never);
    dataOf(await t.gql(`mutation { upsertEntities(input: [{ code: "US01", name: "Acme Inc.", currency: "USD", country: "US" }]) { __typename } }`));
  });
  afterAll(async () => {
    await t?.stop();
    await erp?.stop();
  });

  it('refuses a connection with a bad config, and never returns credentials', async () => {
    const bad = await gql(`mutation { createConnection(input: { kind: GENERIC_HTTP_ERP, name: "x", config: { baseUrl: "ftp://erp.example" } }) { id } }`);
    expect(bad.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'config.baseUrl', reason: 'INVALID_CONFIG' });
    const c = dataOf(
      await gql<{ createConnection: { id: string; hasCredentials: boolean; config: Record<string, unknown> } }>(`mutation($cfg: JSONObject!) { createConnection(input: { kind: GENERIC_HTTP_ERP, name: "Fake ERP", config: $cfg, credentials: { apiKey: "erp-secret-123" } }) { id hasCredentials config } }`, {
        cfg: { baseUrl: erp.url, pageSize: 2, timeoutMs: 800, retryBaseMs: 200, defaultEntityCode: 'US01' },
      }),
    ).createConnection;
    connectionId = c.id;
    expect(c.hasCredentials).toBe(true);
    expect(JSON.stringify(c)).not.toContain('erp-secret-123');
    const [row] = await t.app.dataSource.query(`SELECT credentials_enc FROM integration_connections WHERE id = $1`, [c.id]);
    expect(row.credentials_enc).toMatch(/^v1:/);
    expect(row.credentials_enc).not.toContain('erp-secret');
    const dup = await gql(`mutation($cfg: JSONObject!) { createConnection(input: { kind: GENERIC_HTTP_ERP, name: "Fake ERP", config: $cfg }) { id } }`, { cfg: { baseUrl: erp.url } });
    expect(dup.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', field: 'name' });
  });

  it('syncs every page, then the same pages again change nothing', async () => {
    const first = await finished((await syncNow()).id);
    expect(first.status).toBe('SUCCEEDED');
    expect(count('CUSTOMERS', first)).toMatchObject({ created: 5, failed: 0 });
    expect(count('INVOICES', first)).toMatchObject({ created: 12, failed: 0 });
    expect(first.durationMs).toBeGreaterThanOrEqual(0);
    expect(await book()).toMatchObject({ customers: 5, invoices: 12, distinct_invoices: 12, lines: 12 });
    expect(await cursors()).toMatchObject({ CUSTOMERS: 'o:5', INVOICES: 'o:12' });
    const audits = (await t.app.dataSource.query(`SELECT count(*)::int AS n FROM audit_events`))[0].n;

    // A full re-sync pulls every page a second time: all unchanged, nothing written.
    const again = await finished((await syncNow(true)).id);
    expect(again.status).toBe('SUCCEEDED');
    expect(count('CUSTOMERS', again)).toMatchObject({ created: 0, updated: 0, unchanged: 5 });
    expect(count('INVOICES', again)).toMatchObject({ created: 0, updated: 0, unchanged: 12 });
    expect(await book()).toMatchObject({ customers: 5, invoices: 12, distinct_invoices: 12, lines: 12 });
    expect((await t.app.dataSource.query(`SELECT count(*)::int AS n FROM audit_events`))[0].n).toBe(audits);
    expect(await cursors()).toMatchObject({ CUSTOMERS: 'o:5', INVOICES: 'o:12' });
  });

  it('a sync killed halfway resumes on another process: no duplicates, nothing missed, the cursor right', async () => {
    for (let i = 13; i <= 18; i++) erp.invoices.push(erpInvoice(i));
    erp.invoices[2] = { ...erp.invoices[2], total: '999.00', lines: [{ description: 'Subscription', amount: '999.00' }] }; // a change to an already synced page is not re-pulled
    // The second new page hangs: the process is stopped while it waits for it.
    erp.fault('GET', '/invoices', 'hang', { cursor: 'o:14' });
    const run = await syncNow();
    await until('the sync to reach the hanging page', async () => erp.requests('/invoices').some((r) => r.cursor === 'o:14'));
    expect((await book()).invoices).toBe(14); // page o:12 is committed with its cursor
    const dbUrl = t.databaseUrl;
    await t.app.stop(); // the worker is stopped mid-sync (its page request times out as it shuts down)

    const second = await startAppOn(dbUrl, { runWorkers: true });
    try {
      const done = await until('the resumed run', async () => {
        const r = dataOf(await second.gql<{ syncRun: Run }, Record<string, unknown>>(`query($id: ID!) { syncRun(id: $id) { ${RUN_FIELDS} } }`, { id: run.id })).syncRun;
        return r.status === 'SUCCEEDED' || r.status === 'FAILED' ? r : undefined;
      });
      expect(done.status).toBe('SUCCEEDED');
      expect(done.attempts).toBe(2);
      expect(done.errors.map((e) => e.kind)).toEqual(['TIMEOUT']);
      expect(count('INVOICES', done)).toMatchObject({ created: 6, failed: 0 });
      const [b] = await second.app.dataSource.query(`SELECT count(*)::int AS n, count(DISTINCT external_id)::int AS d FROM invoices`);
      expect(b).toEqual({ n: 18, d: 18 });
      // Resumed at the page that was not committed: page o:12 was requested once, o:14 twice (hung, then retried).
      expect(erp.requests('/invoices').filter((r) => r.cursor === 'o:12')).toHaveLength(1);
      expect(erp.requests('/invoices').filter((r) => r.cursor === 'o:14')).toHaveLength(2);
      const [cur] = await second.app.dataSource.query(`SELECT cursor FROM sync_cursors WHERE connection_id = $1 AND stream = 'INVOICES'`, [connectionId]);
      expect(cur.cursor).toBe('o:18');
    } finally {
      // Hand the database back to the suite's app for the next tests.
      await second.app.stop();
    }
    t = await startAppOn(dbUrl, { runWorkers: true }); // `gql` reads `t`, so it now talks to this app
  });

  it('retries a 429 after its Retry-After and a 500 with backoff; gives up at once on garbage and on a 400', async () => {
    erp.fault('GET', '/customers', { status: 429, headers: { 'retry-after': '1' } });
    const t0 = Date.now();
    const limited = await finished((await syncNow()).id);
    expect(limited.status).toBe('SUCCEEDED');
    expect(limited.attempts).toBe(2);
    expect(limited.errors[0]).toMatchObject({ kind: 'RATE_LIMITED' });
    const customerCalls = erp.requests('/customers').filter((r) => r.at >= t0);
    expect(customerCalls[1].at - customerCalls[0].at).toBeGreaterThanOrEqual(950);

    erp.fault('GET', '/payments', { status: 503, body: 'upstream down' }, { times: 2 });
    const flaky = await finished((await syncNow()).id);
    expect(flaky.status).toBe('SUCCEEDED');
    expect(flaky.attempts).toBe(3);
    expect(flaky.errors.map((e) => e.kind)).toEqual(['TRANSIENT', 'TRANSIENT']);

    const before = await book();
    erp.invoices.push(erpInvoice(19));
    erp.fault('GET', '/invoices', { status: 200, body: '<html>Service temporarily unavailable</html>' }, { cursor: 'o:18' });
    const garbage = await finished((await syncNow()).id);
    expect(garbage.status).toBe('FAILED');
    expect(garbage.attempts).toBe(1);
    expect(garbage.errors[0].kind).toBe('INVALID_RESPONSE');
    expect(garbage.errors[0].message).toContain('not JSON');
    expect((await book()).invoices).toBe(before.invoices);
    expect((await cursors()).INVOICES).toBe('o:18');

    erp.fault('GET', '/invoices', { status: 400, body: '{"error":"bad cursor"}' }, { cursor: 'o:18' });
    const refused = await finished((await syncNow()).id);
    expect(refused).toMatchObject({ status: 'FAILED', attempts: 1 });
    expect(refused.errors[0].kind).toBe('PERMANENT');

    // The remote is fine again: the next sync picks up exactly the missing invoice.
    const healed = await finished((await syncNow()).id);
    expect(healed.status).toBe('SUCCEEDED');
    expect(count('INVOICES', healed)).toMatchObject({ created: 1 });
    expect((await book()).invoices).toBe(before.invoices + 1);
  });

  it('reports records the book refuses by stream, record and field, and syncs the rest', async () => {
    erp.invoices.push({ ...erpInvoice(20), customerExternalId: 'NOBODY' }, erpInvoice(21));
    const run = await finished((await syncNow()).id);
    expect(run.status).toBe('SUCCEEDED');
    expect(count('INVOICES', run)).toMatchObject({ created: 1, failed: 1 });
    expect(run.errors).toEqual([expect.objectContaining({ kind: 'VALIDATION', stream: 'INVOICES', externalId: 'ERP-I-20', field: 'customerExternalId' })]);
    const runs = dataOf(await gql<{ syncRuns: Run[] }>(`query($id: ID!) { syncRuns(connectionId: $id, first: 50) { id status } }`, { id: connectionId })).syncRuns;
    expect(runs[0].id).toBe(run.id);
  });

  it('a credit-hold write-back that times out after the ERP applied it is not applied twice', async () => {
    const [customer] = await t.app.dataSource.query(`SELECT id FROM customers WHERE external_id = 'ERP-C-1'`);
    erp.slowWrites = { count: 1, delayMs: 2500 }; // applies, then answers after the 800 ms client timeout
    const WB = `id status attempts reconciled lastError idempotencyKey`;
    const wb = dataOf(await gql<{ requestWriteBack: { id: string } }>(`mutation($c: ID!, $conn: ID!) { requestWriteBack(input: { connectionId: $conn, operation: SET_CREDIT_HOLD, customerId: $c, creditHold: true }) { ${WB} } }`, { c: customer.id, conn: connectionId })).requestWriteBack;
    const done = await until('the write-back to settle', async () => {
      const list = dataOf(await gql<{ writeBacks: { id: string; status: string; attempts: number; reconciled: boolean; lastError: string | null }[] }>(`query($conn: ID!) { writeBacks(connectionId: $conn) { ${WB} } }`, { conn: connectionId })).writeBacks;
      const w = list.find((x) => x.id === wb.id)!;
      return w.status === 'APPLIED' || w.status === 'FAILED' ? w : undefined;
    });
    expect(done).toMatchObject({ status: 'APPLIED', attempts: 2, reconciled: true });
    expect(done.lastError).toContain('TIMEOUT');
    expect(erp.creditHoldPosts).toHaveLength(1);
    expect(erp.creditHoldPosts[0]).toMatchObject({ customer: 'ERP-C-1', body: { creditHold: true } });
    expect(erp.creditHoldPosts[0].idempotencyKey).toBeTruthy();
    expect(erp.holds.get('ERP-C-1')).toBe(true);

    // Asking for the same effect again is the same outbox row: nothing is sent.
    const again = dataOf(await gql<{ requestWriteBack: { id: string; status: string } }>(`mutation($c: ID!, $conn: ID!) { requestWriteBack(input: { connectionId: $conn, operation: SET_CREDIT_HOLD, customerId: $c, creditHold: true }) { ${WB} } }`, { c: customer.id, conn: connectionId })).requestWriteBack;
    expect(again).toMatchObject({ id: wb.id, status: 'APPLIED' });
    await new Promise((r) => setTimeout(r, 500));
    expect(erp.creditHoldPosts).toHaveLength(1);
  });
});
