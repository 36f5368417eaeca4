import { createHash } from 'node:crypto';
import { ConnectorError, ConnectorErrorKind, retryDelay } from '../../../integrations/core/connector-error';
import { WriteBackOperation, type WriteBackCall } from '../../../integrations/erp/erp-connector';
import type { RequestContext } from '../../platform/context';
import { badInput, notFound } from '../../platform/errors';
import type { WriteBackConnector } from '../actions/connectors';
import type { ConnectionService } from './connection.service';
import { connectionConfigSchemas, retryPolicyOf } from './connector-registry';
import { WriteBackStatus, type RequestWriteBackInput, type WriteBack } from './dto/integration.types';
import { IntegrationErrors } from './integration.errors';
import { returned } from './sql-rows';

export interface WriteBackJobData {
  tenantId: string;
  outboxId: string;
}

interface OutboxRow {
  id: string;
  connection_id: string;
  operation: WriteBackOperation;
  idempotency_key: string;
  payload: Record<string, unknown>;
  status: WriteBackStatus;
  attempts: number;
  outcome_unknown: boolean;
  reconciled: boolean;
  last_error: string | null;
  created_at: Date;
  applied_at: Date | null;
}

const isUuid = (s: string) => /^[0-9a-f-]{36}$/i.test(s);
/** A SENDING row older than this belongs to a worker that died mid-call: another may take it over. */
const STALE_SENDING_SECONDS = 120;

/**
 * The write-back outbox: one row per intended effect (unique idempotency key), sent by a job.
 * Before a call whose earlier attempt ended without an answer (timeout, reset, worker killed
 * mid-call) is sent again, the target is read back (`reconcile`): an effect the ERP applied
 * before the answer was lost is recorded as applied, never sent twice.
 */
export class WriteBackService {
  enqueue: (data: WriteBackJobData, opts: { jobId: string; delayMs?: number }) => Promise<void> = async () => {
    throw new Error('the write-back queue is not wired');
  };

  constructor(private readonly connections: ConnectionService) {}

  /** By Recoup ids, from the API: resolves the ERP ids and queues the call. */
  async request(ctx: RequestContext, input: RequestWriteBackInput): Promise<WriteBack> {
    const conn = await this.connections.require(ctx, input.connectionId);
    const payload: Record<string, unknown> = {};
    let subject: string;
    const customerExt = async () => {
      const [c]: { external_id: string }[] = input.customerId && isUuid(input.customerId) ? await ctx.em.query(`SELECT external_id FROM customers WHERE tenant_id = $1 AND id = $2`, [ctx.tenantId, input.customerId]) : [];
      if (!c) throw notFound('Customer', input.customerId ?? '(none)', 'customerId');
      return c.external_id;
    };
    const invoiceExt = async () => {
      const [i]: { external_id: string }[] = input.invoiceId && isUuid(input.invoiceId) ? await ctx.em.query(`SELECT external_id FROM invoices WHERE tenant_id = $1 AND id = $2`, [ctx.tenantId, input.invoiceId]) : [];
      if (!i) throw notFound('Invoice', input.invoiceId ?? '(none)', 'invoiceId');
      return i.external_id;
    };
    switch (input.operation) {
      case WriteBackOperation.SET_CREDIT_HOLD:
        if (input.creditHold === null || input.creditHold === undefined) throw badInput('creditHold', 'say whether the hold is set or released', IntegrationErrors.INVALID_WRITE_BACK);
        payload.customerExternalId = await customerExt();
        payload.creditHold = input.creditHold;
        subject = String(payload.customerExternalId);
        break;
      case WriteBackOperation.SET_INVOICE_STATUS:
        if (!input.status?.trim()) throw badInput('status', 'the status to write is required', IntegrationErrors.INVALID_WRITE_BACK);
        payload.invoiceExternalId = await invoiceExt();
        payload.status = input.status.trim();
        subject = String(payload.invoiceExternalId);
        break;
      case WriteBackOperation.ADD_INVOICE_NOTE:
        if (!input.note?.trim()) throw badInput('note', 'the note is required', IntegrationErrors.INVALID_WRITE_BACK);
        payload.invoiceExternalId = await invoiceExt();
        payload.note = input.note.trim();
        subject = String(payload.invoiceExternalId);
        break;
      case WriteBackOperation.LOG_ACTIVITY:
        if (!input.subject?.trim()) throw badInput('subject', 'the activity subject is required', IntegrationErrors.INVALID_WRITE_BACK);
        payload.customerExternalId = await customerExt();
        payload.subject = input.subject.trim();
        payload.body = input.note?.trim() ?? '';
        subject = String(payload.customerExternalId);
        break;
    }
    const key = input.idempotencyKey?.trim() || `${input.operation}:${subject}:${createHash('sha256').update(JSON.stringify(payload)).digest('hex').slice(0, 16)}`;
    return this.queue(ctx, conn.id, { operation: input.operation, idempotencyKey: key, payload });
  }

  /** Queues one call (idempotent by key); the job sends it. Joins the caller's transaction when there is one. */
  async queue(ctx: RequestContext, connectionId: string, call: WriteBackCall): Promise<WriteBack> {
    if (call.idempotencyKey.length > 300) throw badInput('idempotencyKey', 'at most 300 characters', IntegrationErrors.INVALID_WRITE_BACK);
    const inserted: OutboxRow[] = await ctx.em.query(
      `INSERT INTO writeback_outbox (tenant_id, connection_id, operation, idempotency_key, payload) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (tenant_id, connection_id, idempotency_key) DO NOTHING RETURNING *`,
      [ctx.tenantId, connectionId, call.operation, call.idempotencyKey, JSON.stringify(call.payload)],
    );
    if (inserted.length && !ctx.inTransaction) await this.enqueue({ tenantId: ctx.tenantId, outboxId: inserted[0].id }, { jobId: `wb-${inserted[0].id}-0` });
    const [row]: OutboxRow[] = inserted.length ? inserted : await ctx.em.query(`SELECT * FROM writeback_outbox WHERE tenant_id = $1 AND connection_id = $2 AND idempotency_key = $3`, [ctx.tenantId, connectionId, call.idempotencyKey]);
    return toGql(row);
  }

  async list(ctx: RequestContext, connectionId: string, first: number): Promise<WriteBack[]> {
    const rows: OutboxRow[] = await ctx.em.query(`SELECT * FROM writeback_outbox WHERE tenant_id = $1 AND connection_id = $2 ORDER BY created_at DESC, id LIMIT $3`, [ctx.tenantId, connectionId, Math.min(Math.max(first, 1), 200)]);
    return rows.map(toGql);
  }

  /** The job: reconcile when an earlier attempt's outcome is unknown, else send; retry per error kind. */
  async process(ctx: RequestContext, data: WriteBackJobData): Promise<WriteBackStatus> {
    const [row] = returned<OutboxRow>(await ctx.em.query(
      `UPDATE writeback_outbox SET status = 'SENDING', attempts = attempts + 1, updated_at = now()
       WHERE tenant_id = $1 AND id = $2 AND (status IN ('PENDING','RETRYING') OR (status = 'SENDING' AND updated_at < now() - make_interval(secs => $3)))
       RETURNING *`,
      [ctx.tenantId, data.outboxId, STALE_SENDING_SECONDS],
    ));
    if (!row) return WriteBackStatus.APPLIED; // applied, failed for good, or being sent by another worker
    const conn = await this.connections.row(ctx, row.connection_id);
    if (!conn?.active) return this.settle(ctx, row, WriteBackStatus.FAILED, { error: 'the connection is gone or inactive' });
    const call: WriteBackCall = { operation: row.operation, idempotencyKey: row.idempotency_key, payload: row.payload };
    const config = connectionConfigSchemas[conn.kind].parse(conn.config);
    try {
      const connector = this.connections.erp(conn, ctx);
      if (row.outcome_unknown) {
        const state = await connector.reconcile(call);
        if (state === 'APPLIED') return this.settle(ctx, row, WriteBackStatus.APPLIED, { reconciled: true });
        if (state === 'UNKNOWN') throw new ConnectorError(ConnectorErrorKind.TRANSIENT, 'the target could not tell whether the earlier attempt was applied');
        await ctx.em.query(`UPDATE writeback_outbox SET reconciled = true WHERE id = $1`, [row.id]);
      }
      // From here until the answer, the outcome is unknown: a crash or a timeout leads to reconciliation.
      await ctx.em.query(`UPDATE writeback_outbox SET outcome_unknown = true, updated_at = now() WHERE id = $1`, [row.id]);
      await connector.push(call);
      return this.settle(ctx, row, WriteBackStatus.APPLIED, {});
    } catch (err) {
      const kind = err instanceof ConnectorError ? err.kind : ConnectorErrorKind.TRANSIENT;
      // A 429 or a 4xx is a definite "not applied"; a timeout, a 5xx or a reset may hide an applied write.
      const ambiguous = kind === ConnectorErrorKind.TIMEOUT || kind === ConnectorErrorKind.TRANSIENT;
      const message = `${kind}: ${(err as Error)?.message ?? err}`;
      const delay = retryDelay(err, row.attempts, retryPolicyOf(config));
      if (delay === null) return this.settle(ctx, row, WriteBackStatus.FAILED, { error: message, outcomeUnknown: ambiguous });
      await ctx.em.query(`UPDATE writeback_outbox SET status = 'RETRYING', last_error = $2, outcome_unknown = $3, updated_at = now() WHERE id = $1`, [row.id, message, ambiguous]);
      await this.enqueue(data, { jobId: `wb-${row.id}-${row.attempts}`, delayMs: delay });
      return WriteBackStatus.RETRYING;
    }
  }

  private async settle(ctx: RequestContext, row: OutboxRow, status: WriteBackStatus, o: { reconciled?: boolean; error?: string; outcomeUnknown?: boolean }): Promise<WriteBackStatus> {
    await ctx.em.query(
      `UPDATE writeback_outbox SET status = $2::varchar, applied_at = CASE WHEN $2::varchar = 'APPLIED' THEN now() END, reconciled = reconciled OR $3, last_error = coalesce($4, last_error),
         outcome_unknown = $5, updated_at = now() WHERE id = $1`,
      [row.id, status, !!o.reconciled, o.error ?? null, !!o.outcomeUnknown],
    );
    return status;
  }
}

/**
 * What the dunning engine's tier actions call (src/modules/actions/connectors.ts): routes a
 * write-back into this outbox for the tenant's ERP connection. The composition root still
 * passes the RecordingConnector; switching to this adapter is one line once a tenant's ERP
 * connector maps the engine's operations (credit.hold, invoice.note, activity.log).
 */
export class OutboxWriteBackConnector implements WriteBackConnector {
  constructor(
    readonly name: 'erp' | 'crm',
    private readonly outbox: WriteBackService,
    private readonly connectionFor: (ctx: RequestContext) => Promise<string | null>,
    private readonly map: (operation: string, payload: Record<string, unknown>) => Promise<Omit<WriteBackCall, 'idempotencyKey'> | null>,
  ) {}

  async send(ctx: RequestContext, call: { operation: string; idempotencyKey: string; payload: Record<string, unknown> }): Promise<{ applied: boolean }> {
    const connectionId = await this.connectionFor(ctx);
    const mapped = connectionId ? await this.map(call.operation, call.payload) : null;
    if (!connectionId || !mapped) return { applied: false };
    const before = await this.outbox.queue(ctx, connectionId, { ...mapped, idempotencyKey: call.idempotencyKey });
    return { applied: before.attempts === 0 && before.status === WriteBackStatus.PENDING };
  }
}

function toGql(r: OutboxRow): WriteBack {
  return {
    id: r.id,
    connectionId: r.connection_id,
    operation: r.operation,
    idempotencyKey: r.idempotency_key,
    payload: r.payload,
    status: r.status,
    attempts: r.attempts,
    reconciled: r.reconciled,
    lastError: r.last_error,
    createdAt: r.created_at,
    appliedAt: r.applied_at,
  };
}
