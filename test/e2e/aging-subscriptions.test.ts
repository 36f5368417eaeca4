import { print } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { createApp, type App } from '../../src/app';
import { AgingJobs } from '../../src/modules/aging/jobs/aging-rollover.job';
import { loadConfig } from '../../src/platform/config/config';
import { createLogger } from '../../src/platform/logging/logger';
import { QueueName } from '../../src/platform/queue/queue-names';
import {
  AgingChangedDocument,
  CreateApiKeyDocument,
  CreateTenantDocument,
  MeDocument,
  RevokeApiKeyDocument,
  UpsertCustomersDocument,
  UpsertEntitiesDocument,
  UpsertInvoicesDocument,
  type AgingChangedSubscription,
} from '../generated/graphql';
import * as fx from '../support/fixtures';
import { dataOf, startTestApp, type TestApp } from '../support/test-app';

/**
 * `agingChanged` over real graphql-ws connections to TWO API processes (two apps on one
 * database, each with its own pool, LISTEN connection, pubsub and feeds): a change made through
 * process A reaches a subscriber of process B, once, with the money moved between buckets;
 * tenants never see each other's events; a revoked key stops receiving.
 */

type Change = AgingChangedSubscription['agingChanged'];
const WAIT_MS = 20_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, probe: () => T | null | undefined | false, timeoutMs = WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

interface Sub {
  events: Change[];
  errors: unknown[];
  client: Client;
  /** Events after the INITIAL one. */
  changes(): Change[];
}

const cents = (c: Change, currency: string) => c.report.totals.find((t) => t.currency === currency)?.cells.map((x) => x.amount.amountMinor) ?? [];

describe('agingChanged across two API processes (graphql-ws, e2e)', () => {
  let a: TestApp;
  let b: App;
  let urlB: string;
  let keyTenantB: string;
  const clients: Client[] = [];

  function subscribe(httpUrl: string, key: string, variables: Record<string, unknown> = {}): Sub {
    const s: Sub = {
      events: [],
      errors: [],
      changes: () => s.events.filter((e) => !e.reasons.includes('INITIAL')),
      client: createClient({ url: httpUrl.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { Authorization: `Bearer ${key}` }, retryAttempts: 0 }),
    };
    clients.push(s.client);
    s.client.subscribe<AgingChangedSubscription>(
      { query: print(AgingChangedDocument), variables },
      {
        next: (v) => (v.errors?.length || !v.data ? s.errors.push(v.errors ?? v) : s.events.push(v.data.agingChanged)),
        error: (e) => s.errors.push(e),
        complete: () => undefined,
      },
    );
    return s;
  }
  const live = (s: Sub) => waitFor('the INITIAL report', () => s.events.length > 0 || s.errors.length > 0).then(() => expect(s.errors).toEqual([]));

  beforeAll(async () => {
    a = await startTestApp();
    // Process B: a second app on the same database (own pool, own LISTEN connection, own feeds).
    const config = loadConfig({
      ...process.env,
      DATABASE_URL: a.databaseUrl,
      PORT: '0',
      HOST: '127.0.0.1',
      SEED_DEMO: 'false',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      RUN_WORKERS: 'false',
      QUEUE_PREFIX: `${process.env.QUEUE_PREFIX ?? 'recoup-test'}-${new URL(a.databaseUrl).pathname.slice(1)}-b`,
      DB_POOL_SIZE: '3',
    });
    b = await createApp(config, createLogger(config.LOG_LEVEL));
    urlB = `http://127.0.0.1:${(await b.listen(0)).port}/graphql`;
    expect(b.pubSub).not.toBe(a.app.pubSub);

    dataOf(await a.gql(UpsertEntitiesDocument, { input: fx.entities }));
    dataOf(await a.gql(UpsertCustomersDocument, { input: fx.customers }));
    dataOf(await a.gql(UpsertInvoicesDocument, { input: fx.invoices }));
    const created = dataOf(await a.gql(CreateTenantDocument, { input: { name: 'Tenant B', timezone: 'Europe/London', functionalCurrency: 'GBP' } })).createTenant;
    keyTenantB = created.adminKey.secret;
    dataOf(await a.gql(UpsertEntitiesDocument, { input: [fx.entities[1]] }, keyTenantB));
    dataOf(await a.gql(UpsertCustomersDocument, { input: [fx.customers[2]] }, keyTenantB));
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await b?.stop();
    await a?.stop();
  });

  it('a payment through process A moves money between buckets and a subscriber on process B sees it once', async () => {
    const onA = subscribe(a.url, a.adminKey);
    const onB = subscribe(urlB, a.adminKey);
    await Promise.all([live(onA), live(onB)]);
    const before = cents(onB.events[0], 'USD');

    // I-1 (12000.00, far past due) is partly paid, and I-6 is re-dated to next year: money leaves the 90+/61-90 columns.
    const i1 = fx.invoices.find((i) => i.externalId === 'I-1')!;
    const r = dataOf(await a.gql(UpsertInvoicesDocument, { input: [{ ...i1, openBalance: '2000.00' }] })).upsertInvoices;
    expect(r.succeeded).toBe(1);
    const seen = await waitFor('the change on process B', () => onB.changes()[0]);
    expect(seen.reasons).toEqual(['INVOICES']);
    const after = cents(seen, 'USD');
    const moved = after.map((v, i) => BigInt(v) - BigInt(before[i]));
    // Only the bucket of I-1 moved, by exactly the payment.
    expect(moved.filter((d) => d !== 0n)).toEqual([-1000000n]);
    expect(seen.changedRowKeys.length).toBeGreaterThan(0);

    await waitFor('the change on process A', () => onA.changes()[0]);
    await sleep(1000); // longer than the coalescing interval: nothing else may arrive
    expect(onB.changes()).toHaveLength(1);
    expect(onA.changes()).toHaveLength(1);
    expect(cents(onA.changes()[0], 'USD')).toEqual(after);
  });

  it("keeps tenants apart: tenant B's subscriber never receives tenant A's events", async () => {
    const tenantA = subscribe(a.url, a.adminKey);
    const tenantB = subscribe(urlB, keyTenantB);
    await Promise.all([live(tenantA), live(tenantB)]);
    expect(tenantB.events[0].report.totals).toEqual([]);

    const i2 = fx.invoices.find((i) => i.externalId === 'I-2')!;
    dataOf(await a.gql(UpsertInvoicesDocument, { input: [{ ...i2, openBalance: '400.50' }] }));
    await waitFor("tenant A's change", () => tenantA.changes()[0]);
    const bInvoice = { externalId: 'B-1', customerExternalId: 'C-3', number: 'B-0001', issueDate: '2026-03-01', currency: 'GBP', total: '123.45', terms: { kind: 'NET' as const, days: 30 } };
    dataOf(await a.gql(UpsertInvoicesDocument, { input: [bInvoice] }, keyTenantB));
    const bChange = await waitFor("tenant B's change", () => tenantB.changes()[0]);
    expect(bChange.report.totals.map((t) => [t.currency, t.total.amount])).toEqual([['GBP', '123.45']]);
    await sleep(1000);
    expect(tenantB.changes()).toHaveLength(1);
    expect(tenantA.changes()).toHaveLength(1);
    expect(tenantA.changes()[0].report.totals.some((t) => t.total.amount === '123.45')).toBe(false);
  });

  it('coalesces a burst of changes into a few events per second that end on the final totals', async () => {
    const s = subscribe(urlB, a.adminKey, { groupBy: ['CUSTOMER'] });
    await live(s);
    const i4 = fx.invoices.find((i) => i.externalId === 'I-4')!;
    const t0 = Date.now();
    for (let n = 1; n <= 12; n++) dataOf(await a.gql(UpsertInvoicesDocument, { input: [{ ...i4, openBalance: `${300 - n}.00` }] }));
    const elapsed = Date.now() - t0;
    // Initech: 1941.99 with I-4 at 300.00; I-4 ends at 288.00.
    await waitFor('the final balance', () => s.changes().some((c) => c.report.rows.some((r) => r.group.customerName === 'Initech LLC' && r.total.amount === '1929.99')));
    await sleep(600);
    const last = s.changes().at(-1)!;
    expect(last.report.rows.find((r) => r.group.customerName === 'Initech LLC')!.total.amount).toBe('1929.99');
    expect(s.changes().length).toBeLessThanOrEqual(Math.ceil((elapsed + 600) / 250) + 1);
    expect(s.changes().length).toBeLessThan(12);
  });

  it('announces the day rollover with the new day, and a revoked key stops receiving', async () => {
    const key = dataOf(await a.gql(CreateApiKeyDocument, { input: { name: 'wallboard', role: 'VIEWER' } })).createApiKey;
    const viewer = subscribe(urlB, key.secret);
    const admin = subscribe(urlB, a.adminKey);
    await Promise.all([live(viewer), live(admin)]);
    const tenantId = dataOf(await a.gql(MeDocument, {})).me.tenant.id;

    // Midnight in New York on 2026-07-02: both processes' clocks move, process A's job rolls the day over.
    for (const app of [a.app, b]) app.modules.services.aging.clock = () => new Date('2026-07-02T04:00:30Z');
    try {
      const job = a.app.jobs.get(QueueName.MAINTENANCE, AgingJobs.ROLLOVER)!;
      expect(await job.handle({ tenantId, today: '2026-07-02' }, { id: 'x', attemptsMade: 0, log: async () => undefined })).toEqual({ rolledOver: true });
      const rolled = await waitFor('the rollover event', () => admin.changes()[0]);
      expect(rolled.reasons).toEqual(['DAY_ROLLOVER']);
      expect(rolled.report.asOf).toBe('2026-07-02');
      await waitFor('the rollover event for the viewer', () => viewer.changes()[0]);
      // Running it again for the same day changes nothing and announces nothing.
      expect(await job.handle({ tenantId, today: '2026-07-02' }, { id: 'y', attemptsMade: 0, log: async () => undefined })).toEqual({ rolledOver: false });
      const [snap] = await a.app.dataSource.query(`SELECT count(*)::int AS n FROM aging_snapshots WHERE tenant_id = $1 AND snapshot_date = '2026-07-01'`, [tenantId]);
      expect(snap.n).toBeGreaterThan(0);
    } finally {
      for (const app of [a.app, b]) app.modules.services.aging.clock = () => new Date();
    }

    dataOf(await a.gql(RevokeApiKeyDocument, { id: key.apiKey.id }));
    const i5 = fx.invoices.find((i) => i.externalId === 'I-5')!;
    const viewerBefore = viewer.events.length;
    dataOf(await a.gql(UpsertInvoicesDocument, { input: [{ ...i5, openBalance: '9.99' }] }));
    await waitFor('the admin to see the change', () => admin.changes().some((c) => c.reasons.includes('INVOICES')));
    await waitFor('the revoked subscriber to be refused', () => viewer.errors.length > 0);
    expect(viewer.events.length).toBe(viewerBefore);
    expect(JSON.stringify(viewer.errors)).toContain('revoked');
  });
});
