import type { RequestContext } from '../../platform/context';
import { notFound } from '../../platform/errors';
import { decodeCursor, toConnection, type Connection } from '../../platform/graphql/connection';
import { Money } from '../../platform/graphql/money.type';
import type { IsoDate } from '../../platform/time/dates';
import { Task } from '../actions/task.entity';
import { compareScored, scoreTask, type TaskFacts } from './scoring';
import type { WorklistRulesService } from './worklist-rules.service';
import type { WorklistItem } from './worklist.types';

/** A worklist holds at most this many open tasks per request (a person's list is far shorter). */
const MAX_TASKS = 5000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface FactRow {
  id: string;
  days_past_due: number | null;
  open_minor: string | null;
  currency: string | null;
  segment: string | null;
  tier: string | null;
  escalation_tier: number | null;
  last_payment_on: string | null;
  activity_on: string | null;
  activity_kind: string | null;
}

/**
 * The ranked worklist: open tasks (and snoozed ones whose day has come) scored by the tenant's
 * rule as of a day. Facts for every task come from one set-based query; the score is the pure
 * `scoreTask`, so the explanation is exactly what ranked it.
 */
export class WorklistService {
  constructor(private readonly rules: WorklistRulesService) {}

  async rank(ctx: RequestContext, args: { collectorId: string | null; asOf: IsoDate; first: number; after?: string | null }): Promise<Connection<WorklistItem>> {
    if (args.collectorId !== null && !UUID.test(args.collectorId)) throw notFound('User', args.collectorId, 'collectorId');
    if (args.collectorId) {
      const [u] = await ctx.em.query(`SELECT 1 FROM users WHERE tenant_id = $1 AND id = $2`, [ctx.tenantId, args.collectorId]);
      if (!u) throw notFound('User', args.collectorId, 'collectorId');
    }
    const { scoring } = await this.rules.get(ctx);
    const tasks = await ctx.em
      .getRepository(Task)
      .createQueryBuilder('t')
      .where('t.tenant_id = :t', { t: ctx.tenantId })
      .andWhere(`(t.status = 'OPEN' OR (t.status = 'SNOOZED' AND t.snoozed_until <= CAST(:asOf AS date)))`, { asOf: args.asOf })
      .andWhere(args.collectorId ? 't.owner_user_id = :owner' : '1 = 1', { owner: args.collectorId })
      .orderBy('t.created_at')
      .limit(MAX_TASKS)
      .getMany();
    const facts = await this.facts(ctx, tasks, args.asOf);
    const items = tasks
      .map((task): WorklistItem => {
        const f = facts.get(task.id);
        const input: TaskFacts = {
          reasonCode: task.reasonCode,
          daysPastDue: f?.days_past_due ?? null,
          openAmountMinor: f?.open_minor != null ? BigInt(f.open_minor) : null,
          currency: f?.currency ?? null,
          segment: f?.segment ?? null,
          customerTier: f?.tier ?? null,
          escalationTier: f?.escalation_tier ?? 0,
          dueDate: task.dueDate,
          lastPaymentOn: f?.last_payment_on ?? null,
          lastActivity: f?.activity_on ? { on: f.activity_on, kind: f.activity_kind ?? 'PORTAL_VISIT' } : null,
        };
        const s = scoreTask(input, scoring, args.asOf);
        return {
          id: task.id,
          rank: 0,
          score: s.score,
          breakdown: s.terms,
          explanation: s.explanation,
          slaBreached: s.slaBreached,
          daysPastDue: input.daysPastDue,
          openAmount: input.openAmountMinor !== null && input.currency ? Money.of(input.openAmountMinor, input.currency) : null,
          task,
        };
      })
      .sort(compareScored);
    items.forEach((it, i) => (it.rank = i + 1));
    let start = 0;
    if (args.after) {
      const c = decodeCursor(args.after);
      const k = Number(c.k);
      // Keyset over (score desc, id asc): the first item strictly after the cursor's position.
      start = items.findIndex((it) => compareScored(it, { score: k, id: c.id }) > 0);
      if (start < 0) start = items.length;
    }
    return toConnection(items.slice(start, start + args.first + 1), args.first, items.length, (it) => ({ k: it.score, id: it.id }), !!args.after);
  }

  /** The facts of each task: its invoice (or the customer's oldest open one), customer, escalation, last payment, last portal visit or reply. */
  private async facts(ctx: RequestContext, tasks: Task[], asOf: IsoDate): Promise<Map<string, FactRow>> {
    if (!tasks.length) return new Map();
    const rows: FactRow[] = await ctx.em.query(
      `WITH t AS (SELECT id, customer_id, invoice_id FROM tasks WHERE tenant_id = $1 AND id = ANY($2::uuid[]))
       SELECT t.id,
              CASE WHEN t.invoice_id IS NOT NULL THEN (CASE WHEN i.status = 'OPEN' AND i.open_balance_minor > 0 THEN $3::date - i.due_date END) ELSE co.oldest_dpd END AS days_past_due,
              CASE WHEN t.invoice_id IS NOT NULL THEN (CASE WHEN i.status = 'OPEN' THEN i.open_balance_minor ELSE 0 END) ELSE co.open_minor END AS open_minor,
              COALESCE(i.currency, c.currency) AS currency,
              c.segment, c.tier, e.tier AS escalation_tier,
              to_char(lp.last_on, 'YYYY-MM-DD') AS last_payment_on,
              to_char(la.occurred_on, 'YYYY-MM-DD') AS activity_on, la.kind AS activity_kind
       FROM t
       LEFT JOIN customers c ON c.tenant_id = $1 AND c.id = t.customer_id
       LEFT JOIN invoices i ON i.tenant_id = $1 AND i.id = t.invoice_id
       LEFT JOIN customer_escalations e ON e.tenant_id = $1 AND e.customer_id = t.customer_id
       LEFT JOIN LATERAL (
         SELECT max($3::date - oi.due_date) AS oldest_dpd, sum(oi.open_balance_minor) FILTER (WHERE oi.currency = c.currency) AS open_minor
         FROM invoices oi WHERE t.invoice_id IS NULL AND oi.tenant_id = $1 AND oi.customer_id = t.customer_id AND oi.status = 'OPEN' AND oi.open_balance_minor > 0) co ON true
       LEFT JOIN LATERAL (
         SELECT max(p.received_on) AS last_on FROM payments p
         WHERE p.tenant_id = $1 AND p.customer_id = t.customer_id AND p.status <> 'REVERSED' AND p.received_on <= $3::date) lp ON true
       LEFT JOIN LATERAL (
         SELECT x.occurred_on, x.kind FROM interactions x
         WHERE x.tenant_id = $1 AND x.customer_id = t.customer_id AND x.kind IN ('PORTAL_VISIT','REPLY') AND x.occurred_on <= $3::date
         ORDER BY x.occurred_on DESC LIMIT 1) la ON true`,
      [ctx.tenantId, tasks.map((t) => t.id), asOf],
    );
    return new Map(rows.map((r) => [r.id, r]));
  }
}
