import { queryReturning } from '../../platform/db/returning';
import { inTransaction, type RequestContext } from '../../platform/context';
import { keysetPage } from '../../platform/db/keyset';
import { badInput, notFound } from '../../platform/errors';
import { emitEvent } from '../../platform/events/event-bus';
import type { Connection } from '../../platform/graphql/connection';
import type { AuditService } from '../audit/audit.service';
import { Action, ActionStatus, type ActionKind } from './action.entity';
import { ACTIONS_CHANGED } from './dispatch.service';
import { Task } from './task.entity';

export interface ActionFilter {
  status?: ActionStatus[] | null;
  kind?: ActionKind | null;
  channel?: string | null;
  customerId?: string | null;
  invoiceId?: string | null;
  scheduledFrom?: string | null;
  scheduledTo?: string | null;
}

export class ActionService {
  constructor(private readonly audit: AuditService) {}

  list(ctx: RequestContext, args: { first: number; after?: string | null; filter?: ActionFilter | null }): Promise<Connection<Action>> {
    const f = args.filter ?? {};
    const qb = ctx.em.getRepository(Action).createQueryBuilder('a').where('a.tenant_id = :t', { t: ctx.tenantId });
    if (f.status?.length) qb.andWhere('a.status IN (:...status)', { status: f.status });
    if (f.kind) qb.andWhere('a.kind = :kind', { kind: f.kind });
    if (f.channel) qb.andWhere(':channel = ANY(a.channels)', { channel: f.channel });
    if (f.customerId) qb.andWhere('a.customer_id = :customerId', { customerId: f.customerId });
    if (f.invoiceId) qb.andWhere('a.invoice_id = :invoiceId', { invoiceId: f.invoiceId });
    if (f.scheduledFrom) qb.andWhere('a.scheduled_for >= CAST(:from AS date)', { from: f.scheduledFrom });
    if (f.scheduledTo) qb.andWhere('a.scheduled_for <= CAST(:to AS date)', { to: f.scheduledTo });
    return keysetPage(qb, { sortExpr: 'a.created_at', sortType: 'timestamptz', direction: 'DESC', idExpr: 'a.id', first: args.first, after: args.after, cursorOf: (a) => ({ k: a.createdAt.toISOString(), id: a.id }) });
  }

  async get(ctx: RequestContext, id: string): Promise<Action | null> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
    return ctx.em.getRepository(Action).findOneBy({ tenantId: ctx.tenantId, id });
  }

  /** A person lets a prepared action go out, optionally with an edited message. */
  async approve(ctx: RequestContext, id: string, edit: { subject?: string | null; body?: string | null } | null): Promise<Action> {
    return this.decide(ctx, id, ActionStatus.PLANNED, null, edit);
  }

  async reject(ctx: RequestContext, id: string, reason: string): Promise<Action> {
    if (!reason.trim()) throw badInput('reason', 'say why the action is rejected');
    return this.decide(ctx, id, ActionStatus.CANCELLED, reason.trim(), null);
  }

  private async decide(ctx: RequestContext, id: string, to: ActionStatus, why: string | null, edit: { subject?: string | null; body?: string | null } | null): Promise<Action> {
    return inTransaction(ctx, async (tx) => {
      const repo = tx.em.getRepository(Action);
      const action = await repo.createQueryBuilder('a').setLock('pessimistic_write').where('a.tenant_id = :t AND a.id = :id', { t: ctx.tenantId, id }).getOne();
      if (!action) throw notFound('Action', id, 'id');
      if (action.status !== ActionStatus.AWAITING_APPROVAL) throw badInput('id', `this action is ${action.status}, not awaiting approval`, 'NOT_AWAITING_APPROVAL');
      action.status = to;
      action.statusReason = why;
      action.decidedBy = ctx.actor.id;
      action.decidedAt = new Date();
      if (edit && (edit.subject || edit.body)) action.messageOverride = { ...(edit.subject ? { subject: edit.subject } : {}), ...(edit.body ? { body: edit.body } : {}) };
      await repo.save(action);
      await this.audit.record(tx, { action: to === ActionStatus.PLANNED ? 'action.approved' : 'action.rejected', subjectType: 'Action', subjectId: id, data: { reason: why, edited: !!action.messageOverride } });
      await emitEvent(tx.em, { type: ACTIONS_CHANGED, tenantId: ctx.tenantId, payload: { ids: [id], status: to } });
      return action;
    });
  }

  /** An action that waited for an approval request goes back to the outbox (the request was approved). */
  async releaseAwaiting(ctx: RequestContext, id: string, why: string): Promise<boolean> {
    const rows = await queryReturning<{ id: string }>(ctx.em, 
      `UPDATE actions SET status = 'PLANNED', status_reason = $3, decided_by = $4, decided_at = now(), updated_at = now() WHERE tenant_id = $1 AND id = $2 AND status = 'AWAITING_APPROVAL' RETURNING id`,
      [ctx.tenantId, id, why, ctx.actor.id],
    );
    const done = rows.length > 0;
    if (done) await emitEvent(ctx.em, { type: ACTIONS_CHANGED, tenantId: ctx.tenantId, payload: { ids: [id], status: ActionStatus.PLANNED } });
    return done;
  }

  /** An action whose approval request was rejected or expired never goes out. */
  async cancelAwaiting(ctx: RequestContext, id: string, why: string): Promise<boolean> {
    const rows = await queryReturning<{ id: string }>(ctx.em, 
      `UPDATE actions SET status = 'CANCELLED', status_reason = $3, decided_by = $4, decided_at = now(), updated_at = now() WHERE tenant_id = $1 AND id = $2 AND status IN ('AWAITING_APPROVAL','PLANNED') RETURNING id`,
      [ctx.tenantId, id, why.slice(0, 500), ctx.actor.id],
    );
    const done = rows.length > 0;
    if (done) await emitEvent(ctx.em, { type: ACTIONS_CHANGED, tenantId: ctx.tenantId, payload: { ids: [id], status: ActionStatus.CANCELLED } });
    return done;
  }

  /**
   * Cancels the planned and awaiting actions of invoices that closed, in the caller's
   * transaction (payment application calls this in the same transaction that closes them).
   */
  async cancelForInvoices(ctx: RequestContext, invoiceIds: string[], why: string): Promise<number> {
    if (!invoiceIds.length) return 0;
    const rows = await queryReturning<{ id: string }>(ctx.em, 
      `UPDATE actions SET status = 'CANCELLED', status_reason = $3, updated_at = now()
       WHERE tenant_id = $1 AND invoice_id = ANY($2::uuid[]) AND status IN ('PLANNED','AWAITING_APPROVAL') RETURNING id`,
      [ctx.tenantId, invoiceIds, why],
    );
    return rows.length;
  }

  tasks(ctx: RequestContext, filter: { customerId?: string | null; status?: string | null }): Promise<Task[]> {
    return ctx.em.getRepository(Task).find({
      where: { tenantId: ctx.tenantId, ...(filter.customerId ? { customerId: filter.customerId } : {}), ...(filter.status ? { status: filter.status } : {}) },
      order: { createdAt: 'DESC' },
      take: 500,
    });
  }
}
