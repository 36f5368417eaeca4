import { inTransaction, type RequestContext } from '../../platform/context';
import { badInput, notFound } from '../../platform/errors';
import { decodeCursor, toConnection, type Connection } from '../../platform/graphql/connection';
import { Money } from '../../platform/graphql/money.type';
import type { IsoDate } from '../../platform/time/dates';
import type { AuditService } from '../audit/audit.service';
import { TimelineKind, type TimelineEntry } from './timeline.types';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type InteractionKind = 'NOTE' | 'PORTAL_VISIT' | 'REPLY';

interface Row {
  kind: TimelineKind;
  eid: string;
  occurred_at: Date;
  k: string;
  on_date: string | null;
  customer_id: string;
  invoice_id: string | null;
  invoice_number: string | null;
  summary: string;
  amount_minor: string | null;
  currency: string | null;
  actor: string | null;
  source_id: string;
}

/**
 * Every touch on one customer or one invoice, in one UNION ALL over the tables that record
 * them, keyset-paginated on (occurred_at, id): a page costs one statement (plus one for the
 * count when asked), whatever it holds. `$2` is the customer or the invoice.
 */
function timelineSql(scope: 'customer' | 'invoice'): string {
  const by = (customerCol: string, invoiceCol: string) => (scope === 'customer' ? `${customerCol} = $2::uuid` : `${invoiceCol} = $2::uuid`);
  const branches = [
    // Reminders: every customer-facing message sent (internal notices are not customer touches).
    `SELECT 'REMINDER_SENT' AS kind, 'msg:' || m.id AS eid, m.created_at AS occurred_at, a.scheduled_for AS on_date, m.customer_id, a.invoice_id,
            m.channel || COALESCE(' reminder, step ' || a.step_key, ' message') || COALESCE(': ' || m.subject, '') AS summary,
            a.amount_due_minor AS amount_minor, a.currency::text AS currency, 'system' AS actor, m.id AS source_id
     FROM outbound_messages m LEFT JOIN actions a ON a.tenant_id = m.tenant_id AND a.id = m.action_id
     WHERE m.tenant_id = $1 AND m.channel <> 'INTERNAL' AND ${by('m.customer_id', 'a.invoice_id')}`,
    // Escalation tiers entered: one entry per tier (a tier may run several entry actions).
    ...(scope === 'customer'
      ? [
          `SELECT * FROM (SELECT DISTINCT ON (a.policy_version_id, a.tier) 'TIER_CHANGED' AS kind, 'tier:' || a.id AS eid, a.created_at AS occurred_at, a.scheduled_for AS on_date, a.customer_id, NULL::uuid AS invoice_id,
                  'Entered escalation tier ' || a.tier || COALESCE(' "' || (a.packet->>'tierName') || '"', '') || ': ' || (a.reason->>'rule') AS summary,
                  NULL::bigint AS amount_minor, NULL::text AS currency, 'rule' AS actor, a.id AS source_id
           FROM actions a WHERE a.tenant_id = $1 AND a.kind = 'TIER_ENTRY' AND a.customer_id = $2::uuid
           ORDER BY a.policy_version_id, a.tier, a.created_at, a.id) tiers`,
        ]
      : []),
    // Calls and other tasks worked, with their outcome.
    `SELECT 'TASK_COMPLETED', 'task:' || t.id, t.completed_at, t.completed_on, t.customer_id, t.invoice_id,
            COALESCE(t.outcome, 'DONE') || ' (' || t.reason_code || ')' || COALESCE(': ' || t.outcome_note, ''), NULL::bigint, NULL::text, t.completed_by, t.id
     FROM tasks t WHERE t.tenant_id = $1 AND t.status = 'DONE' AND t.completed_at IS NOT NULL AND t.customer_id IS NOT NULL AND ${by('t.customer_id', 't.invoice_id')}`,
    `SELECT 'PROMISE_MADE', 'ptp:' || p.id, p.created_at, COALESCE(p.made_on, p.created_at::date), p.customer_id, CASE WHEN cardinality(p.invoice_ids) = 1 THEN p.invoice_ids[1] END,
            'Promised to pay by ' || to_char(p.promised_date, 'YYYY-MM-DD') || COALESCE(' (' || p.channel || ')', '') || COALESCE(': ' || p.note, ''), p.amount_minor, p.currency::text, p.created_by, p.id
     FROM promises_to_pay p WHERE p.tenant_id = $1 AND ${scope === 'customer' ? 'p.customer_id = $2::uuid' : '$2::uuid = ANY(p.invoice_ids)'}`,
    `SELECT 'PROMISE_' || p.status, 'ptpr:' || p.id, p.resolved_at, p.resolved_on, p.customer_id, CASE WHEN cardinality(p.invoice_ids) = 1 THEN p.invoice_ids[1] END,
            'Promise of ' || to_char(p.promised_date, 'YYYY-MM-DD') || ' ' || lower(replace(p.status, '_', ' ')) || ': received', p.received_minor, p.currency::text, 'rule', p.id
     FROM promises_to_pay p WHERE p.tenant_id = $1 AND p.status <> 'OPEN' AND p.resolved_at IS NOT NULL AND ${scope === 'customer' ? 'p.customer_id = $2::uuid' : '$2::uuid = ANY(p.invoice_ids)'}`,
    `SELECT 'DISPUTE_OPENED', 'dsp:' || d.id, d.opened_at, d.opened_at::date, d.customer_id, d.invoice_id,
            'Dispute (' || d.reason_code || ')' || CASE WHEN cardinality(d.line_ids) > 0 THEN ' on ' || cardinality(d.line_ids) || ' line(s)' ELSE '' END || COALESCE(': ' || d.detail, ''), d.amount_minor, d.currency::text, d.opened_by, d.id
     FROM disputes d WHERE d.tenant_id = $1 AND ${by('d.customer_id', 'd.invoice_id')}`,
    `SELECT 'DISPUTE_RESOLVED', 'dspr:' || d.id, d.resolved_at, d.resolved_at::date, d.customer_id, d.invoice_id,
            'Dispute resolved' || COALESCE(' (' || d.resolution || ')', ''), d.amount_minor, d.currency::text, NULL::text, d.id
     FROM disputes d WHERE d.tenant_id = $1 AND d.resolved_at IS NOT NULL AND ${by('d.customer_id', 'd.invoice_id')}`,
    `SELECT CASE WHEN al.payment_id IS NULL THEN 'CREDIT_APPLIED' ELSE 'PAYMENT_APPLIED' END, 'alloc:' || al.id, al.created_at, pay.received_on, al.customer_id, al.invoice_id,
            CASE WHEN al.payment_id IS NULL THEN 'Credit memo applied' ELSE pay.method || ' payment ' || pay.external_id || ' applied (' || al.rule || ')' END, al.amount_minor, al.currency::text, al.created_by, al.id
     FROM payment_allocations al LEFT JOIN payments pay ON pay.tenant_id = al.tenant_id AND pay.id = al.payment_id
     WHERE al.tenant_id = $1 AND ${by('al.customer_id', 'al.invoice_id')}`,
    `SELECT 'PAYMENT_REVERSED', 'rev:' || al.id, al.reversed_at, al.reversed_at::date, al.customer_id, al.invoice_id,
            'Payment reversed' || COALESCE(' (' || pay.reversal_reason || ')', ''), al.amount_minor, al.currency::text, pay.reversed_by, al.id
     FROM payment_allocations al LEFT JOIN payments pay ON pay.tenant_id = al.tenant_id AND pay.id = al.payment_id
     WHERE al.tenant_id = $1 AND al.reversed_at IS NOT NULL AND ${by('al.customer_id', 'al.invoice_id')}`,
    `SELECT CASE x.kind WHEN 'REPLY' THEN 'REPLY_RECEIVED' ELSE x.kind END, 'int:' || x.id, x.created_at, x.occurred_on, x.customer_id, x.invoice_id,
            COALESCE(x.body, lower(replace(x.kind, '_', ' '))), NULL::bigint, NULL::text, x.created_by, x.id
     FROM interactions x WHERE x.tenant_id = $1 AND ${by('x.customer_id', 'x.invoice_id')}`,
  ];
  return `SELECT u.kind, u.eid, u.occurred_at, to_char(u.on_date, 'YYYY-MM-DD') AS on_date, u.customer_id, u.invoice_id, u.summary, u.amount_minor, u.currency, u.actor, u.source_id,
                 to_char(u.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS k, i.number AS invoice_number
          FROM (${branches.join('\n UNION ALL \n')}) u
          LEFT JOIN invoices i ON i.tenant_id = $1 AND i.id = u.invoice_id`;
}

export class TimelineService {
  constructor(private readonly audit: AuditService) {}

  async timeline(ctx: RequestContext, args: { customerId?: string | null; invoiceId?: string | null; first: number; after?: string | null; direction: 'ASC' | 'DESC'; kinds?: TimelineKind[] | null }): Promise<Connection<TimelineEntry>> {
    if (!!args.customerId === !!args.invoiceId) throw badInput(args.customerId ? 'invoiceId' : 'customerId', 'give exactly one of customerId and invoiceId');
    const scope = args.customerId ? 'customer' : 'invoice';
    const id = (args.customerId ?? args.invoiceId)!;
    const field = scope === 'customer' ? 'customerId' : 'invoiceId';
    if (!UUID.test(id)) throw notFound(scope === 'customer' ? 'Customer' : 'Invoice', id, field);
    const [exists] = await ctx.em.query(`SELECT 1 FROM ${scope === 'customer' ? 'customers' : 'invoices'} WHERE tenant_id = $1 AND id = $2`, [ctx.tenantId, id]);
    if (!exists) throw notFound(scope === 'customer' ? 'Customer' : 'Invoice', id, field);

    const params: unknown[] = [ctx.tenantId, id];
    const where: string[] = [];
    if (args.kinds?.length) {
      params.push(args.kinds);
      where.push(`t.kind = ANY($${params.length}::text[])`);
    }
    const countWhere = [...where];
    if (args.after) {
      const c = decodeCursor(args.after);
      params.push(c.k, c.id);
      where.push(`(t.occurred_at, t.eid) ${args.direction === 'ASC' ? '>' : '<'} ($${params.length - 1}::timestamptz, $${params.length}::text)`);
    }
    const base = timelineSql(scope);
    const rows: Row[] = await ctx.em.query(
      `SELECT * FROM (${base}) t ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY t.occurred_at ${args.direction}, t.eid ${args.direction} LIMIT ${args.first + 1}`,
      params,
    );
    const nodes = rows.map(toEntry);
    const conn = toConnection(nodes, args.first, 0, (e) => ({ k: rows[nodes.indexOf(e)].k, id: e.id }), !!args.after);
    const countParams = params.slice(0, args.kinds?.length ? 3 : 2);
    let count: Promise<number> | undefined;
    Object.defineProperty(conn, 'totalCount', {
      enumerable: true,
      get: () => (count ??= ctx.em.query(`SELECT count(*)::int AS n FROM (${base}) t ${countWhere.length ? `WHERE ${countWhere.join(' AND ')}` : ''}`, countParams).then((r: { n: number }[]) => r[0].n)),
    });
    return conn;
  }

  /** Records a note, portal visit or reply (notes come from addNote; visits and replies from the portal and inbound integrations). */
  async record(ctx: RequestContext, input: { kind: InteractionKind; customerId: string; invoiceId?: string | null; body?: string | null; occurredOn: IsoDate }): Promise<TimelineEntry> {
    const body = input.body?.trim() || null;
    if (input.kind === 'NOTE' && !body) throw badInput('input.body', 'a note needs some text');
    if (body && body.length > 4000) throw badInput('input.body', 'at most 4,000 characters');
    if (!UUID.test(input.customerId)) throw notFound('Customer', input.customerId, 'input.customerId');
    if (input.invoiceId && !UUID.test(input.invoiceId)) throw notFound('Invoice', input.invoiceId, 'input.invoiceId');
    return inTransaction(ctx, async (tx) => {
      const [c] = await tx.em.query(`SELECT id FROM customers WHERE tenant_id = $1 AND id = $2`, [ctx.tenantId, input.customerId]);
      if (!c) throw notFound('Customer', input.customerId, 'input.customerId');
      if (input.invoiceId) {
        const [inv] = await tx.em.query(`SELECT customer_id FROM invoices WHERE tenant_id = $1 AND id = $2`, [ctx.tenantId, input.invoiceId]);
        if (!inv) throw notFound('Invoice', input.invoiceId, 'input.invoiceId');
        if (inv.customer_id !== input.customerId) throw badInput('input.invoiceId', "the invoice is another customer's", 'OTHER_CUSTOMER');
      }
      const [row] = await tx.em.query(
        `INSERT INTO interactions (tenant_id, customer_id, invoice_id, kind, body, occurred_on, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7)
         RETURNING id, created_at, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS k`,
        [ctx.tenantId, input.customerId, input.invoiceId ?? null, input.kind, body, input.occurredOn, ctx.actor.id.slice(0, 64)],
      );
      await this.audit.record(tx, { action: `interaction.${input.kind.toLowerCase()}`, subjectType: 'Customer', subjectId: input.customerId, data: { interactionId: row.id, invoiceId: input.invoiceId ?? null } });
      const [number] = input.invoiceId ? await tx.em.query(`SELECT number FROM invoices WHERE tenant_id = $1 AND id = $2`, [ctx.tenantId, input.invoiceId]) : [];
      return toEntry({
        kind: input.kind === 'REPLY' ? TimelineKind.REPLY_RECEIVED : (input.kind as TimelineKind),
        eid: `int:${row.id}`,
        occurred_at: row.created_at,
        k: row.k,
        on_date: input.occurredOn,
        customer_id: input.customerId,
        invoice_id: input.invoiceId ?? null,
        invoice_number: number?.number ?? null,
        summary: body ?? input.kind.toLowerCase().replace('_', ' '),
        amount_minor: null,
        currency: null,
        actor: ctx.actor.id,
        source_id: row.id,
      });
    });
  }
}

function toEntry(r: Row): TimelineEntry {
  return {
    id: r.eid,
    kind: r.kind,
    occurredAt: r.occurred_at,
    onDate: r.on_date,
    customerId: r.customer_id,
    invoiceId: r.invoice_id,
    invoiceNumber: r.invoice_number,
    summary: r.summary,
    amount: r.amount_minor !== null && r.currency ? Money.of(r.amount_minor, r.currency.trim()) : null,
    actor: r.actor,
    sourceId: r.source_id,
  };
}
