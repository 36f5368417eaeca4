import { apiJson, expectShape, type ApiErrorDetail } from '../core/api-json';
import { ConnectorError, ConnectorErrorKind } from '../core/connector-error';
import {
  ErpStream,
  type ErpConnector,
  type ErpCustomer,
  type ErpInvoice,
  type ErpPage,
  type ErpPayment,
  type ErpRecordByStream,
  type ReconcileResult,
  type WriteBackCall,
} from '../erp/erp-connector';
import {
  fromMinor,
  idOf,
  isoDay,
  type StripeBalanceTransaction,
  type StripeCharge,
  type StripeCustomer,
  type StripeDispute,
  type StripeErrorBody,
  type StripeInvoice,
  type StripeInvoiceLine,
  type StripeList,
  type StripePaymentIntent,
  type StripePayout,
  type StripeRefund,
} from './stripe.types';

export interface StripeConfig {
  baseUrl: string;
  timeoutMs: number;
  /** Pinned Stripe-Version: the shapes below (Charge.invoice, PaymentIntent.invoice) are those of this version. */
  apiVersion: string;
  /** For customers that have no currency yet (Stripe sets it at their first invoice). */
  defaultCurrency: string;
}

/** Recoup payments take at most 100 references: a payout over more invoices is recorded in parts of 100. */
export const MAX_REFERENCES_PER_SETTLEMENT = 100;

/**
 * The cursor of one list (customers, invoices, payouts), stored as JSON. Stripe lists newest
 * first and pages with `starting_after`, so one pass walks `created >= since` downwards; the
 * pass's newest `created` becomes the next pass's `since` (>=: records of the boundary second
 * are read again, unchanged, rather than missed). Records that are not final yet (draft
 * invoices, payouts not yet paid) pin `since` at their `created` so the next pass sees them again.
 */
interface ListCursor {
  since: number | null;
  after: string | null;
  top: number | null;
  pin: number | null;
}

const emptyCursor = (): ListCursor => ({ since: null, after: null, top: null, pin: null });

function readCursor(raw: string | null): ListCursor {
  if (!raw) return emptyCursor();
  try {
    const c = JSON.parse(raw) as Partial<ListCursor>;
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
    return { since: num(c.since), after: typeof c.after === 'string' ? c.after : null, top: num(c.top), pin: num(c.pin) };
  } catch {
    throw new ConnectorError(ConnectorErrorKind.PERMANENT, `unreadable Stripe cursor ${raw.slice(0, 100)}: sync from the start`);
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * Stripe as the source of invoices, customers and card / bank payments (kind `STRIPE`).
 *
 * - CUSTOMERS: `GET /v1/customers`; INVOICES: `GET /v1/invoices` (finalized ones, with their
 *   lines; drafts are skipped until finalized). An invoice's open balance is left to Recoup:
 *   the cash reaches the bank with the payout, and the payout closes the invoices.
 * - PAYMENTS: `GET /v1/payouts`; each paid payout becomes ONE batch settlement (method
 *   BATCH_SETTLEMENT, external id = payout id) over the invoices its balance transactions
 *   (`GET /v1/balance_transactions?payout=`) paid: amount = the gross of the invoice charges
 *   less refunds and disputes of those same charges, references = one per invoice, fees and
 *   anything left out named in the remittance text. See integrations/README.md (Stripe).
 * - CREDIT_MEMOS: none (Stripe credit notes reduce the invoice's amount_due before payment).
 * - Write-backs: none; Stripe is a source of cash, not where outcomes are recorded.
 */
export class StripeConnector implements ErpConnector {
  readonly kind = 'STRIPE';
  private readonly invoiceCache = new Map<string, StripeInvoice>();
  private readonly chargeCache = new Map<string, StripeCharge>();

  constructor(
    private readonly config: StripeConfig,
    private readonly credentials: { secretKey: string },
  ) {}

  private get<T>(path: string, params: [string, string][] = []): Promise<T> {
    const qs = new URLSearchParams(params).toString();
    return apiJson<T>(
      'Stripe',
      {
        url: `${this.config.baseUrl.replace(/\/$/, '')}${path}${qs ? `?${qs}` : ''}`,
        timeoutMs: this.config.timeoutMs,
        headers: { authorization: `Bearer ${this.credentials.secretKey}`, 'stripe-version': this.config.apiVersion },
      },
      describeStripeError,
    );
  }

  private async list<T>(path: string, params: [string, string][], what: string): Promise<StripeList<T>> {
    const body = await this.get<StripeList<T>>(path, params);
    expectShape(isObj(body) && Array.isArray(body.data) && typeof body.has_more === 'boolean', `Stripe ${what}: expected a list { object: "list", data: [], has_more }`, body);
    body.data.forEach((item, i) => expectShape(isObj(item) && typeof (item as { id?: unknown }).id === 'string', `Stripe ${what}: item ${i} has no id`, item));
    return body;
  }

  async check(): Promise<void> {
    await this.get('/v1/balance');
  }

  async pull<S extends ErpStream>(stream: S, cursor: string | null, opts: { pageSize: number }): Promise<ErpPage<ErpRecordByStream[S]>> {
    const limit = Math.min(Math.max(opts.pageSize, 1), 100);
    switch (stream) {
      case ErpStream.CUSTOMERS:
        return (await this.pullList<StripeCustomer, ErpCustomer>('/v1/customers', 'customers', cursor, limit, [], async (c) => (c.deleted ? { skip: true } : { record: this.customer(c) }))) as ErpPage<ErpRecordByStream[S]>;
      case ErpStream.INVOICES:
        return (await this.pullList<StripeInvoice, ErpInvoice>('/v1/invoices', 'invoices', cursor, limit, [], async (i) => {
          if (!i.status || i.status === 'draft' || !i.number) return { skip: true, pending: true };
          return { record: await this.invoice(i) };
        })) as ErpPage<ErpRecordByStream[S]>;
      case ErpStream.PAYMENTS:
        return (await this.pullList<StripePayout, ErpPayment[]>('/v1/payouts', 'payouts', cursor, limit, [], async (p) => {
          if (p.status === 'pending' || p.status === 'in_transit') return { skip: true, pending: true };
          if (p.status !== 'paid') return { skip: true };
          return { record: await this.settlement(p) };
        }).then((page) => ({ ...page, items: page.items.flat() }))) as ErpPage<ErpRecordByStream[S]>;
      case ErpStream.CREDIT_MEMOS:
        return { items: [], nextCursor: cursor, hasMore: false };
    }
    throw new ConnectorError(ConnectorErrorKind.PERMANENT, `Stripe has no stream ${String(stream)}`);
  }

  /** One page of a `created`-ordered list after the cursor (see ListCursor). */
  private async pullList<T extends { id: string; created: number }, R>(
    path: string,
    what: string,
    raw: string | null,
    limit: number,
    extra: [string, string][],
    map: (item: T) => Promise<{ record?: R; skip?: boolean; pending?: boolean }>,
  ): Promise<ErpPage<R>> {
    const c = readCursor(raw);
    const params: [string, string][] = [['limit', String(limit)], ...extra];
    if (c.since !== null) params.push(['created[gte]', String(c.since)]);
    if (c.after) params.push(['starting_after', c.after]);
    const page = await this.list<T>(path, params, what);
    const items: R[] = [];
    let { top, pin } = c;
    for (const item of page.data) {
      expectShape(typeof item.created === 'number', `Stripe ${what}: ${item.id} has no created time`, item);
      top = top === null ? item.created : Math.max(top, item.created);
      const m = await map(item);
      if (m.pending) pin = pin === null ? item.created : Math.min(pin, item.created);
      if (m.record !== undefined && !m.skip) items.push(m.record);
    }
    const last = page.data[page.data.length - 1];
    const next: ListCursor = page.has_more && last ? { since: c.since, after: last.id, top, pin } : { since: pin ?? top ?? c.since, after: null, top: null, pin: null };
    return { items, nextCursor: JSON.stringify(next), hasMore: page.has_more && !!last };
  }

  private customer(c: StripeCustomer): ErpCustomer {
    const locale = c.preferred_locales?.[0] ?? null;
    return {
      externalId: c.id,
      name: c.name?.trim() || c.email?.trim() || c.id,
      currency: (c.currency ?? this.config.defaultCurrency).toUpperCase(),
      country: c.address?.country ?? null,
      locale,
      contacts: c.email ? [{ name: c.name?.trim() || c.email, email: c.email, phone: c.phone ?? null, role: 'billing', isPrimary: true }] : null,
    };
  }

  private async invoice(i: StripeInvoice): Promise<ErpInvoice> {
    const customer = idOf(i.customer);
    expectShape(!!customer && typeof i.currency === 'string' && typeof i.amount_due === 'number', `Stripe invoice ${i.id}: expected customer, currency and amount_due`, i);
    this.invoiceCache.set(i.id, i);
    const cur = i.currency.toUpperCase();
    const lines = await this.invoiceLines(i);
    return {
      externalId: i.id,
      customerExternalId: customer!,
      number: i.number!,
      issueDate: isoDay(i.status_transitions?.finalized_at ?? i.created),
      dueDate: i.due_date ? isoDay(i.due_date) : null,
      terms: i.due_date ? null : { kind: 'DUE_ON_RECEIPT' },
      currency: cur,
      total: fromMinor(i.amount_due, cur),
      // Cash paid through Stripe closes the invoice when its payout settles (PAYMENTS); only what
      // never passes through a payout is taken from Stripe: paid out of band, or voided.
      openBalance: i.status === 'void' ? fromMinor(0, cur) : i.paid_out_of_band ? fromMinor(i.amount_remaining, cur) : null,
      lines: lines.map((l) => ({
        externalId: l.id,
        description: l.description?.trim() || 'Stripe invoice line',
        amount: fromMinor(l.amount, cur),
        quantity: l.quantity !== null && l.quantity !== undefined ? String(l.quantity) : null,
        unitPrice: l.price?.unit_amount !== null && l.price?.unit_amount !== undefined ? fromMinor(l.price.unit_amount, cur) : null,
      })),
    };
  }

  /** The embedded first page of lines, then `GET /v1/invoices/{id}/lines` for the rest. */
  private async invoiceLines(i: StripeInvoice): Promise<StripeInvoiceLine[]> {
    const lines = [...(i.lines?.data ?? [])];
    let more = !!i.lines?.has_more;
    while (more && lines.length) {
      const page = await this.list<StripeInvoiceLine>(`/v1/invoices/${encodeURIComponent(i.id)}/lines`, [['limit', '100'], ['starting_after', lines[lines.length - 1].id]], `lines of ${i.id}`);
      lines.push(...page.data);
      more = page.has_more;
    }
    return lines;
  }

  private async invoiceById(id: string): Promise<StripeInvoice> {
    const hit = this.invoiceCache.get(id);
    if (hit) return hit;
    const inv = await this.get<StripeInvoice>(`/v1/invoices/${encodeURIComponent(id)}`);
    expectShape(isObj(inv) && inv.id === id && typeof inv.currency === 'string', `Stripe invoice ${id}: expected an invoice`, inv);
    this.invoiceCache.set(id, inv);
    return inv;
  }

  private async chargeById(id: string): Promise<StripeCharge> {
    const hit = this.chargeCache.get(id);
    if (hit) return hit;
    const ch = await this.get<StripeCharge>(`/v1/charges/${encodeURIComponent(id)}`);
    expectShape(isObj(ch) && ch.id === id, `Stripe charge ${id}: expected a charge`, ch);
    this.chargeCache.set(id, ch);
    return ch;
  }

  /** The invoice a charge paid: Charge.invoice, else its PaymentIntent's invoice. */
  private async invoiceOfCharge(ch: StripeCharge): Promise<string | null> {
    const direct = idOf(ch.invoice);
    if (direct) return direct;
    const pi = ch.payment_intent;
    if (!pi) return null;
    if (typeof pi === 'object' && pi.invoice !== undefined) return idOf(pi.invoice);
    const intent = await this.get<StripePaymentIntent>(`/v1/payment_intents/${encodeURIComponent(idOf(pi)!)}`);
    return idOf(intent?.invoice);
  }

  /** The charge behind a balance transaction's source (charge, payment, refund, dispute), or null. */
  private async chargeOf(bt: StripeBalanceTransaction): Promise<StripeCharge | null> {
    const src = bt.source;
    if (!src) return null;
    if (typeof src === 'string') {
      if (src.startsWith('ch_') || src.startsWith('py_')) return this.chargeById(src);
      if (src.startsWith('re_') || src.startsWith('pyr_')) return this.chargeOfRef((await this.get<StripeRefund>(`/v1/refunds/${encodeURIComponent(src)}`)).charge);
      if (src.startsWith('dp_') || src.startsWith('du_')) return this.chargeOfRef((await this.get<StripeDispute>(`/v1/disputes/${encodeURIComponent(src)}`)).charge);
      return null;
    }
    if (src.object === 'charge') {
      const ch = src as unknown as StripeCharge;
      this.chargeCache.set(ch.id, ch);
      return ch;
    }
    if (src.object === 'refund') return this.chargeOfRef((src as unknown as StripeRefund).charge);
    if (src.object === 'dispute') return this.chargeOfRef((src as unknown as StripeDispute).charge);
    return null;
  }

  private chargeOfRef(ref: string | StripeCharge | null): Promise<StripeCharge | null> | StripeCharge | null {
    if (!ref) return null;
    return typeof ref === 'string' ? this.chargeById(ref) : ref;
  }

  /**
   * A paid payout as one batch settlement. Balance transactions are grouped by the invoice
   * their charge paid: charges and payments add their gross amount; refunds and disputes
   * (negative, with their reversals) of those charges reduce it. An invoice whose amount ends
   * at zero or below is not part of the settlement (refunded whole, or refunded here while its
   * charge settled in an earlier payout: named in the remittance text for a person to decide).
   */
  private async settlement(p: StripePayout): Promise<ErpPayment[]> {
    expectShape(typeof p.amount === 'number' && typeof p.currency === 'string' && typeof p.arrival_date === 'number', `Stripe payout ${p.id}: expected amount, currency and arrival_date`, p);
    const cur = p.currency.toUpperCase();
    const byInvoice = new Map<string, { gross: number; fee: number; charges: number; refunds: number; disputes: number }>();
    const notes: string[] = [];
    let fees = 0;
    let other = 0;
    let after: string | null = null;
    for (;;) {
      const params: [string, string][] = [['payout', p.id], ['limit', '100'], ['expand[]', 'data.source']];
      if (after) params.push(['starting_after', after]);
      const page: StripeList<StripeBalanceTransaction> = await this.list<StripeBalanceTransaction>('/v1/balance_transactions', params, `balance transactions of ${p.id}`);
      for (const bt of page.data) {
        expectShape(typeof bt.amount === 'number' && typeof bt.fee === 'number' && typeof bt.type === 'string', `Stripe balance transaction ${bt.id}: expected amount, fee and type`, bt);
        if (bt.type === 'payout' || bt.type === 'payout_cancel' || bt.type === 'payout_failure') continue;
        const isCharge = bt.type === 'charge' || bt.type === 'payment';
        const isRefund = bt.type === 'refund' || bt.type === 'payment_refund' || bt.type === 'payment_failure_refund';
        const isDispute = bt.type === 'adjustment' && isObj(bt.source) && (bt.source as { object?: string }).object === 'dispute';
        const disputeRef = bt.type === 'adjustment' && typeof bt.source === 'string' && /^(dp|du)_/.test(bt.source);
        if (!isCharge && !isRefund && !isDispute && !disputeRef) {
          other += bt.amount;
          fees += bt.fee;
          continue;
        }
        const charge = await this.chargeOf(bt);
        const invoiceId = charge ? await this.invoiceOfCharge(charge) : null;
        fees += bt.fee;
        if (!invoiceId) {
          other += bt.amount;
          continue;
        }
        const inv = await this.invoiceById(invoiceId);
        if (inv.currency.toUpperCase() !== bt.currency.toUpperCase()) {
          notes.push(`${inv.number ?? invoiceId}: settled in ${bt.currency.toUpperCase()}, invoiced in ${inv.currency.toUpperCase()}, left out`);
          other += bt.amount;
          continue;
        }
        const acc = byInvoice.get(invoiceId) ?? { gross: 0, fee: 0, charges: 0, refunds: 0, disputes: 0 };
        acc.gross += bt.amount;
        acc.fee += bt.fee;
        if (isCharge) acc.charges++;
        else if (isRefund) acc.refunds++;
        else acc.disputes++;
        byInvoice.set(invoiceId, acc);
      }
      const last = page.data[page.data.length - 1];
      if (!page.has_more || !last) break;
      after = last.id;
    }

    const settled: { invoice: StripeInvoice; amount: number }[] = [];
    for (const [id, acc] of byInvoice) {
      const inv = await this.invoiceById(id);
      const label = inv.number ?? id;
      if (acc.refunds || acc.disputes) notes.push(`${label}: ${acc.refunds ? `${acc.refunds} refund(s)` : ''}${acc.refunds && acc.disputes ? ', ' : ''}${acc.disputes ? `${acc.disputes} dispute(s)` : ''}${acc.gross > 0 ? `, ${fromMinor(acc.gross, cur)} settled` : ''}`);
      if (acc.gross > 0) settled.push({ invoice: inv, amount: acc.gross });
      else if (acc.gross < 0) notes.push(`${label}: ${fromMinor(acc.gross, cur)} taken back here for a charge settled in an earlier payout: not deducted, to be adjusted by hand`);
    }
    if (!settled.length) return [];
    settled.sort((a, b) => a.invoice.created - b.invoice.created || a.invoice.id.localeCompare(b.invoice.id));
    // References carry no amounts: application pays each named invoice up to its balance. An
    // invoice settled for less than it asked (a refund or dispute here) is its own item, so that
    // it is paid exactly what was settled and no other invoice absorbs the difference.
    const whole = settled.filter((x) => x.amount >= x.invoice.amount_due);
    const partial = settled.filter((x) => x.amount < x.invoice.amount_due);
    const customers = new Set(whole.map((s) => idOf(s.invoice.customer)));
    const parts: ErpPayment[] = [];
    for (let i = 0; i < whole.length; i += MAX_REFERENCES_PER_SETTLEMENT) {
      const chunk = whole.slice(i, i + MAX_REFERENCES_PER_SETTLEMENT);
      const part = i / MAX_REFERENCES_PER_SETTLEMENT + 1;
      const gross = chunk.reduce((s, x) => s + x.amount, 0);
      const text = [
        `Stripe payout${whole.length > MAX_REFERENCES_PER_SETTLEMENT ? ` part ${part}` : ''}: ${chunk.length} invoice(s), gross ${fromMinor(gross, cur)} ${cur}`,
        part === 1 ? `fees ${fromMinor(fees, cur)}, payout net ${fromMinor(p.amount, cur)}${other ? `, not for invoices ${fromMinor(other, cur)}` : ''}` : '',
        ...(part === 1 ? notes : []),
      ]
        .filter(Boolean)
        .join('; ')
        .slice(0, 4000);
      parts.push({
        externalId: part === 1 ? p.id : `${p.id}:${part}`,
        customerExternalId: customers.size === 1 ? [...customers][0] : null,
        method: 'BATCH_SETTLEMENT',
        amount: fromMinor(gross, cur),
        currency: cur,
        receivedOn: isoDay(p.arrival_date),
        references: chunk.map((s) => invoiceReference(s.invoice.number ?? s.invoice.id)),
        remittanceText: text,
        payerName: 'Stripe',
      });
    }
    for (const x of partial) {
      parts.push({
        externalId: `${p.id}:${x.invoice.id}`,
        customerExternalId: idOf(x.invoice.customer),
        method: 'BATCH_SETTLEMENT',
        amount: fromMinor(x.amount, cur),
        currency: cur,
        receivedOn: isoDay(p.arrival_date),
        references: [invoiceReference(x.invoice.number ?? x.invoice.id)],
        remittanceText: `Stripe payout, ${x.invoice.number ?? x.invoice.id} settled in part: ${fromMinor(x.amount, cur)} of ${fromMinor(x.invoice.amount_due, cur)} ${cur}${parts.length || whole.length ? '' : `; fees ${fromMinor(fees, cur)}, payout net ${fromMinor(p.amount, cur)}`}`,
        payerName: 'Stripe',
      });
    }
    return parts;
  }

  async push(call: WriteBackCall): Promise<{ remoteRef?: string | null }> {
    throw new ConnectorError(ConnectorErrorKind.PERMANENT, `Stripe connections take no write-backs (${call.operation}); send outcomes to the ERP or CRM connection`);
  }

  async reconcile(): Promise<ReconcileResult> {
    return 'NOT_APPLIED';
  }
}

/**
 * The reference Recoup's remittance matching reads back as this invoice number. Numbers that
 * are a prefix and digits (INV-1042) are used as they are; Stripe's default numbers
 * (`9C7E6F1A-0001`: a hex customer prefix, a sequence) are given as their digits, which the
 * matcher compares with the digits of each invoice number.
 */
export function invoiceReference(number: string): string {
  const up = number.toUpperCase().trim();
  if (/^[A-Z]{0,8}[\s\-#:._]*\d{3,12}$/.test(up)) return up;
  return up.replace(/[^0-9]/g, '').replace(/^0+/, '') || up;
}

export function describeStripeError(status: number, body: unknown, headers: Headers): ApiErrorDetail | null {
  const e = (body as StripeErrorBody | undefined)?.error;
  if (!e || typeof e !== 'object' || typeof e.message !== 'string') return null;
  const shouldRetry = headers.get('stripe-should-retry');
  const kind = status === 429 ? undefined : shouldRetry === 'true' ? ConnectorErrorKind.TRANSIENT : shouldRetry === 'false' && status >= 500 ? ConnectorErrorKind.PERMANENT : undefined;
  return { kind, message: e.message, type: e.type ?? null, code: e.decline_code ?? e.code ?? null, param: e.param ?? null, requestId: headers.get('request-id') };
}
