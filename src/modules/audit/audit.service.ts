import type { RequestContext } from '../../platform/context';
import { AuditEvent } from './audit-event.entity';

export interface AuditEntry {
  action: string;
  subjectType: string;
  subjectId: string;
  data?: Record<string, unknown>;
}

/** Every state change a person or a rule makes leaves an audit event, in the same transaction. */
export class AuditService {
  async record(ctx: RequestContext, ...entries: AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await ctx.em
      .createQueryBuilder()
      .insert()
      .into(AuditEvent)
      .values(
        entries.map((e) => ({
          tenantId: ctx.tenantId,
          actorKind: ctx.actor.kind,
          actorId: ctx.actor.id,
          action: e.action,
          subjectType: e.subjectType,
          subjectId: e.subjectId,
          data: (e.data ?? {}) as never,
          requestId: ctx.requestId,
        })),
      )
      .execute();
  }
}
