import type { RequestContext } from '../../platform/context';
import { preparedQuery } from '../../platform/db/prepared';
import { badInput } from '../../platform/errors';
import { decodeCursor, toConnection, type Connection } from '../../platform/graphql/connection';
import type { AuditEventNode } from './dto/audit.types';

export interface AuditEntry {
  action: string;
  subjectType: string;
  subjectId: string;
  data?: Record<string, unknown>;
  /** State before and after the change, when the change has one (stored in `data`). */
  before?: unknown;
  after?: unknown;
  /** Why, in the words of the person or the rule (stored in `data`). */
  reason?: string | null;
  /** Who acted when it is not the request's actor: a rule deciding on its own (fast path, engine). */
  actor?: { kind: 'rule' | 'system' | 'api_key'; id: string };
}

/** Every state change a person or a rule makes leaves an audit event, in the same transaction. */
export class AuditService {
  async record(ctx: RequestContext, ...entries: AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    // One JSON parameter for the whole batch (a payment chunk records hundreds): cheaper to build
    // and to parse than an ORM insert with a parameter per value; rows keep their order (and ids).
    const rows = entries.map((e) => ({
      actor_kind: e.actor?.kind ?? ctx.actor.kind,
      actor_id: (e.actor?.id ?? ctx.actor.id).slice(0, 64),
      action: e.action,
      subject_type: e.subjectType,
      subject_id: e.subjectId,
      data: {
        ...(e.data ?? {}),
        ...(e.before !== undefined ? { before: e.before } : {}),
        ...(e.after !== undefined ? { after: e.after } : {}),
        ...(e.reason ? { reason: e.reason } : {}),
      },
    }));
    await preparedQuery(
      ctx.em,
      `INSERT INTO audit_events (tenant_id, actor_kind, actor_id, action, subject_type, subject_id, data, request_id)
       SELECT $1, x.actor_kind, x.actor_id, x.action, x.subject_type, x.subject_id, x.data, $3::text
       FROM jsonb_to_recordset($2::jsonb) AS x(actor_kind text, actor_id text, action text, subject_type text, subject_id text, data jsonb)`,
      [ctx.tenantId, JSON.stringify(rows), ctx.requestId],
    );
  }
}

export interface AuditFilter {
  subjectType?: string | null;
  subjectId?: string | null;
  actorId?: string | null;
  actorKind?: string | null;
  action?: string | null;
  from?: Date | null;
  to?: Date | null;
}

/** Reads the trail: newest first, keyset on the event id (the insert order). */
export async function listAuditEvents(ctx: RequestContext, args: { first: number; after?: string | null; filter?: AuditFilter | null }): Promise<Connection<AuditEventNode>> {
  const f = args.filter ?? {};
  const where = ['e.tenant_id = $1'];
  const params: unknown[] = [ctx.tenantId];
  const add = (sql: string, v: unknown) => {
    params.push(v);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (f.subjectType) add('e.subject_type = ?', f.subjectType);
  if (f.subjectId) add('e.subject_id = ?', f.subjectId);
  if (f.actorId) add('e.actor_id = ?', f.actorId);
  if (f.actorKind) add('e.actor_kind = ?', f.actorKind);
  if (f.action) {
    if (f.action.endsWith('.')) add(`e.action LIKE ? || '%'`, f.action.replace(/[\\%_]/g, (c) => `\\${c}`));
    else add('e.action = ?', f.action);
  }
  if (f.from) add('e.occurred_at >= ?', f.from);
  if (f.to) add('e.occurred_at <= ?', f.to);
  const countWhere = where.join(' AND ');
  const countParams = [...params];
  if (args.after) {
    const c = decodeCursor(args.after);
    if (!/^\d+$/.test(c.id)) throw badInput('after', 'is not a cursor returned by this API', 'INVALID_CURSOR');
    add('e.id < ?::bigint', c.id);
  }
  params.push(args.first + 1);
  const rows: { id: string; occurred_at: Date; actor_kind: string; actor_id: string; action: string; subject_type: string; subject_id: string; data: Record<string, unknown>; request_id: string | null; seq: string | null; hash: string | null }[] = await ctx.em.query(
    `SELECT e.id::text, e.occurred_at, e.actor_kind, e.actor_id, e.action, e.subject_type, e.subject_id, e.data, e.request_id, c.seq::text AS seq, c.hash
     FROM audit_events e LEFT JOIN audit_chain c ON c.event_id = e.id
     WHERE ${where.join(' AND ')} ORDER BY e.id DESC LIMIT $${params.length}`,
    params,
  );
  const nodes: AuditEventNode[] = rows.map((r) => ({
    id: r.id,
    occurredAt: r.occurred_at,
    actorKind: r.actor_kind,
    actorId: r.actor_id,
    action: r.action,
    subjectType: r.subject_type,
    subjectId: r.subject_id,
    data: r.data,
    before: r.data?.before ?? null,
    after: r.data?.after ?? null,
    reason: typeof r.data?.reason === 'string' ? r.data.reason : null,
    requestId: r.request_id,
    chainSeq: r.seq,
    hash: r.hash,
  }));
  const conn = toConnection(nodes, args.first, 0, (n) => ({ k: n.id, id: n.id }), !!args.after);
  let count: Promise<number> | undefined;
  Object.defineProperty(conn, 'totalCount', {
    enumerable: true,
    get: () => (count ??= ctx.em.query(`SELECT count(*)::int AS n FROM audit_events e WHERE ${countWhere}`, countParams).then((r: { n: number }[]) => r[0].n)),
  });
  return conn;
}
