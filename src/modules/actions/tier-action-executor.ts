import type { RequestContext } from '../../platform/context';
import { addDays, type IsoDate } from '../../platform/time/dates';
import type { AuditService } from '../audit/audit.service';
import type { Action } from './action.entity';
import type { HookRegistry, WriteBackConnector } from './connectors';

export interface TierActionDef {
  type: string;
  params: Record<string, unknown>;
  hooks: { before: string[]; after: string[] };
}

/** What a gate says before a tier action runs: go, wait in the outbox for an approval, or never. */
export type TierGateResult = { proceed: true } | { awaiting: string } | { vetoed: string };
export type TierGate = (ctx: RequestContext, action: Action) => Promise<TierGateResult>;

export type Notify = (ctx: RequestContext, action: Action, to: 'owner' | 'managers' | string[]) => Promise<void>;

/**
 * Carries out an escalation tier's entry action inside the dispatcher's transaction. Before
 * hooks may veto it (the action is then suppressed with their reason); after hooks follow.
 */
export class TierActionExecutor {
  /** Per action type (e.g. CREDIT_HOLD → the tenant's approval rules), set by the composition root. */
  readonly gates = new Map<string, TierGate>();

  constructor(
    private readonly hooks: HookRegistry,
    private readonly erp: WriteBackConnector,
    private readonly crm: WriteBackConnector,
    private readonly audit: AuditService,
    private readonly notify: Notify,
  ) {}

  async execute(ctx: RequestContext, action: Action, def: TierActionDef, asOf: IsoDate): Promise<{ done: true } | { vetoed: string } | { awaiting: string }> {
    const gate = this.gates.get(def.type);
    if (gate) {
      const g = await gate(ctx, action);
      if (!('proceed' in g)) return g;
    }
    const input = { customerId: action.customerId, actionType: def.type, params: def.params };
    for (const name of def.hooks.before) {
      const hook = this.hooks.get(name);
      if (!hook) return { vetoed: `before hook "${name}" is not registered` };
      const r = await hook(ctx, input);
      if (r && !r.proceed) return { vetoed: r.reason ?? `before hook "${name}" said no` };
    }
    const q = (sql: string, params: unknown[]) => ctx.em.query(sql, params);
    const p = def.params;
    switch (def.type) {
      case 'NOTIFY':
        await this.notify(ctx, action, Array.isArray(p.to) ? (p.to as string[]) : p.to === 'managers' ? 'managers' : 'owner');
        break;
      case 'CREATE_TASK':
        await this.createTask(ctx, action, String(p.nextAction ?? 'Contact the customer about overdue invoices'), Number(p.priority ?? action.tier ?? 1), addDays(asOf, Number(p.slaDays ?? 2)), `TIER_${action.tier}`);
        break;
      case 'ASSIGN_COLLECTOR':
        await this.assignCollector(ctx, action.customerId, typeof p.userId === 'string' ? p.userId : null);
        break;
      case 'SET_CUSTOMER_STATUS':
        await q(`UPDATE customers SET collections_status = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2`, [ctx.tenantId, action.customerId, String(p.status ?? `TIER_${action.tier}`)]);
        break;
      case 'CREDIT_HOLD':
        await q(`UPDATE customers SET credit_hold = true, updated_at = now() WHERE tenant_id = $1 AND id = $2`, [ctx.tenantId, action.customerId]);
        await this.erp.send(ctx, { operation: 'customer.credit_hold', idempotencyKey: action.idempotencyKey, payload: { customerId: action.customerId, creditHold: true } });
        break;
      case 'PORTAL_ACCESS':
        await q(`UPDATE customers SET portal_status = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2`, [ctx.tenantId, action.customerId, String(p.status ?? 'RESTRICTED')]);
        break;
      case 'CRM_ACTIVITY':
        await this.crm.send(ctx, { operation: 'activity.log', idempotencyKey: action.idempotencyKey, payload: { customerId: action.customerId, subject: String(p.subject ?? `Escalated to tier ${action.tier}`), reason: action.reason.rule } });
        break;
      case 'ERP_WRITEBACK':
        await this.erp.send(ctx, { operation: String(p.operation ?? 'customer.note'), idempotencyKey: action.idempotencyKey, payload: { customerId: action.customerId, ...p } });
        break;
      default:
        throw new Error(`unknown tier action ${def.type}`);
    }
    await this.audit.record(ctx, { action: `tier_action.${def.type.toLowerCase()}`, subjectType: 'Customer', subjectId: action.customerId, data: { actionId: action.id, tier: action.tier, params: p, rule: action.reason.rule } });
    for (const name of def.hooks.after) await this.hooks.get(name)?.(ctx, input);
    return { done: true };
  }

  /** Set by the composition root: the worklists module creates tasks (assignment rules, live worklist events). */
  taskSink: ((ctx: RequestContext, task: { customerId: string; invoiceId: string | null; reasonCode: string; nextAction: string; priority: number; dueDate: IsoDate | null; actionId: string }) => Promise<void>) | null = null;

  async createTask(ctx: RequestContext, action: Action, nextAction: string, priority: number, due: IsoDate | null, reasonCode: string): Promise<void> {
    if (this.taskSink) return this.taskSink(ctx, { customerId: action.customerId, invoiceId: action.invoiceId, reasonCode, nextAction, priority, dueDate: due, actionId: action.id });
    await ctx.em.query(
      `INSERT INTO tasks (tenant_id, customer_id, invoice_id, owner_user_id, reason_code, next_action, priority, due_date, source_action_id)
       SELECT $1, c.id, $3, c.owner_user_id, $4, $5, $6, $7, $8 FROM customers c WHERE c.tenant_id = $1 AND c.id = $2
       ON CONFLICT (tenant_id, source_action_id) WHERE source_action_id IS NOT NULL DO NOTHING`,
      [ctx.tenantId, action.customerId, action.invoiceId, reasonCode, nextAction, priority, due, action.id],
    );
  }

  /** The given collector, or the active collector with the fewest customers; kept if one owns it already. */
  private async assignCollector(ctx: RequestContext, customerId: string, userId: string | null): Promise<void> {
    await ctx.em.query(
      `UPDATE customers c SET owner_user_id = COALESCE($3::uuid, (
          SELECT u.id FROM users u LEFT JOIN customers oc ON oc.owner_user_id = u.id AND oc.tenant_id = u.tenant_id
          WHERE u.tenant_id = $1 AND u.role = 'COLLECTOR' AND u.active GROUP BY u.id ORDER BY count(oc.id), u.id LIMIT 1)), updated_at = now()
       WHERE c.tenant_id = $1 AND c.id = $2 AND ($3::uuid IS NOT NULL OR c.owner_user_id IS NULL)`,
      [ctx.tenantId, customerId, userId],
    );
  }
}
