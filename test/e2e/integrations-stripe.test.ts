import { readFileSync } from 'node:fs';
import path from 'node:path';
import { RemoteApiError } from '../../integrations/core/api-json';
import { ConnectorErrorKind } from '../../integrations/core/connector-error';
import { ErpStream } from '../../integrations/erp/erp-connector';
import { invoiceReference, StripeConnector } from '../../integrations/stripe/stripe.connector';
import { dataOf, startTestApp, type GqlResult, type TestApp } from '../support/test-app';
import { syncThroughApi, until, type SyncRun } from '../fixtures/integrations/helpers';
import { FakeStripeServer } from '../fixtures/stripe/fake-stripe-server';
import { chargeTxn, payoutTxn, refundOf, seedTwelve, stripeCharge, stripeInvoice, stripePayout, T0 } from '../fixtures/stripe/stripe-fixtures';

type Inv = { number: string; externalId: string; status: string; openBalance: { amount: string } };
type Pay = { id: string; externalId: string; method: string; status: string; amount: { amount: string }; unapplied: { amount: string }; remittanceRefs: string[]; remittanceText: string | null; allocations: { amount: { amount: string } }[] };
const fixture = (name: string) => JSON.parse(readFileSync(path.join(__dirname, '../fixtures/stripe', name), 'utf8'));

describe('Stripe: invoices, customers, and payouts as batch settlements', () => {
  let t: TestApp;
  let stripe: FakeStripeServer;
  let connectionId: string;
  let seeded: ReturnType<typeof seedTwelve>;
  let gql: <T>(q: string, v?: Record<string, unknown>) => Promise<GqlResult<T>>;

  const { syncNow, finished } = syncThroughApi(() => t, () => connectionId);
  const count = (stream: string, run: SyncRun) => run.counts.find((c) => c.stream === stream);
  const invoices = async () => dataOf(await gql<{ invoices: { nodes: Inv[] } }>(`{ invoices(first: 100, orderBy: NUMBER) { nodes { number externalId status openBalance { amount } } } }`)).invoices.nodes;
  const settlements = async () =>
    dataOf(await gql<{ payments: { nodes: Pay[] } }>(`{ payments(first: 50, filter: { method: BATCH_SETTLEMENT }) { nodes { id externalId method status amount { amount } unapplied { amount } remittanceRefs remittanceText allocations { amount { amount } } } } }`)).payments.nodes;
  const cents = (n: number) => (n / 100).toFixed(2);

  beforeAll(async () => {
    stripe = new FakeStripeServer();
    await stripe.start();
    seeded = seedTwelve(stripe);
    t = await startTestApp({ runWorkers: true });
    gql = (q, v) => t.gql(q, v as never);
    dataOf(await t.gql(`mutation { upsertEntities(input: [{ code: "US01", name: "Acme Inc.", currency: "USD", country: "US" }]) { __typename } }`));
    const c = dataOf(
      await gql<{ createConnection: { id: string; kind: string; hasCredentials: boolean } }>(`mutation($cfg: JSONObject!) { createConnection(input: { kind: STRIPE, name: "Stripe", config: $cfg, credentials: { secretKey: "sk_test_recoup" } }) { id kind hasCredentials } }`, {
        cfg: { baseUrl: stripe.url, pageSize: 5, timeoutMs: 2000, retryBaseMs: 200, defaultEntityCode: 'US01' },
      }),
    ).createConnection;
    expect(c).toMatchObject({ kind: 'STRIPE', hasCredentials: true });
    connectionId = c.id;
  });
  afterAll(async () => {
    await t?.stop();
    await stripe?.stop();
  });

  it('refuses a key that is not a Stripe secret key', async () => {
    const bad = await gql(`mutation { createConnection(input: { kind: STRIPE, name: "x", config: {}, credentials: { secretKey: "pk_test_public" } }) { id } }`);
    expect(bad.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'credentials.secretKey' });
  });

  it('A Stripe payout of 12 charges becomes one batch settlement that closes 12 invoices', async () => {
    const run = await finished((await syncNow()).id);
    expect(run.errors).toEqual([]);
    expect(run.status).toBe('SUCCEEDED');
    expect(count('CUSTOMERS', run)).toMatchObject({ created: 4, failed: 0 });
    expect(count('INVOICES', run)).toMatchObject({ created: 12, failed: 0 });
    expect(count('PAYMENTS', run)).toMatchObject({ created: 1, failed: 0 });
    // Every call carried the key and the pinned API version; balance transactions were read by payout, sources expanded.
    expect(stripe.log.every((r) => r.auth === 'Bearer sk_test_recoup' && r.version === '2024-06-20')).toBe(true);
    expect(stripe.requests('/v1/balance_transactions')[0].query).toMatchObject({ payout: ['po_1QPayoutTwelve'], 'expand[]': ['data.source'] });

    const book = await until('the settlement to be applied', async () => {
      const inv = await invoices();
      return inv.length === 12 && inv.every((i) => i.status === 'PAID') ? inv : undefined;
    });
    expect(book.every((i) => i.openBalance.amount === '0.00')).toBe(true);
    const [s, ...more] = await settlements();
    expect(more).toHaveLength(0);
    expect(s).toMatchObject({ externalId: 'po_1QPayoutTwelve', method: 'BATCH_SETTLEMENT', amount: { amount: cents(seeded.grossCents) }, unapplied: { amount: '0.00' } });
    expect(s.allocations).toHaveLength(12);
    expect(s.remittanceRefs).toEqual(seeded.invoices.map((i) => invoiceReference(i.number!)));
    expect(s.remittanceText).toContain(`fees ${cents(seeded.feeCents)}`);
    expect(s.remittanceText).toContain(`payout net ${cents(seeded.grossCents - seeded.feeCents)}`);
  });

  it('the same payout synced twice (and a full re-sync) changes nothing', async () => {
    const before = await settlements();
    const again = await finished((await syncNow()).id);
    expect(again.status).toBe('SUCCEEDED');
    const full = await finished((await syncNow(true)).id);
    expect(full.status).toBe('SUCCEEDED');
    expect(count('CUSTOMERS', full)).toMatchObject({ created: 0, updated: 0, unchanged: 4 });
    expect(count('INVOICES', full)).toMatchObject({ created: 0, updated: 0, unchanged: 12 });
    expect(count('PAYMENTS', full)).toMatchObject({ created: 0, unchanged: 1, failed: 0 });
    expect(await settlements()).toEqual(before);
    const [{ n }] = await t.app.dataSource.query(`SELECT count(*)::int AS n FROM payment_allocations`);
    expect(n).toBe(12);
    expect((await invoices()).every((i) => i.status === 'PAID')).toBe(true);
  });

  it('a refund in a payout reduces its invoice; a refund of a charge settled earlier is named, not deducted', async () => {
    const created = T0 + 10_000;
    const fresh = [stripeInvoice(13, 1, 4, 50_000, { created }), stripeInvoice(14, 2, 4, 20_000, { created: created + 1 })];
    stripe.invoices.push(...fresh);
    const charges = fresh.map((i) => stripeCharge(i));
    stripe.charges.push(...charges);
    const partial = refundOf(charges[0], 5_000, 'po_1QWithRefunds', created + 100);
    const earlier = refundOf(stripe.charges[0] as never, 1_000, 'po_1QWithRefunds', created + 101);
    stripe.refunds.push(partial.refund, earlier.refund);
    const txns = [...charges.map((c) => chargeTxn(c, 'po_1QWithRefunds')), partial.txn, earlier.txn];
    const payout = stripePayout('po_1QWithRefunds', txns.reduce((x, tx) => x + tx.net, 0), created + 500);
    stripe.payouts.push(payout);
    stripe.balanceTransactions.push(...txns, payoutTxn(payout));

    const run = await finished((await syncNow()).id);
    expect(run.status).toBe('SUCCEEDED');
    const [whole, part] = await until('the refund payout to be applied', async () => {
      const all = await settlements();
      const w = all.find((p) => p.externalId === 'po_1QWithRefunds');
      const x = all.find((p) => p.externalId === `po_1QWithRefunds:${fresh[0].id}`);
      return w && x && w.unapplied.amount === '0.00' && x.unapplied.amount === '0.00' ? [w, x] : undefined;
    });
    // The invoice paid whole is in the payout's settlement; the one refunded in part is its own item, paid exactly what was settled.
    expect(whole.amount.amount).toBe(cents(20_000));
    expect(part.amount.amount).toBe(cents(50_000 - 5_000));
    expect(whole.remittanceText).toContain('1 refund(s)');
    expect(whole.remittanceText).toContain('earlier payout');
    const book = await invoices();
    expect(book.find((i) => i.externalId === fresh[0].id)).toMatchObject({ status: 'OPEN', openBalance: { amount: '50.00' } });
    expect(book.find((i) => i.externalId === fresh[1].id)).toMatchObject({ status: 'PAID' });
  });

  it('retries a 429 after its Retry-After', async () => {
    stripe.fault('/v1/customers', { status: 429, body: fixture('error-rate-limit.json'), headers: { 'retry-after': '1' } });
    const t0 = Date.now();
    const run = await finished((await syncNow()).id);
    expect(run).toMatchObject({ status: 'SUCCEEDED', attempts: 2 });
    expect(run.errors[0]).toMatchObject({ kind: 'RATE_LIMITED' });
    expect(run.errors[0].message).toContain('rate_limit');
    const calls = stripe.requests('/v1/customers').filter((r) => r.at >= t0);
    expect(calls[1].at - calls[0].at).toBeGreaterThanOrEqual(950);
  });

  it('an error JSON gives a typed error: the run fails at once with Stripe type and code', async () => {
    stripe.fault('/v1/invoices', { status: 404, body: fixture('error-resource-missing.json') });
    const run = await finished((await syncNow()).id);
    expect(run).toMatchObject({ status: 'FAILED', attempts: 1 });
    expect(run.errors[0].kind).toBe('PERMANENT');
    expect(run.errors[0].message).toContain('invalid_request_error/resource_missing');
    expect(run.errors[0].message).toContain("No such customer: 'cus_gone'");

    const connector = new StripeConnector({ baseUrl: stripe.url, timeoutMs: 2000, apiVersion: '2024-06-20', defaultCurrency: 'USD' }, { secretKey: 'sk_test_wrong' });
    const err = await connector.pull(ErpStream.CUSTOMERS, null, { pageSize: 5 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteApiError);
    expect(err).toMatchObject({ kind: ConnectorErrorKind.AUTH, opts: { status: 401 }, detail: { type: 'invalid_request_error' } });
    expect((err as RemoteApiError).detail.requestId).toMatch(/^req_/);
  });
});
