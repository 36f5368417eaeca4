import type { RequestContext } from '../../platform/context';
import { RecordingConnector, type WriteBackConnector } from '../actions/connectors';
import { WriteBackOperation } from '../../../integrations/erp/erp-connector';
import { ConnectionKind } from './connector-registry';
import type { WriteBackService } from './writeback.service';

/** Which connection kinds take the engine's ERP and CRM outcomes. */
const KINDS: Record<'erp' | 'crm', ConnectionKind[]> = {
  erp: [ConnectionKind.QUICKBOOKS_ONLINE, ConnectionKind.GENERIC_HTTP_ERP],
  crm: [ConnectionKind.HUBSPOT],
};

/**
 * The dunning engine's and approvals' outcomes (credit holds, notes, CRM activities) on their
 * way to the tenant's systems. Every call is recorded (connector_calls, idempotent by key: what
 * Recoup decided, whether or not a system is connected); when the tenant has an active
 * connection of the right kind, the call is also queued in that connection's write-back outbox
 * in the same transaction, with the same idempotency key, so it reaches the ERP or CRM once
 * (the outbox reconciles with the target before any retry).
 */
export class EngineWriteBacks implements WriteBackConnector {
  private readonly recording: RecordingConnector;

  constructor(
    readonly name: 'erp' | 'crm',
    private readonly writeBacks: WriteBackService,
  ) {
    this.recording = new RecordingConnector(name);
  }

  async send(ctx: RequestContext, call: { operation: string; idempotencyKey: string; payload: Record<string, unknown> }): Promise<{ applied: boolean }> {
    const recorded = await this.recording.send(ctx, call);
    const connectionId = await this.connectionFor(ctx);
    const mapped = connectionId ? await this.map(ctx, call.operation, call.payload) : null;
    if (!connectionId || !mapped) return recorded;
    await this.writeBacks.queue(ctx, connectionId, { ...mapped, idempotencyKey: call.idempotencyKey });
    return recorded;
  }

  private async connectionFor(ctx: RequestContext): Promise<string | null> {
    const [row]: { id: string }[] = await ctx.em.query(`SELECT id FROM integration_connections WHERE tenant_id = $1 AND active AND kind = ANY($2::text[]) ORDER BY created_at LIMIT 1`, [
      ctx.tenantId,
      KINDS[this.name],
    ]);
    return row?.id ?? null;
  }

  /** Recoup's customer ids become the ERP's ids; operations become the outbox's. */
  private async map(ctx: RequestContext, operation: string, payload: Record<string, unknown>): Promise<{ operation: WriteBackOperation; payload: Record<string, unknown> } | null> {
    const customerId = typeof payload.customerId === 'string' ? payload.customerId : null;
    if (!customerId) return null;
    const [c]: { external_id: string | null }[] = await ctx.em.query(`SELECT external_id FROM customers WHERE tenant_id = $1 AND id = $2`, [ctx.tenantId, customerId]);
    if (!c?.external_id) return null;
    if (operation === 'customer.credit_hold') return { operation: WriteBackOperation.SET_CREDIT_HOLD, payload: { customerExternalId: c.external_id, creditHold: payload.creditHold === true } };
    const subject = String(payload.subject ?? operation);
    const body = String(payload.note ?? payload.body ?? payload.reason ?? subject);
    return { operation: WriteBackOperation.LOG_ACTIVITY, payload: { customerExternalId: c.external_id, subject, body } };
  }
}
