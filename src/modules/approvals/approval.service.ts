import { Role, roleAtLeast, systemActor } from '../../platform/auth/roles';
import { inTransaction, RequestContext } from '../../platform/context';
import { AppError, badInput, ErrorCode, forbidden, notFound } from '../../platform/errors';
import { isCurrency, parseDecimal } from '../../platform/money/money';
import type { AuditService } from '../audit/audit.service';
import { ApprovalKind, ApprovalRequest, ApprovalStatus } from './approval-request.entity';
import { effectiveRules, planApproval, type ApprovalCase, type ApprovalPlan, type ApprovalRule } from './approval-rules';

/** What happens when a request of a kind is approved, rejected or expires; runs in the deciding transaction. */
export interface ApprovalHandler {
  /** When several modules handle one kind, each says which requests are its own (default: all). */
  appliesTo?(request: ApprovalRequest): boolean;
  onApproved(ctx: RequestContext, request: ApprovalRequest): Promise<void>;
  onRejected?(ctx: RequestContext, request: ApprovalRequest): Promise<void>;
  onExpired?(ctx: RequestContext, request: ApprovalRequest): Promise<void>;
}

export interface NewApproval {
  kind: ApprovalKind | string;
  subjectType: string;
  subjectId: string;
  amountMinor?: bigint | null;
  currency?: string | null;
  payload?: Record<string, unknown>;
  reason: string;
  /** The customer's tier, for the fast path's exclusions. */
  customerTier?: string | null;
}

export interface ApprovalRuleInput {
  kind: ApprovalKind;
  requiresApproval?: boolean | null;
  currency?: string | null;
  threshold?: string | null;
  minRole?: Role | null;
  escalations?: { above: string; minRole: Role }[] | null;
  fastPath?: { maxAmount: string; excludeTiers?: string[] | null } | null;
  expiresAfterHours?: number | null;
}

export interface ApprovalFilter {
  status?: ApprovalStatus[] | null;
  kind?: string | null;
  kinds?: ApprovalKind[] | null;
  subjectId?: string | null;
  requestedBy?: string | null;
  limit?: number | null;
}

const isUuid = (s: string) => /^[0-9a-f-]{36}$/i.test(s);
const RULE_ACTOR = 'rule';

export class ApprovalErrors {
  static readonly REASON_REQUIRED = 'REASON_REQUIRED';
  static readonly ALREADY_DECIDED = 'ALREADY_DECIDED';
  static readonly EXPIRED = 'EXPIRED';
  static readonly INVALID_RULES = 'INVALID_RULES';
}

/**
 * Approvals: who asked, who decided (never the same, never a collector, at least the rule's
 * role), why, and until when. Tenant rules say which kinds need a person; the fast path lets a
 * rule approve routine low-risk cases itself, recorded as the approver.
 */
export class ApprovalService {
  private readonly handlers = new Map<string, ApprovalHandler[]>();
  /** Clock, replaceable in tests. */
  now: () => Date = () => new Date();

  constructor(private readonly audit: AuditService) {}

  registerHandler(kind: string, handler: ApprovalHandler): void {
    this.handlers.set(kind, [...(this.handlers.get(kind) ?? []), handler]);
  }

  private handlersFor(req: ApprovalRequest): ApprovalHandler[] {
    return (this.handlers.get(req.kind) ?? []).filter((h) => !h.appliesTo || h.appliesTo(req));
  }

  async rules(ctx: RequestContext): Promise<ApprovalRule[]> {
    const [row] = await ctx.em.query(`SELECT rules FROM approval_rules WHERE tenant_id = $1`, [ctx.tenantId]);
    return effectiveRules(row?.rules as ApprovalRule[] | undefined);
  }

  async rule(ctx: RequestContext, kind: ApprovalKind | string): Promise<ApprovalRule> {
    const r = (await this.rules(ctx)).find((x) => x.kind === kind);
    if (!r) throw badInput('kind', `unknown approval kind ${kind}`, ApprovalErrors.INVALID_RULES);
    return r;
  }

  /** What a request would need now, without creating it (callers skip the request when NOT_REQUIRED). */
  async plan(ctx: RequestContext, kind: ApprovalKind | string, c: ApprovalCase): Promise<ApprovalPlan> {
    return planApproval(await this.rule(ctx, kind), c, this.now());
  }

  /** Replaces the rules of the kinds given; the others keep theirs. Every input problem names its field. */
  async setRules(ctx: RequestContext, inputs: ApprovalRuleInput[]): Promise<ApprovalRule[]> {
    const [tenant] = await ctx.em.query(`SELECT functional_currency FROM tenants WHERE id = $1`, [ctx.tenantId]);
    const seen = new Set<string>();
    const parsed = inputs.map((i, n): ApprovalRule => {
      const f = (x: string) => `rules.${n}.${x}`;
      if (seen.has(i.kind)) throw badInput(f('kind'), `${i.kind} is given twice`, ApprovalErrors.INVALID_RULES);
      seen.add(i.kind);
      const currency = (i.currency ?? tenant.functional_currency).toUpperCase();
      if (!isCurrency(currency)) throw badInput(f('currency'), `"${i.currency}" is not an ISO 4217 currency`, ApprovalErrors.INVALID_RULES);
      const amount = (field: string, v: string) => {
        const r = parseDecimal(v, currency);
        if (!r.ok) throw badInput(field, r.message, ApprovalErrors.INVALID_RULES);
        if (r.minor < 0n) throw badInput(field, 'must not be negative', ApprovalErrors.INVALID_RULES);
        return r.minor.toString();
      };
      const approverRole = (field: string, role: Role) => {
        if (!roleAtLeast(role, Role.MANAGER)) throw badInput(field, 'approvers are MANAGER or ADMIN; a collector or viewer cannot approve', ApprovalErrors.INVALID_RULES);
        return role;
      };
      const hours = i.expiresAfterHours ?? 72;
      if (!Number.isInteger(hours) || hours < 1 || hours > 24 * 90) throw badInput(f('expiresAfterHours'), 'must be 1 to 2160 hours', ApprovalErrors.INVALID_RULES);
      return {
        kind: i.kind,
        requiresApproval: i.requiresApproval ?? true,
        currency,
        thresholdMinor: i.threshold ? amount(f('threshold'), i.threshold) : null,
        minRole: approverRole(f('minRole'), i.minRole ?? Role.MANAGER),
        escalations: (i.escalations ?? []).map((e, k) => ({ aboveMinor: amount(f(`escalations.${k}.above`), e.above), minRole: approverRole(f(`escalations.${k}.minRole`), e.minRole) })),
        fastPath: i.fastPath ? { maxAmountMinor: amount(f('fastPath.maxAmount'), i.fastPath.maxAmount), excludeTiers: i.fastPath.excludeTiers ?? ['strategic'] } : null,
        expiresAfterHours: hours,
      };
    });
    return inTransaction(ctx, async (tx) => {
      const before = await this.rules(tx);
      const after = before.map((r) => parsed.find((p) => p.kind === r.kind) ?? r);
      await tx.em.query(
        `INSERT INTO approval_rules (tenant_id, rules, updated_by) VALUES ($1, $2::jsonb, $3)
         ON CONFLICT (tenant_id) DO UPDATE SET rules = EXCLUDED.rules, updated_by = EXCLUDED.updated_by, updated_at = now()`,
        [ctx.tenantId, JSON.stringify(after), ctx.actor.id],
      );
      await this.audit.record(tx, { action: 'approval_rules.set', subjectType: 'Tenant', subjectId: ctx.tenantId, before: before.filter((r) => seen.has(r.kind)), after: parsed });
      return after;
    });
  }

  /**
   * Files a request under the tenant's rule: PENDING for a person, or APPROVED at once by the
   * rule (fast path, or a kind that needs no approval) with its handler run in this transaction.
   */
  async request(ctx: RequestContext, input: NewApproval): Promise<ApprovalRequest> {
    if (!input.reason.trim()) throw badInput('reason', 'say why', ApprovalErrors.REASON_REQUIRED);
    const plan = await this.plan(ctx, input.kind, { amountMinor: input.amountMinor ?? null, currency: input.currency ?? null, customerTier: input.customerTier ?? null });
    return inTransaction(ctx, async (tx) => {
      const pending = plan.outcome === 'PENDING';
      const repo = tx.em.getRepository(ApprovalRequest);
      const req = await repo.save({
        tenantId: ctx.tenantId,
        kind: input.kind as ApprovalKind,
        subjectType: input.subjectType,
        subjectId: input.subjectId,
        amountMinor: input.amountMinor ?? null,
        currency: input.currency ?? null,
        payload: input.payload ?? {},
        reason: input.reason.trim(),
        status: ApprovalStatus.PENDING,
        requestedBy: ctx.actor.id,
        requestedAt: this.now(),
        requiredRole: pending ? plan.requiredRole : plan.rule.minRole,
        expiresAt: pending ? plan.expiresAt : null,
        rule: { ...plan.rule, outcome: plan.outcome, why: plan.why } as unknown as Record<string, unknown>,
        decidedBy: null,
        decidedByKind: null,
        decidedAt: null,
        decisionNote: null,
      });
      await this.audit.record(tx, {
        action: 'approval.requested',
        subjectType: input.subjectType,
        subjectId: input.subjectId,
        reason: req.reason,
        after: { approvalId: req.id, kind: req.kind, status: req.status, requiredRole: req.requiredRole, expiresAt: req.expiresAt },
        data: { approvalId: req.id, kind: input.kind, amountMinor: input.amountMinor?.toString() ?? null },
      });
      if (!pending) {
        // The rule decides: recorded as the approver, never as the requester.
        const ruleId = `${RULE_ACTOR}:${plan.outcome === 'FAST_PATH' ? 'fast-path' : 'not-required'}:${req.kind}`;
        await this.applyDecision(tx, req, true, plan.why, { kind: RULE_ACTOR, id: ruleId });
      }
      return req;
    });
  }

  /** Approves a pending request (MANAGER or above, at least the rule's role, never the requester). */
  approve(ctx: RequestContext, id: string, reason: string | null, expectKind?: string): Promise<ApprovalRequest> {
    return this.decide(ctx, id, true, reason, expectKind);
  }

  reject(ctx: RequestContext, id: string, reason: string, expectKind?: string): Promise<ApprovalRequest> {
    return this.decide(ctx, id, false, reason, expectKind);
  }

  async decide(ctx: RequestContext, id: string, approve: boolean, note: string | null, expectKind?: string): Promise<ApprovalRequest> {
    if (!roleAtLeast(ctx.actor.role, Role.MANAGER)) throw forbidden('deciding approvals needs MANAGER or above; a collector cannot approve');
    if (!approve && !note?.trim()) throw badInput('reason', 'say why the request is rejected', ApprovalErrors.REASON_REQUIRED);
    await this.expireDue(ctx);
    return inTransaction(ctx, async (tx) => {
      const repo = tx.em.getRepository(ApprovalRequest);
      const req = isUuid(id) ? await repo.createQueryBuilder('r').setLock('pessimistic_write').where('r.tenant_id = :t AND r.id = :id', { t: ctx.tenantId, id }).getOne() : null;
      if (!req || (expectKind && req.kind !== expectKind)) throw notFound(expectKind === ApprovalKind.WRITE_OFF ? 'Write-off request' : 'Approval request', id, 'id');
      if (req.status === ApprovalStatus.EXPIRED) throw new AppError(ErrorCode.CONFLICT, `this request expired at ${req.expiresAt?.toISOString()}; ask again`, { field: 'id', reason: ApprovalErrors.EXPIRED });
      if (req.status !== ApprovalStatus.PENDING) throw badInput('id', `this request is already ${req.status}`, ApprovalErrors.ALREADY_DECIDED);
      if (req.requestedBy === ctx.actor.id) throw forbidden('the requester cannot decide their own request');
      if (!roleAtLeast(ctx.actor.role, req.requiredRole)) throw forbidden(`this request needs ${req.requiredRole} or above`);
      await this.applyDecision(tx, req, approve, note?.trim() || null, { kind: ctx.actor.kind, id: ctx.actor.id });
      return req;
    });
  }

  private async applyDecision(tx: RequestContext, req: ApprovalRequest, approve: boolean, note: string | null, by: { kind: 'api_key' | 'system' | 'rule'; id: string }): Promise<void> {
    const before = req.status;
    req.status = approve ? ApprovalStatus.APPROVED : ApprovalStatus.REJECTED;
    req.decidedBy = by.id;
    req.decidedByKind = by.kind;
    req.decidedAt = this.now();
    req.decisionNote = note;
    await tx.em.getRepository(ApprovalRequest).save(req);
    // Handlers run as the decider (a rule acts as the system with the rule's name).
    const actx = by.kind === RULE_ACTOR ? new RequestContext(tx.tenantId, systemActor(tx.tenantId, by.id), tx.em, tx.requestId, tx.logger) : tx;
    for (const handler of this.handlersFor(req)) {
      if (approve) await handler.onApproved(actx, req);
      else await handler.onRejected?.(actx, req);
    }
    await this.audit.record(tx, {
      action: approve ? 'approval.approved' : 'approval.rejected',
      subjectType: req.subjectType,
      subjectId: req.subjectId,
      actor: by,
      reason: note,
      before: { status: before },
      after: { status: req.status, decidedBy: by.id },
      data: { approvalId: req.id, kind: req.kind, requestedBy: req.requestedBy, note },
    });
  }

  /** Marks pending requests past their expiry EXPIRED (read-time check and the expiry job). */
  async expireDue(ctx: RequestContext): Promise<number> {
    const [{ n }] = await ctx.em.query(`SELECT count(*)::int AS n FROM approval_requests WHERE tenant_id = $1 AND status = 'PENDING' AND expires_at <= $2`, [ctx.tenantId, this.now()]);
    if (!n) return 0;
    return inTransaction(ctx, async (tx) => {
      const due = await tx.em
        .getRepository(ApprovalRequest)
        .createQueryBuilder('r')
        .setLock('pessimistic_write')
        .setOnLocked('skip_locked')
        .where(`r.tenant_id = :t AND r.status = 'PENDING' AND r.expires_at <= :now`, { t: ctx.tenantId, now: this.now() })
        .getMany();
      for (const req of due) {
        req.status = ApprovalStatus.EXPIRED;
        req.decidedAt = this.now();
        req.decidedBy = 'system:expiry';
        req.decidedByKind = 'system';
        await tx.em.getRepository(ApprovalRequest).save(req);
        for (const handler of this.handlersFor(req)) await handler.onExpired?.(tx, req);
        await this.audit.record(tx, {
          action: 'approval.expired',
          subjectType: req.subjectType,
          subjectId: req.subjectId,
          actor: { kind: 'system', id: 'approval-expiry' },
          before: { status: ApprovalStatus.PENDING },
          after: { status: ApprovalStatus.EXPIRED },
          data: { approvalId: req.id, kind: req.kind, expiresAt: req.expiresAt },
        });
      }
      return due.length;
    });
  }

  async get(ctx: RequestContext, id: string): Promise<ApprovalRequest | null> {
    return isUuid(id) ? ctx.em.getRepository(ApprovalRequest).findOneBy({ tenantId: ctx.tenantId, id }) : null;
  }

  /** The request that gates an outbox action, if one was filed. */
  async forAction(ctx: RequestContext, kind: ApprovalKind, actionId: string): Promise<ApprovalRequest | null> {
    return ctx.em.getRepository(ApprovalRequest).createQueryBuilder('r').where(`r.tenant_id = :t AND r.kind = :k AND r.payload->>'actionId' = :a`, { t: ctx.tenantId, k: kind, a: actionId }).getOne();
  }

  async list(ctx: RequestContext, filter: ApprovalFilter): Promise<ApprovalRequest[]> {
    await this.expireDue(ctx);
    const qb = ctx.em.getRepository(ApprovalRequest).createQueryBuilder('r').where('r.tenant_id = :t', { t: ctx.tenantId });
    if (filter.status?.length) qb.andWhere('r.status IN (:...status)', { status: filter.status });
    const kinds = [...(filter.kinds ?? []), ...(filter.kind ? [filter.kind] : [])];
    if (kinds.length) qb.andWhere('r.kind IN (:...kinds)', { kinds });
    if (filter.subjectId) {
      if (!isUuid(filter.subjectId)) return [];
      qb.andWhere('r.subject_id = :sid', { sid: filter.subjectId });
    }
    if (filter.requestedBy) qb.andWhere('r.requested_by = :rb', { rb: filter.requestedBy });
    return qb
      .orderBy('r.requested_at', 'DESC')
      .addOrderBy('r.id', 'DESC')
      .take(Math.min(Math.max(filter.limit ?? 500, 1), 500))
      .getMany();
  }
}
