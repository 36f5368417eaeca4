import { In } from 'typeorm';
import { roleAtLeast, Role } from '../../platform/auth/roles';
import { inTransaction, type RequestContext } from '../../platform/context';
import { badInput, forbidden, notFound } from '../../platform/errors';
import type { AuditService } from '../audit/audit.service';
import { ApprovalRequest, ApprovalStatus } from './approval-request.entity';

/** What happens when a request of a kind is approved or rejected; runs in the deciding transaction. */
export interface ApprovalHandler {
  onApproved(ctx: RequestContext, request: ApprovalRequest): Promise<void>;
  onRejected?(ctx: RequestContext, request: ApprovalRequest): Promise<void>;
}

export interface NewApproval {
  kind: string;
  subjectType: string;
  subjectId: string;
  amountMinor?: bigint | null;
  currency?: string | null;
  payload?: Record<string, unknown>;
  reason: string;
}

/** Minimal approvals: who asked, who decided (never the same), why; decisions need MANAGER or above. */
export class ApprovalService {
  private readonly handlers = new Map<string, ApprovalHandler>();

  constructor(private readonly audit: AuditService) {}

  registerHandler(kind: string, handler: ApprovalHandler): void {
    this.handlers.set(kind, handler);
  }

  async request(ctx: RequestContext, input: NewApproval): Promise<ApprovalRequest> {
    if (!input.reason.trim()) throw badInput('reason', 'say why', 'REASON_REQUIRED');
    return inTransaction(ctx, async (tx) => {
      const req = await tx.em.getRepository(ApprovalRequest).save({
        tenantId: ctx.tenantId,
        kind: input.kind,
        subjectType: input.subjectType,
        subjectId: input.subjectId,
        amountMinor: input.amountMinor ?? null,
        currency: input.currency ?? null,
        payload: input.payload ?? {},
        reason: input.reason.trim(),
        status: ApprovalStatus.PENDING,
        requestedBy: ctx.actor.id,
        requestedAt: new Date(),
        decidedBy: null,
        decidedAt: null,
        decisionNote: null,
      });
      await this.audit.record(tx, { action: 'approval.requested', subjectType: input.subjectType, subjectId: input.subjectId, data: { approvalId: req.id, kind: input.kind, amountMinor: input.amountMinor?.toString() ?? null, reason: req.reason } });
      return req;
    });
  }

  async decide(ctx: RequestContext, id: string, approve: boolean, note: string | null, expectKind?: string): Promise<ApprovalRequest> {
    if (!roleAtLeast(ctx.actor.role, Role.MANAGER)) throw forbidden('deciding approvals needs MANAGER or above');
    if (!approve && !note?.trim()) throw badInput('note', 'say why the request is rejected', 'REASON_REQUIRED');
    return inTransaction(ctx, async (tx) => {
      const repo = tx.em.getRepository(ApprovalRequest);
      const req = /^[0-9a-f-]{36}$/i.test(id) ? await repo.createQueryBuilder('r').setLock('pessimistic_write').where('r.tenant_id = :t AND r.id = :id', { t: ctx.tenantId, id }).getOne() : null;
      if (!req || (expectKind && req.kind !== expectKind)) throw notFound(expectKind ? 'Write-off request' : 'Approval request', id, 'id');
      if (req.status !== ApprovalStatus.PENDING) throw badInput('id', `this request is already ${req.status}`, 'ALREADY_DECIDED');
      if (req.requestedBy === ctx.actor.id) throw forbidden('the requester cannot decide their own request');
      req.status = approve ? ApprovalStatus.APPROVED : ApprovalStatus.REJECTED;
      req.decidedBy = ctx.actor.id;
      req.decidedAt = new Date();
      req.decisionNote = note?.trim() || null;
      await repo.save(req);
      const handler = this.handlers.get(req.kind);
      if (approve) await handler?.onApproved(tx, req);
      else await handler?.onRejected?.(tx, req);
      await this.audit.record(tx, { action: approve ? 'approval.approved' : 'approval.rejected', subjectType: req.subjectType, subjectId: req.subjectId, data: { approvalId: req.id, kind: req.kind, note: req.decisionNote } });
      return req;
    });
  }

  list(ctx: RequestContext, filter: { status?: ApprovalStatus[] | null; kind?: string | null }): Promise<ApprovalRequest[]> {
    return ctx.em.getRepository(ApprovalRequest).find({
      where: { tenantId: ctx.tenantId, ...(filter.status?.length ? { status: In(filter.status) } : {}), ...(filter.kind ? { kind: filter.kind } : {}) },
      order: { requestedAt: 'DESC' },
      take: 500,
    });
  }
}
