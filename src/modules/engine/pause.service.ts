import { queryReturning } from '../../platform/db/returning';
import { IsNull } from 'typeorm';
import { inTransaction, type RequestContext } from '../../platform/context';
import { badInput, notFound } from '../../platform/errors';
import { isIsoDate } from '../../platform/time/dates';
import { announceAgingChange } from '../aging/aging-events';
import { AgingChangeReason } from '../aging/dto/aging.types';
import type { AuditService } from '../audit/audit.service';
import { DunningPause, PauseKind } from './dunning-pause.entity';

export class PauseService {
  constructor(private readonly audit: AuditService) {}

  /** Pauses (or excludes) a customer; replaces an active pause. */
  async pause(ctx: RequestContext, input: { customerId: string; kind: PauseKind; reason: string; until?: string | null }): Promise<DunningPause> {
    if (!input.reason.trim()) throw badInput('reason', 'say why dunning is paused');
    if (input.until && !isIsoDate(input.until)) throw badInput('until', 'must be YYYY-MM-DD');
    return inTransaction(ctx, async (tx) => {
      const exists = /^[0-9a-f-]{36}$/i.test(input.customerId) && (await tx.em.query('SELECT 1 FROM customers WHERE tenant_id = $1 AND id = $2', [ctx.tenantId, input.customerId])).length > 0;
      if (!exists) throw notFound('Customer', input.customerId, 'customerId');
      await tx.em.query(`UPDATE dunning_pauses SET ended_at = now(), ended_by = $3 WHERE tenant_id = $1 AND customer_id = $2 AND ended_at IS NULL`, [ctx.tenantId, input.customerId, ctx.actor.id]);
      const pause = await tx.em.getRepository(DunningPause).save({ tenantId: ctx.tenantId, customerId: input.customerId, kind: input.kind, reason: input.reason.trim(), until: input.until ?? null, createdBy: ctx.actor.id });
      await this.audit.record(tx, { action: input.kind === PauseKind.PAUSE ? 'dunning.paused' : 'dunning.excluded', subjectType: 'Customer', subjectId: input.customerId, data: { reason: pause.reason, until: pause.until } });
      // The customer's invoices enter the PAUSED cut of live aging reports when this commits.
      await announceAgingChange(tx.em, ctx.tenantId, AgingChangeReason.PAUSES);
      return pause;
    });
  }

  async resume(ctx: RequestContext, customerId: string): Promise<boolean> {
    return inTransaction(ctx, async (tx) => {
      const rows = await queryReturning<{ id: string }>(tx.em, `UPDATE dunning_pauses SET ended_at = now(), ended_by = $3 WHERE tenant_id = $1 AND customer_id = $2 AND ended_at IS NULL RETURNING id`, [ctx.tenantId, customerId, ctx.actor.id]);
      const ended = rows.length;
      if (ended) {
        await this.audit.record(tx, { action: 'dunning.resumed', subjectType: 'Customer', subjectId: customerId, data: {} });
        await announceAgingChange(tx.em, ctx.tenantId, AgingChangeReason.PAUSES);
      }
      return ended > 0;
    });
  }

  active(ctx: RequestContext, customerId: string): Promise<DunningPause | null> {
    return ctx.em.getRepository(DunningPause).findOneBy({ tenantId: ctx.tenantId, customerId, endedAt: IsNull() });
  }
}
