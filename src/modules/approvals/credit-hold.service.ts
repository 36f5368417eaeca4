import { queryReturning } from '../../platform/db/returning';
import { systemActor } from '../../platform/auth/roles';
import { RequestContext } from '../../platform/context';
import { badInput, notFound } from '../../platform/errors';
import type { Action } from '../actions/action.entity';
import type { ActionService } from '../actions/action.service';
import type { WriteBackConnector } from '../actions/connectors';
import type { TierGateResult } from '../actions/tier-action-executor';
import type { AuditService } from '../audit/audit.service';
import { ApprovalKind, ApprovalStatus, type ApprovalRequest } from './approval-request.entity';
import type { ApprovalService } from './approval.service';

interface CustomerRow {
  id: string;
  currency: string;
  tier: string | null;
  credit_hold: boolean;
  open_minor: string;
}

const isUuid = (s: string) => /^[0-9a-f-]{36}$/i.test(s);

/**
 * Credit holds and releases under the tenant's approval rules: asked for by a person
 * (`requestCreditHold`), or by the engine's tier action, which waits in the outbox while its
 * request is pending and goes out once approved (rejected or expired: it is cancelled).
 */
export class CreditHoldService {
  constructor(
    private readonly approvals: ApprovalService,
    private readonly actions: ActionService,
    private readonly erp: WriteBackConnector,
    private readonly audit: AuditService,
  ) {
    for (const kind of [ApprovalKind.CREDIT_HOLD, ApprovalKind.CREDIT_HOLD_RELEASE]) {
      approvals.registerHandler(kind, {
        onApproved: (tx, req) => this.onApproved(tx, req),
        onRejected: (tx, req) => this.onClosed(tx, req, `approval ${req.id} rejected: ${req.decisionNote ?? ''}`.trim()),
        onExpired: (tx, req) => this.onClosed(tx, req, `approval ${req.id} expired`),
      });
    }
  }

  /** Asks to put a customer on credit hold (or release it); runs at once when the rule needs no person. */
  async request(ctx: RequestContext, input: { customerId: string; hold: boolean; reason: string }): Promise<ApprovalRequest> {
    const c = await this.customer(ctx, input.customerId);
    if (c.credit_hold === input.hold) throw badInput('customerId', input.hold ? 'the customer is already on credit hold' : 'the customer is not on credit hold', input.hold ? 'ALREADY_ON_HOLD' : 'NOT_ON_HOLD');
    if (!input.reason.trim()) throw badInput('reason', 'say why', 'REASON_REQUIRED');
    return this.approvals.request(ctx, {
      kind: input.hold ? ApprovalKind.CREDIT_HOLD : ApprovalKind.CREDIT_HOLD_RELEASE,
      subjectType: 'Customer',
      subjectId: c.id,
      amountMinor: BigInt(c.open_minor),
      currency: c.currency,
      customerTier: c.tier,
      payload: { customerId: c.id, hold: input.hold },
      reason: input.reason,
    });
  }

  /**
   * The gate before the engine's CREDIT_HOLD tier action runs (in the dispatch transaction): a
   * request filed by the rule that fired, so that any manager may decide it.
   */
  async gate(ctx: RequestContext, action: Action): Promise<TierGateResult> {
    const existing = await this.approvals.forAction(ctx, ApprovalKind.CREDIT_HOLD, action.id);
    if (existing) return this.outcome(existing);
    const c = await this.customer(ctx, action.customerId);
    const plan = await this.approvals.plan(ctx, ApprovalKind.CREDIT_HOLD, { amountMinor: BigInt(c.open_minor), currency: c.currency, customerTier: c.tier });
    if (plan.outcome === 'NOT_REQUIRED') return { proceed: true };
    const rule = `rule:tier-${action.tier}`;
    const asRule = new RequestContext(ctx.tenantId, systemActor(ctx.tenantId, rule), ctx.em, ctx.requestId, ctx.logger);
    const req = await this.approvals.request(asRule, {
      kind: ApprovalKind.CREDIT_HOLD,
      subjectType: 'Customer',
      subjectId: c.id,
      amountMinor: BigInt(c.open_minor),
      currency: c.currency,
      customerTier: c.tier,
      payload: { customerId: c.id, hold: true, actionId: action.id, tier: action.tier },
      reason: `escalation tier ${action.tier}: ${action.reason.rule}`,
    });
    return this.outcome(req);
  }

  private outcome(req: ApprovalRequest): TierGateResult {
    if (req.status === ApprovalStatus.APPROVED) return { proceed: true };
    if (req.status === ApprovalStatus.PENDING) return { awaiting: `waiting for approval request ${req.id} (${req.requiredRole} or above)` };
    return { vetoed: `approval request ${req.id} ${req.status.toLowerCase()}` };
  }

  private async onApproved(tx: RequestContext, req: ApprovalRequest): Promise<void> {
    const actionId = typeof req.payload.actionId === 'string' ? req.payload.actionId : null;
    // The engine's action goes back to the outbox; the dispatcher applies the hold.
    if (actionId) return void (await this.actions.releaseAwaiting(tx, actionId, `approval ${req.id} approved`));
    const hold = req.kind === ApprovalKind.CREDIT_HOLD;
    const rows = await queryReturning<{ id: string }>(tx.em, `UPDATE customers SET credit_hold = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2 AND credit_hold <> $3 RETURNING id`, [tx.tenantId, req.subjectId, hold]);
    if (!rows.length) throw badInput('id', hold ? 'the customer is already on credit hold' : 'the customer is no longer on credit hold', hold ? 'ALREADY_ON_HOLD' : 'NOT_ON_HOLD');
    await this.erp.send(tx, { operation: 'customer.credit_hold', idempotencyKey: `approval:${req.id}`, payload: { customerId: req.subjectId, creditHold: hold } });
    await this.audit.record(tx, { action: hold ? 'customer.credit_hold_set' : 'customer.credit_hold_released', subjectType: 'Customer', subjectId: req.subjectId, before: { creditHold: !hold }, after: { creditHold: hold }, reason: req.reason, data: { approvalId: req.id } });
  }

  private async onClosed(tx: RequestContext, req: ApprovalRequest, why: string): Promise<void> {
    const actionId = typeof req.payload.actionId === 'string' ? req.payload.actionId : null;
    if (actionId) await this.actions.cancelAwaiting(tx, actionId, why);
  }

  private async customer(ctx: RequestContext, id: string): Promise<CustomerRow> {
    const [c]: CustomerRow[] = isUuid(id)
      ? await ctx.em.query(
          `SELECT c.id, c.currency, c.tier, c.credit_hold, COALESCE((SELECT sum(open_balance_minor) FROM invoices i WHERE i.tenant_id = c.tenant_id AND i.customer_id = c.id AND i.status = 'OPEN' AND i.currency = c.currency), 0)::text AS open_minor
           FROM customers c WHERE c.tenant_id = $1 AND c.id = $2`,
          [ctx.tenantId, id],
        )
      : [];
    if (!c) throw notFound('Customer', id, 'customerId');
    return c;
  }
}
