import { randomUUID } from 'node:crypto';
import { print } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { emitEvent } from '../../src/platform/events/event-bus';
import { INVOICES_CHANGED, InvoiceChangeKind } from '../../src/modules/invoices/invoice.service';
import {
  CreateTenantDocument,
  InvoiceChangedDocument,
  MeDocument,
  UpsertCustomersDocument,
  UpsertEntitiesDocument,
  UpsertInvoicesDocument,
  VoidInvoiceDocument,
  type InvoiceChangedSubscription,
} from '../generated/graphql';
import * as fx from '../support/fixtures';
import { dataOf, startTestApp, type TestApp } from '../support/test-app';

/**
 * `invoiceChanged` over a real graphql-ws connection: one event per invoice created, updated or
 * voided, only in the subscriber's tenant, only once committed; unknown keys cannot connect.
 */

type Change = InvoiceChangedSubscription['invoiceChanged'];

const WAIT_MS = 20_000;

/** Polls `probe` until it returns something truthy, or fails naming what was awaited. */
async function waitFor<T>(what: string, probe: () => T | null | undefined | false, timeoutMs = WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

interface Subscriber {
  tenantId: string;
  /** Every invoiceChanged payload received, warm-up markers included. */
  received: Change[];
  errors: unknown[];
  closeCodes: number[];
  completed: boolean;
  markers: Set<string>;
  /** Received events that are not warm-up markers, from index `from` on. */
  real(from?: number): Change[];
  client: Client;
}

describe('invoiceChanged subscription (graphql-ws, e2e)', () => {
  let t: TestApp;
  let wsUrl: string;
  let tenantA: string;
  let tenantB: string;
  let keyB: string;
  const clients: Client[] = [];

  function subscribe(key: string, tenantId: string): Subscriber {
    const s: Subscriber = {
      tenantId,
      received: [],
      errors: [],
      closeCodes: [],
      completed: false,
      markers: new Set(),
      real: (from = 0) => s.received.slice(from).filter((c) => !s.markers.has(c.invoiceId)),
      client: createClient({
        url: wsUrl,
        webSocketImpl: WebSocket,
        connectionParams: { Authorization: `Bearer ${key}` },
        retryAttempts: 0,
        lazy: true,
        on: { closed: (e) => s.closeCodes.push((e as { code: number }).code) },
      }),
    };
    clients.push(s.client);
    s.client.subscribe<InvoiceChangedSubscription>(
      { query: print(InvoiceChangedDocument) },
      {
        next: (v) => {
          if (v.errors?.length || !v.data) s.errors.push(v.errors ?? v);
          else s.received.push(v.data.invoiceChanged);
        },
        error: (e) => s.errors.push(e),
        complete: () => {
          s.completed = true;
        },
      },
    );
    return s;
  }

  /**
   * The server has no "subscribed" acknowledgement: publish a marker event for the subscriber's
   * tenant into the app's pubsub until the subscriber receives one, so that later assertions
   * ("nothing arrived") are about a live subscription.
   */
  async function warmUp(s: Subscriber): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    while (!s.received.some((c) => s.markers.has(c.invoiceId))) {
      if (s.errors.length || s.completed) throw new Error(`subscription failed: ${JSON.stringify(s.errors)}`);
      if (Date.now() > deadline) throw new Error('subscription never became live');
      const marker = randomUUID();
      s.markers.add(marker);
      t.app.pubSub.publish(INVOICES_CHANGED, { type: INVOICES_CHANGED, tenantId: s.tenantId, payload: { change: InvoiceChangeKind.UPDATED, ids: [marker] } });
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Everything published before this call has reached `s` once the returned promise resolves. */
  const barrier = (s: Subscriber) => {
    const marker = randomUUID();
    s.markers.add(marker);
    t.app.pubSub.publish(INVOICES_CHANGED, { type: INVOICES_CHANGED, tenantId: s.tenantId, payload: { change: InvoiceChangeKind.UPDATED, ids: [marker] } });
    return waitFor(`barrier event ${marker}`, () => s.received.some((c) => c.invoiceId === marker));
  };

  let subA: Subscriber;
  let subB: Subscriber;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    t = await startTestApp();
    wsUrl = t.url.replace(/^http/, 'ws');
    tenantA = dataOf(await t.gql(MeDocument, {})).me.tenant.id;
    dataOf(await t.gql(UpsertEntitiesDocument, { input: fx.entities }));
    expect(dataOf(await t.gql(UpsertCustomersDocument, { input: fx.customers })).upsertCustomers.failed).toBe(0);

    const created = dataOf(await t.gql(CreateTenantDocument, { input: { name: 'Tenant B', timezone: 'Europe/London', functionalCurrency: 'GBP' } })).createTenant;
    tenantB = created.tenant.id;
    keyB = created.adminKey.secret;
    expect(tenantB).not.toBe(tenantA);
    dataOf(await t.gql(UpsertEntitiesDocument, { input: [fx.entities[1]] }, keyB));
    expect(dataOf(await t.gql(UpsertCustomersDocument, { input: [fx.customers[2]] }, keyB)).upsertCustomers.succeeded).toBe(1);

    subA = subscribe(t.adminKey, tenantA);
    subB = subscribe(keyB, tenantB);
    await Promise.all([warmUp(subA), warmUp(subB)]);
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await t?.stop();
  });

  it('sends one CREATED event per invoice created, with the invoice', async () => {
    const start = subA.received.length;
    const r = dataOf(await t.gql(UpsertInvoicesDocument, { input: fx.invoices })).upsertInvoices;
    expect(r).toMatchObject({ succeeded: fx.invoices.length, failed: 0 });
    for (const res of r.results) ids[res.externalId] = res.invoice!.id;

    const events = await waitFor('a CREATED event per invoice', () => {
      const got = subA.real(start);
      return got.length >= fx.invoices.length && got;
    });
    expect(events).toHaveLength(fx.invoices.length);
    expect(events.every((e) => e.change === 'CREATED')).toBe(true);
    expect(events.map((e) => e.invoice?.number).sort()).toEqual(fx.invoices.map((i) => i.number).sort());
    expect(events.map((e) => e.invoiceId).sort()).toEqual(Object.values(ids).sort());
    for (const e of events) expect(ids[fx.invoices.find((i) => i.number === e.invoice!.number)!.externalId]).toBe(e.invoiceId);
    expect(events.find((e) => e.invoice?.number === 'INV-1001')!.invoice).toMatchObject({ status: 'OPEN', openBalance: { amount: '12000.00', currency: 'USD' } });
    expect(events.find((e) => e.invoice?.number === 'INV-1010')!.invoice).toMatchObject({ status: 'PAID', openBalance: { amount: '0.00' } });
    expect(subA.errors).toEqual([]);
  });

  it('sends UPDATED when an invoice changes and VOIDED when one is voided', async () => {
    const start = subA.received.length;
    const i2 = fx.invoices.find((i) => i.externalId === 'I-2')!;
    const up = dataOf(await t.gql(UpsertInvoicesDocument, { input: [{ ...i2, total: '6000.00' }] })).upsertInvoices;
    expect(up).toMatchObject({ succeeded: 1, failed: 0, results: [{ created: false }] });
    const updated = await waitFor('the UPDATED event', () => subA.real(start)[0]);
    expect(updated).toEqual({ change: 'UPDATED', invoiceId: ids['I-2'], invoice: { number: 'INV-1002', status: 'OPEN', openBalance: { amount: '6000.00', currency: 'USD' } } });

    const v = dataOf(await t.gql(VoidInvoiceDocument, { id: ids['I-3'], reason: 'issued twice' })).voidInvoice;
    expect(v.status).toBe('VOID');
    const voided = await waitFor('the VOIDED event', () => subA.real(start)[1]);
    expect(voided).toEqual({ change: 'VOIDED', invoiceId: ids['I-3'], invoice: { number: 'INV-1003', status: 'VOID', openBalance: { amount: '0.00', currency: 'USD' } } });
    await barrier(subA);
    expect(subA.real(start)).toHaveLength(2);
  });

  it("keeps tenants apart: tenant B's subscriber sees only tenant B's invoices", async () => {
    // Tenant A's events above have all reached A's subscriber; B's live subscriber got none of them.
    await barrier(subB);
    expect(subB.real()).toEqual([]);
    expect(subB.errors).toEqual([]);

    const startA = subA.received.length;
    const r = dataOf(
      await t.gql(
        UpsertInvoicesDocument,
        { input: [{ externalId: 'B-1', customerExternalId: 'C-3', number: 'B-0001', issueDate: '2026-03-01', currency: 'GBP', total: '123.45', terms: { kind: 'NET', days: 30 } }] },
        keyB,
      ),
    ).upsertInvoices;
    expect(r.succeeded).toBe(1);
    const got = await waitFor("tenant B's CREATED event", () => subB.real()[0]);
    expect(got).toEqual({ change: 'CREATED', invoiceId: r.results[0].invoice!.id, invoice: { number: 'B-0001', status: 'OPEN', openBalance: { amount: '123.45', currency: 'GBP' } } });
    await Promise.all([barrier(subA), barrier(subB)]);
    expect(subB.real()).toHaveLength(1);
    expect(subA.real(startA)).toEqual([]);
  });

  it('refuses a connection with an unknown key (4403) and sends it nothing', async () => {
    const s = subscribe('rk_this-key-does-not-exist-at-all-000000', tenantA);
    await waitFor('the refused subscription to error', () => s.errors.length > 0);
    expect(s.closeCodes).toContain(4403);
    expect((s.errors[0] as { code?: number }).code).toBe(4403);
    // The connection is gone: a change in its (claimed) tenant reaches the live subscriber only.
    const start = subA.received.length;
    const i4 = fx.invoices.find((i) => i.externalId === 'I-4')!;
    dataOf(await t.gql(UpsertInvoicesDocument, { input: [{ ...i4, poNumber: 'PO-1' }] }));
    await waitFor('the UPDATED event on the live subscriber', () => subA.real(start).length === 1);
    expect(s.received).toEqual([]);
  });

  it('announces only committed changes: refused items and rolled-back transactions emit nothing', async () => {
    const start = subA.received.length;
    // The only item fails validation (unknown customer): nothing is written, nothing announced.
    const bad = dataOf(
      await t.gql(UpsertInvoicesDocument, {
        input: [{ externalId: 'X-1', customerExternalId: 'C-404', number: 'INV-X1', issueDate: '2026-03-01', currency: 'USD', total: '10.00' }],
      }),
    ).upsertInvoices;
    expect(bad).toMatchObject({ succeeded: 0, failed: 1 });
    // The only item is refused by the stored state (a voided invoice cannot change).
    const i3 = fx.invoices.find((i) => i.externalId === 'I-3')!;
    const refused = dataOf(await t.gql(UpsertInvoicesDocument, { input: [{ ...i3, total: '900.00' }] })).upsertInvoices;
    expect(refused).toMatchObject({ succeeded: 0, failed: 1 });
    expect(refused.results[0].errors[0].code).toBe('INVOICE_VOID');
    // An event sent inside a transaction that rolls back is never delivered.
    const ghost = randomUUID();
    await expect(
      t.app.dataSource.transaction(async (em) => {
        await emitEvent(em, { type: INVOICES_CHANGED, tenantId: tenantA, payload: { change: InvoiceChangeKind.CREATED, ids: [ghost] } });
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');

    // A later valid change is announced, and is the only thing announced since `start`.
    const i5 = fx.invoices.find((i) => i.externalId === 'I-5')!;
    dataOf(await t.gql(UpsertInvoicesDocument, { input: [{ ...i5, total: '109.99' }] }));
    await waitFor('the later UPDATED event', () => subA.real(start).some((e) => e.invoiceId === ids['I-5']));
    await barrier(subA);
    expect(subA.real(start)).toEqual([{ change: 'UPDATED', invoiceId: ids['I-5'], invoice: { number: 'INV-1005', status: 'OPEN', openBalance: { amount: '109.99', currency: 'USD' } } }]);
    expect(subA.received.some((e) => e.invoiceId === ghost)).toBe(false);
    expect(subA.errors).toEqual([]);
  });
});
