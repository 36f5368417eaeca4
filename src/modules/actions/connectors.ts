import type { RequestContext } from '../../platform/context';

/**
 * Outcomes written back to the ERP and CRM go through these interfaces. Until real connectors
 * land (integrations issue), the recording connector stores each call, idempotent by key.
 */
export interface WriteBackConnector {
  name: string;
  send(ctx: RequestContext, call: { operation: string; idempotencyKey: string; payload: Record<string, unknown> }): Promise<{ applied: boolean }>;
}

export class RecordingConnector implements WriteBackConnector {
  constructor(readonly name: 'erp' | 'crm') {}

  async send(ctx: RequestContext, call: { operation: string; idempotencyKey: string; payload: Record<string, unknown> }): Promise<{ applied: boolean }> {
    const rows = await ctx.em.query(
      `INSERT INTO connector_calls (tenant_id, connector, operation, idempotency_key, payload) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (tenant_id, connector, idempotency_key) DO NOTHING RETURNING id`,
      [ctx.tenantId, this.name, call.operation, call.idempotencyKey, JSON.stringify(call.payload)],
    );
    return { applied: rows.length > 0 };
  }
}

/** Registered TypeScript functions run before / after tier actions (e.g. check credit insurance before a hold). */
export type ActionHook = (ctx: RequestContext, input: { customerId: string; actionType: string; params: Record<string, unknown> }) => Promise<{ proceed: boolean; reason?: string } | void>;

export class HookRegistry {
  private readonly hooks = new Map<string, ActionHook>();
  register(name: string, hook: ActionHook): void {
    this.hooks.set(name, hook);
  }
  get(name: string): ActionHook | undefined {
    return this.hooks.get(name);
  }
  names(): string[] {
    return [...this.hooks.keys()];
  }
}
