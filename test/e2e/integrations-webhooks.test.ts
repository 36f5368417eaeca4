import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { dataOf, startTestApp, type TestApp } from '../support/test-app';
import { until } from '../fixtures/integrations/helpers';

/** A partner's receiver: the few lines of the README, with a clock the test can move. */
class Receiver {
  secret = '';
  clockOffset = 0;
  failNext = 0;
  readonly accepted: { id: string; type: string; deliveryId: string; body: string; headers: http.IncomingHttpHeaders }[] = [];
  readonly refused: string[] = [];
  private server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const verdict = this.verify(req.headers['recoup-signature'] as string | undefined, body);
      if (verdict !== 'ok') {
        this.refused.push(verdict);
        res.writeHead(400).end(verdict);
        return;
      }
      if (this.failNext > 0) {
        this.failNext--;
        res.writeHead(500).end('try later');
        return;
      }
      const event = JSON.parse(body);
      this.accepted.push({ id: event.id, type: event.type, deliveryId: req.headers['recoup-delivery-id'] as string, body, headers: req.headers });
      res.writeHead(200).end('ok');
    });
  });
  url = '';

  /** Verify `t=…,v1=…`: HMAC-SHA256 over "<t>.<raw body>", then refuse anything older than 5 minutes. */
  verify(header: string | undefined, body: string): string {
    const { t, v1 } = Object.fromEntries((header ?? '').split(',').map((kv) => kv.split('=')));
    const expected = createHmac('sha256', this.secret).update(`${t}.${body}`).digest();
    if (!v1 || Buffer.from(v1, 'hex').length !== expected.length || !timingSafeEqual(Buffer.from(v1, 'hex'), expected)) return 'bad signature';
    if (Math.abs(Date.now() / 1000 + this.clockOffset - Number(t)) > 300) return 'outside tolerance';
    return 'ok';
  }

  async start() {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/recoup`;
  }
  async stop() {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

describe('outbound webhooks: signed deliveries, retries, replay, tolerance window', () => {
  let t: TestApp;
  const rx = new Receiver();
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    await rx.start();
    t = await startTestApp({ runWorkers: true, env: { WEBHOOK_RETRY_BASE_MS: '300' } });
    dataOf(await t.gql(`mutation { upsertEntities(input: [{ code: "US01", name: "Acme Inc.", currency: "USD", country: "US" }]) { __typename } }`));
    dataOf(await t.gql(`mutation { upsertCustomers(input: [{ externalId: "W-1", name: "Hook Co", entityCode: "US01", currency: "USD" }]) { failed } }`));
    const inv = dataOf(
      await t.gql<{ upsertInvoices: { results: { externalId: string; invoice: { id: string } }[] } }, Record<string, never>>(
        `mutation { upsertInvoices(input: [{ externalId: "WH-1", customerExternalId: "W-1", number: "WH-1", issueDate: "2026-03-01", dueDate: "2026-03-31", currency: "USD", total: "100.00" }, { externalId: "WH-2", customerExternalId: "W-1", number: "WH-2", issueDate: "2026-03-01", dueDate: "2026-03-31", currency: "USD", total: "250.00" }]) { results { externalId invoice { id } } } }`,
      ),
    ).upsertInvoices;
    inv.results.forEach((r) => (ids[r.externalId] = r.invoice.id));
  });
  afterAll(async () => {
    await t?.stop();
    await rx.stop();
  });

  it('refuses an endpoint URL that is not http(s), and unknown event types', async () => {
    for (const url of ['ftp://partner.example/hook', 'javascript:alert(1)', 'not a url']) {
      const r = await t.gql(`mutation($url: String!) { createWebhookEndpoint(input: { url: $url, eventTypes: ["invoice.paid"] }) { secret } }`, { url });
      expect(r.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'url' });
    }
    const r = await t.gql(`mutation { createWebhookEndpoint(input: { url: "https://partner.example/hook", eventTypes: ["invoice.eaten"] }) { secret } }`);
    expect(r.errors?.[0].extensions).toMatchObject({ field: 'eventTypes', reason: 'UNKNOWN_EVENT_TYPE' });
  });

  it('delivers signed events the receiver verifies, retrying a failed delivery with backoff', async () => {
    const created = dataOf(await t.gql<{ createWebhookEndpoint: { secret: string; endpoint: { id: string; secretHint: string } } }, { url: string }>(`mutation($url: String!) { createWebhookEndpoint(input: { url: $url, eventTypes: ["*"] }) { secret endpoint { id secretHint eventTypes } } }`, { url: rx.url })).createWebhookEndpoint;
    rx.secret = created.secret;
    expect(created.secret).toMatch(/^whsec_/);
    expect(created.secret.endsWith(created.endpoint.secretHint)).toBe(true);
    const listed = dataOf(await t.gql<{ webhookEndpoints: Record<string, unknown>[] }, Record<string, never>>(`{ webhookEndpoints { id url secretHint } }`)).webhookEndpoints;
    expect(JSON.stringify(listed)).not.toContain(created.secret);

    rx.failNext = 1; // the first delivery gets a 500 and is retried
    dataOf(await t.gql(`mutation { recordPayments(input: [{ source: "bank", externalId: "WP-1", method: WIRE, amount: "100.00", currency: "USD", customerExternalId: "W-1", references: ["WH-1"] }, { source: "bank", externalId: "WP-2", method: WIRE, amount: "42.00", currency: "USD", remittanceText: "no idea" }]) { failed } }`));
    dataOf(await t.gql(`mutation($id: ID!) { openDispute(input: { invoiceId: $id, reasonCode: PRICING, detail: "wrong price" }) { id } }`, { id: ids['WH-2'] }));

    await until('invoice.paid, payment.unapplied and dispute.opened to arrive', async () => ['invoice.paid', 'payment.unapplied', 'dispute.opened'].every((type) => rx.accepted.some((a) => a.type === type)));
    expect(rx.refused).toEqual([]);
    const paid = rx.accepted.find((a) => a.type === 'invoice.paid')!;
    expect(JSON.parse(paid.body).data).toMatchObject({ invoiceId: ids['WH-1'], number: 'WH-1', total: { amountMinor: '10000', currency: 'USD' } });
    expect(paid.headers['recoup-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);

    const log = await until('a delivery retried after a 500', async () => {
      const d = dataOf(await t.gql<{ webhookDeliveries: { id: string; eventType: string; status: string; attempts: number; lastStatusCode: number }[] }, Record<string, never>>(`{ webhookDeliveries { id eventType status attempts lastStatusCode lastError replayOf } }`)).webhookDeliveries;
      return d.some((x) => x.attempts === 2 && x.status === 'DELIVERED') ? d : undefined;
    });
    expect(log.every((d) => d.status === 'DELIVERED')).toBe(true);
    // Each fact is one event, however many processes heard it.
    const types = rx.accepted.map((a) => a.type);
    expect(types.filter((x) => x === 'invoice.paid')).toHaveLength(1);
  });

  it('a captured delivery replayed after the tolerance window is refused; a tampered body too; replayWebhook sends a fresh one', async () => {
    const original = rx.accepted.find((a) => a.type === 'invoice.paid')!;
    const resend = (body: string) => fetch(rx.url, { method: 'POST', headers: { 'content-type': 'application/json', 'recoup-signature': original.headers['recoup-signature'] as string }, body });
    rx.clockOffset = 10 * 60; // ten minutes later
    expect((await resend(original.body)).status).toBe(400);
    expect(rx.refused.pop()).toBe('outside tolerance');
    rx.clockOffset = 0;
    expect((await resend(original.body.replace('10000', '99999'))).status).toBe(400);
    expect(rx.refused.pop()).toBe('bad signature');

    const replay = dataOf(await t.gql<{ replayWebhook: { id: string; replayOf: string; status: string } }, { id: string }>(`mutation($id: ID!) { replayWebhook(deliveryId: $id) { id replayOf status eventType } }`, { id: original.deliveryId })).replayWebhook;
    expect(replay.replayOf).toBe(original.deliveryId);
    await until('the replay to be delivered', async () => rx.accepted.find((a) => a.deliveryId === replay.id));
    const again = rx.accepted.find((a) => a.deliveryId === replay.id)!;
    expect(again.id).toBe(original.id); // same event id: partners dedupe on it
    expect(again.deliveryId).not.toBe(original.deliveryId); // signed at send time: a fresh timestamp, inside the window
    expect(rx.refused).toEqual([]);
  });
});
