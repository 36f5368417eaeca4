import { inTransaction, type RequestContext } from '../../platform/context';
import { chunks, unnestSource, type BulkColumn } from '../../platform/db/bulk';
import { badInput, notFound } from '../../platform/errors';
import { emitEvent } from '../../platform/events/event-bus';
import { formatMinor, isCurrency, parseDecimal } from '../../platform/money/money';
import type { ActionService } from '../actions/action.service';
import { ApprovalKind, type ApprovalRequest } from '../approvals/approval-request.entity';
import type { ApprovalService } from '../approvals/approval.service';
import type { AuditService } from '../audit/audit.service';
import { InvoiceChangeKind, INVOICES_CHANGED, type InvoiceService, type InvoicesChangedPayload } from '../invoices/invoice.service';
import { BillingModel } from '../invoices/invoice.entity';
import { PaymentTermsKind } from '../invoices/payment-terms';
import { JournalKind, LedgerAccount } from '../ledger/journal.entity';
import type { LedgerService } from '../ledger/ledger.service';
import type { TenantService } from '../tenants/tenant.service';
import { AllocationRule } from './allocation.entity';
import { ArDocument, ArDocumentKind } from './ar-document.entity';
import { exchangeToAr, placeAcross, storedRates } from './cross-currency';
import { PaymentErrors } from './payment.errors';

export const WRITE_OFF = ApprovalKind.WRITE_OFF;

/** What a credit memo places on one invoice: in the invoice currency and in the memo's, with the rate when they differ. */
interface MemoPlacement {
  id: string;
  currency: string;
  invoiceMinor: bigint;
  memoMinor: bigint;
  rate: string | null;
}
const memoAllocationColumns: BulkColumn<MemoPlacement>[] = [
  { name: 'invoice_id', type: 'uuid', value: (r) => r.id },
  { name: 'amount_minor', type: 'bigint', value: (r) => r.invoiceMinor },
  { name: 'currency', type: 'text', value: (r) => r.currency },
  { name: 'source_amount_minor', type: 'bigint', value: (r) => r.memoMinor },
  { name: 'rate', type: 'numeric', value: (r) => r.rate },
];
/** Marks CREDIT_MEMO requests filed by requestCreditMemo (disputes file their own). */
const CREDIT_MEMO_REQUEST = 'credit-memo';

interface InvoiceRow {
  id: string;
  customer_id: string;
  entity_id: string;
  number: string;
  currency: string;
  total_minor: string;
  open_balance_minor: string;
  status: string;
  reconciliation_hold: boolean;
}

const isUuid = (s: string) => /^[0-9a-f-]{36}$/i.test(s);

/**
 * Credit memos (customer credit, applied to invoices), debit memos (a new receivable),
 * adjustments (balance up or down), write-offs through an approval, and the release of usage
 * invoices from reconciliation hold. Each change posts its journal entry in its transaction.
 */
export class CreditService {
  /** Called after commit with the customers whose balances changed (set by the composition root). */
  onCustomersChanged: (ctx: RequestContext, customerIds: string[]) => void = () => undefined;

  constructor(
    private readonly tenants: TenantService,
    private readonly invoices: InvoiceService,
    private readonly actions: ActionService,
    private readonly approvals: ApprovalService,
    private readonly ledger: LedgerService,
    private readonly audit: AuditService,
  ) {
    approvals.registerHandler(WRITE_OFF, { onApproved: (tx, req) => this.executeWriteOff(tx, req) });
    approvals.registerHandler(ApprovalKind.CREDIT_MEMO, {
      appliesTo: (req) => req.payload.source === CREDIT_MEMO_REQUEST,
      onApproved: async (tx, req) => {
        const p = req.payload as { customerId: string; number: string; currency: string; reason: string };
        await this.createCreditMemo(tx, { customerId: p.customerId, number: p.number, amount: formatMinor(req.amountMinor ?? 0n, p.currency), currency: p.currency, reason: p.reason }, { approvalId: req.id });
      },
    });
  }

  /**
   * A credit memo over the tenant's CREDIT_MEMO approval threshold needs `requestCreditMemo`;
   * `approval` is set when an approved request creates it.
   */
  async createCreditMemo(ctx: RequestContext, input: { customerId: string; number: string; amount: string; currency?: string | null; reason: string }, approval?: { approvalId: string }): Promise<ArDocument> {
    const { customer, currency, amount } = await this.checkCreditMemo(ctx, input);
    if (!approval) {
      const plan = await this.approvals.plan(ctx, ApprovalKind.CREDIT_MEMO, { amountMinor: amount, currency, customerTier: customer.tier });
      if (plan.outcome !== 'NOT_REQUIRED') throw badInput('amount', `a credit memo of this amount needs approval (${plan.why}): ask with requestCreditMemo`, PaymentErrors.APPROVAL_REQUIRED);
    }
    const today = await this.tenants.today(ctx);
    return inTransaction(ctx, async (tx) => {
      const doc = await this.saveDocument(tx, { kind: ArDocumentKind.CREDIT_MEMO, number: input.number.trim(), customerId: customer.id, invoiceId: null, currency, amountMinor: amount, openMinor: amount, account: LedgerAccount.SALES_RETURNS, reason: input.reason.trim() });
      await this.ledger.post(tx, [
        {
          kind: JournalKind.CREDIT_MEMO,
          sourceType: 'CreditMemo',
          sourceId: doc.id,
          currency,
          postedOn: today,
          memo: doc.number,
          lines: [
            { account: LedgerAccount.SALES_RETURNS, debitMinor: amount, customerId: customer.id },
            { account: LedgerAccount.CUSTOMER_CREDIT, creditMinor: amount, customerId: customer.id },
          ],
        },
      ]);
      await this.audit.record(tx, { action: 'credit_memo.created', subjectType: 'Customer', subjectId: customer.id, reason: input.reason.trim(), data: { memoId: doc.id, number: doc.number, amountMinor: amount.toString(), currency, approvalId: approval?.approvalId ?? null } });
      return doc;
    });
  }

  private async checkCreditMemo(ctx: RequestContext, input: { customerId: string; number: string; amount: string; currency?: string | null; reason: string }) {
    const customer = await this.customer(ctx, input.customerId);
    const currency = (input.currency ?? customer.currency).toUpperCase();
    if (!isCurrency(currency)) throw badInput('currency', `"${input.currency}" is not an ISO 4217 currency`, PaymentErrors.UNKNOWN_CURRENCY);
    const amount = this.positive('amount', input.amount, currency);
    if (!input.number.trim()) throw badInput('number', 'is required', PaymentErrors.REQUIRED);
    if (!input.reason.trim()) throw badInput('reason', 'say why the credit is given', PaymentErrors.REASON_REQUIRED);
    return { customer, currency, amount };
  }

  /** Files a CREDIT_MEMO approval request; the memo is created when it is approved (at once on the fast path or under the threshold). */
  async requestCreditMemo(ctx: RequestContext, input: { customerId: string; number: string; amount: string; currency?: string | null; reason: string }): Promise<ApprovalRequest> {
    const { customer, currency, amount } = await this.checkCreditMemo(ctx, input);
    const [dup] = await ctx.em.query(`SELECT 1 FROM ar_documents WHERE tenant_id = $1 AND kind = 'CREDIT_MEMO' AND number = $2`, [ctx.tenantId, input.number.trim()]);
    if (dup) throw badInput('number', `a credit memo numbered ${input.number.trim()} exists`, PaymentErrors.DUPLICATE_NUMBER);
    return this.approvals.request(ctx, {
      kind: ApprovalKind.CREDIT_MEMO,
      subjectType: 'Customer',
      subjectId: customer.id,
      amountMinor: amount,
      currency,
      customerTier: customer.tier,
      payload: { source: CREDIT_MEMO_REQUEST, customerId: customer.id, number: input.number.trim(), currency, reason: input.reason.trim() },
      reason: input.reason,
    });
  }

  /**
   * Applies a credit memo's open credit (amounts in the memo currency) to the customer's invoices;
   * an invoice in another currency takes the amount converted at the rate given or stored on the
   * day it is applied (ADR 013).
   */
  async applyCreditMemo(ctx: RequestContext, memoId: string, items: { invoiceId: string; amount: string; rate?: string | null }[]): Promise<ArDocument> {
    if (!items.length) throw badInput('allocations', 'give at least one allocation', PaymentErrors.REQUIRED);
    const today = await this.tenants.today(ctx);
    let customers: string[] = [];
    const doc = await inTransaction(ctx, async (tx) => {
      const memo = isUuid(memoId) ? await tx.em.getRepository(ArDocument).createQueryBuilder('d').setLock('pessimistic_write').where('d.tenant_id = :t AND d.id = :id AND d.kind = :k', { t: ctx.tenantId, id: memoId, k: ArDocumentKind.CREDIT_MEMO }).getOne() : null;
      if (!memo) throw notFound('Credit memo', memoId, 'creditMemoId');
      const invs = await this.lockInvoices(tx, items.map((i) => i.invoiceId));
      const rates = await storedRates(tx, [memo.currency, ...[...invs.values()].map((inv) => inv.currency)]);
      // Per invoice, in the invoice currency (what it loses) and the memo's (what the memo gives up).
      const per = new Map<string, MemoPlacement>();
      let sum = 0n;
      items.forEach((it, i) => {
        const inv = invs.get(it.invoiceId);
        if (!inv) throw badInput(`allocations.${i}.invoiceId`, `invoice ${it.invoiceId} not found`, PaymentErrors.UNKNOWN_INVOICE);
        if (inv.customer_id !== memo.customerId) throw badInput(`allocations.${i}.invoiceId`, 'the invoice belongs to another customer', PaymentErrors.UNKNOWN_INVOICE);
        if (inv.status !== 'OPEN') throw badInput(`allocations.${i}.invoiceId`, `the invoice is ${inv.status}`, PaymentErrors.INVOICE_NOT_OPEN);
        const x = this.positive(`allocations.${i}.amount`, it.amount, memo.currency);
        const fx = placeAcross(`allocations.${i}`, x, memo.currency, inv.currency, it.rate, rates, today);
        const prev = per.get(inv.id);
        if (prev && prev.rate !== (fx?.rate ?? null)) throw badInput(`allocations.${i}.rate`, 'one invoice takes one rate per application', PaymentErrors.INVALID_RATE);
        const total = (prev?.invoiceMinor ?? 0n) + (fx ? fx.invoiceMinor : x);
        if (total > BigInt(inv.open_balance_minor)) throw badInput(`allocations.${i}.amount`, `exceeds the invoice's open balance of ${formatMinor(BigInt(inv.open_balance_minor), inv.currency)} ${inv.currency}`, PaymentErrors.EXCEEDS_BALANCE);
        per.set(inv.id, { id: inv.id, currency: inv.currency, invoiceMinor: total, memoMinor: (prev?.memoMinor ?? 0n) + x, rate: fx?.rate ?? null });
        sum += x;
      });
      if (sum > memo.openMinor) throw badInput('allocations', `together exceed the memo's open credit of ${formatMinor(memo.openMinor, memo.currency)}`, PaymentErrors.EXCEEDS_UNAPPLIED);
      const placed = [...per.values()];
      await this.decrease(tx, placed.map((a) => ({ id: a.id, amount: a.invoiceMinor })), 'PAID', today);
      const src = unnestSource(memoAllocationColumns, placed, 7);
      await tx.em.query(
        `INSERT INTO payment_allocations (tenant_id, credit_memo_id, customer_id, rule, created_by, source_currency, ${src.names})
         SELECT $1, $2, $3, $4, $5, $6, ${src.names} FROM ${src.sql}`,
        [ctx.tenantId, memo.id, memo.customerId, AllocationRule.CREDIT_MEMO, ctx.actor.id, memo.currency, ...src.params],
      );
      memo.openMinor -= sum;
      await tx.em.query(`UPDATE ar_documents SET open_minor = $3 WHERE tenant_id = $1 AND id = $2`, [ctx.tenantId, memo.id, memo.openMinor.toString()]);
      await this.ledger.post(tx, [
        {
          kind: JournalKind.CREDIT_MEMO_APPLIED,
          sourceType: 'CreditMemo',
          sourceId: memo.id,
          currency: memo.currency,
          postedOn: today,
          memo: memo.number,
          lines: [
            { account: LedgerAccount.CUSTOMER_CREDIT, debitMinor: sum, customerId: memo.customerId },
            ...placed.map((a) => ({ account: a.rate ? LedgerAccount.CURRENCY_EXCHANGE : LedgerAccount.AR, creditMinor: a.memoMinor, customerId: memo.customerId, invoiceId: a.id })),
          ],
        },
        // Each invoice in another currency: the exchange account to AR, in the invoice currency.
        ...placed
          .filter((a) => a.rate)
          .map((a) => exchangeToAr({ kind: JournalKind.CREDIT_MEMO_APPLIED, sourceType: 'CreditMemo', sourceId: memo.id, postedOn: today, memo: `${memo.number} at ${a.rate}` }, { id: a.id, customerId: memo.customerId }, a)),
      ]);
      const audited = placed.map((a) => (a.rate ? { invoiceId: a.id, amountMinor: a.memoMinor.toString(), invoiceAmountMinor: a.invoiceMinor.toString(), invoiceCurrency: a.currency, rate: a.rate } : { invoiceId: a.id, amountMinor: a.memoMinor.toString() }));
      await this.audit.record(tx, { action: 'credit_memo.applied', subjectType: 'Customer', subjectId: memo.customerId, data: { memoId: memo.id, allocations: audited } });
      customers = [memo.customerId];
      return memo;
    });
    if (!ctx.inTransaction) this.onCustomersChanged(ctx, customers);
    return doc;
  }

  /** A debit memo is a new receivable: it becomes an invoice (dunned like any other) and posts AR against revenue. */
  async createDebitMemo(ctx: RequestContext, input: { customerId: string; number: string; amount: string; reason: string; dueDate?: string | null }): Promise<ArDocument> {
    const customer = await this.customer(ctx, input.customerId);
    const amount = this.positive('amount', input.amount, customer.currency);
    if (!input.number.trim()) throw badInput('number', 'is required', PaymentErrors.REQUIRED);
    if (!input.reason.trim()) throw badInput('reason', 'say why', PaymentErrors.REASON_REQUIRED);
    const today = await this.tenants.today(ctx);
    const doc = await inTransaction(ctx, async (tx) => {
      const { written, rejected } = await this.invoices.write(tx, [
        {
          externalId: `DM:${input.number.trim()}`,
          customerId: customer.id,
          entityId: customer.entity_id,
          number: input.number.trim(),
          issueDate: today,
          termsKind: PaymentTermsKind.DUE_ON_RECEIPT,
          termsDays: 0,
          dueDate: input.dueDate ?? today,
          billingModel: BillingModel.SERVICES,
          reconciliationHold: false,
          currency: customer.currency,
          totalMinor: amount,
          openBalanceMinor: null,
          poNumber: null,
          lines: null,
        },
      ]);
      const w = written.get(`DM:${input.number.trim()}`);
      if (!w || !w.created) throw badInput('number', rejected.size ? 'cannot raise this debit memo' : 'a debit memo with this number exists', PaymentErrors.DUPLICATE_NUMBER);
      const d = await this.saveDocument(tx, { kind: ArDocumentKind.DEBIT_MEMO, number: input.number.trim(), customerId: customer.id, invoiceId: w.id, currency: customer.currency, amountMinor: amount, openMinor: 0n, account: LedgerAccount.REVENUE, reason: input.reason.trim() });
      await this.ledger.post(tx, [
        {
          kind: JournalKind.DEBIT_MEMO,
          sourceType: 'DebitMemo',
          sourceId: d.id,
          currency: customer.currency,
          postedOn: today,
          memo: d.number,
          lines: [
            { account: LedgerAccount.AR, debitMinor: amount, customerId: customer.id, invoiceId: w.id },
            { account: LedgerAccount.REVENUE, creditMinor: amount, customerId: customer.id },
          ],
        },
      ]);
      return d;
    });
    if (!ctx.inTransaction) this.onCustomersChanged(ctx, [customer.id]);
    return doc;
  }

  /** Moves an invoice's balance: negative lowers it (closing it at zero), positive raises it up to the total. */
  async createAdjustment(ctx: RequestContext, input: { invoiceId: string; amount: string; account?: LedgerAccount | null; reason: string }): Promise<ArDocument> {
    if (!input.reason.trim()) throw badInput('reason', 'say why', PaymentErrors.REASON_REQUIRED);
    const account = input.account ?? LedgerAccount.ADJUSTMENTS;
    if (![LedgerAccount.ADJUSTMENTS, LedgerAccount.DISCOUNTS].includes(account)) throw badInput('account', 'adjustments post to ADJUSTMENTS or DISCOUNTS', PaymentErrors.INVALID_RULES);
    const today = await this.tenants.today(ctx);
    const doc = await inTransaction(ctx, async (tx) => {
      const inv = (await this.lockInvoices(tx, [input.invoiceId])).get(input.invoiceId);
      if (!inv) throw notFound('Invoice', input.invoiceId, 'invoiceId');
      if (inv.status !== 'OPEN' && inv.status !== 'PAID') throw badInput('invoiceId', `the invoice is ${inv.status}`, PaymentErrors.INVOICE_NOT_OPEN);
      const r = parseDecimal(input.amount, inv.currency);
      if (!r.ok) throw badInput('amount', r.message, PaymentErrors.INVALID_AMOUNT);
      if (r.minor === 0n) throw badInput('amount', 'must not be zero', PaymentErrors.NON_POSITIVE_AMOUNT);
      const open = BigInt(inv.open_balance_minor);
      if (r.minor < 0n && -r.minor > open) throw badInput('amount', `lowers the balance below zero (open ${formatMinor(open, inv.currency)})`, PaymentErrors.EXCEEDS_BALANCE);
      if (r.minor > 0n && open + r.minor > BigInt(inv.total_minor)) throw badInput('amount', 'raises the balance above the invoice total', PaymentErrors.EXCEEDS_BALANCE);
      if (r.minor < 0n) await this.decrease(tx, [{ id: inv.id, amount: -r.minor }], 'PAID', today);
      else {
        await tx.em.query(`UPDATE invoices SET open_balance_minor = open_balance_minor + $3, status = 'OPEN', closed_on = NULL, updated_at = now() WHERE tenant_id = $1 AND id = $2`, [ctx.tenantId, inv.id, r.minor.toString()]);
        await this.announce(tx, [inv.id]);
      }
      const d = await this.saveDocument(tx, { kind: ArDocumentKind.ADJUSTMENT, number: `ADJ-${Date.now().toString(36)}-${inv.number}`.slice(0, 100), customerId: inv.customer_id, invoiceId: inv.id, currency: inv.currency, amountMinor: r.minor, openMinor: 0n, account, reason: input.reason.trim() });
      const abs = r.minor < 0n ? -r.minor : r.minor;
      await this.ledger.post(tx, [
        {
          kind: JournalKind.ADJUSTMENT,
          sourceType: 'Adjustment',
          sourceId: d.id,
          currency: inv.currency,
          postedOn: today,
          memo: input.reason.trim().slice(0, 500),
          lines:
            r.minor < 0n
              ? [
                  { account, debitMinor: abs, customerId: inv.customer_id },
                  { account: LedgerAccount.AR, creditMinor: abs, customerId: inv.customer_id, invoiceId: inv.id },
                ]
              : [
                  { account: LedgerAccount.AR, debitMinor: abs, customerId: inv.customer_id, invoiceId: inv.id },
                  { account, creditMinor: abs, customerId: inv.customer_id },
                ],
        },
      ]);
      await this.audit.record(tx, { action: 'invoice.adjusted', subjectType: 'Invoice', subjectId: inv.id, data: { adjustmentId: d.id, amountMinor: r.minor.toString(), account, reason: d.reason } });
      return d;
    });
    if (!ctx.inTransaction) this.onCustomersChanged(ctx, [doc.customerId]);
    return doc;
  }

  /** Asks for a write-off; a MANAGER or above other than the requester decides it. */
  async requestWriteOff(ctx: RequestContext, input: { invoiceId: string; amount?: string | null; reason: string; disputeId?: string | null }): Promise<ApprovalRequest> {
    const [inv]: InvoiceRow[] = isUuid(input.invoiceId) ? await ctx.em.query(`SELECT id, customer_id, currency, open_balance_minor, status FROM invoices WHERE tenant_id = $1 AND id = $2`, [ctx.tenantId, input.invoiceId]) : [];
    if (!inv) throw notFound('Invoice', input.invoiceId, 'invoiceId');
    if (inv.status !== 'OPEN') throw badInput('invoiceId', `the invoice is ${inv.status}`, PaymentErrors.INVOICE_NOT_OPEN);
    const open = BigInt(inv.open_balance_minor);
    const amount = input.amount ? this.positive('amount', input.amount, inv.currency) : open;
    if (amount > open) throw badInput('amount', `exceeds the open balance of ${formatMinor(open, inv.currency)}`, PaymentErrors.EXCEEDS_BALANCE);
    if (!input.reason.trim()) throw badInput('reason', 'say why the balance should be written off', PaymentErrors.REASON_REQUIRED);
    const [cust] = await ctx.em.query(`SELECT tier FROM customers WHERE tenant_id = $1 AND id = $2`, [ctx.tenantId, inv.customer_id]);
    return this.approvals.request(ctx, {
      kind: WRITE_OFF,
      subjectType: 'Invoice',
      subjectId: inv.id,
      amountMinor: amount,
      currency: inv.currency,
      customerTier: cust?.tier ?? null,
      payload: { invoiceId: inv.id, customerId: inv.customer_id, ...(input.disputeId ? { disputeId: input.disputeId } : {}) },
      reason: input.reason,
    });
  }

  async decideWriteOff(ctx: RequestContext, id: string, approve: boolean, note: string | null): Promise<ApprovalRequest> {
    const req = await this.approvals.decide(ctx, id, approve, note, WRITE_OFF);
    if (approve && !ctx.inTransaction) this.onCustomersChanged(ctx, [String(req.payload.customerId)]);
    return req;
  }

  /** Runs inside the approving transaction: the balance must still cover the amount. */
  private async executeWriteOff(tx: RequestContext, req: ApprovalRequest): Promise<void> {
    const inv = (await this.lockInvoices(tx, [req.subjectId])).get(req.subjectId);
    const amount = req.amountMinor ?? 0n;
    if (!inv || inv.status !== 'OPEN' || BigInt(inv.open_balance_minor) < amount) throw badInput('id', 'the invoice balance changed since the request; ask again', PaymentErrors.EXCEEDS_BALANCE);
    const today = await this.tenants.today(tx);
    await this.decrease(tx, [{ id: inv.id, amount }], 'WRITTEN_OFF', today);
    const d = await this.saveDocument(tx, { kind: ArDocumentKind.WRITE_OFF, number: `WO-${req.id}`, customerId: inv.customer_id, invoiceId: inv.id, currency: inv.currency, amountMinor: amount, openMinor: 0n, account: LedgerAccount.WRITE_OFF_EXPENSE, reason: req.reason });
    await this.ledger.post(tx, [
      {
        kind: JournalKind.WRITE_OFF,
        sourceType: 'WriteOff',
        sourceId: d.id,
        currency: inv.currency,
        postedOn: today,
        memo: req.reason.slice(0, 500),
        lines: [
          { account: LedgerAccount.WRITE_OFF_EXPENSE, debitMinor: amount, customerId: inv.customer_id },
          { account: LedgerAccount.AR, creditMinor: amount, customerId: inv.customer_id, invoiceId: inv.id },
        ],
      },
    ]);
    await this.audit.record(tx, { action: 'invoice.written_off', subjectType: 'Invoice', subjectId: inv.id, data: { approvalId: req.id, amountMinor: amount.toString(), requestedBy: req.requestedBy, approvedBy: tx.actor.id } });
  }

  /** Usage is reconciled: the invoice may now be matched by amount and dunned. */
  async releaseReconciliationHold(ctx: RequestContext, invoiceId: string, note: string | null): Promise<string> {
    const customerId = await inTransaction(ctx, async (tx) => {
      const inv = (await this.lockInvoices(tx, [invoiceId])).get(invoiceId);
      if (!inv) throw notFound('Invoice', invoiceId, 'invoiceId');
      if (!inv.reconciliation_hold) throw badInput('invoiceId', 'the invoice is not on reconciliation hold', PaymentErrors.NOT_ON_HOLD);
      await tx.em.query(`UPDATE invoices SET reconciliation_hold = false, updated_at = now() WHERE tenant_id = $1 AND id = $2`, [ctx.tenantId, inv.id]);
      await this.audit.record(tx, { action: 'invoice.reconciliation_released', subjectType: 'Invoice', subjectId: inv.id, data: { note: note?.trim() || null } });
      await this.announce(tx, [inv.id]);
      return inv.customer_id;
    });
    if (!ctx.inTransaction) this.onCustomersChanged(ctx, [customerId]);
    return invoiceId;
  }

  /** Lowers balances; an invoice reaching zero closes (`closeAs`), gets closed_on, and its pending reminders are cancelled. */
  private async decrease(tx: RequestContext, rows: { id: string; amount: bigint }[], closeAs: 'PAID' | 'WRITTEN_OFF', today: string): Promise<void> {
    const res = await tx.em.query(
      `UPDATE invoices i SET open_balance_minor = i.open_balance_minor - v.a,
         status = CASE WHEN i.open_balance_minor - v.a = 0 THEN $4::varchar ELSE i.status END,
         closed_on = CASE WHEN i.open_balance_minor - v.a = 0 THEN $5::date ELSE i.closed_on END, updated_at = now()
       FROM unnest($2::uuid[], $3::bigint[]) AS v(id, a) WHERE i.tenant_id = $1 AND i.id = v.id AND i.open_balance_minor >= v.a RETURNING i.id, i.status`,
      [tx.tenantId, rows.map((r) => r.id), rows.map((r) => r.amount.toString()), closeAs, today],
    );
    const updated = (Array.isArray(res[0]) ? res[0] : res) as { id: string; status: string }[];
    if (updated.length !== rows.length) throw new Error('an invoice balance changed under its lock');
    const closed = updated.filter((u) => u.status === closeAs).map((u) => u.id);
    if (closed.length) await this.actions.cancelForInvoices(tx, closed, closeAs === 'PAID' ? 'invoice paid' : 'invoice written off');
    await this.announce(tx, rows.map((r) => r.id));
  }

  private async announce(tx: RequestContext, ids: string[]): Promise<void> {
    for (const part of chunks(ids, 180)) await emitEvent(tx.em, { type: INVOICES_CHANGED, tenantId: tx.tenantId, payload: { change: InvoiceChangeKind.UPDATED, ids: part } satisfies InvoicesChangedPayload });
  }

  private async lockInvoices(tx: RequestContext, ids: string[]): Promise<Map<string, InvoiceRow>> {
    const uniq = [...new Set(ids)].filter(isUuid);
    if (!uniq.length) return new Map();
    const owners: { customer_id: string }[] = await tx.em.query(`SELECT DISTINCT customer_id FROM invoices WHERE tenant_id = $1 AND id = ANY($2::uuid[])`, [tx.tenantId, uniq]);
    await tx.em.query(`SELECT id FROM actions WHERE tenant_id = $1 AND customer_id = ANY($2::uuid[]) AND invoice_id IS NOT NULL AND status IN ('PLANNED','AWAITING_APPROVAL') ORDER BY id FOR UPDATE`, [
      tx.tenantId,
      owners.map((o) => o.customer_id),
    ]);
    const rows: InvoiceRow[] = await tx.em.query(
      `SELECT id, customer_id, entity_id, number, currency, total_minor, open_balance_minor, status, reconciliation_hold FROM invoices WHERE tenant_id = $1 AND id = ANY($2::uuid[]) ORDER BY id FOR UPDATE`,
      [tx.tenantId, uniq],
    );
    return new Map(rows.map((r) => [r.id, r]));
  }

  private async customer(ctx: RequestContext, id: string): Promise<{ id: string; currency: string; entity_id: string; tier: string | null }> {
    const [c] = isUuid(id) ? await ctx.em.query(`SELECT id, currency, entity_id, tier FROM customers WHERE tenant_id = $1 AND id = $2`, [ctx.tenantId, id]) : [];
    if (!c) throw notFound('Customer', id, 'customerId');
    return c;
  }

  private positive(field: string, value: string, currency: string): bigint {
    const r = parseDecimal(value, currency);
    if (!r.ok) throw badInput(field, r.message, PaymentErrors.INVALID_AMOUNT);
    if (r.minor <= 0n) throw badInput(field, 'must be greater than zero', PaymentErrors.NON_POSITIVE_AMOUNT);
    return r.minor;
  }

  private async saveDocument(tx: RequestContext, d: Omit<ArDocument, 'id' | 'tenantId' | 'createdBy' | 'createdAt'>): Promise<ArDocument> {
    const [exists] = await tx.em.query(`SELECT 1 FROM ar_documents WHERE tenant_id = $1 AND kind = $2 AND number = $3`, [tx.tenantId, d.kind, d.number]);
    if (exists) throw badInput('number', `a ${d.kind.toLowerCase().replace('_', ' ')} numbered ${d.number} exists`, PaymentErrors.DUPLICATE_NUMBER);
    return tx.em.getRepository(ArDocument).save({ ...d, tenantId: tx.tenantId, createdBy: tx.actor.id, createdAt: new Date() });
  }
}
