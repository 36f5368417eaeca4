import { inTransaction, type RequestContext } from '../../platform/context';
import { arrayParam, chunks, unnestSource, type BulkColumn } from '../../platform/db/bulk';
import { groupBy } from '../../platform/collections';
import { preparedQuery } from '../../platform/db/prepared';
import { badInput, notFound } from '../../platform/errors';
import { emitEvent } from '../../platform/events/event-bus';
import { formatMinor, parseDecimal } from '../../platform/money/money';
import type { ActionService } from '../actions/action.service';
import type { AuditEntry, AuditService } from '../audit/audit.service';
import { DisputeReason } from '../disputes/dispute.entity';
import type { DisputeService } from '../disputes/dispute.service';
import type { DunningCounters } from '../engine/escalations';
import { InvoiceChangeKind, INVOICES_CHANGED, type InvoicesChangedPayload } from '../invoices/invoice.service';
import { JournalKind, LedgerAccount } from '../ledger/journal.entity';
import type { LedgerService, Posting, PostingLine } from '../ledger/ledger.service';
import { byAge, inOrder, matchPayment, StrategyKind, suggest, type Ambiguity, type OpenInvoice, type PaymentToMatch, type Placement, type Suggestion } from './allocation-strategies';
import { AllocationRule } from './allocation.entity';
import { ApplicationRulesService, type ApplicationRules } from './application-rules.service';
import { exchangeToAr, placeAcross, storedRates, type FxPlacement } from './cross-currency';
import { PaymentMethod, PaymentStatus, ReversalReason } from './payment.entity';
import { PaymentErrors } from './payment.errors';
import type { PaymentHookRegistry } from './payment-hooks';
import { PaymentSuggestion } from './payment-suggestion.entity';
import { NUMBER_DIGITS_SQL, parseReferences } from './reference-parser';
import { LRUCache } from 'lru-cache';

export const PAYMENTS_APPLIED = 'payments.applied';

/** Payments per application transaction: large enough to amortise round trips, small enough to keep locks short. */
export const APPLY_CHUNK = 250;
/** Retry delays for unapplied cash: 1 h, 6 h, then daily. */
const RETRY_MS = [3_600_000, 21_600_000, 86_400_000];
/** A payer name that paid for more customers than this says nothing about who pays now. */
const MAX_HISTORY_CUSTOMERS = 3;

interface PaymentRow {
  id: string;
  entity_id: string | null;
  currency: string;
  amount_minor: string;
  applied_minor: string;
  unapplied_minor: string;
  customer_id: string | null;
  payer_name: string | null;
  payer_account: string | null;
  remittance_text: string | null;
  remittance_refs: string[];
  short_pay_reason: string | null;
  deduction_code: string | null;
  status: PaymentStatus;
  received_on: string;
  method: string;
  attempts: number;
}

interface InvoiceRow {
  id: string;
  customer_id: string;
  number: string;
  due_date: string;
  issue_date: string;
  currency: string;
  total_minor: string;
  open_balance_minor: string;
  reconciliation_hold: boolean;
  status: string;
}

/** Who pays what in a chunk. */
interface Payers {
  /** Payment id -> the customer identified as paying. */
  customer: Map<string, string>;
  /** Payer name -> the few customers it paid for before (a hint for suggestions). */
  history: Map<string, Set<string>>;
  /** Payments whose payer was found by a remittance account already on file (nothing to learn). */
  accountKnown: Set<string>;
  /** Payments of unknown payers whose references name invoices of several customers: those invoices. */
  refInvoices: Map<string, OpenInvoice[]>;
}

/** The invoices a chunk matches against. */
interface Book {
  /** As read (the balances `persist` expects to find). */
  read: Map<string, OpenInvoice>;
  /** As the chunk's earlier payments left them. */
  balance: Map<string, OpenInvoice>;
  byCustomer: Map<string, OpenInvoice[]>;
}

/** What one payment's application decided, ready to write. */
interface Outcome {
  payment: PaymentRow;
  customerId: string | null;
  /** `amountMinor` in the payment currency; `fx` only on an invoice in another currency (a person's allocation). */
  placements: { invoiceId: string; amountMinor: bigint; rule: AllocationRule; fx?: FxPlacement }[];
  suggestions: Suggestion[] | null;
  /** Counts as an application attempt (automatic path) for the retry schedule. */
  attempt: boolean;
  note?: string;
  auditAction: string;
  /** The payer was identified by a remittance account already on file. */
  accountKnown?: boolean;
}

interface AllocRow {
  paymentId: string;
  invoiceId: string;
  customerId: string;
  /** What the invoice loses, in its currency. */
  amountMinor: bigint;
  currency: string;
  /** What the payment gives up, in its currency. */
  sourceAmountMinor: bigint;
  sourceCurrency: string;
  rate: string | null;
  rule: string;
}
const allocColumns: BulkColumn<AllocRow>[] = [
  { name: 'payment_id', type: 'uuid', value: (r) => r.paymentId },
  { name: 'invoice_id', type: 'uuid', value: (r) => r.invoiceId },
  { name: 'customer_id', type: 'uuid', value: (r) => r.customerId },
  { name: 'amount_minor', type: 'bigint', value: (r) => r.amountMinor },
  { name: 'currency', type: 'text', value: (r) => r.currency },
  { name: 'source_amount_minor', type: 'bigint', value: (r) => r.sourceAmountMinor },
  { name: 'source_currency', type: 'text', value: (r) => r.sourceCurrency },
  { name: 'rate', type: 'numeric', value: (r) => r.rate },
  { name: 'rule', type: 'text', value: (r) => r.rule },
];

const PAYMENT_COLS = `id, entity_id, currency, amount_minor, applied_minor, unapplied_minor, customer_id, payer_name, payer_account, remittance_text, remittance_refs,
  short_pay_reason, deduction_code, status, to_char(received_on, 'YYYY-MM-DD') AS received_on, method, attempts`;
const INVOICE_COLS = `id, customer_id, number, to_char(due_date, 'YYYY-MM-DD') AS due_date, to_char(issue_date, 'YYYY-MM-DD') AS issue_date, currency, total_minor, open_balance_minor, reconciliation_hold, status`;

/** Every OpenInvoice of the hot path is built here or by `withOpen`, with the same fields in the same order (one object shape for the JIT). */
const toOpen = (r: InvoiceRow): OpenInvoice => ({
  id: r.id,
  customerId: r.customer_id,
  number: r.number,
  dueDate: r.due_date,
  issueDate: r.issue_date,
  currency: r.currency,
  totalMinor: BigInt(r.total_minor),
  openMinor: BigInt(r.open_balance_minor),
  reconciliationHold: r.reconciliation_hold,
  keys: undefined,
});
const withOpen = (i: OpenInvoice, openMinor: bigint): OpenInvoice => ({
  id: i.id,
  customerId: i.customerId,
  number: i.number,
  dueDate: i.dueDate,
  issueDate: i.issueDate,
  currency: i.currency,
  totalMinor: i.totalMinor,
  openMinor,
  reconciliationHold: i.reconciliationHold,
  keys: i.keys,
});

/** A payment's totals, status and retry schedule after its outcome. */
interface PaymentTotals {
  id: string;
  applied: bigint;
  unapplied: bigint;
  status: PaymentStatus;
  customerId: string | null;
  attempts: number;
  next: string | null;
}
const paymentColumns: BulkColumn<PaymentTotals>[] = [
  { name: 'id', type: 'uuid', value: (r) => r.id },
  { name: 'applied', type: 'bigint', value: (r) => r.applied },
  { name: 'unapplied', type: 'bigint', value: (r) => r.unapplied },
  { name: 'status', type: 'text', value: (r) => r.status },
  { name: 'customer_id', type: 'uuid', value: (r) => r.customerId },
  { name: 'attempts', type: 'int', value: (r) => r.attempts },
  { name: 'next_at', type: 'timestamptz', value: (r) => r.next },
];
const placedBy = (o: Outcome): bigint => {
  let placed = 0n;
  for (const x of o.placements) placed += x.amountMinor;
  return placed;
};
function paymentTotals(o: Outcome, placed: bigint): PaymentTotals {
  const applied = BigInt(o.payment.applied_minor) + placed;
  const unapplied = BigInt(o.payment.unapplied_minor) - placed;
  const status = unapplied === 0n ? PaymentStatus.APPLIED : applied > 0n ? PaymentStatus.PARTIALLY_APPLIED : PaymentStatus.UNAPPLIED;
  const attempts = o.payment.attempts + (o.attempt ? 1 : 0);
  const next = status === PaymentStatus.UNAPPLIED && o.attempt ? new Date(Date.now() + RETRY_MS[Math.min(attempts - 1, RETRY_MS.length - 1)]).toISOString() : null;
  return { id: o.payment.id, applied, unapplied, status, customerId: o.customerId, attempts, next };
}

/** An invoice's balance change: what it loses, the balance matching saw, and when it closes if paid. */
interface InvoiceChange {
  id: string;
  amount: bigint;
  expected: bigint;
  closedOn: string;
}

/** The rows outcomes write (allocations, balance changes, payment totals, journal postings, audit), worked out before any is written. */
function planWrites(outcomes: Outcome[], invoices: Map<string, OpenInvoice>): { allocs: AllocRow[]; invRows: InvoiceChange[]; totals: PaymentTotals[]; postings: Posting[]; audits: AuditEntry[] } {
  const allocs: AllocRow[] = [];
  const totals: PaymentTotals[] = [];
  const perInvoice = new Map<string, InvoiceChange>();
  const postings: Posting[] = [];
  const audits: AuditEntry[] = [];
  for (const o of outcomes) {
    const p = o.payment;
    const lines: PostingLine[] = [];
    const allocations: Record<string, string>[] = [];
    for (const pl of o.placements) {
      const inv = invoices.get(pl.invoiceId)!;
      const invoiceMinor = pl.fx ? pl.fx.invoiceMinor : pl.amountMinor;
      allocs.push({
        paymentId: p.id,
        invoiceId: pl.invoiceId,
        customerId: inv.customerId,
        amountMinor: invoiceMinor,
        currency: inv.currency,
        sourceAmountMinor: pl.amountMinor,
        sourceCurrency: p.currency,
        rate: pl.fx ? pl.fx.rate : null,
        rule: pl.rule,
      });
      const cur = perInvoice.get(pl.invoiceId);
      if (cur) {
        cur.amount += invoiceMinor;
        if (p.received_on > cur.closedOn) cur.closedOn = p.received_on;
      } else perInvoice.set(pl.invoiceId, { id: pl.invoiceId, amount: invoiceMinor, expected: inv.openMinor, closedOn: p.received_on });
      if (pl.fx) {
        // Across currencies: the payment's entry credits the exchange account; an entry in the invoice currency takes it to AR.
        lines.push({ account: LedgerAccount.CURRENCY_EXCHANGE, debitMinor: 0n, creditMinor: pl.amountMinor, customerId: inv.customerId, invoiceId: pl.invoiceId });
        const memo = `at ${pl.fx.rate} ${pl.fx.currency} per unit of the payment currency`;
        postings.push(exchangeToAr({ kind: JournalKind.PAYMENT_APPLIED, sourceType: 'Payment', sourceId: p.id, postedOn: p.received_on, memo }, inv, pl.fx));
        allocations.push({ invoiceId: pl.invoiceId, amountMinor: pl.amountMinor.toString(), rule: pl.rule, invoiceAmountMinor: invoiceMinor.toString(), invoiceCurrency: inv.currency, rate: pl.fx.rate });
      } else {
        lines.push({ account: LedgerAccount.AR, debitMinor: 0n, creditMinor: pl.amountMinor, customerId: inv.customerId, invoiceId: pl.invoiceId });
        allocations.push({ invoiceId: pl.invoiceId, amountMinor: pl.amountMinor.toString(), rule: pl.rule });
      }
    }
    const placed = placedBy(o);
    totals.push(paymentTotals(o, placed));
    if (placed > 0n) {
      // Every line with the same fields (one object shape for the ledger's hot loop).
      lines.unshift({ account: LedgerAccount.UNAPPLIED_CASH, debitMinor: placed, creditMinor: 0n, customerId: o.customerId, invoiceId: null });
      postings.push({ kind: JournalKind.PAYMENT_APPLIED, sourceType: 'Payment', sourceId: p.id, currency: p.currency, postedOn: p.received_on, lines });
    }
    const data: Record<string, unknown> = { placed: placed.toString(), unapplied: (BigInt(p.unapplied_minor) - placed).toString(), allocations };
    if (o.note) data.note = o.note;
    if (o.suggestions) data.suggestions = o.suggestions.length;
    audits.push({ action: o.auditAction, subjectType: 'Payment', subjectId: p.id, data });
  }
  return { allocs, invRows: [...perInvoice.values()], totals, postings, audits };
}

const CONCURRENT_CHANGE = 'RECOUP_CONCURRENT_INVOICE_CHANGE';
/** An invoice's balance changed between matching and writing: the chunk is retried on fresh balances. */
class ConcurrentInvoiceChange extends Error {
  readonly code = CONCURRENT_CHANGE;
  constructor() {
    super('an invoice balance changed while its payments were being matched');
  }
}

/** A bounded set of keys per tenant: the most recently used ones (it only saves work, so forgetting is safe). */
class TenantKeys {
  private readonly keys: LRUCache<string, true>;
  constructor(max: number) {
    this.keys = new LRUCache({ max });
  }
  has(tenantId: string, key: string): boolean {
    return this.keys.has(`${tenantId} ${key}`);
  }
  add(tenantId: string, key: string): void {
    this.keys.set(`${tenantId} ${key}`, true);
  }
}

/** The payer name as payer history keys it (trimmed, lower case), or null when there is none. */
const payerKey = (p: PaymentRow): string | null => p.payer_name?.trim().toLowerCase() || null;

/** The distinct remittance accounts and payer names of payments whose customer is not given (synchronous, apart from the async step: ADR 013). */
function payerKeysOf(unknown: PaymentRow[]): { accounts: string[]; names: string[] } {
  const accounts = new Set<string>();
  const names = new Set<string>();
  for (let i = 0; i < unknown.length; i++) {
    const p = unknown[i];
    if (p.payer_account) accounts.add(p.payer_account);
    const name = payerKey(p);
    if (name) names.add(name);
  }
  return { accounts: [...accounts], names: [...names] };
}

const isUuid = (s: string) => /^[0-9a-f-]{36}$/i.test(s);
const RETRYABLE = new Set(['40P01', '40001', CONCURRENT_CHANGE]);

/**
 * Applies payments to invoices. One transaction per chunk of payments: lock the payments
 * (SKIP LOCKED, so workers never wait on each other's payments); read the payers' open invoices
 * without locks and match in memory; lock the pending actions of the invoices about to change
 * (id order, the dispatcher's order: action, then invoice); write allocations, statuses, the
 * journal, audit and cancellations set-based, and the invoice balances last, each only if it is
 * still the balance matching read (else the chunk retries); announce after commit. A payment
 * that another worker holds is skipped, never applied twice: only PENDING (or due UNAPPLIED)
 * payments are taken.
 */
export class PaymentApplicationService {
  /**
   * Payer names seen (in committed rows) to have paid for more customers than a hint allows: they
   * never become a hint again (payer_names only grows), so nothing is written for them.
   */
  private readonly saturatedNames = new TenantKeys(100_000);
  /** Called after commit with the customers whose balances changed (set by the composition root). */
  onCustomersChanged: (ctx: RequestContext, customerIds: string[]) => void = () => undefined;

  constructor(
    private readonly audit: AuditService,
    private readonly actions: ActionService,
    private readonly disputes: DisputeService,
    private readonly ledger: LedgerService,
    private readonly rules: ApplicationRulesService,
    private readonly hooks: PaymentHookRegistry,
    private readonly counters: DunningCounters,
  ) {}

  /** Applies the given payments that are PENDING (and, with `retry`, UNAPPLIED ones due again). */
  async apply(ctx: RequestContext, paymentIds: string[], opts: { retry?: boolean } = {}): Promise<{ processed: number; applied: number; unapplied: number }> {
    const total = { processed: 0, applied: 0, unapplied: 0 };
    const rules = await this.rules.all(ctx);
    for (const part of chunks([...new Set(paymentIds)], APPLY_CHUNK)) {
      const r = await this.withRetry(ctx, (tx) => this.applyChunk(tx, part, !!opts.retry, rules));
      total.processed += r.processed;
      total.applied += r.applied;
      total.unapplied += r.unapplied;
      if (!ctx.inTransaction) this.onCustomersChanged(ctx, r.customers);
    }
    return total;
  }

  /** Ids of unapplied payments whose next attempt is due (the retry schedule). */
  async dueForRetry(ctx: RequestContext, limit = 1000): Promise<string[]> {
    const rows: { id: string }[] = await ctx.em.query(
      `SELECT id FROM payments WHERE tenant_id = $1 AND status IN ('PENDING','UNAPPLIED') AND (next_attempt_at IS NULL OR next_attempt_at <= now()) ORDER BY created_at LIMIT $2`,
      [ctx.tenantId, limit],
    );
    return rows.map((r) => r.id);
  }

  private async withRetry<T>(ctx: RequestContext, fn: (tx: RequestContext) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await inTransaction(ctx, fn);
      } catch (err) {
        const code = (err as { code?: string; driverError?: { code?: string } }).driverError?.code ?? (err as { code?: string }).code;
        if (ctx.inTransaction || attempt >= 4 || !code || !RETRYABLE.has(code)) throw err;
        ctx.logger.warn({ err, attempt }, 'payment application retried after a lock conflict');
      }
    }
  }

  private async applyChunk(tx: RequestContext, ids: string[], retry: boolean, allRules: Map<string, ApplicationRules>): Promise<{ processed: number; applied: number; unapplied: number; customers: string[] }> {
    // Small steps rather than one long function: the hot path is compiled by the JIT, and a long
    // async function with closures took it hundreds of milliseconds per (re)compilation.
    const payments = await this.lockPending(tx, ids, retry);
    if (!payments.length) return { processed: 0, applied: 0, unapplied: 0, customers: [] };
    const payers = await this.identifyPayers(tx, payments);
    const book = await this.loadBook(tx, payments, payers);
    const outcomes: Outcome[] = [];
    for (const p of payments) outcomes.push(await this.decide(tx, p, payers, book, ApplicationRulesService.pick(allRules, p.entity_id)));
    const touched = await this.persist(tx, outcomes, book.read);
    let applied = 0;
    for (const o of outcomes) if (o.placements.length) applied++;
    return { processed: payments.length, applied, unapplied: outcomes.length - applied, customers: touched };
  }

  /**
   * Locks the chunk's payments that are still to apply. Each id is looked up by primary key (a
   * join to the list, not `id = ANY(list)`: as a prepared statement's generic plan, that filter
   * walked the whole pending queue and compared every pending payment with every id of the chunk).
   */
  private lockPending(tx: RequestContext, ids: string[], retry: boolean): Promise<PaymentRow[]> {
    return preparedQuery<PaymentRow>(tx.em,
      `SELECT ${PAYMENT_COLS} FROM unnest($2::uuid[]) AS k(id) JOIN payments p USING (id) WHERE p.tenant_id = $1
         AND (p.status = 'PENDING' OR ($3 AND p.status = 'UNAPPLIED' AND (p.next_attempt_at IS NULL OR p.next_attempt_at <= now())))
       ORDER BY id FOR UPDATE OF p SKIP LOCKED`,
      [tx.tenantId, arrayParam(ids), retry],
    );
  }

  /** Who paid: the customer given, else a known remittance account, else a unique name, else the one customer its references name. */
  private async identifyPayers(tx: RequestContext, payments: PaymentRow[]): Promise<Payers> {
    const t = tx.tenantId;
    const payers: Payers = { customer: new Map(), history: new Map(), accountKnown: new Set(), refInvoices: new Map() };
    const unknown: PaymentRow[] = [];
    for (const p of payments) {
      if (p.customer_id) payers.customer.set(p.id, p.customer_id);
      else unknown.push(p);
    }
    if (!unknown.length) return payers;
    const { accounts, names } = payerKeysOf(unknown);
    const byAccount = new Map<string, string>();
    if (accounts.length) {
      const rows: { account: string; customer_id: string }[] = await preparedQuery(tx.em, `SELECT account, customer_id FROM payer_accounts WHERE tenant_id = $1 AND account = ANY($2::text[])`, [t, arrayParam(accounts)]);
      for (const r of rows) byAccount.set(r.account, r.customer_id);
    }
    const byName = names.length ? await this.readPayerNames(tx, names, payers.history) : new Map<string, string[]>();
    for (const p of unknown) {
      const byAcc = p.payer_account ? byAccount.get(p.payer_account) : undefined;
      const key = payerKey(p);
      const named = key ? byName.get(key) : undefined;
      const id = byAcc ?? (named?.length === 1 ? named[0] : undefined);
      if (id) payers.customer.set(p.id, id);
      if (byAcc) payers.accountKnown.add(p.id);
    }
    await this.payersByReference(tx, payments.filter((p) => !payers.customer.has(p.id)), payers);
    return payers;
  }

  /** Customers by (lower-case) name, and into `history` the few customers each name paid for before. */
  private async readPayerNames(tx: RequestContext, names: string[], history: Map<string, Set<string>>): Promise<Map<string, string[]>> {
    const t = tx.tenantId;
    const rows: { n: string; id: string }[] = await preparedQuery(tx.em, `SELECT lower(name) AS n, id FROM customers WHERE tenant_id = $1 AND lower(name) = ANY($2::text[])`, [t, arrayParam(names)]);
    // Payer history is a hint only when a name has paid for a few customers, not for everyone.
    // At most one customer more than the hint allows is read per name, however often it paid.
    const hist: { n: string; ids: string[] }[] = await preparedQuery(
      tx.em,
      `SELECT v.n, array_agg(x.customer_id) AS ids FROM unnest($2::text[]) AS v(n)
       CROSS JOIN LATERAL (SELECT customer_id FROM payer_names WHERE tenant_id = $1 AND name = v.n LIMIT ${MAX_HISTORY_CUSTOMERS + 1}) x
       GROUP BY v.n`,
      [t, arrayParam(names)],
    );
    for (const h of hist) {
      if (h.ids.length <= MAX_HISTORY_CUSTOMERS) history.set(h.n, new Set(h.ids));
      else this.saturatedNames.add(t, h.n);
    }
    return groupBy(rows, (r) => r.n, (r) => r.id);
  }

  /** Payers still unknown: their references may name open invoices anywhere in the tenant (one customer: the payer; several: candidates). */
  private async payersByReference(tx: RequestContext, stillUnknown: PaymentRow[], payers: Payers): Promise<void> {
    if (!stillUnknown.length) return;
    const keys = new Map(stillUnknown.map((p) => [p.id, parseReferences(p.remittance_text, p.remittance_refs).map((r) => r.digits)]));
    const all = [...new Set([...keys.values()].flat())];
    if (!all.length) return;
    const rows: (InvoiceRow & { k: string })[] = await preparedQuery(tx.em,
      `SELECT ${INVOICE_COLS}, ${NUMBER_DIGITS_SQL} AS k FROM invoices
       WHERE tenant_id = $1 AND status = 'OPEN' AND ${NUMBER_DIGITS_SQL} = ANY($2::text[])`,
      [tx.tenantId, arrayParam(all)],
    );
    const byKey = groupBy(rows, (r) => r.k);
    for (const p of stillUnknown) {
      const mine = [...new Set(keys.get(p.id)!.flatMap((k) => byKey.get(k) ?? []))];
      const customers = new Set(mine.map((r) => r.customer_id));
      if (customers.size === 1) payers.customer.set(p.id, mine[0].customer_id);
      else if (mine.length) payers.refInvoices.set(p.id, mine.map(toOpen));
    }
  }

  /**
   * The open invoices matching may use: the payers' books and the invoices references name, and
   * (read, not locked, for suggestions only) the invoices of customers a payer name paid for before.
   */
  private async loadBook(tx: RequestContext, payments: PaymentRow[], payers: Payers): Promise<Book> {
    const customerIds = new Set<string>(payers.customer.values());
    for (const list of payers.refInvoices.values()) for (const i of list) customerIds.add(i.customerId);
    const read = await this.readPayersBook(tx, [...customerIds]);
    const byId = new Map(read.map((i) => [i.id, i]));
    const book: Book = { read: byId, balance: new Map(byId), byCustomer: groupBy(read, (i) => i.customerId) };
    const histIds = new Set<string>();
    for (const p of payments) {
      if (payers.customer.has(p.id)) continue;
      for (const c of payers.history.get(payerKey(p) ?? '') ?? []) if (!book.byCustomer.has(c)) histIds.add(c);
    }
    if (histIds.size) {
      const rows: InvoiceRow[] = await preparedQuery(tx.em, `SELECT ${INVOICE_COLS} FROM invoices WHERE tenant_id = $1 AND customer_id = ANY($2::uuid[]) AND status = 'OPEN' AND open_balance_minor > 0`, [tx.tenantId, arrayParam([...histIds])]);
      for (const [customerId, list] of groupBy(rows.map(toOpen), (i) => i.customerId)) book.byCustomer.set(customerId, list);
    }
    return book;
  }

  /** One payment's outcome: the tenant's strategies (and hooks) over its candidates at the balances earlier payments of the chunk left. */
  private async decide(tx: RequestContext, p: PaymentRow, payers: Payers, book: Book, rules: ApplicationRules): Promise<Outcome> {
    const customerId = payers.customer.get(p.id) ?? null;
    const refOnly = !customerId && payers.refInvoices.has(p.id);
    const pool = customerId ? (book.byCustomer.get(customerId) ?? []) : refOnly ? payers.refInvoices.get(p.id)! : [];
    const candidates: OpenInvoice[] = [];
    for (const i of pool) {
      const current = book.balance.get(i.id);
      if (current) candidates.push(current);
    }
    const toMatch: PaymentToMatch = { id: p.id, currency: p.currency, amountMinor: BigInt(p.unapplied_minor), remittanceText: p.remittance_text, refs: p.remittance_refs, customerId };
    let skipped: string | null = null;
    for (const name of rules.beforeHooks) {
      const r = await this.hooks.beforeHook(name)?.(tx, toMatch);
      if (r && r.skip) skipped = r.reason ?? `skipped by hook ${name}`;
    }
    let placements: Placement[] = [];
    let ambiguity: Ambiguity[] = [];
    if (!skipped && candidates.length) {
      const strategies = refOnly ? rules.strategies.filter((s) => s.kind === StrategyKind.BY_REFERENCE) : rules.strategies;
      const m = await matchPayment(toMatch, candidates, strategies, (n) => this.hooks.strategy(n));
      placements = m.placements;
      ambiguity = m.ambiguity;
    }
    let placed = 0n;
    for (const pl of placements) {
      const current = book.balance.get(pl.invoiceId)!;
      book.balance.set(pl.invoiceId, withOpen(current, current.openMinor - pl.amountMinor));
      placed += pl.amountMinor;
    }
    for (const name of rules.afterHooks) await this.hooks.afterHook(name)?.(tx, toMatch, placements);
    const left = toMatch.amountMinor - placed;
    const paidFor = payers.history.get(payerKey(p) ?? '');
    const suggestions = left > 0n && (placed === 0n || ambiguity.length) ? this.suggestFor(toMatch, left, candidates, paidFor, book, ambiguity) : null;
    return {
      payment: p,
      customerId,
      placements: placements.map((x) => ({ invoiceId: x.invoiceId, amountMinor: x.amountMinor, rule: x.rule as unknown as AllocationRule })),
      suggestions,
      attempt: true,
      note: skipped ?? undefined,
      auditAction: placed > 0n ? 'payment.applied' : 'payment.unapplied',
      accountKnown: payers.accountKnown.has(p.id),
    };
  }

  /** Ranked suggestions for what a payment leaves unapplied: its candidates and the invoices of customers its payer paid for before. */
  private suggestFor(toMatch: PaymentToMatch, left: bigint, candidates: OpenInvoice[], paidFor: Set<string> | undefined, book: Book, ambiguity: Ambiguity[]): Suggestion[] {
    const pool = new Map<string, OpenInvoice>();
    for (const i of candidates) pool.set(i.id, book.balance.get(i.id) ?? i);
    for (const c of paidFor ?? []) for (const i of book.byCustomer.get(c) ?? []) if (!pool.has(i.id)) pool.set(i.id, book.balance.get(i.id) ?? i);
    return suggest({ ...toMatch, amountMinor: left }, [...pool.values()], { ambiguity, historyCustomerIds: paidFor });
  }

  /**
   * Reads the payers' open invoices without locking them: matching works on this snapshot, and
   * `persist` writes each balance only if it is still the one read here (optimistic concurrency),
   * so two chunks paying the same customer's different invoices never wait for each other, and a
   * chunk that lost a race on the same invoice is retried on fresh balances.
   */
  private async readPayersBook(tx: RequestContext, customerIds: string[]): Promise<OpenInvoice[]> {
    if (!customerIds.length) return [];
    const rows: InvoiceRow[] = await preparedQuery(tx.em,
      `SELECT ${INVOICE_COLS} FROM invoices WHERE tenant_id = $1 AND customer_id = ANY($2::uuid[]) AND status = 'OPEN' AND open_balance_minor > 0`,
      [tx.tenantId, arrayParam(customerIds)],
    );
    return rows.map(toOpen);
  }

  /**
   * Writes what the outcomes decided, set-based, in the caller's transaction: allocations,
   * invoice balances (closing what reaches zero and cancelling its pending reminders),
   * payment totals and status, suggestions, the journal, audit, short-pay disputes, events.
   * Returns the customers whose balances changed.
   */
  private async persist(tx: RequestContext, outcomes: Outcome[], invoices: Map<string, OpenInvoice>): Promise<string[]> {
    const t = tx.tenantId;
    const { allocs, invRows, totals, postings, audits } = planWrites(outcomes, invoices);
    // The pending reminders of the invoices about to change are locked first (the dispatcher's
    // order: action, then invoice; a send in progress finishes before this goes on).
    const pendingReminders = new Set<string>();
    if (invRows.length) {
      const locked: { invoice_id: string }[] = await preparedQuery(tx.em,
        `SELECT invoice_id FROM actions WHERE tenant_id = $1 AND invoice_id = ANY($2::uuid[]) AND status IN ('PLANNED','AWAITING_APPROVAL') ORDER BY id FOR UPDATE`,
        [t, arrayParam(invRows.map((r) => r.id))],
      );
      for (const a of locked) pendingReminders.add(a.invoice_id);
    }
    const closed = invRows.filter((r) => r.expected === r.amount).map((r) => r.id);
    if (allocs.length) {
      const src = unnestSource(allocColumns, allocs, 3);
      await preparedQuery(tx.em, `INSERT INTO payment_allocations (tenant_id, created_by, ${src.names}) SELECT $1, $2, ${src.names} FROM ${src.sql}`, [t, tx.actor.id, ...src.params]);
    }
    const psrc = unnestSource(paymentColumns, totals, 2);
    await preparedQuery(tx.em,
      `UPDATE payments p SET applied_minor = v.applied, unapplied_minor = v.unapplied, status = v.status, customer_id = COALESCE(p.customer_id, v.customer_id),
         attempts = v.attempts, next_attempt_at = v.next_at, applied_at = CASE WHEN v.applied > p.applied_minor THEN now() ELSE p.applied_at END, updated_at = now()
       FROM ${psrc.sql} WHERE p.tenant_id = $1 AND p.id = v.id`,
      [t, ...psrc.params],
    );
    await this.learnPayers(tx, outcomes);
    await this.replaceSuggestions(tx, outcomes);
    await this.ledger.post(tx, postings);
    audits.push(...(await this.resetCountersOnPortalPayments(tx, outcomes)));
    await this.audit.record(tx, ...audits);
    const silenced = closed.filter((id) => pendingReminders.has(id));
    if (silenced.length) await this.actions.cancelForInvoices(tx, silenced, 'invoice paid');
    await this.writeBalances(tx, invRows);
    await this.openShortPayDisputes(tx, outcomes, invoices);
    const changedInvoices = invRows.map((r) => r.id);
    for (const part of chunks(changedInvoices, 180)) {
      await emitEvent(tx.em, { type: INVOICES_CHANGED, tenantId: t, payload: { change: InvoiceChangeKind.UPDATED, ids: part } satisfies InvoicesChangedPayload });
    }
    for (const part of chunks(outcomes.map((o) => o.payment.id), 180)) await emitEvent(tx.em, { type: PAYMENTS_APPLIED, tenantId: t, payload: { ids: part } });
    return [...new Set(changedInvoices.map((id) => invoices.get(id)!.customerId))];
  }

  /**
   * Remembers which remittance account pays for which customer (payer identification next time),
   * and which customers a payer name pays for (payer history, a hint for the unapplied queue): only
   * while the name has paid for few enough customers to be a hint, and only new pairs, so a name
   * paying for everyone (a processor) stops being written and writers rarely meet here.
   */
  private async learnPayers(tx: RequestContext, outcomes: Outcome[]): Promise<void> {
    const t = tx.tenantId;
    const learned = outcomes.filter((o) => o.customerId && o.payment.payer_account && !o.accountKnown);
    if (learned.length) {
      await preparedQuery(tx.em, `INSERT INTO payer_accounts (tenant_id, account, customer_id) SELECT $1, a, c FROM unnest($2::text[], $3::uuid[]) AS v(a, c) ON CONFLICT DO NOTHING`, [
        t,
        arrayParam(learned.map((o) => o.payment.payer_account)),
        arrayParam(learned.map((o) => o.customerId)),
      ]);
    }
    const names: string[] = [];
    const customers: string[] = [];
    for (const o of outcomes) {
      const name = payerKey(o.payment);
      if (o.customerId && name && !this.saturatedNames.has(t, name)) {
        names.push(name);
        customers.push(o.customerId);
      }
    }
    if (!names.length) return;
    await preparedQuery(tx.em,
      `INSERT INTO payer_names (tenant_id, name, customer_id)
       SELECT $1, v.n, v.c FROM (SELECT DISTINCT n, c FROM unnest($2::text[], $3::uuid[]) AS u(n, c)) v
       WHERE NOT EXISTS (SELECT 1 FROM payer_names p WHERE p.tenant_id = $1 AND p.name = v.n AND p.customer_id = v.c)
         AND (SELECT count(*) FROM (SELECT 1 FROM payer_names p WHERE p.tenant_id = $1 AND p.name = v.n LIMIT ${MAX_HISTORY_CUSTOMERS + 1}) k) <= ${MAX_HISTORY_CUSTOMERS}
       ORDER BY v.n, v.c
       ON CONFLICT DO NOTHING`,
      [t, arrayParam(names), arrayParam(customers)],
    );
  }

  /**
   * A customer paying through the portal is engaging: its escalation counters go back to zero
   * (the next evaluation re-derives its tier from what is still open), with an audit event
   * naming the payment and the tier it stood at.
   */
  private async resetCountersOnPortalPayments(tx: RequestContext, outcomes: Outcome[]): Promise<AuditEntry[]> {
    const byCustomer = new Map<string, string>();
    for (const o of outcomes) {
      if (o.payment.method === PaymentMethod.PORTAL && o.customerId && o.placements.length && !byCustomer.has(o.customerId)) byCustomer.set(o.customerId, o.payment.id);
    }
    const reset = await this.counters.reset(tx, [...byCustomer.keys()]);
    return reset.map((r) => ({
      action: 'dunning.counters_reset',
      subjectType: 'Customer',
      subjectId: r.customerId,
      data: { previousTier: r.tier, paymentId: byCustomer.get(r.customerId) },
      reason: 'payment through the portal',
    }));
  }

  /**
   * Writes the invoice balances, last in the transaction: the aging rollup rows their triggers
   * update are shared by every invoice of a group and due date, so they are held from here to
   * commit only. Each balance is written only if it is still the one matching saw: a concurrent
   * change makes the chunk retry on fresh balances instead of paying an invoice twice or below zero.
   */
  private async writeBalances(tx: RequestContext, rows: { id: string; amount: bigint; expected: bigint; closedOn: string }[]): Promise<void> {
    if (!rows.length) return;
    const src = unnestSource<(typeof rows)[number]>(
      [
        { name: 'id', type: 'uuid', value: (r) => r.id },
        { name: 'amount', type: 'bigint', value: (r) => r.amount },
        { name: 'expected', type: 'bigint', value: (r) => r.expected },
        { name: 'closed_on', type: 'date', value: (r) => r.closedOn },
      ],
      [...rows].sort((x, y) => (x.id < y.id ? -1 : 1)),
      2,
    );
    const updated = await preparedQuery(tx.em,
      `UPDATE invoices i SET open_balance_minor = i.open_balance_minor - v.amount,
         status = CASE WHEN i.open_balance_minor - v.amount = 0 THEN 'PAID' ELSE i.status END,
         closed_on = CASE WHEN i.open_balance_minor - v.amount = 0 THEN v.closed_on ELSE i.closed_on END,
         updated_at = now()
       FROM ${src.sql} WHERE i.tenant_id = $1 AND i.id = v.id AND i.status = 'OPEN' AND i.open_balance_minor = v.expected AND v.expected >= v.amount
       RETURNING i.id`,
      [tx.tenantId, ...src.params],
    );
    if (updated.length !== rows.length) throw new ConcurrentInvoiceChange();
  }

  private async replaceSuggestions(tx: RequestContext, outcomes: Outcome[]): Promise<void> {
    // A payment never tried before has no suggestions to replace.
    const ids = outcomes.filter((o) => o.payment.status !== PaymentStatus.PENDING || o.payment.attempts > 0).map((o) => o.payment.id);
    if (ids.length) await preparedQuery(tx.em, `DELETE FROM payment_suggestions WHERE tenant_id = $1 AND payment_id = ANY($2::uuid[])`, [tx.tenantId, arrayParam(ids)]);
    const rows = outcomes.flatMap((o) => (o.suggestions ?? []).map((s, i) => ({ ...s, paymentId: o.payment.id, rank: i + 1 })));
    if (!rows.length) return;
    await preparedQuery(tx.em,
      `INSERT INTO payment_suggestions (tenant_id, payment_id, rank, invoice_ids, amount_minor, score, reason, detail)
       SELECT $1, v.p, v.r, string_to_array(v.i, ',')::uuid[], v.a, v.s, v.why, v.d FROM unnest($2::uuid[], $3::int[], $4::text[], $5::bigint[], $6::int[], $7::text[], $8::text[]) AS v(p, r, i, a, s, why, d)`,
      [tx.tenantId, ...[rows.map((r) => r.paymentId), rows.map((r) => r.rank), rows.map((r) => r.invoiceIds.join(',')), rows.map((r) => r.amountMinor), rows.map((r) => r.score), rows.map((r) => r.reason), rows.map((r) => r.detail.slice(0, 500))].map(arrayParam)],
    );
  }

  /** A short pay with a stated reason opens a deduction dispute for what is still open on the invoice. */
  private async openShortPayDisputes(tx: RequestContext, outcomes: Outcome[], invoices: Map<string, OpenInvoice>): Promise<void> {
    for (const o of outcomes) {
      if (!o.payment.short_pay_reason) continue;
      const paid = new Map<string, bigint>();
      o.placements.forEach((pl) => paid.set(pl.invoiceId, (paid.get(pl.invoiceId) ?? 0n) + (pl.fx ? pl.fx.invoiceMinor : pl.amountMinor)));
      for (const [invoiceId, amount] of paid) {
        const inv = invoices.get(invoiceId)!;
        const short = inv.openMinor - amount;
        if (short <= 0n) continue;
        const [row] = await tx.em.query(`SELECT open_balance_minor FROM invoices WHERE tenant_id = $1 AND id = $2`, [tx.tenantId, invoiceId]);
        const open = BigInt(row.open_balance_minor);
        if (open <= 0n) continue;
        const reasonCode = (Object.values(DisputeReason) as string[]).includes(o.payment.deduction_code ?? '') ? (o.payment.deduction_code as DisputeReason) : DisputeReason.OTHER;
        await this.disputes.open(tx, { invoiceId, reasonCode, amount: formatMinor(open < short ? open : short, inv.currency), detail: `Short pay on payment ${o.payment.id}: ${o.payment.short_pay_reason}` });
      }
    }
  }

  // ---- people resolving the unapplied-cash queue -------------------------------------------

  /**
   * A person splits a payment's unapplied cash over invoices, in the payment currency; an invoice
   * in another currency takes the amount converted at the rate given or stored (ADR 013). Every
   * problem names its field; nothing is written.
   */
  async allocate(ctx: RequestContext, paymentId: string, items: { invoiceId: string; amount: string; rate?: string | null }[]): Promise<string> {
    if (!items.length) throw badInput('allocations', 'give at least one allocation', PaymentErrors.REQUIRED);
    const customers = await this.withRetry(ctx, async (tx) => {
      const p = await this.lockPayment(tx, paymentId, 'paymentId');
      const invoiceIds = items.map((it, i) => {
        if (!isUuid(it.invoiceId)) throw badInput(`allocations.${i}.invoiceId`, 'is not an invoice id', PaymentErrors.UNKNOWN_INVOICE);
        return it.invoiceId;
      });
      const invs = await this.lockInvoices(tx, invoiceIds);
      const rates = await storedRates(tx, [p.currency, ...[...invs.values()].map((inv) => inv.currency)]);
      const want = new Map<string, bigint>();
      let sum = 0n;
      const placements = items.map((it, i) => {
        const inv = invs.get(it.invoiceId);
        if (!inv) throw badInput(`allocations.${i}.invoiceId`, `invoice ${it.invoiceId} not found`, PaymentErrors.UNKNOWN_INVOICE);
        if (inv.status !== 'OPEN') throw badInput(`allocations.${i}.invoiceId`, `the invoice is ${inv.status}`, PaymentErrors.INVOICE_NOT_OPEN);
        const r = parseDecimal(it.amount, p.currency);
        if (!r.ok) throw badInput(`allocations.${i}.amount`, r.message, PaymentErrors.INVALID_AMOUNT);
        if (r.minor <= 0n) throw badInput(`allocations.${i}.amount`, 'must be greater than zero', PaymentErrors.NON_POSITIVE_AMOUNT);
        const fx = placeAcross(`allocations.${i}`, r.minor, p.currency, inv.currency, it.rate, rates, p.received_on);
        const total = (want.get(inv.id) ?? 0n) + (fx ? fx.invoiceMinor : r.minor);
        if (total > BigInt(inv.open_balance_minor)) {
          const at = fx ? ` (${formatMinor(fx.invoiceMinor, inv.currency)} ${inv.currency} at ${fx.rate})` : '';
          throw badInput(`allocations.${i}.amount`, `exceeds the invoice's open balance of ${formatMinor(BigInt(inv.open_balance_minor), inv.currency)} ${inv.currency}${at}`, PaymentErrors.EXCEEDS_BALANCE);
        }
        want.set(inv.id, total);
        sum += r.minor;
        return fx ? { invoiceId: inv.id, amountMinor: r.minor, rule: AllocationRule.MANUAL, fx } : { invoiceId: inv.id, amountMinor: r.minor, rule: AllocationRule.MANUAL };
      });
      if (sum > BigInt(p.unapplied_minor)) throw badInput('allocations', `together exceed the payment's unapplied ${formatMinor(BigInt(p.unapplied_minor), p.currency)}`, PaymentErrors.EXCEEDS_UNAPPLIED);
      const payerIds = new Set([...invs.values()].map((i) => i.customer_id));
      const customerId = p.customer_id ?? (payerIds.size === 1 ? [...payerIds][0] : null);
      return this.persist(tx, [{ payment: p, customerId, placements, suggestions: [], attempt: false, auditAction: 'payment.allocated_manually' }], new Map([...invs.values()].map((i) => [i.id, toOpen(i)])));
    });
    if (!ctx.inTransaction) this.onCustomersChanged(ctx, customers);
    return paymentId;
  }

  /** A person accepts a ranked suggestion: its invoices are paid oldest first from what is unapplied. */
  async acceptSuggestion(ctx: RequestContext, suggestionId: string): Promise<string> {
    const s = isUuid(suggestionId) ? await ctx.em.getRepository(PaymentSuggestion).findOneBy({ tenantId: ctx.tenantId, id: suggestionId }) : null;
    if (!s) throw notFound('Suggestion', suggestionId, 'suggestionId');
    const customers = await this.withRetry(ctx, async (tx) => {
      const p = await this.lockPayment(tx, s.paymentId, 'suggestionId');
      const invs = await this.lockInvoices(tx, s.invoiceIds);
      const open = [...invs.values()].filter((i) => i.status === 'OPEN' && BigInt(i.open_balance_minor) > 0n && i.currency === p.currency).map(toOpen).sort(byAge);
      const left = BigInt(p.unapplied_minor);
      if (!open.length || left === 0n) throw badInput('suggestionId', 'this suggestion no longer fits: its invoices are closed or nothing is unapplied', PaymentErrors.SUGGESTION_STALE);
      const placements = inOrder(left, open, StrategyKind.BY_REFERENCE).map((x) => ({ ...x, rule: AllocationRule.SUGGESTION }));
      const payerIds = new Set(open.map((i) => i.customerId));
      const customerId = p.customer_id ?? (payerIds.size === 1 ? [...payerIds][0] : null);
      return this.persist(tx, [{ payment: p, customerId, placements, suggestions: [], attempt: false, auditAction: 'payment.suggestion_accepted', note: `suggestion ${s.id} (${s.reason}, score ${s.score})` }], new Map(open.map((i) => [i.id, i])));
    });
    if (!ctx.inTransaction) this.onCustomersChanged(ctx, customers);
    return s.paymentId;
  }

  /**
   * Returned ACH, NSF, chargeback: every allocation is undone, invoices reopen with their
   * balances restored (closed_on cleared), the cash leaves the ledger, and the customer is
   * re-evaluated so that dunning resumes from the steps already sent.
   */
  async reverse(ctx: RequestContext, paymentId: string, reason: ReversalReason, note: string | null): Promise<string> {
    const customers = await this.withRetry(ctx, async (tx) => {
      const t = tx.tenantId;
      const p = await this.lockPayment(tx, paymentId, 'paymentId', true);
      const allocs: { id: string; invoice_id: string; customer_id: string; amount_minor: string; currency: string; source_amount_minor: string }[] = await tx.em.query(
        `SELECT id, invoice_id, customer_id, amount_minor, currency, source_amount_minor FROM payment_allocations WHERE tenant_id = $1 AND payment_id = $2 AND reversed_at IS NULL ORDER BY created_at, id`,
        [t, p.id],
      );
      // What each invoice gets back in its currency and, for invoices in another currency, what the exchange account gives back in the payment's.
      const per = new Map<string, bigint>();
      const exchanged = new Map<string, bigint>();
      const currencyOf = new Map<string, string>();
      for (const a of allocs) {
        per.set(a.invoice_id, (per.get(a.invoice_id) ?? 0n) + BigInt(a.amount_minor));
        currencyOf.set(a.invoice_id, a.currency);
        if (a.currency !== p.currency) exchanged.set(a.invoice_id, (exchanged.get(a.invoice_id) ?? 0n) + BigInt(a.source_amount_minor));
      }
      const ids = [...per.keys()].sort();
      if (ids.length) {
        await tx.em.query(`SELECT id FROM invoices WHERE tenant_id = $1 AND id = ANY($2::uuid[]) ORDER BY id FOR UPDATE`, [t, ids]);
        await tx.em.query(
          `UPDATE invoices i SET open_balance_minor = i.open_balance_minor + v.amount,
             status = CASE WHEN i.status IN ('PAID','WRITTEN_OFF') THEN 'OPEN' ELSE i.status END,
             closed_on = NULL, updated_at = now()
           FROM unnest($2::uuid[], $3::bigint[]) AS v(id, amount) WHERE i.tenant_id = $1 AND i.id = v.id`,
          [t, ids, ids.map((id) => per.get(id)!.toString())],
        );
        await tx.em.query(`UPDATE payment_allocations SET reversed_at = now() WHERE tenant_id = $1 AND payment_id = $2 AND reversed_at IS NULL`, [t, p.id]);
      }
      const amount = BigInt(p.amount_minor);
      const applied = BigInt(p.applied_minor);
      await tx.em.query(
        `UPDATE payments SET status = 'REVERSED', applied_minor = 0, unapplied_minor = 0, reversed_minor = amount_minor, reversal_reason = $3, reversal_note = $4,
           reversed_at = now(), reversed_by = $5, next_attempt_at = NULL, updated_at = now() WHERE tenant_id = $1 AND id = $2`,
        [t, p.id, reason, note?.trim() || null, tx.actor.id],
      );
      await tx.em.query(`DELETE FROM payment_suggestions WHERE tenant_id = $1 AND payment_id = $2`, [t, p.id]);
      const custOf = new Map(allocs.map((a) => [a.invoice_id, a.customer_id]));
      const postedOn = new Date().toISOString().slice(0, 10);
      const memo = `${reason}${note ? `: ${note.slice(0, 400)}` : ''}`;
      const reversal = (currency: string, lines: PostingLine[]): Posting => ({ kind: JournalKind.PAYMENT_REVERSED, sourceType: 'Payment', sourceId: p.id, currency, postedOn, memo, lines });
      await this.ledger.post(tx, [
        reversal(p.currency, [
          ...ids.map((id) => (exchanged.has(id) ? { account: LedgerAccount.CURRENCY_EXCHANGE, debitMinor: exchanged.get(id)!, customerId: custOf.get(id), invoiceId: id } : { account: LedgerAccount.AR, debitMinor: per.get(id)!, customerId: custOf.get(id), invoiceId: id })),
          ...(amount - applied > 0n ? [{ account: LedgerAccount.UNAPPLIED_CASH, debitMinor: amount - applied, customerId: p.customer_id }] : []),
          { account: LedgerAccount.CASH, creditMinor: amount, customerId: p.customer_id },
        ]),
        // Each invoice in another currency: AR back from the exchange account, in the invoice currency.
        ...[...exchanged.keys()].map((id) =>
          reversal(currencyOf.get(id)!, [
            { account: LedgerAccount.AR, debitMinor: per.get(id)!, customerId: custOf.get(id), invoiceId: id },
            { account: LedgerAccount.CURRENCY_EXCHANGE, creditMinor: per.get(id)!, customerId: custOf.get(id), invoiceId: id },
          ]),
        ),
      ]);
      await this.audit.record(tx, { action: 'payment.reversed', subjectType: 'Payment', subjectId: p.id, data: { reason, note: note?.trim() || null, reopened: ids, amountMinor: amount.toString() } });
      for (const part of chunks(ids, 180)) await emitEvent(tx.em, { type: INVOICES_CHANGED, tenantId: t, payload: { change: InvoiceChangeKind.UPDATED, ids: part } satisfies InvoicesChangedPayload });
      return [...new Set([...custOf.values(), ...(p.customer_id ? [p.customer_id] : [])])];
    });
    if (!ctx.inTransaction) this.onCustomersChanged(ctx, customers);
    return paymentId;
  }

  private async lockPayment(tx: RequestContext, id: string, field: string, reversing = false): Promise<PaymentRow> {
    const [p]: PaymentRow[] = isUuid(id) ? await tx.em.query(`SELECT ${PAYMENT_COLS} FROM payments WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, [tx.tenantId, id]) : [];
    if (!p) throw notFound('Payment', id, field);
    if (p.status === PaymentStatus.REVERSED) throw badInput(field, 'this payment was reversed', reversing ? PaymentErrors.ALREADY_REVERSED : PaymentErrors.PAYMENT_REVERSED);
    return p;
  }

  /** Locks invoices for a person's allocation: their customers' pending reminders first, then the invoices, in id order. */
  private async lockInvoices(tx: RequestContext, ids: string[]): Promise<Map<string, InvoiceRow>> {
    const uniq = [...new Set(ids)].filter(isUuid);
    if (!uniq.length) return new Map();
    const owners: { customer_id: string }[] = await tx.em.query(`SELECT DISTINCT customer_id FROM invoices WHERE tenant_id = $1 AND id = ANY($2::uuid[])`, [tx.tenantId, uniq]);
    await tx.em.query(`SELECT id FROM actions WHERE tenant_id = $1 AND customer_id = ANY($2::uuid[]) AND invoice_id IS NOT NULL AND status IN ('PLANNED','AWAITING_APPROVAL') ORDER BY id FOR UPDATE`, [
      tx.tenantId,
      owners.map((o) => o.customer_id),
    ]);
    const rows: InvoiceRow[] = await tx.em.query(`SELECT ${INVOICE_COLS} FROM invoices WHERE tenant_id = $1 AND id = ANY($2::uuid[]) ORDER BY id FOR UPDATE`, [tx.tenantId, uniq]);
    return new Map(rows.map((r) => [r.id, r]));
  }
}
