import { inTransaction, type RequestContext } from '../../platform/context';
import { AppError, badInput, ErrorCode, notFound } from '../../platform/errors';
import { decodeCursor, toConnection, type Connection } from '../../platform/graphql/connection';
import { formatMinor, parseDecimal } from '../../platform/money/money';
import { addDays, isIsoDate, type IsoDate } from '../../platform/time/dates';
import type { Action } from '../actions/action.entity';
import { ApprovalKind, ApprovalStatus, type ApprovalRequest } from '../approvals/approval-request.entity';
import type { ApprovalService } from '../approvals/approval.service';
import type { AuditService } from '../audit/audit.service';
import type { CreditService } from '../payments/credit.service';
import { ACTIVE_DISPUTE_STATUSES, Dispute, DisputeReason, DisputeResolution, DisputeSource, DisputeStatus } from './dispute.entity';
import type { TaskService } from '../worklists/task.service';

export interface OpenDisputeInput {
  invoiceId: string;
  lineIds?: string[] | null;
  reasonCode: DisputeReason;
  /** Decimal in the invoice currency; defaults to the disputed lines' total, or the open balance. */
  amount?: string | null;
  detail?: string | null;
  /** The day the customer raised it; default today in the tenant's time zone. */
  raisedOn?: string | null;
  ownerUserId?: string | null;
  source?: DisputeSource | null;
}

export interface UpdateDisputeInput {
  status?: DisputeStatus | null;
  reasonCode?: DisputeReason | null;
  amount?: string | null;
  detail?: string | null;
  ownerUserId?: string | null;
  note?: string | null;
}

export interface ResolveDisputeInput {
  resolution: DisputeResolution;
  note: string;
  /** For CREDIT_MEMO: the memo number (default CM-<dispute>); for both CREDIT_MEMO and WRITE_OFF: the amount (default the disputed amount). */
  creditMemoNumber?: string | null;
  amount?: string | null;
}

export interface DisputeFilter {
  invoiceId?: string | null;
  customerId?: string | null;
  status?: DisputeStatus[] | null;
  reasonCode?: DisputeReason[] | null;
  ownerUserId?: string | null;
  slaBreachedAsOf?: string | null;
  openedFrom?: Date | null;
  openedTo?: Date | null;
}

export interface DisputeSettings {
  nudgeAfterDays: number;
  routing: Partial<Record<DisputeReason, string>>;
  slaDays: Record<DisputeReason, number>;
}

/** Working days a reason gets before its SLA is breached, unless the tenant says otherwise. */
export const DEFAULT_SLA_DAYS: Record<DisputeReason, number> = { PRICING: 10, QUANTITY: 10, NOT_RECEIVED: 5, DUPLICATE: 3, TAX: 10, SERVICE: 14, OTHER: 14 };
export const DEFAULT_NUDGE_AFTER_DAYS = 7;

/** Who may move a dispute where; RESOLVED and DISMISSED are reached through resolve and dismiss only. */
const TRANSITIONS: Partial<Record<DisputeStatus, DisputeStatus[]>> = {
  OPEN: [DisputeStatus.AWAITING_CUSTOMER, DisputeStatus.UNDER_REVIEW],
  AWAITING_CUSTOMER: [DisputeStatus.UNDER_REVIEW, DisputeStatus.OPEN],
  UNDER_REVIEW: [DisputeStatus.AWAITING_CUSTOMER],
};

const isUuid = (s: string) => /^[0-9a-f-]{36}$/i.test(s);

export const DisputeErrors = {
  INVOICE_NOT_OPEN: 'INVOICE_NOT_OPEN',
  UNKNOWN_LINE: 'UNKNOWN_LINE',
  INVALID_AMOUNT: 'INVALID_AMOUNT',
  INVALID_DATE: 'INVALID_DATE',
  UNKNOWN_USER: 'UNKNOWN_USER',
  INVALID_TRANSITION: 'INVALID_TRANSITION',
  ALREADY_RESOLVED: 'ALREADY_RESOLVED',
  NOT_SUGGESTED: 'NOT_SUGGESTED',
  AWAITING_APPROVAL: 'AWAITING_APPROVAL',
  REASON_REQUIRED: 'REASON_REQUIRED',
  INVALID_SETTINGS: 'INVALID_SETTINGS',
} as const;

/**
 * Line-level disputes: only what is disputed leaves dunning. Routed to an owner by reason with
 * an SLA, nudged for detail when opened without any, resolved by credit memo, rejection (dunning
 * resumes) or a write-off through an approval. Suggested disputes pause nothing until confirmed.
 */
export class DisputeService {
  /** Called after a dispute opens or closes, with the customer to re-evaluate (set by the composition root). */
  onChange: (ctx: RequestContext, customerIds: string[]) => void = () => undefined;
  /** Set by the composition root (payments is built after disputes: it opens short-pay disputes). */
  credits: CreditService | null = null;

  constructor(
    private readonly audit: AuditService,
    private readonly approvals: ApprovalService,
    private readonly today: (ctx: RequestContext) => Promise<IsoDate>,
    private readonly tasks: TaskService,
  ) {
    const mine = (req: ApprovalRequest) => typeof req.payload.disputeId === 'string';
    for (const kind of [ApprovalKind.WRITE_OFF, ApprovalKind.CREDIT_MEMO]) {
      approvals.registerHandler(kind, {
        appliesTo: mine,
        onApproved: (tx, req) => this.onResolutionApproved(tx, req),
        onRejected: (tx, req) => this.onResolutionClosed(tx, req),
        onExpired: (tx, req) => this.onResolutionClosed(tx, req),
      });
    }
  }

  // --- settings -------------------------------------------------------------------------------

  async settings(ctx: RequestContext): Promise<DisputeSettings> {
    const [row] = await ctx.em.query(`SELECT nudge_after_days, routing, sla_days FROM dispute_settings WHERE tenant_id = $1`, [ctx.tenantId]);
    return { nudgeAfterDays: row?.nudge_after_days ?? DEFAULT_NUDGE_AFTER_DAYS, routing: row?.routing ?? {}, slaDays: { ...DEFAULT_SLA_DAYS, ...(row?.sla_days ?? {}) } };
  }

  async setSettings(ctx: RequestContext, input: { nudgeAfterDays?: number | null; routing?: { reasonCode: DisputeReason; userId: string | null }[] | null; slaDays?: { reasonCode: DisputeReason; days: number }[] | null }): Promise<DisputeSettings> {
    if (input.nudgeAfterDays != null && (!Number.isInteger(input.nudgeAfterDays) || input.nudgeAfterDays < 1 || input.nudgeAfterDays > 365)) throw badInput('nudgeAfterDays', 'must be 1 to 365 days', DisputeErrors.INVALID_SETTINGS);
    (input.slaDays ?? []).forEach((s, i) => {
      if (!Number.isInteger(s.days) || s.days < 1 || s.days > 365) throw badInput(`slaDays.${i}.days`, 'must be 1 to 365 days', DisputeErrors.INVALID_SETTINGS);
    });
    for (const [i, r] of (input.routing ?? []).entries()) if (r.userId) await this.activeUser(ctx, r.userId, `routing.${i}.userId`);
    return inTransaction(ctx, async (tx) => {
      const before = await this.settings(tx);
      const routing = { ...before.routing };
      for (const r of input.routing ?? []) {
        if (r.userId) routing[r.reasonCode] = r.userId;
        else delete routing[r.reasonCode];
      }
      const slaDays = { ...before.slaDays, ...Object.fromEntries((input.slaDays ?? []).map((s) => [s.reasonCode, s.days])) };
      const after: DisputeSettings = { nudgeAfterDays: input.nudgeAfterDays ?? before.nudgeAfterDays, routing, slaDays };
      await tx.em.query(
        `INSERT INTO dispute_settings (tenant_id, nudge_after_days, routing, sla_days, updated_by) VALUES ($1, $2, $3::jsonb, $4::jsonb, $5)
         ON CONFLICT (tenant_id) DO UPDATE SET nudge_after_days = EXCLUDED.nudge_after_days, routing = EXCLUDED.routing, sla_days = EXCLUDED.sla_days, updated_by = EXCLUDED.updated_by, updated_at = now()`,
        [ctx.tenantId, after.nudgeAfterDays, JSON.stringify(routing), JSON.stringify(slaDays), ctx.actor.id],
      );
      // Disputes still waiting for their nudge follow the new delay.
      if (after.nudgeAfterDays !== before.nudgeAfterDays) {
        await tx.em.query(`UPDATE disputes SET nudge_due_on = raised_on + $2::int, updated_at = now() WHERE tenant_id = $1 AND nudged_at IS NULL AND nudge_due_on IS NOT NULL AND status IN ('OPEN','AWAITING_CUSTOMER')`, [ctx.tenantId, after.nudgeAfterDays]);
      }
      await this.audit.record(tx, { action: 'dispute_settings.set', subjectType: 'Tenant', subjectId: ctx.tenantId, before, after });
      return after;
    });
  }

  // --- lifecycle ------------------------------------------------------------------------------

  async open(ctx: RequestContext, input: OpenDisputeInput): Promise<Dispute> {
    return this.create(ctx, input, input.source === DisputeSource.INBOUND ? DisputeStatus.SUGGESTED : DisputeStatus.OPEN);
  }

  /** A dispute found in an inbound reply: it waits for a person and pauses nothing until confirmed. */
  async suggest(ctx: RequestContext, input: OpenDisputeInput): Promise<Dispute> {
    return this.create(ctx, { ...input, source: DisputeSource.INBOUND }, DisputeStatus.SUGGESTED);
  }

  private async create(ctx: RequestContext, input: OpenDisputeInput, status: DisputeStatus): Promise<Dispute> {
    const lineIds = [...new Set(input.lineIds ?? [])];
    const today = await this.today(ctx);
    const raisedOn = input.raisedOn ?? today;
    if (!isIsoDate(raisedOn)) throw badInput('raisedOn', 'must be a date YYYY-MM-DD', DisputeErrors.INVALID_DATE);
    if (raisedOn > today) throw badInput('raisedOn', `cannot be after today (${today})`, DisputeErrors.INVALID_DATE);
    if (input.ownerUserId) await this.activeUser(ctx, input.ownerUserId, 'ownerUserId');
    const settings = await this.settings(ctx);
    const dispute = await inTransaction(ctx, async (tx) => {
      const [inv] = isUuid(input.invoiceId)
        ? await tx.em.query(
            `SELECT i.id, i.customer_id, i.number, i.currency, i.open_balance_minor, i.status, c.owner_user_id FROM invoices i JOIN customers c ON c.id = i.customer_id AND c.tenant_id = i.tenant_id
             WHERE i.tenant_id = $1 AND i.id = $2 FOR UPDATE OF i`,
            [ctx.tenantId, input.invoiceId],
          )
        : [];
      if (!inv) throw notFound('Invoice', input.invoiceId, 'invoiceId');
      if (inv.status !== 'OPEN') throw badInput('invoiceId', `the invoice is ${inv.status}`, DisputeErrors.INVOICE_NOT_OPEN);
      let amount = BigInt(inv.open_balance_minor);
      if (lineIds.length) {
        if (!lineIds.every(isUuid)) throw badInput('lineIds', 'must be line ids of this invoice', DisputeErrors.UNKNOWN_LINE);
        const lines: { id: string; amount_minor: string }[] = await tx.em.query(`SELECT id, amount_minor FROM invoice_lines WHERE tenant_id = $1 AND invoice_id = $2 AND id = ANY($3::uuid[])`, [ctx.tenantId, inv.id, lineIds]);
        if (lines.length !== lineIds.length) throw badInput('lineIds', 'every line must belong to this invoice', DisputeErrors.UNKNOWN_LINE);
        amount = lines.reduce((s, l) => s + BigInt(l.amount_minor), 0n);
      }
      if (input.amount) amount = this.amount('amount', input.amount, inv.currency, BigInt(inv.open_balance_minor));
      const detail = input.detail?.trim() || null;
      const owner = input.ownerUserId ?? (await this.routedOwner(tx, settings, input.reasonCode)) ?? inv.owner_user_id ?? null;
      const d = await tx.em.getRepository(Dispute).save({
        tenantId: ctx.tenantId,
        customerId: inv.customer_id,
        invoiceId: inv.id,
        lineIds,
        reasonCode: input.reasonCode,
        amountMinor: amount,
        currency: inv.currency,
        detail,
        status,
        source: input.source ?? DisputeSource.MANUAL,
        ownerUserId: owner,
        raisedOn,
        slaDueOn: addDays(raisedOn, settings.slaDays[input.reasonCode]),
        nudgeDueOn: detail ? null : addDays(raisedOn, settings.nudgeAfterDays),
        nudgedAt: null,
        resolution: null,
        resolutionNote: null,
        resolvedBy: null,
        creditMemoId: null,
        approvalRequestId: null,
        openedBy: ctx.actor.id,
        openedAt: new Date(),
        confirmedBy: null,
        confirmedAt: null,
        resolvedAt: null,
        updatedAt: new Date(),
      });
      const suggested = status === DisputeStatus.SUGGESTED;
      await this.tasks.create(tx, {
        customerId: d.customerId,
        invoiceId: d.invoiceId,
        ownerUserId: owner,
        reasonCode: suggested ? 'DISPUTE_CONFIRM' : 'DISPUTE_FOLLOW_UP',
        nextAction: suggested ? `Confirm or dismiss the suggested ${d.reasonCode} dispute on invoice ${inv.number}` : `Work the ${d.reasonCode} dispute on invoice ${inv.number} (${formatMinor(amount, d.currency)} ${d.currency})`,
        dueDate: suggested ? today : d.slaDueOn,
        priority: 2,
        source: { kind: suggested ? 'DISPUTE_CONFIRM' : 'DISPUTE', id: d.id },
      });
      await this.audit.record(tx, {
        action: status === DisputeStatus.SUGGESTED ? 'dispute.suggested' : 'dispute.opened',
        subjectType: 'Invoice',
        subjectId: inv.id,
        after: this.snapshot(d),
        data: { disputeId: d.id, lineIds, reasonCode: input.reasonCode, amountMinor: amount.toString() },
      });
      return d;
    });
    if (status !== DisputeStatus.SUGGESTED) this.onChange(ctx, [dispute.customerId]);
    return dispute;
  }

  /** A person confirms a suggested dispute (optionally correcting it): from now on its lines leave dunning. */
  async confirm(ctx: RequestContext, id: string, input: { reasonCode?: DisputeReason | null; amount?: string | null; detail?: string | null }): Promise<Dispute> {
    const d = await inTransaction(ctx, async (tx) => {
      const d = await this.lock(tx, id);
      if (d.status !== DisputeStatus.SUGGESTED) throw badInput('id', `this dispute is ${d.status}, not SUGGESTED`, DisputeErrors.NOT_SUGGESTED);
      const before = this.snapshot(d);
      const settings = await this.settings(tx);
      if (input.reasonCode) d.reasonCode = input.reasonCode;
      if (input.amount) d.amountMinor = this.amount('amount', input.amount, d.currency, await this.openBalance(tx, d.invoiceId));
      if (input.detail?.trim()) d.detail = input.detail.trim();
      const today = await this.today(tx);
      // The clock starts when a person confirms it.
      d.raisedOn = today;
      d.slaDueOn = addDays(today, settings.slaDays[d.reasonCode]);
      d.nudgeDueOn = d.detail ? null : addDays(today, settings.nudgeAfterDays);
      d.status = DisputeStatus.OPEN;
      d.confirmedBy = ctx.actor.id;
      d.confirmedAt = new Date();
      d.updatedAt = new Date();
      await tx.em.getRepository(Dispute).save(d);
      await this.tasks.closeBySource(tx, { kind: 'DISPUTE_CONFIRM', id: d.id }, 'dispute confirmed');
      await this.tasks.create(tx, { customerId: d.customerId, invoiceId: d.invoiceId, ownerUserId: d.ownerUserId, reasonCode: 'DISPUTE_FOLLOW_UP', nextAction: `Work the ${d.reasonCode} dispute (confirmed)`, dueDate: d.slaDueOn, priority: 2, source: { kind: 'DISPUTE', id: d.id } });
      await this.audit.record(tx, { action: 'dispute.confirmed', subjectType: 'Invoice', subjectId: d.invoiceId, before, after: this.snapshot(d), data: { disputeId: d.id } });
      return d;
    });
    this.onChange(ctx, [d.customerId]);
    return d;
  }

  async dismiss(ctx: RequestContext, id: string, reason: string): Promise<Dispute> {
    if (!reason.trim()) throw badInput('reason', 'say why the suggestion is dismissed', DisputeErrors.REASON_REQUIRED);
    return inTransaction(ctx, async (tx) => {
      const d = await this.lock(tx, id);
      if (d.status !== DisputeStatus.SUGGESTED) throw badInput('id', `this dispute is ${d.status}, not SUGGESTED`, DisputeErrors.NOT_SUGGESTED);
      const before = this.snapshot(d);
      d.status = DisputeStatus.DISMISSED;
      d.resolutionNote = reason.trim();
      d.resolvedBy = ctx.actor.id;
      d.resolvedAt = new Date();
      d.updatedAt = new Date();
      await tx.em.getRepository(Dispute).save(d);
      await this.tasks.closeBySource(tx, { kind: 'DISPUTE_CONFIRM', id: d.id }, 'dispute dismissed');
      await this.audit.record(tx, { action: 'dispute.dismissed', subjectType: 'Invoice', subjectId: d.invoiceId, before, after: this.snapshot(d), reason: reason.trim(), data: { disputeId: d.id } });
      return d;
    });
  }

  async update(ctx: RequestContext, id: string, input: UpdateDisputeInput): Promise<Dispute> {
    if (input.ownerUserId) await this.activeUser(ctx, input.ownerUserId, 'ownerUserId');
    return inTransaction(ctx, async (tx) => {
      const d = await this.lock(tx, id);
      if (!ACTIVE_DISPUTE_STATUSES.includes(d.status)) throw badInput('id', `this dispute is ${d.status}`, d.status === DisputeStatus.SUGGESTED ? DisputeErrors.NOT_SUGGESTED : DisputeErrors.ALREADY_RESOLVED);
      const before = this.snapshot(d);
      if (input.status && input.status !== d.status) {
        if (!(TRANSITIONS[d.status] ?? []).includes(input.status)) throw badInput('status', `a dispute cannot go from ${d.status} to ${input.status}${input.status === DisputeStatus.RESOLVED ? ' here: use resolveDispute' : ''}`, DisputeErrors.INVALID_TRANSITION);
        d.status = input.status;
      }
      if (input.reasonCode && input.reasonCode !== d.reasonCode) {
        d.reasonCode = input.reasonCode;
        d.slaDueOn = addDays(d.raisedOn, (await this.settings(tx)).slaDays[d.reasonCode]);
      }
      if (input.amount) d.amountMinor = this.amount('amount', input.amount, d.currency, await this.openBalance(tx, d.invoiceId));
      if (input.detail?.trim()) {
        d.detail = input.detail.trim();
        // The customer said why: no nudge is needed any more.
        if (!d.nudgedAt) d.nudgeDueOn = null;
      }
      if (input.ownerUserId) d.ownerUserId = input.ownerUserId;
      d.updatedAt = new Date();
      await tx.em.getRepository(Dispute).save(d);
      await this.audit.record(tx, { action: 'dispute.updated', subjectType: 'Invoice', subjectId: d.invoiceId, before, after: this.snapshot(d), reason: input.note?.trim() || null, data: { disputeId: d.id } });
      return d;
    });
  }

  /**
   * REJECTED resolves at once (dunning resumes on the disputed lines). CREDIT_MEMO and WRITE_OFF
   * go through approval requests under the tenant's rules; the dispute is UNDER_REVIEW until the
   * request is decided (at once when no person is needed) and resolves when it is approved.
   */
  async resolve(ctx: RequestContext, id: string, input: ResolveDisputeInput): Promise<Dispute> {
    if (!input.note?.trim()) throw badInput('note', 'say how the dispute was settled', DisputeErrors.REASON_REQUIRED);
    const d = await inTransaction(ctx, async (tx) => {
      const d = await this.lock(tx, id);
      if (d.status === DisputeStatus.RESOLVED || d.status === DisputeStatus.DISMISSED) throw badInput('id', `this dispute is already ${d.status}`, DisputeErrors.ALREADY_RESOLVED);
      if (d.status === DisputeStatus.SUGGESTED) throw badInput('id', 'confirm or dismiss a suggested dispute first', DisputeErrors.NOT_SUGGESTED);
      if (d.approvalRequestId) {
        const pending = await this.approvals.get(tx, d.approvalRequestId);
        if (pending?.status === ApprovalStatus.PENDING) throw new AppError(ErrorCode.CONFLICT, `the dispute waits for approval request ${pending.id}`, { field: 'id', reason: DisputeErrors.AWAITING_APPROVAL });
      }
      if (input.resolution === DisputeResolution.REJECTED) return this.markResolved(tx, d, DisputeResolution.REJECTED, input.note.trim(), ctx.actor.id, null);
      const open = await this.openBalance(tx, d.invoiceId);
      const amount = input.amount ? this.amount('amount', input.amount, d.currency, open) : d.amountMinor < open ? d.amountMinor : open;
      if (amount <= 0n) throw badInput('amount', 'nothing is left open on the invoice', DisputeErrors.INVALID_AMOUNT);
      const before = this.snapshot(d);
      d.status = DisputeStatus.UNDER_REVIEW;
      d.resolutionNote = input.note.trim();
      d.updatedAt = new Date();
      await tx.em.getRepository(Dispute).save(d);
      let req: ApprovalRequest;
      if (input.resolution === DisputeResolution.WRITE_OFF) {
        req = await this.creditService().requestWriteOff(tx, { invoiceId: d.invoiceId, amount: formatMinor(amount, d.currency), reason: `dispute ${d.id} (${d.reasonCode}): ${input.note.trim()}`, disputeId: d.id });
      } else {
        const [c] = await tx.em.query(`SELECT tier FROM customers WHERE tenant_id = $1 AND id = $2`, [tx.tenantId, d.customerId]);
        req = await this.approvals.request(tx, {
          kind: ApprovalKind.CREDIT_MEMO,
          subjectType: 'Invoice',
          subjectId: d.invoiceId,
          amountMinor: amount,
          currency: d.currency,
          customerTier: c?.tier ?? null,
          payload: { disputeId: d.id, customerId: d.customerId, invoiceId: d.invoiceId, number: input.creditMemoNumber?.trim() || `CM-${d.id.slice(0, 8).toUpperCase()}` },
          reason: `dispute ${d.id} (${d.reasonCode}): ${input.note.trim()}`,
        });
      }
      // Approved at once (no person needed): the handler has resolved the dispute already.
      const fresh = await this.lock(tx, d.id);
      if (req.status === ApprovalStatus.PENDING) {
        fresh.approvalRequestId = req.id;
        await tx.em.getRepository(Dispute).save(fresh);
        await this.tasks.create(tx, { customerId: d.customerId, invoiceId: d.invoiceId, reasonCode: 'APPROVAL_PENDING', nextAction: `Decide the ${req.kind} request for dispute ${d.id}`, priority: 3, assignTo: 'MANAGERS', source: { kind: 'APPROVAL', id: req.id } });
      }
      await this.audit.record(tx, { action: 'dispute.resolution_requested', subjectType: 'Invoice', subjectId: d.invoiceId, before, after: this.snapshot(fresh), reason: input.note.trim(), data: { disputeId: d.id, resolution: input.resolution, approvalId: req.id, approvalStatus: req.status } });
      return fresh;
    });
    if (d.status === DisputeStatus.RESOLVED) this.onChange(ctx, [d.customerId]);
    return d;
  }

  private async markResolved(tx: RequestContext, d: Dispute, resolution: DisputeResolution, note: string | null, by: string, creditMemoId: string | null): Promise<Dispute> {
    const before = this.snapshot(d);
    const approvalId = d.approvalRequestId;
    d.status = DisputeStatus.RESOLVED;
    d.resolution = resolution;
    d.resolutionNote = note ?? d.resolutionNote;
    d.resolvedBy = by;
    d.resolvedAt = new Date();
    d.creditMemoId = creditMemoId ?? d.creditMemoId;
    d.updatedAt = new Date();
    await tx.em.getRepository(Dispute).save(d);
    await this.tasks.closeBySource(tx, { kind: 'DISPUTE', id: d.id }, `dispute resolved: ${resolution}`);
    if (approvalId) await this.tasks.closeBySource(tx, { kind: 'APPROVAL', id: approvalId }, `dispute resolved: ${resolution}`);
    await this.audit.record(tx, { action: 'dispute.resolved', subjectType: 'Invoice', subjectId: d.invoiceId, before, after: this.snapshot(d), reason: d.resolutionNote, data: { disputeId: d.id, resolution } });
    return d;
  }

  /** The approval of a dispute's write-off or credit memo resolves it (the write-off itself is the payments module's handler). */
  private async onResolutionApproved(tx: RequestContext, req: ApprovalRequest): Promise<void> {
    const d = await this.lock(tx, String(req.payload.disputeId));
    let memoId: string | null = null;
    if (req.kind === ApprovalKind.CREDIT_MEMO) {
      const credits = this.creditService();
      const p = req.payload as { customerId: string; invoiceId: string; number: string };
      const amount = formatMinor(req.amountMinor ?? 0n, d.currency);
      const memo = await credits.createCreditMemo(tx, { customerId: p.customerId, number: p.number, amount, currency: d.currency, reason: req.reason }, { approvalId: req.id });
      await credits.applyCreditMemo(tx, memo.id, [{ invoiceId: p.invoiceId, amount }]);
      memoId = memo.id;
    }
    await this.markResolved(tx, d, req.kind === ApprovalKind.CREDIT_MEMO ? DisputeResolution.CREDIT_MEMO : DisputeResolution.WRITE_OFF, null, tx.actor.id, memoId);
  }

  /** Rejected or expired: the dispute stays under review for another decision. */
  private async onResolutionClosed(tx: RequestContext, req: ApprovalRequest): Promise<void> {
    const d = await this.lock(tx, String(req.payload.disputeId));
    d.approvalRequestId = null;
    d.updatedAt = new Date();
    await tx.em.getRepository(Dispute).save(d);
    await this.tasks.closeBySource(tx, { kind: 'APPROVAL', id: req.id }, `approval ${req.status.toLowerCase()}`);
    await this.audit.record(tx, { action: 'dispute.resolution_declined', subjectType: 'Invoice', subjectId: d.invoiceId, data: { disputeId: d.id, approvalId: req.id, kind: req.kind, status: req.status } });
  }

  // --- nudges ---------------------------------------------------------------------------------

  /**
   * Plans the nudge of each dispute of these customers opened without detail whose nudge day has
   * come (runs inside each evaluation batch, so `runEvaluation(asOf)` replays it). One action per
   * dispute (idempotency key), audited with the rule as the actor.
   */
  async planNudges(tx: RequestContext, b: { customerIds: string[]; asOf: IsoDate; runId: string | null }): Promise<number> {
    const [{ n }] = await tx.em.query(
      `WITH ins AS (
         INSERT INTO actions (tenant_id, idempotency_key, customer_id, invoice_id, policy_version_id, evaluation_run_id, kind, channels, template_key, mode, status, reason, amount_due_minor, currency, scheduled_for, packet)
         SELECT d.tenant_id, 'dispute-nudge:' || d.id, d.customer_id, d.invoice_id, NULL, $4::uuid, 'DISPUTE_NUDGE', '{EMAIL}', 'dispute-nudge', 'AUTO', 'PLANNED',
                jsonb_build_object('rule', 'dispute-nudge (no detail after ' || (d.nudge_due_on - d.raised_on) || ' days)',
                  'facts', jsonb_build_object('disputeId', d.id, 'reasonCode', d.reason_code, 'raisedOn', d.raised_on, 'nudgeDueOn', d.nudge_due_on)),
                d.amount_minor, d.currency, $3::date, jsonb_build_object('disputeId', d.id)
         FROM disputes d
         WHERE d.tenant_id = $1 AND d.customer_id = ANY($2::uuid[]) AND d.status IN ('OPEN','AWAITING_CUSTOMER') AND d.detail IS NULL
           AND d.nudged_at IS NULL AND d.nudge_due_on <= $3::date
         ON CONFLICT (tenant_id, idempotency_key) DO NOTHING RETURNING id, invoice_id, reason, scheduled_for),
       aud AS (
         INSERT INTO audit_events (tenant_id, actor_kind, actor_id, action, subject_type, subject_id, data, request_id)
         SELECT $1, 'rule', 'dispute-nudge', 'engine.action_planned', 'Invoice', ins.invoice_id::text,
                jsonb_build_object('actionId', ins.id, 'kind', 'DISPUTE_NUDGE', 'scheduledFor', ins.scheduled_for, 'reason', ins.reason->>'rule', 'facts', ins.reason->'facts'), $5
         FROM ins)
       SELECT count(*)::int AS n FROM ins`,
      [tx.tenantId, b.customerIds, b.asOf, b.runId, tx.requestId],
    );
    return n;
  }

  /**
   * Sends a planned nudge inside the dispatch transaction, after re-checking the dispute: still
   * open, still without detail, not nudged yet. The dispute then awaits the customer.
   */
  async sendNudge(tx: RequestContext, action: Action, asOf: IsoDate, send: (tx: RequestContext, d: Dispute, action: Action, asOf: IsoDate) => Promise<{ sent: true } | { suppressed: string }>): Promise<{ sent: true } | { suppressed: string }> {
    const id = String(action.packet?.disputeId ?? '');
    const [d] = isUuid(id) ? await tx.em.getRepository(Dispute).createQueryBuilder('d').setLock('pessimistic_write').where('d.tenant_id = :t AND d.id = :id', { t: tx.tenantId, id }).getMany() : [];
    if (!d) return { suppressed: 'dispute not found' };
    if (d.status !== DisputeStatus.OPEN && d.status !== DisputeStatus.AWAITING_CUSTOMER) return { suppressed: `dispute is ${d.status}` };
    if (d.detail) return { suppressed: 'the customer gave detail' };
    if (d.nudgedAt) return { suppressed: 'already nudged' };
    const r = await send(tx, d, action, asOf);
    if ('suppressed' in r) return r;
    const before = this.snapshot(d);
    d.nudgedAt = new Date();
    d.status = DisputeStatus.AWAITING_CUSTOMER;
    d.updatedAt = new Date();
    await tx.em.getRepository(Dispute).save(d);
    await this.audit.record(tx, { action: 'dispute.nudged', subjectType: 'Invoice', subjectId: d.invoiceId, actor: { kind: 'rule', id: 'dispute-nudge' }, before, after: this.snapshot(d), data: { disputeId: d.id, actionId: action.id, asOf } });
    return r;
  }

  // --- reads ----------------------------------------------------------------------------------

  async get(ctx: RequestContext, id: string): Promise<Dispute | null> {
    return isUuid(id) ? ctx.em.getRepository(Dispute).findOneBy({ tenantId: ctx.tenantId, id }) : null;
  }

  /** Newest first, keyset on (opened_at, id). */
  async list(ctx: RequestContext, args: { first: number; after?: string | null; filter?: DisputeFilter | null }): Promise<Connection<Dispute>> {
    const f = args.filter ?? {};
    const qb = ctx.em.getRepository(Dispute).createQueryBuilder('d').where('d.tenant_id = :t', { t: ctx.tenantId });
    const uuidOrNone = (field: string, v: string) => {
      if (!isUuid(v)) throw badInput(`filter.${field}`, 'is not an id', 'INVALID_ID');
      return v;
    };
    if (f.invoiceId) qb.andWhere('d.invoice_id = :inv', { inv: uuidOrNone('invoiceId', f.invoiceId) });
    if (f.customerId) qb.andWhere('d.customer_id = :cust', { cust: uuidOrNone('customerId', f.customerId) });
    if (f.ownerUserId) qb.andWhere('d.owner_user_id = :own', { own: uuidOrNone('ownerUserId', f.ownerUserId) });
    if (f.status?.length) qb.andWhere('d.status IN (:...status)', { status: f.status });
    if (f.reasonCode?.length) qb.andWhere('d.reason_code IN (:...reasons)', { reasons: f.reasonCode });
    if (f.slaBreachedAsOf) qb.andWhere(`d.status IN ('OPEN','AWAITING_CUSTOMER','UNDER_REVIEW') AND d.sla_due_on < CAST(:breach AS date)`, { breach: f.slaBreachedAsOf });
    if (f.openedFrom) qb.andWhere('d.opened_at >= :from', { from: f.openedFrom });
    if (f.openedTo) qb.andWhere('d.opened_at <= :to', { to: f.openedTo });
    const countQb = qb.clone();
    if (args.after) {
      const c = decodeCursor(args.after);
      if (!isUuid(c.id) || typeof c.k !== 'string') throw badInput('after', 'is not a cursor returned by this API', 'INVALID_CURSOR');
      qb.andWhere('(d.opened_at, d.id) < (CAST(:k AS timestamptz), CAST(:kid AS uuid))', { k: c.k, kid: c.id });
    }
    // Microsecond precision in the cursor: a JS Date would round it and skip or repeat rows.
    const rows = await qb
      .addSelect(`to_char(d.opened_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`, 'opened_key')
      .orderBy('d.opened_at', 'DESC')
      .addOrderBy('d.id', 'DESC')
      .limit(args.first + 1)
      .getRawAndEntities();
    const keys = new Map(rows.raw.map((r: { d_id: string; opened_key: string }) => [r.d_id, r.opened_key]));
    const conn = toConnection(rows.entities, args.first, 0, (d) => ({ k: keys.get(d.id) ?? d.openedAt.toISOString(), id: d.id }), !!args.after);
    let count: Promise<number> | undefined;
    Object.defineProperty(conn, 'totalCount', { enumerable: true, get: () => (count ??= countQb.getCount()) });
    return conn;
  }

  // --- helpers --------------------------------------------------------------------------------

  private creditService(): CreditService {
    if (!this.credits) throw new Error('DisputeService.credits is not wired');
    return this.credits;
  }

  private async lock(tx: RequestContext, id: string): Promise<Dispute> {
    const d = isUuid(id) ? await tx.em.getRepository(Dispute).createQueryBuilder('d').setLock('pessimistic_write').where('d.tenant_id = :t AND d.id = :id', { t: tx.tenantId, id }).getOne() : null;
    if (!d) throw notFound('Dispute', id, 'id');
    return d;
  }

  private amount(field: string, value: string, currency: string, max: bigint): bigint {
    const r = parseDecimal(value, currency);
    if (!r.ok) throw badInput(field, r.message, DisputeErrors.INVALID_AMOUNT);
    if (r.minor <= 0n) throw badInput(field, 'must be positive', DisputeErrors.INVALID_AMOUNT);
    if (r.minor > max) throw badInput(field, 'cannot exceed the open balance', DisputeErrors.INVALID_AMOUNT);
    return r.minor;
  }

  private async openBalance(tx: RequestContext, invoiceId: string): Promise<bigint> {
    const [r] = await tx.em.query(`SELECT open_balance_minor FROM invoices WHERE tenant_id = $1 AND id = $2`, [tx.tenantId, invoiceId]);
    return BigInt(r?.open_balance_minor ?? 0);
  }

  private async routedOwner(tx: RequestContext, s: DisputeSettings, reason: DisputeReason): Promise<string | null> {
    const userId = s.routing[reason];
    if (!userId) return null;
    const [u] = await tx.em.query(`SELECT id FROM users WHERE tenant_id = $1 AND id = $2 AND active`, [tx.tenantId, userId]);
    return u?.id ?? null;
  }

  private async activeUser(ctx: RequestContext, id: string, field: string): Promise<void> {
    const [u] = isUuid(id) ? await ctx.em.query(`SELECT id FROM users WHERE tenant_id = $1 AND id = $2 AND active`, [ctx.tenantId, id]) : [];
    if (!u) throw badInput(field, `no active user ${id}`, DisputeErrors.UNKNOWN_USER);
  }

  private snapshot(d: Dispute): Record<string, unknown> {
    return { status: d.status, reasonCode: d.reasonCode, amountMinor: d.amountMinor.toString(), ownerUserId: d.ownerUserId, slaDueOn: d.slaDueOn, nudgeDueOn: d.nudgeDueOn, resolution: d.resolution, hasDetail: !!d.detail };
  }
}
