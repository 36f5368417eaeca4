import { dataOf, startTestApp, type GqlResult, type TestApp } from '../support/test-app';
import { syncThroughApi, until, type SyncRun } from '../fixtures/integrations/helpers';
import { FakeQboServer, fixture } from '../fixtures/quickbooks/fake-qbo-server';

const WB = `id status attempts reconciled lastError`;
type Wb = { id: string; status: string; attempts: number; reconciled: boolean; lastError: string | null };

describe('integrations: QuickBooks Online connector', () => {
  let t: TestApp;
  let qbo: FakeQboServer;
  let connectionId: string;
  const gql = <T>(q: string, v?: Record<string, unknown>): Promise<GqlResult<T>> => t.gql(q, v as never);

  const { syncNow, finished } = syncThroughApi(() => t, () => connectionId);
  const sync = async () => finished((await syncNow()).id);
  const count = (run: SyncRun, stream: string) => run.counts.find((c) => c.stream === stream);
  const cursors = async () => Object.fromEntries((await t.app.dataSource.query(`SELECT stream, cursor FROM sync_cursors WHERE connection_id = $1`, [connectionId])).map((r: { stream: string; cursor: string }) => [r.stream, r.cursor]));
  const invoices = async () =>
    Object.fromEntries(
      (await t.app.dataSource.query(`SELECT number, status, total_minor::text AS total, open_balance_minor::text AS open, (SELECT count(*)::int FROM invoice_lines l WHERE l.invoice_id = i.id) AS lines FROM invoices i ORDER BY number`)).map(
        (r: { number: string; status: string; total: string; open: string; lines: number }) => [r.number, { status: r.status, total: r.total, open: r.open, lines: r.lines }],
      ),
    );
  const settled = (id: string) =>
    until(`write-back ${id}`, async () => {
      const w = dataOf(await gql<{ writeBacks: Wb[] }>(`query($c: ID!) { writeBacks(connectionId: $c) { ${WB} } }`, { c: connectionId })).writeBacks.find((x) => x.id === id)!;
      return w.status === 'APPLIED' || w.status === 'FAILED' ? w : undefined;
    });

  beforeAll(async () => {
    qbo = new FakeQboServer();
    await qbo.start();
    t = await startTestApp({ runWorkers: true });
    dataOf(await t.gql(`mutation { upsertEntities(input: [{ code: "US01", name: "Acme Inc.", currency: "USD", country: "US" }]) { __typename } }`));
  });
  afterAll(async () => {
    await t?.stop();
    await qbo?.stop();
  });

  it('creates a QUICKBOOKS_ONLINE connection through GraphQL, with its tokens sealed', async () => {
    const bad = await gql(`mutation { createConnection(input: { kind: QUICKBOOKS_ONLINE, name: "x", config: { realmId: "abc" }, credentials: { accessToken: "a", refreshToken: "r", clientId: "c", clientSecret: "s" } }) { id } }`);
    expect(bad.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'config.realmId', reason: 'INVALID_CONFIG' });
    const noSecret = await gql(`mutation { createConnection(input: { kind: QUICKBOOKS_ONLINE, name: "y", config: { realmId: "1" }, credentials: { accessToken: "a" } }) { id } }`);
    expect(noSecret.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'INVALID_CREDENTIALS' });

    const c = dataOf(
      await gql<{ createConnection: { id: string; kind: string; hasCredentials: boolean; config: Record<string, unknown> } }>(
        `mutation($cfg: JSONObject!, $cred: JSONObject!) { createConnection(input: { kind: QUICKBOOKS_ONLINE, name: "QuickBooks", config: $cfg, credentials: $cred }) { id kind hasCredentials config } }`,
        {
          cfg: { realmId: qbo.realmId, baseUrl: qbo.url, tokenUrl: qbo.tokenUrl, pageSize: 2, timeoutMs: 800, retryBaseMs: 200, defaultEntityCode: 'US01', cdcOverlapSeconds: 0 },
          cred: { accessToken: 'qbo-access-1', refreshToken: 'qbo-refresh-1', clientId: qbo.clientId, clientSecret: qbo.clientSecret },
        },
      ),
    ).createConnection;
    connectionId = c.id;
    expect(c).toMatchObject({ kind: 'QUICKBOOKS_ONLINE', hasCredentials: true, config: { realmId: qbo.realmId, minorVersion: 75, homeCurrency: 'USD' } });
    const [row] = await t.app.dataSource.query(`SELECT credentials_enc FROM integration_connections WHERE id = $1`, [c.id]);
    expect(row.credentials_enc).toMatch(/^v1:/);
    expect(row.credentials_enc).not.toContain('qbo-');
  });

  it('initial load pages the query endpoint and creates customers, invoices with lines, payments that close invoices, and credit memos', async () => {
    const run = await sync();
    expect(run.errors).toEqual([]);
    expect(run.status).toBe('SUCCEEDED');
    expect(count(run, 'CUSTOMERS')).toMatchObject({ created: 3, failed: 0 });
    expect(count(run, 'INVOICES')).toMatchObject({ created: 6, failed: 0 });
    expect(count(run, 'PAYMENTS')).toMatchObject({ created: 2, unchanged: 1, failed: 0 }); // the voided payment is not imported
    expect(count(run, 'CREDIT_MEMOS')).toMatchObject({ created: 1, failed: 0 });

    const queries = qbo.requests('query').map((r) => r.params.query);
    expect(queries).toEqual([
      'select * from Customer STARTPOSITION 1 MAXRESULTS 2',
      'select * from Customer STARTPOSITION 3 MAXRESULTS 2',
      'select * from Invoice STARTPOSITION 1 MAXRESULTS 2',
      'select * from Invoice STARTPOSITION 3 MAXRESULTS 2',
      'select * from Invoice STARTPOSITION 5 MAXRESULTS 2',
      'select * from Invoice STARTPOSITION 7 MAXRESULTS 2',
      'select * from Payment STARTPOSITION 1 MAXRESULTS 2',
      'select * from Payment STARTPOSITION 3 MAXRESULTS 2',
      'select * from CreditMemo STARTPOSITION 1 MAXRESULTS 2',
    ]);
    expect(qbo.log.every((r) => r.authorization === 'Bearer qbo-access-1' && r.params.minorversion === '75')).toBe(true);

    const customers = await t.app.dataSource.query(`SELECT external_id, name, currency, country FROM customers ORDER BY external_id`);
    expect(customers).toEqual([
      { external_id: '1', name: "Amy's Bird Sanctuary", currency: 'USD', country: 'US' },
      { external_id: '2', name: "Bill's Windsurf Shop", currency: 'USD', country: 'US' },
      { external_id: '3', name: 'Cool Cars', currency: 'USD', country: 'CA' },
    ]);
    const [contact] = await t.app.dataSource.query(`SELECT email FROM contacts c JOIN customers cu ON cu.id = c.customer_id WHERE cu.external_id = '1'`);
    expect(contact.email).toBe('birds@intuit.com'); // Recoup stores addresses lower-cased
    // Payments (applied by their LinkedTxn invoice numbers) close 1001-1003; a discounted invoice keeps no lines.
    expect(await invoices()).toEqual({
      '1001': { status: 'PAID', total: '16200', open: '0', lines: 3 },
      '1002': { status: 'PAID', total: '25000', open: '0', lines: 1 },
      '1003': { status: 'PAID', total: '7550', open: '0', lines: 1 },
      '1004': { status: 'OPEN', total: '40000', open: '40000', lines: 1 },
      '1005': { status: 'OPEN', total: '18000', open: '18000', lines: 0 },
      '1006': { status: 'OPEN', total: '9000', open: '9000', lines: 1 },
    });
    const lines = await t.app.dataSource.query(`SELECT l.description, l.quantity::text AS q, l.unit_price_minor::text AS unit, l.amount_minor::text AS amount FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id WHERE i.number = '1001' ORDER BY l.line_no`);
    expect(lines).toEqual([
      { description: 'Weekly gardening service', q: expect.stringMatching(/^4(\.0+)?$/), unit: '2500', amount: '10000' },
      { description: 'Fountain pump', q: expect.stringMatching(/^1(\.0+)?$/), unit: '5000', amount: '5000' },
      { description: 'Sales tax', q: expect.stringMatching(/^1(\.0+)?$/), unit: '1200', amount: '1200' },
    ]);
    const [memo] = await t.app.dataSource.query(`SELECT number, amount_minor::text AS amount FROM ar_documents WHERE kind = 'CREDIT_MEMO'`);
    expect(memo).toMatchObject({ number: 'CM-1101', amount: expect.stringMatching(/^-?2500$/) });
    // After the load, each stream follows the change feed from QBO's own time at its first page.
    expect(await cursors()).toEqual({
      CUSTOMERS: `cdc|${fixture<{ time: string }>('query-customer.json').time}`,
      INVOICES: `cdc|${fixture<{ time: string }>('query-invoice.json').time}`,
      PAYMENTS: `cdc|${fixture<{ time: string }>('query-payment.json').time}`,
      CREDIT_MEMOS: `cdc|${fixture<{ time: string }>('query-creditmemo.json').time}`,
    });
  });

  it('a CDC sync picks up a changed, a new and a deleted invoice and a payment; the same CDC page twice changes nothing', async () => {
    qbo.cdc = fixture('cdc-invoice-payment.json');
    const before = qbo.log.length;
    const run = await sync();
    expect(run.errors).toEqual([]);
    expect(count(run, 'INVOICES')).toMatchObject({ created: 1, updated: 2, unchanged: 0, failed: 0 }); // 1004 changed, 1006 voided, 1007 new
    expect(count(run, 'PAYMENTS')).toMatchObject({ created: 1, failed: 0 });
    const cdcCalls = qbo.log.slice(before).filter((r) => r.resource === 'cdc');
    expect(cdcCalls.map((r) => [r.params.entities, r.params.changedSince])).toEqual([
      ['Customer', fixture<{ time: string }>('query-customer.json').time],
      ['Invoice', fixture<{ time: string }>('query-invoice.json').time],
      ['Payment', fixture<{ time: string }>('query-payment.json').time],
      ['CreditMemo', fixture<{ time: string }>('query-creditmemo.json').time],
    ]);
    // The payment links invoice 105, not pulled in this run: its number is looked up.
    expect(qbo.log.slice(before).filter((r) => r.resource === 'query').map((r) => r.params.query)).toEqual([`select Id, DocNumber from Invoice where Id in ('105') MAXRESULTS 1000`]);
    const book = await invoices();
    expect(book['1004']).toEqual({ status: 'OPEN', total: '42000', open: '42000', lines: 2 });
    expect(book['1005']).toMatchObject({ status: 'PAID', open: '0' });
    expect(book['1006']).toMatchObject({ status: 'VOID', open: '0' });
    expect(book['1007']).toEqual({ status: 'OPEN', total: '12000', open: '12000', lines: 1 });
    const [due] = await t.app.dataSource.query(`SELECT to_char(due_date, 'YYYY-MM-DD') AS d FROM invoices WHERE number = '1004'`);
    expect(due.d).toBe('2026-03-01');
    const time = fixture<{ time: string }>('cdc-invoice-payment.json').time;
    expect(await cursors()).toMatchObject({ INVOICES: `cdc|${time}`, PAYMENTS: `cdc|${time}` });

    // QBO answers the very same CDC page again: everything unchanged, nothing written or audited.
    const audits = (await t.app.dataSource.query(`SELECT count(*)::int AS n FROM audit_events`))[0].n;
    const again = await sync();
    expect(again.status).toBe('SUCCEEDED');
    expect(count(again, 'INVOICES')).toMatchObject({ created: 0, updated: 0, unchanged: 3, failed: 0 });
    expect(count(again, 'PAYMENTS')).toMatchObject({ created: 0, unchanged: 1, failed: 0 });
    expect(await invoices()).toEqual(book);
    expect((await t.app.dataSource.query(`SELECT count(*)::int AS n FROM audit_events`))[0].n).toBe(audits);
    expect((await t.app.dataSource.query(`SELECT count(*)::int AS n FROM payments`))[0].n).toBe(3);
    expect(qbo.requests('cdc').slice(-3)[0]).toMatchObject({ params: { entities: 'Invoice', changedSince: time } });
  });

  it('a 401 refreshes the token pair once, stores it sealed, and retries the call', async () => {
    const [{ credentials_enc: sealedBefore }] = await t.app.dataSource.query(`SELECT credentials_enc FROM integration_connections WHERE id = $1`, [connectionId]);
    qbo.accessToken = 'qbo-access-expired-elsewhere'; // the access token's hour is up
    const before = qbo.log.length;
    const run = await sync();
    expect(run).toMatchObject({ status: 'SUCCEEDED', attempts: 1, errors: [] });
    const calls = qbo.log.slice(before);
    const tokenCalls = calls.filter((r) => r.resource === 'token');
    expect(tokenCalls).toHaveLength(1);
    expect(tokenCalls[0].body).toEqual({ grant_type: 'refresh_token', refresh_token: 'qbo-refresh-1' });
    expect(tokenCalls[0].authorization).toBe(`Basic ${Buffer.from(`${qbo.clientId}:${qbo.clientSecret}`).toString('base64')}`);
    // The refused call, the refresh, then the same call again with the new token.
    expect(calls.slice(0, 3).map((r) => [r.resource, r.authorization])).toEqual([
      ['cdc', 'Bearer qbo-access-1'],
      ['token', expect.stringMatching(/^Basic /)],
      ['cdc', 'Bearer qbo-access-2'],
    ]);
    expect(calls.slice(3).every((r) => r.authorization === 'Bearer qbo-access-2')).toBe(true);
    const [{ credentials_enc: sealedAfter }] = await t.app.dataSource.query(`SELECT credentials_enc FROM integration_connections WHERE id = $1`, [connectionId]);
    expect(sealedAfter).not.toBe(sealedBefore);
    expect(sealedAfter).toMatch(/^v1:/);
    expect(sealedAfter).not.toContain('qbo-access-2');

    // The next sync starts with the stored new token: no refresh.
    const mark = qbo.log.length;
    expect((await sync()).status).toBe('SUCCEEDED');
    expect(qbo.log.slice(mark).filter((r) => r.resource === 'token')).toHaveLength(0);
    expect(qbo.log.slice(mark).every((r) => r.authorization === 'Bearer qbo-access-2')).toBe(true);
  });

  it('a 429 waits for Retry-After; a Fault answer is a typed error: SystemFault retried, ValidationFault fails at once', async () => {
    qbo.fault('GET', 'cdc', { status: 429, body: fixture('fault-throttle.json'), headers: { 'retry-after': '1' } }, { contains: 'Invoice' });
    const t0 = Date.now();
    const limited = await sync();
    expect(limited).toMatchObject({ status: 'SUCCEEDED', attempts: 2 });
    expect(limited.errors[0]).toMatchObject({ kind: 'RATE_LIMITED' });
    expect(limited.errors[0].message).toContain('ThrottleExceeded');
    const invoiceCalls = qbo.requests('cdc').filter((r) => r.at >= t0 && r.params.entities === 'Invoice');
    expect(invoiceCalls).toHaveLength(2);
    expect(invoiceCalls[1].at - invoiceCalls[0].at).toBeGreaterThanOrEqual(950);

    // QBO documents that a 200 may carry a Fault: a SystemFault is transient.
    qbo.fault('GET', 'cdc', { status: 200, body: fixture('fault-system.json') }, { contains: 'Customer' });
    const system = await sync();
    expect(system).toMatchObject({ status: 'SUCCEEDED', attempts: 2 });
    expect(system.errors[0].kind).toBe('TRANSIENT');
    expect(system.errors[0].message).toContain('QuickBooks SystemFault 10000');

    qbo.fault('GET', 'cdc', { status: 400, body: fixture('fault-validation.json') }, { contains: 'Payment' });
    const refused = await sync();
    expect(refused).toMatchObject({ status: 'FAILED', attempts: 1 });
    expect(refused.errors).toHaveLength(1);
    expect(refused.errors[0].kind).toBe('PERMANENT');
    expect(refused.errors[0].message).toContain('QuickBooks ValidationFault 2500: Invalid Reference Id');
  });

  it('a credit hold is a sparse update of Customer.Notes with the current SyncToken, not applied twice after a timeout', async () => {
    qbo.edit('Customer', '3', { Notes: 'Prefers email.' }, '7'); // someone edited the customer in QuickBooks
    const [customer] = await t.app.dataSource.query(`SELECT id FROM customers WHERE external_id = '3'`);
    qbo.slowWrites = { count: 1, delayMs: 2500 }; // QBO applies, then answers after the 800 ms client timeout
    const before = qbo.log.length;
    const wb = dataOf(await gql<{ requestWriteBack: Wb }>(`mutation($c: ID!, $conn: ID!) { requestWriteBack(input: { connectionId: $conn, operation: SET_CREDIT_HOLD, customerId: $c, creditHold: true }) { ${WB} } }`, { c: customer.id, conn: connectionId })).requestWriteBack;
    const done = await settled(wb.id);
    expect(done).toMatchObject({ status: 'APPLIED', attempts: 2, reconciled: true });
    expect(done.lastError).toContain('TIMEOUT');
    const calls = qbo.log.slice(before);
    const posts = calls.filter((r) => r.method === 'POST' && r.resource === 'customer');
    expect(posts).toHaveLength(1);
    expect(posts[0].body).toEqual({ Id: '3', SyncToken: '7', sparse: true, Notes: 'Prefers email.\n[Recoup] CREDIT HOLD (set by Recoup collections; release it in Recoup)' });
    expect(posts[0].params.requestid).toMatch(/^[0-9a-f]{32}$/);
    expect(posts[0].authorization).toBe('Bearer qbo-access-2');
    // Read before the update (SyncToken), and read back before the retry (reconcile).
    expect(calls.filter((r) => r.method === 'GET' && r.resource === 'customer/3')).toHaveLength(2);
    expect(qbo.find('Customer', '3')).toMatchObject({ SyncToken: '8' });
  });

  it('an invoice note is appended to PrivateNote by sparse update and is not applied twice after a timeout', async () => {
    const [invoice] = await t.app.dataSource.query(`SELECT id FROM invoices WHERE number = '1004'`);
    const token = qbo.find('Invoice', '104')!.SyncToken;
    qbo.slowWrites = { count: 1, delayMs: 2500 };
    const before = qbo.log.length;
    const wb = dataOf(await gql<{ requestWriteBack: Wb }>(`mutation($i: ID!, $conn: ID!) { requestWriteBack(input: { connectionId: $conn, operation: ADD_INVOICE_NOTE, invoiceId: $i, note: "Promised to pay on 12 March" }) { ${WB} } }`, { i: invoice.id, conn: connectionId })).requestWriteBack;
    expect(await settled(wb.id)).toMatchObject({ status: 'APPLIED', attempts: 2, reconciled: true });
    const posts = qbo.log.slice(before).filter((r) => r.method === 'POST' && r.resource === 'invoice');
    expect(posts).toHaveLength(1);
    expect(posts[0].body).toMatchObject({ Id: '104', SyncToken: token, sparse: true, PrivateNote: expect.stringMatching(/^Deliver to the back door\n\[Recoup [0-9a-f]{10}\] Promised to pay on 12 March$/) });
    expect(Object.keys(posts[0].body as object).sort()).toEqual(['Id', 'PrivateNote', 'SyncToken', 'sparse']);
    expect(String(qbo.find('Invoice', '104')!.PrivateNote).match(/Promised to pay/g)).toHaveLength(1);

    // A status write-back replaces Recoup's status line rather than piling them up.
    for (const status of ['IN_DUNNING', 'PROMISED']) {
      const s = dataOf(await gql<{ requestWriteBack: Wb }>(`mutation($i: ID!, $conn: ID!, $s: String!) { requestWriteBack(input: { connectionId: $conn, operation: SET_INVOICE_STATUS, invoiceId: $i, status: $s }) { ${WB} } }`, { i: invoice.id, conn: connectionId, s: status })).requestWriteBack;
      expect(await settled(s.id)).toMatchObject({ status: 'APPLIED', attempts: 1 });
    }
    expect(String(qbo.find('Invoice', '104')!.PrivateNote).split('\n').filter((l) => l.startsWith('[Recoup] status:'))).toEqual(['[Recoup] status: PROMISED']);
  });

  it('a refresh QuickBooks refuses fails the sync as AUTH after one try', async () => {
    qbo.accessToken = 'revoked';
    qbo.refreshRefused = true;
    const before = qbo.log.length;
    const run = await sync();
    expect(run).toMatchObject({ status: 'FAILED', attempts: 1 });
    expect(run.errors[0].kind).toBe('AUTH');
    expect(run.errors[0].message).toContain('invalid_grant');
    expect(qbo.log.slice(before).filter((r) => r.resource === 'token')).toHaveLength(1);
  });
});
