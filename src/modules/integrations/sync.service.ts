import { setTimeout as sleep } from 'node:timers/promises';
import { ConnectorError, ConnectorErrorKind, retryDelay } from '../../../integrations/core/connector-error';
import { ERP_STREAM_ORDER, ErpStream, type ErpCreditMemo, type ErpCustomer, type ErpInvoice, type ErpPayment } from '../../../integrations/erp/erp-connector';
import { inTransaction, type RequestContext } from '../../platform/context';
import { AppError, ErrorCode } from '../../platform/errors';
import type { CreditService } from '../payments/credit.service';
import type { CustomerService } from '../customers/customer.service';
import type { InvoiceService } from '../invoices/invoice.service';
import type { PaymentApplicationService } from '../payments/payment-application.service';
import type { PaymentService } from '../payments/payment.service';
import { PaymentMethod } from '../payments/payment.entity';
import { PaymentTermsKind } from '../invoices/payment-terms';
import type { ConnectionRow, ConnectionService } from './connection.service';
import { connectionConfigSchemas, retryPolicyOf } from './connector-registry';
import { crmOf, syncCrmAccounts } from './crm-sync';
import { returned } from './sql-rows';
import { SyncRunStatus, type SyncError, type SyncRun, type SyncStreamCount } from './dto/integration.types';

/** Ids only, as every job: the run to execute (or resume). */
export interface SyncJobData {
  tenantId: string;
  connectionId: string;
  runId: string;
}

interface RunRow {
  id: string;
  connection_id: string;
  trigger: string;
  status: SyncRunStatus;
  attempts: number;
  pages: number;
  counts: Partial<Record<ErpStream, Omit<SyncStreamCount, 'stream'>>>;
  errors: SyncError[];
  next_retry_at: Date | null;
  started_at: Date | null;
  finished_at: Date | null;
  created_at: Date;
}

const MAX_ERRORS = 200;
const zero = () => ({ created: 0, updated: 0, unchanged: 0, failed: 0 });

/**
 * Pulls a connection's streams page by page from its stored cursors. Each page is written in
 * one transaction together with the cursor that ends it, so a sync killed at any point resumes
 * at the first page not yet committed: nothing is missed, and what is pulled again is
 * unchanged (upserts skip records whose source hash matches), so nothing is duplicated.
 * Remote failures follow the retry rules of integrations/core/connector-error.ts.
 */
export class SyncService {
  /** Set by the composition root: enqueues the sync job (delayed for retries). */
  enqueue: (data: SyncJobData, opts: { jobId: string; delayMs?: number }) => Promise<void> = async () => {
    throw new Error('the sync queue is not wired');
  };

  constructor(
    private readonly connections: ConnectionService,
    private readonly customers: CustomerService,
    private readonly invoices: InvoiceService,
    private readonly payments: PaymentService,
    private readonly application: PaymentApplicationService,
    private readonly credits: CreditService,
  ) {}

  async requestSync(ctx: RequestContext, connectionId: string, opts: { fromStart?: boolean; trigger: 'MANUAL' | 'SCHEDULED' }): Promise<SyncRun> {
    const conn = await this.connections.require(ctx, connectionId);
    const { runId, created } = await inTransaction(ctx, async (tx) => {
      await tx.em.query('SELECT id FROM integration_connections WHERE tenant_id = $1 AND id = $2 FOR UPDATE', [ctx.tenantId, conn.id]);
      const [active]: { id: string }[] = await tx.em.query(`SELECT id FROM sync_runs WHERE tenant_id = $1 AND connection_id = $2 AND status IN ('QUEUED','RUNNING','RETRYING')`, [ctx.tenantId, conn.id]);
      if (active) {
        if (opts.fromStart) throw new AppError(ErrorCode.CONFLICT, 'a sync of this connection is under way; wait for it before a full re-sync', { field: 'connectionId', reason: 'SYNC_IN_PROGRESS' });
        return { runId: active.id, created: false };
      }
      if (opts.fromStart) await tx.em.query(`UPDATE sync_cursors SET cursor = NULL, pages = 0, updated_at = now() WHERE tenant_id = $1 AND connection_id = $2`, [ctx.tenantId, conn.id]);
      const [run]: { id: string }[] = await tx.em.query(`INSERT INTO sync_runs (tenant_id, connection_id, trigger, status) VALUES ($1, $2, $3, 'QUEUED') RETURNING id`, [ctx.tenantId, conn.id, opts.fromStart ? 'FULL' : opts.trigger]);
      return { runId: run.id, created: true };
    });
    if (created) await this.enqueue({ tenantId: ctx.tenantId, connectionId: conn.id, runId }, { jobId: `sync-${runId}-0` });
    return (await this.run(ctx, runId))!;
  }

  async runs(ctx: RequestContext, connectionId: string, first: number): Promise<SyncRun[]> {
    const rows: RunRow[] = await ctx.em.query(`SELECT * FROM sync_runs WHERE tenant_id = $1 AND connection_id = $2 ORDER BY created_at DESC, id LIMIT $3`, [ctx.tenantId, connectionId, Math.min(Math.max(first, 1), 100)]);
    return rows.map(toGql);
  }

  async run(ctx: RequestContext, runId: string): Promise<SyncRun | null> {
    if (!/^[0-9a-f-]{36}$/i.test(runId)) return null;
    const [row]: RunRow[] = await ctx.em.query(`SELECT * FROM sync_runs WHERE tenant_id = $1 AND id = $2`, [ctx.tenantId, runId]);
    return row ? toGql(row) : null;
  }

  /** Connections whose schedule is due (for the fan-out cron). */
  async dueForSchedule(ctx: RequestContext): Promise<string[]> {
    const rows: { id: string }[] = await ctx.em.query(
      `SELECT id FROM integration_connections WHERE tenant_id = $1 AND active AND (config->>'scheduleMinutes') IS NOT NULL
         AND (last_sync_at IS NULL OR last_sync_at < now() - make_interval(mins => (config->>'scheduleMinutes')::int))`,
      [ctx.tenantId],
    );
    return rows.map((r) => r.id);
  }

  /** The job: runs (or resumes) one sync; one worker per connection at a time (session advisory lock). */
  async execute(ctx: RequestContext, data: SyncJobData): Promise<{ status: SyncRunStatus; pages: number }> {
    const runner = ctx.em.connection.createQueryRunner();
    await runner.connect();
    try {
      const [{ locked }] = await runner.query('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [`sync:${data.connectionId}`]);
      if (!locked) throw new Error(`connection ${data.connectionId} is being synced by another worker`);
      try {
        return await this.executeLocked(ctx, data);
      } finally {
        await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [`sync:${data.connectionId}`]);
      }
    } finally {
      await runner.release();
    }
  }

  private async executeLocked(ctx: RequestContext, data: SyncJobData): Promise<{ status: SyncRunStatus; pages: number }> {
    const [run] = returned<RunRow>(await ctx.em.query(
      `UPDATE sync_runs SET status = 'RUNNING', attempts = attempts + 1, started_at = coalesce(started_at, now()), next_retry_at = NULL
       WHERE tenant_id = $1 AND id = $2 AND status IN ('QUEUED','RUNNING','RETRYING') RETURNING *`,
      [ctx.tenantId, data.runId],
    ));
    if (!run) return { status: SyncRunStatus.SUCCEEDED, pages: 0 }; // finished already: a redelivered job changes nothing
    const conn = await this.connections.row(ctx, data.connectionId);
    if (!conn?.active) return this.finish(ctx, run, SyncRunStatus.FAILED, [{ kind: 'CONNECTION_INACTIVE', message: 'the connection is gone or inactive' }]);
    const config = connectionConfigSchemas[conn.kind].parse(conn.config);
    const state = { counts: run.counts ?? {}, errors: run.errors ?? [], pages: run.pages };
    try {
      const connector = this.connections.erp(conn, ctx);
      // CRM connections (HubSpot) pull accounts onto customers instead of the ERP streams.
      const crm = crmOf(connector);
      if (crm) await syncCrmAccounts(ctx, { connectionId: conn.id, runId: run.id, crm, config, state, onCustomersChanged: (ids) => this.invoices.onCustomersChanged(ctx, ids) });
      for (const stream of crm ? [] : ERP_STREAM_ORDER) {
        for (;;) {
          const [cur]: { cursor: string | null }[] = await ctx.em.query(`SELECT cursor FROM sync_cursors WHERE connection_id = $1 AND stream = $2`, [conn.id, stream]);
          const page = await connector.pull(stream, cur?.cursor ?? null, { pageSize: config.pageSize });
          await this.writePage(ctx, conn, run.id, stream, page.items, page.nextCursor ?? cur?.cursor ?? null, state, config.defaultEntityCode ?? null, page.deleted ?? []);
          if (!page.hasMore) break;
          if (config.minIntervalMs) await sleep(config.minIntervalMs);
        }
      }
      await ctx.em.query(`UPDATE integration_connections SET last_sync_at = now(), updated_at = now() WHERE id = $1`, [conn.id]);
      return this.finish(ctx, { ...run, ...state }, SyncRunStatus.SUCCEEDED, []);
    } catch (err) {
      if (err instanceof AppError) throw err;
      const kind = err instanceof ConnectorError ? err.kind : ConnectorErrorKind.TRANSIENT;
      const error = { kind, message: (err as Error)?.message ?? String(err), attempt: run.attempts };
      const delay = retryDelay(err, run.attempts, retryPolicyOf(config));
      if (delay === null) return this.finish(ctx, { ...run, ...state }, SyncRunStatus.FAILED, [error]);
      await ctx.em.query(`UPDATE sync_runs SET status = 'RETRYING', next_retry_at = now() + make_interval(secs => $3::float8 / 1000), errors = $4::jsonb WHERE tenant_id = $1 AND id = $2`, [
        ctx.tenantId,
        run.id,
        delay,
        JSON.stringify(capErrors([...state.errors, stamp(error)])),
      ]);
      await this.enqueue(data, { jobId: `sync-${run.id}-${run.attempts}`, delayMs: delay });
      ctx.logger.warn({ err, runId: run.id, retryInMs: delay }, 'sync failed; retry scheduled');
      return { status: SyncRunStatus.RETRYING, pages: state.pages };
    }
  }

  private async finish(ctx: RequestContext, run: RunRow, status: SyncRunStatus, errors: (Partial<SyncError> & { kind: string; message: string })[]): Promise<{ status: SyncRunStatus; pages: number }> {
    await ctx.em.query(`UPDATE sync_runs SET status = $3, finished_at = now(), next_retry_at = NULL, errors = $4::jsonb, counts = $5::jsonb, pages = $6 WHERE tenant_id = $1 AND id = $2`, [
      ctx.tenantId,
      run.id,
      status,
      JSON.stringify(capErrors([...(run.errors ?? []), ...errors.map((e) => stamp(e))])),
      JSON.stringify(run.counts ?? {}),
      run.pages,
    ]);
    return { status, pages: run.pages };
  }

  /** One page and its cursor in one transaction; follow-up work (re-evaluation, payment application) after commit. */
  private async writePage(
    ctx: RequestContext,
    conn: ConnectionRow,
    runId: string,
    stream: ErpStream,
    items: unknown[],
    nextCursor: string | null,
    state: { counts: RunRow['counts']; errors: SyncError[]; pages: number },
    defaultEntity: string | null,
    deleted: string[] = [],
  ): Promise<void> {
    const counts = { ...zero(), ...(state.counts[stream] ?? {}) };
    const errors: SyncError[] = [];
    const fail = (externalId: string, field: string | null, message: string) => {
      counts.failed++;
      errors.push(stamp({ kind: 'VALIDATION', message, stream, externalId, field }));
    };
    const after = await ctx.em.transaction(async (em) => {
      const tx = ctx.withManager(em);
      const followUp = { customers: [] as string[], payments: [] as string[] };
      if (items.length) {
        if (stream === ErpStream.CUSTOMERS) {
          const out = await this.customers.upsert(tx, (items as ErpCustomer[]).map((c) => ({ ...c, entityCode: c.entityCode ?? defaultEntity ?? '', contacts: c.contacts ?? undefined }) as never));
          for (const o of out) {
            if (o.errors.length) o.errors.forEach((e) => fail(o.externalId, e.field, e.message));
            else if (o.created) counts.created++;
            else if (o.changed) counts.updated++;
            else counts.unchanged++;
          }
        } else if (stream === ErpStream.INVOICES) {
          const out = await this.invoices.upsert(tx, (items as ErpInvoice[]).map((i) => ({ ...i, terms: i.terms ? { kind: i.terms.kind as PaymentTermsKind, days: i.terms.days ?? 0 } : null, lines: i.lines ?? null }) as never));
          for (const o of out) {
            if (o.errors.length) o.errors.forEach((e) => fail(o.externalId, e.field, e.message));
            else if (o.created) counts.created++;
            else if (o.changed) counts.updated++;
            else counts.unchanged++;
            if (o.changed && o.record) followUp.customers.push(o.record.customerId);
          }
        } else if (stream === ErpStream.PAYMENTS) {
          const out = await this.payments.record(
            tx,
            (items as ErpPayment[]).map((p) => ({ source: `erp:${conn.id}`, externalId: p.externalId, method: p.method as PaymentMethod, amount: p.amount, currency: p.currency, receivedOn: p.receivedOn, customerExternalId: p.customerExternalId ?? null, references: p.references ?? null, remittanceText: p.remittanceText ?? null, payerName: p.payerName ?? null })),
            { applyNow: false },
          );
          for (const o of out) {
            if (o.errors.length) o.errors.forEach((e) => fail(o.externalId, e.field, e.message));
            else if (o.created) {
              counts.created++;
              if (o.paymentId) followUp.payments.push(o.paymentId);
            } else counts.unchanged++;
          }
        } else {
          for (const m of items as ErpCreditMemo[]) await this.creditMemo(tx, m, counts, fail);
        }
      }
      for (const externalId of deleted) await this.deletedAtSource(tx, conn, stream, externalId, counts, fail, followUp.customers);
      await em.query(
        `INSERT INTO sync_cursors (tenant_id, connection_id, stream, cursor, pages) VALUES ($1, $2, $3, $4, 1)
         ON CONFLICT (connection_id, stream) DO UPDATE SET cursor = EXCLUDED.cursor, pages = sync_cursors.pages + 1, updated_at = now()`,
        [ctx.tenantId, conn.id, stream, nextCursor],
      );
      state.counts = { ...state.counts, [stream]: counts };
      state.errors = capErrors([...state.errors, ...errors]);
      state.pages++;
      await em.query(`UPDATE sync_runs SET counts = $3::jsonb, errors = $4::jsonb, pages = $5 WHERE tenant_id = $1 AND id = $2`, [ctx.tenantId, runId, JSON.stringify(state.counts), JSON.stringify(state.errors), state.pages]);
      return followUp;
    });
    if (after.customers.length) this.invoices.onCustomersChanged(ctx, [...new Set(after.customers)]);
    if (after.payments.length) await this.application.apply(ctx, after.payments);
  }

  /**
   * A record the ERP deleted or voided: an invoice is voided (once: a void invoice, or one never
   * synced, is unchanged); one with payments applied is reported, as is a synced payment (reverse
   * it with reversePayment). Customers and credit memos deleted at the source are left as they are.
   */
  private async deletedAtSource(
    tx: RequestContext,
    conn: ConnectionRow,
    stream: ErpStream,
    externalId: string,
    counts: ReturnType<typeof zero>,
    fail: (ext: string, field: string | null, msg: string) => void,
    customers: string[],
  ): Promise<void> {
    if (stream === ErpStream.PAYMENTS) {
      const [p] = await tx.em.query(`SELECT 1 FROM payments WHERE tenant_id = $1 AND source = $2 AND external_id = $3`, [tx.tenantId, `erp:${conn.id}`, externalId]);
      if (p) fail(externalId, null, 'deleted or voided in the ERP; reverse the payment in Recoup (reversePayment)');
      else counts.unchanged++;
      return;
    }
    if (stream !== ErpStream.INVOICES) {
      counts.unchanged++;
      return;
    }
    const [inv]: { id: string; status: string; customer_id: string }[] = await tx.em.query(`SELECT id, status, customer_id FROM invoices WHERE tenant_id = $1 AND external_id = $2`, [tx.tenantId, externalId]);
    if (!inv || inv.status === 'VOID') {
      counts.unchanged++;
      return;
    }
    try {
      await tx.em.query('SAVEPOINT erp_void');
      await this.invoices.void(tx, inv.id, 'deleted or voided in the ERP');
      await tx.em.query('RELEASE SAVEPOINT erp_void');
      counts.updated++;
      customers.push(inv.customer_id);
    } catch (err) {
      await tx.em.query('ROLLBACK TO SAVEPOINT erp_void');
      if (!(err instanceof AppError)) throw err;
      fail(externalId, String(err.extensions.field ?? '') || null, `deleted or voided in the ERP, but ${err.message}`);
    }
  }

  /** Credit memos are keyed by number: one that exists already is left as it is. */
  private async creditMemo(tx: RequestContext, m: ErpCreditMemo, counts: ReturnType<typeof zero>, fail: (ext: string, field: string | null, msg: string) => void): Promise<void> {
    const [customer]: { id: string }[] = await tx.em.query(`SELECT id FROM customers WHERE tenant_id = $1 AND external_id = $2`, [tx.tenantId, m.customerExternalId]);
    if (!customer) return fail(m.externalId, 'customerExternalId', `no customer with externalId ${m.customerExternalId}`);
    const [exists] = await tx.em.query(`SELECT 1 FROM ar_documents WHERE tenant_id = $1 AND kind = 'CREDIT_MEMO' AND number = $2`, [tx.tenantId, m.number]);
    if (exists) {
      counts.unchanged++;
      return;
    }
    try {
      await tx.em.query('SAVEPOINT credit_memo');
      await this.credits.createCreditMemo(tx, { customerId: customer.id, number: m.number, amount: m.amount, currency: m.currency, reason: m.reason?.trim() || `ERP credit memo ${m.externalId}` });
      await tx.em.query('RELEASE SAVEPOINT credit_memo');
      counts.created++;
    } catch (err) {
      await tx.em.query('ROLLBACK TO SAVEPOINT credit_memo');
      if (!(err instanceof AppError)) throw err;
      fail(m.externalId, String(err.extensions.field ?? '') || null, err.message);
    }
  }
}

function stamp(e: Partial<SyncError> & { kind: string; message: string }): SyncError {
  return { stream: null, externalId: null, field: null, attempt: null, ...e, at: new Date().toISOString() };
}

function capErrors(errors: SyncError[]): SyncError[] {
  return errors.length > MAX_ERRORS ? errors.slice(errors.length - MAX_ERRORS) : errors;
}

function toGql(r: RunRow): SyncRun {
  return {
    id: r.id,
    connectionId: r.connection_id,
    trigger: r.trigger,
    status: r.status,
    attempts: r.attempts,
    pages: r.pages,
    counts: ERP_STREAM_ORDER.filter((s) => r.counts?.[s]).map((s) => ({ stream: s, ...zero(), ...r.counts[s] })),
    errors: (r.errors ?? []).map((e) => stamp(e)),
    nextRetryAt: r.next_retry_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    durationMs: r.started_at && r.finished_at ? new Date(r.finished_at).getTime() - new Date(r.started_at).getTime() : null,
    createdAt: r.created_at,
  };
}

