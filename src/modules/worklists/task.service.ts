import { inTransaction, type RequestContext } from '../../platform/context';
import { queryReturning } from '../../platform/db/returning';
import { badInput, notFound } from '../../platform/errors';
import { formatMinor } from '../../platform/money/money';
import { emitEvent } from '../../platform/events/event-bus';
import { addDays, type IsoDate } from '../../platform/time/dates';
import { Task } from '../actions/task.entity';
import type { AuditService } from '../audit/audit.service';
import { WorklistErrors } from './worklist.errors';
import type { WorklistRulesService } from './worklist-rules.service';
import { AssignmentRuleKind, TaskOutcome, TaskStatus, type TaskSourceKind } from './worklist.types';

export const WORKLIST_CHANGED = 'worklist.changed';

export interface WorklistChangedPayload {
  changes: { collectorId: string | null; taskIds: string[]; reason: string }[];
}

/** What a producer gives to create a task. */
export interface CreateTaskInput {
  /** Null only for work with no customer yet (unapplied cash from an unknown payer). */
  customerId: string | null;
  invoiceId?: string | null;
  /** Why: CALL_STEP, TIER_2, SEND_FAILED, BROKEN_PROMISE, UNAPPLIED_CASH, APPROVAL_PENDING, DISPUTE_FOLLOW_UP, … (max 48 chars). */
  reasonCode: string;
  /** What the person should do next, in words (max 500 chars). */
  nextAction: string;
  /** The SLA: the day it should be done by. */
  dueDate?: IsoDate | null;
  priority?: number;
  /** Skips the assignment rules. */
  ownerUserId?: string | null;
  /** RULES (default): the tenant's assignment rules; MANAGERS: the active manager or director with the fewest open tasks. */
  assignTo?: 'RULES' | 'MANAGERS';
  /** What raised it; a second create with the same source returns the first task (idempotent). */
  source?: { kind: TaskSourceKind; id: string } | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const OPEN_STATES = [TaskStatus.OPEN, TaskStatus.SNOOZED] as string[];

/**
 * The task lifecycle: created by producers (call steps, tiers, failed sends, broken promises,
 * unapplied cash, approvals) with an owner from the assignment rules, reassigned, snoozed and
 * completed with an outcome. Every change tells `worklistChanged` subscribers after commit.
 */
export class TaskService {
  constructor(
    private readonly rules: WorklistRulesService,
    private readonly audit: AuditService,
  ) {}

  /** Creates a task (or returns the one its source already raised), in the caller's transaction when there is one. */
  async create(ctx: RequestContext, input: CreateTaskInput): Promise<{ task: Task; created: boolean }> {
    const reasonCode = input.reasonCode.trim().slice(0, 48);
    const nextAction = input.nextAction.trim().slice(0, 500);
    if (!reasonCode) throw badInput('reasonCode', 'must not be empty');
    if (!nextAction) throw badInput('nextAction', 'must not be empty');
    return inTransaction(ctx, async (tx) => {
      const repo = tx.em.getRepository(Task);
      if (input.source) {
        const existing = await repo.findOneBy({ tenantId: ctx.tenantId, sourceKind: input.source.kind, sourceId: input.source.id });
        if (existing) return { task: existing, created: false };
      }
      const { userId, rule } = input.ownerUserId ? { userId: input.ownerUserId, rule: 'EXPLICIT' } : input.assignTo === 'MANAGERS' ? await this.pickManager(tx) : await this.pickByRules(tx, input.customerId);
      const rows: Record<string, unknown>[] = await tx.em.query(
        `INSERT INTO tasks (tenant_id, customer_id, invoice_id, owner_user_id, reason_code, next_action, priority, due_date, source_kind, source_id, source_action_id, assignment_rule, assigned_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT DO NOTHING RETURNING id`,
        [
          ctx.tenantId,
          input.customerId,
          input.invoiceId ?? null,
          userId,
          reasonCode,
          nextAction,
          input.priority ?? 0,
          input.dueDate ?? null,
          input.source?.kind ?? null,
          input.source?.id ?? null,
          input.source?.kind === 'ACTION' ? input.source.id : null,
          userId ? rule : null,
          ctx.actor.id.slice(0, 64),
        ],
      );
      if (!rows.length) {
        // A concurrent producer raised it first; its transaction has committed (the unique index waited for it).
        const existing = await repo.findOneByOrFail({ tenantId: ctx.tenantId, sourceKind: input.source!.kind, sourceId: input.source!.id });
        return { task: existing, created: false };
      }
      const task = await repo.findOneByOrFail({ tenantId: ctx.tenantId, id: rows[0].id as string });
      await this.audit.record(tx, { action: 'task.created', subjectType: 'Task', subjectId: task.id, data: { reasonCode, ownerUserId: userId, assignmentRule: task.assignmentRule, source: input.source ?? null } });
      await this.announce(tx, [{ collectorId: userId, taskIds: [task.id], reason: 'CREATED' }]);
      return { task, created: true };
    });
  }

  /** Closes the open task a source raised (the approval was decided, the cash was applied). */
  async closeBySource(ctx: RequestContext, source: { kind: TaskSourceKind; id: string }, why: string): Promise<Task | null> {
    return inTransaction(ctx, async (tx) => {
      const rows = await queryReturning<{ id: string; owner_user_id: string | null }>(tx.em, 
        `UPDATE tasks SET status = 'CANCELLED', outcome_note = $4, completed_at = now(), completed_by = $5, updated_at = now()
         WHERE tenant_id = $1 AND source_kind = $2 AND source_id = $3 AND status IN ('OPEN','SNOOZED') RETURNING id, owner_user_id`,
        [ctx.tenantId, source.kind, source.id, why.slice(0, 2000), ctx.actor.id.slice(0, 64)],
      );
      if (!rows.length) return null;
      await this.audit.record(tx, { action: 'task.cancelled', subjectType: 'Task', subjectId: rows[0].id, reason: why });
      await this.announce(tx, [{ collectorId: rows[0].owner_user_id, taskIds: [rows[0].id], reason: 'CANCELLED' }]);
      return tx.em.getRepository(Task).findOneBy({ tenantId: ctx.tenantId, id: rows[0].id });
    });
  }

  async assign(ctx: RequestContext, id: string, userId: string, reason: string | null): Promise<Task> {
    return inTransaction(ctx, async (tx) => {
      const task = await this.lockOpen(tx, id);
      if (!UUID.test(userId)) throw notFound('User', userId, 'userId');
      const [user] = await tx.em.query(`SELECT id, active FROM users WHERE tenant_id = $1 AND id = $2`, [ctx.tenantId, userId]);
      if (!user) throw notFound('User', userId, 'userId');
      if (!user.active) throw badInput('userId', 'this user is inactive', WorklistErrors.INACTIVE_USER);
      if (task.ownerUserId === userId) throw badInput('userId', 'the task is already theirs', WorklistErrors.SAME_OWNER);
      const before = task.ownerUserId;
      task.ownerUserId = userId;
      task.assignmentRule = 'MANUAL';
      task.assignedBy = ctx.actor.id.slice(0, 64);
      await tx.em.getRepository(Task).save(task);
      await this.audit.record(tx, { action: 'task.assigned', subjectType: 'Task', subjectId: id, before: { ownerUserId: before }, after: { ownerUserId: userId }, reason: reason?.trim() || null });
      await this.announce(tx, [
        { collectorId: before, taskIds: [id], reason: 'UNASSIGNED' },
        { collectorId: userId, taskIds: [id], reason: 'ASSIGNED' },
      ]);
      return task;
    });
  }

  async snooze(ctx: RequestContext, id: string, until: IsoDate, asOf: IsoDate): Promise<Task> {
    if (until <= asOf) throw badInput('until', `must be after ${asOf}`, WorklistErrors.INVALID_DATE);
    if (until > addDays(asOf, 90)) throw badInput('until', 'a task can be snoozed for 90 days at most', WorklistErrors.INVALID_DATE);
    return inTransaction(ctx, async (tx) => {
      const task = await this.lockOpen(tx, id);
      task.status = TaskStatus.SNOOZED;
      task.snoozedUntil = until;
      await tx.em.getRepository(Task).save(task);
      await this.audit.record(tx, { action: 'task.snoozed', subjectType: 'Task', subjectId: id, after: { snoozedUntil: until } });
      await this.announce(tx, [{ collectorId: task.ownerUserId, taskIds: [id], reason: 'SNOOZED' }]);
      return task;
    });
  }

  async complete(ctx: RequestContext, id: string, input: { outcome: TaskOutcome; note?: string | null }, asOf: IsoDate): Promise<Task> {
    const note = input.note?.trim() || null;
    if (note && note.length > 2000) throw badInput('input.note', 'at most 2,000 characters', WorklistErrors.NOTE_TOO_LONG);
    if (!Object.values(TaskOutcome).includes(input.outcome)) throw badInput('input.outcome', `unknown outcome ${String(input.outcome)}`);
    return inTransaction(ctx, async (tx) => {
      const task = await this.lockOpen(tx, id);
      task.status = TaskStatus.DONE;
      task.outcome = input.outcome;
      task.outcomeNote = note;
      task.completedOn = asOf;
      task.completedAt = new Date();
      task.completedBy = ctx.actor.id.slice(0, 64);
      task.snoozedUntil = null;
      await tx.em.getRepository(Task).save(task);
      await this.audit.record(tx, { action: 'task.completed', subjectType: 'Task', subjectId: id, data: { outcome: input.outcome, customerId: task.customerId }, reason: note });
      await this.announce(tx, [{ collectorId: task.ownerUserId, taskIds: [id], reason: 'COMPLETED' }]);
      return task;
    });
  }

  /** Snoozed tasks whose day has come are open again (daily path; idempotent). */
  async wakeSnoozed(ctx: RequestContext, asOf: IsoDate): Promise<number> {
    return inTransaction(ctx, async (tx) => {
      const rows = await queryReturning<{ id: string; owner_user_id: string | null }>(tx.em, 
        `UPDATE tasks SET status = 'OPEN', snoozed_until = NULL, updated_at = now() WHERE tenant_id = $1 AND status = 'SNOOZED' AND snoozed_until <= $2::date RETURNING id, owner_user_id`,
        [ctx.tenantId, asOf],
      );
      if (rows.length) await this.announce(tx, groupByOwner(rows, 'WOKEN'));
      return rows.length;
    });
  }

  /**
   * Raises a task for each payment waiting in the unapplied-cash queue and each pending approval
   * request that has none yet, and closes those whose payment was applied or request decided.
   * Run on the daily path; idempotent (one task per source, ever).
   */
  async sweepSources(ctx: RequestContext, asOf: IsoDate): Promise<{ created: number; closed: number }> {
    let created = 0;
    const payments: { id: string; customer_id: string | null; unapplied_minor: string; currency: string; payer_name: string | null; received_on: string }[] = await ctx.em.query(
      `SELECT p.id, p.customer_id, p.unapplied_minor, p.currency, p.payer_name, to_char(p.received_on, 'YYYY-MM-DD') AS received_on FROM payments p
       WHERE p.tenant_id = $1 AND p.status IN ('UNAPPLIED','PARTIALLY_APPLIED') AND p.unapplied_minor > 0 AND p.received_on <= $2::date
         AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.tenant_id = p.tenant_id AND t.source_kind = 'PAYMENT' AND t.source_id = p.id)
       ORDER BY p.received_on, p.id LIMIT 1000`,
      [ctx.tenantId, asOf],
    );
    for (const p of payments) {
      const r = await this.create(ctx, {
        customerId: p.customer_id,
        reasonCode: 'UNAPPLIED_CASH',
        nextAction: `Apply ${formatMinor(BigInt(p.unapplied_minor), p.currency)} ${p.currency} received ${p.received_on}${p.payer_name ? ` from ${p.payer_name}` : ''}: find the invoices or the payer`,
        dueDate: addDays(asOf, 2),
        source: { kind: 'PAYMENT', id: p.id },
      });
      if (r.created) created++;
    }
    const approvals: { id: string; kind: string; reason: string; customer_id: string | null }[] = await ctx.em.query(
      `SELECT a.id, a.kind, a.reason, (SELECT c.id FROM customers c WHERE c.tenant_id = a.tenant_id AND c.id::text = COALESCE(a.payload->>'customerId', '')) AS customer_id
       FROM approval_requests a WHERE a.tenant_id = $1 AND a.status = 'PENDING'
         AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.tenant_id = a.tenant_id AND t.source_kind = 'APPROVAL' AND t.source_id = a.id)
       ORDER BY a.requested_at, a.id LIMIT 1000`,
      [ctx.tenantId],
    );
    for (const a of approvals) {
      const r = await this.create(ctx, { customerId: a.customer_id, reasonCode: 'APPROVAL_PENDING', nextAction: `Decide the ${a.kind} request: ${a.reason}`.slice(0, 500), dueDate: addDays(asOf, 1), assignTo: 'MANAGERS', source: { kind: 'APPROVAL', id: a.id } });
      if (r.created) created++;
    }
    const closed: { id: string; owner_user_id: string | null }[] = await inTransaction(ctx, async (tx) => {
      const rows = await queryReturning<{ id: string; owner_user_id: string | null }>(tx.em, 
        `UPDATE tasks t SET status = 'CANCELLED', outcome_note = 'resolved at the source', completed_on = $2::date, completed_at = now(), updated_at = now()
         WHERE t.tenant_id = $1 AND t.status IN ('OPEN','SNOOZED') AND (
           (t.source_kind = 'PAYMENT' AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.tenant_id = t.tenant_id AND p.id = t.source_id AND p.status IN ('UNAPPLIED','PARTIALLY_APPLIED') AND p.unapplied_minor > 0))
           OR (t.source_kind = 'APPROVAL' AND NOT EXISTS (SELECT 1 FROM approval_requests a WHERE a.tenant_id = t.tenant_id AND a.id = t.source_id AND a.status = 'PENDING')))
         RETURNING t.id, t.owner_user_id`,
        [ctx.tenantId, asOf],
      );
      if (rows.length) await this.announce(tx, groupByOwner(rows, 'CANCELLED'));
      return rows;
    });
    return { created, closed: closed.length };
  }

  list(ctx: RequestContext, filter: { customerId?: string | null; invoiceId?: string | null; ownerUserId?: string | null; status?: string | null; reasonCode?: string | null }): Promise<Task[]> {
    const qb = ctx.em.getRepository(Task).createQueryBuilder('t').where('t.tenant_id = :t', { t: ctx.tenantId });
    for (const [key, col] of [
      ['customerId', 'customer_id'],
      ['invoiceId', 'invoice_id'],
      ['ownerUserId', 'owner_user_id'],
    ] as const) {
      const v = filter[key];
      if (v === undefined || v === null) continue;
      if (!UUID.test(v)) return Promise.resolve([]);
      qb.andWhere(`t.${col} = :${key}`, { [key]: v });
    }
    if (filter.status) qb.andWhere('t.status = :status', { status: filter.status });
    if (filter.reasonCode) qb.andWhere('t.reason_code = :reasonCode', { reasonCode: filter.reasonCode });
    return qb.orderBy('t.created_at', 'DESC').addOrderBy('t.id', 'DESC').take(500).getMany();
  }

  private async lockOpen(ctx: RequestContext, id: string): Promise<Task> {
    const task = UUID.test(id) ? await ctx.em.getRepository(Task).createQueryBuilder('t').setLock('pessimistic_write').where('t.tenant_id = :t AND t.id = :id', { t: ctx.tenantId, id }).getOne() : null;
    if (!task) throw notFound('Task', id, 'id');
    if (!OPEN_STATES.includes(task.status)) throw badInput('id', `this task is ${task.status}`, WorklistErrors.TASK_CLOSED);
    return task;
  }

  /** First assignment rule that yields an active user wins; none: unassigned. */
  private async pickByRules(ctx: RequestContext, customerId: string | null): Promise<{ userId: string | null; rule: string }> {
    const { assignment } = await this.rules.get(ctx);
    const [customer]: { owner_user_id: string | null; owner_active: boolean | null; segment: string | null }[] = customerId
      ? await ctx.em.query(`SELECT c.owner_user_id, u.active AS owner_active, c.segment FROM customers c LEFT JOIN users u ON u.tenant_id = c.tenant_id AND u.id = c.owner_user_id WHERE c.tenant_id = $1 AND c.id = $2`, [ctx.tenantId, customerId])
      : [];
    for (const rule of assignment.order) {
      if (rule === AssignmentRuleKind.CUSTOMER_OWNER && customer?.owner_user_id && customer.owner_active) return { userId: customer.owner_user_id, rule };
      if (rule === AssignmentRuleKind.SEGMENT && customer?.segment) {
        const hit = assignment.segmentOwners.find((s) => s.segment.toLowerCase() === customer.segment!.toLowerCase());
        if (hit && (await this.isActive(ctx, hit.userId))) return { userId: hit.userId, rule };
      }
      if (rule === AssignmentRuleKind.ROUND_ROBIN) {
        const pool: { id: string }[] = assignment.roundRobinUserIds.length
          ? await ctx.em.query(`SELECT id FROM users WHERE tenant_id = $1 AND active AND id = ANY($2::uuid[]) ORDER BY array_position($2::uuid[], id)`, [ctx.tenantId, assignment.roundRobinUserIds])
          : await ctx.em.query(`SELECT id FROM users WHERE tenant_id = $1 AND active AND role = 'COLLECTOR' ORDER BY created_at, id`, [ctx.tenantId]);
        if (pool.length) {
          const seq = await this.rules.nextRoundRobin(ctx);
          return { userId: pool[(seq - 1) % pool.length].id, rule };
        }
      }
    }
    return { userId: null, rule: 'NONE' };
  }

  private async pickManager(ctx: RequestContext): Promise<{ userId: string | null; rule: string }> {
    const [m] = await ctx.em.query(
      `SELECT u.id FROM users u LEFT JOIN tasks t ON t.tenant_id = u.tenant_id AND t.owner_user_id = u.id AND t.status IN ('OPEN','SNOOZED')
       WHERE u.tenant_id = $1 AND u.active AND u.role IN ('MANAGER','DIRECTOR') GROUP BY u.id ORDER BY count(t.id), u.id LIMIT 1`,
      [ctx.tenantId],
    );
    return { userId: m?.id ?? null, rule: 'MANAGER' };
  }

  private async isActive(ctx: RequestContext, userId: string): Promise<boolean> {
    const [u] = await ctx.em.query(`SELECT 1 FROM users WHERE tenant_id = $1 AND id = $2 AND active`, [ctx.tenantId, userId]);
    return !!u;
  }

  /** pg_notify in the transaction: subscribers hear of it only once it commits. */
  private async announce(ctx: RequestContext, changes: WorklistChangedPayload['changes']): Promise<void> {
    await emitEvent(ctx.em, { type: WORKLIST_CHANGED, tenantId: ctx.tenantId, payload: { changes } satisfies WorklistChangedPayload });
  }
}

function groupByOwner(rows: { id: string; owner_user_id: string | null }[], reason: string): WorklistChangedPayload['changes'] {
  const by = new Map<string | null, string[]>();
  for (const r of rows) by.set(r.owner_user_id, [...(by.get(r.owner_user_id) ?? []), r.id]);
  // NOTIFY payloads are small: a large change is announced per owner with its first few ids.
  return [...by].slice(0, 20).map(([collectorId, ids]) => ({ collectorId, taskIds: ids.slice(0, 5), reason }));
}
