import { setTimeout as sleep } from 'node:timers/promises';
import { ConnectorError, ConnectorErrorKind } from '../../../integrations/core/connector-error';
import type { CrmAccount, CrmConnector } from '../../../integrations/crm/crm-connector';
import { ErpStream, WriteBackOperation, type ErpConnector, type ErpPage, type ErpRecordByStream, type ReconcileResult, type WriteBackCall } from '../../../integrations/erp/erp-connector';
import type { RequestContext } from '../../platform/context';
import type { SyncError, SyncStreamCount } from './dto/integration.types';
import { returned } from './sql-rows';

/** What a CRM account may carry besides the contract (HubSpot: domain matching, owners it could not name, unreadable values). */
type Account = CrmAccount & { domain?: string | null; unknownOwnerId?: string | null; problems?: { field: string; message: string }[] };

type Counts = Omit<SyncStreamCount, 'stream'>;

/**
 * A CRM connector behind the ERP connector interface, so the registry, the connection service
 * and the write-back outbox treat it like any connection: write-backs of LOG_ACTIVITY go to
 * the CRM as activities (reconciled by the CRM's own idempotency marker); syncs see `crm` and
 * pull accounts (syncCrmAccounts) instead of the ERP streams.
 */
export class CrmErpAdapter implements ErpConnector {
  constructor(readonly crm: CrmConnector) {}

  get kind(): string {
    return this.crm.kind;
  }

  check(): Promise<void> {
    return this.crm.check();
  }

  async pull<S extends ErpStream>(stream: S): Promise<ErpPage<ErpRecordByStream[S]>> {
    throw new ConnectorError(ConnectorErrorKind.PERMANENT, `${this.crm.kind} is a CRM: it syncs accounts, not the ERP stream ${stream}`);
  }

  private activity(call: WriteBackCall) {
    if (call.operation !== WriteBackOperation.LOG_ACTIVITY) {
      throw new ConnectorError(ConnectorErrorKind.PERMANENT, `${this.crm.kind} takes LOG_ACTIVITY write-backs only, not ${call.operation}`);
    }
    const p = call.payload;
    return {
      idempotencyKey: call.idempotencyKey,
      customerExternalId: String(p.customerExternalId ?? ''),
      subject: String(p.subject ?? ''),
      body: String(p.body ?? ''),
      occurredAt: typeof p.occurredAt === 'string' ? p.occurredAt : new Date().toISOString(),
    };
  }

  push(call: WriteBackCall): Promise<{ remoteRef?: string | null }> {
    return this.crm.logActivity(this.activity(call));
  }

  async reconcile(call: WriteBackCall): Promise<ReconcileResult> {
    if (call.operation !== WriteBackOperation.LOG_ACTIVITY) return 'NOT_APPLIED';
    return this.crm.reconcileActivity(this.activity(call));
  }
}

export function crmOf(connector: ErpConnector): CrmConnector | null {
  return connector instanceof CrmErpAdapter ? connector.crm : null;
}

const zero = (): Counts => ({ created: 0, updated: 0, unchanged: 0, failed: 0 });
const stamp = (e: Partial<SyncError> & { kind: string; message: string }): SyncError => ({ stream: null, externalId: null, field: null, attempt: null, ...e, at: new Date().toISOString() });
const MAX_ERRORS = 200;

/**
 * Pulls CRM accounts page by page onto the customers they match (owner by email, renewal
 * date, tier), each page with its cursor in one transaction (stream CUSTOMERS in
 * sync_cursors and in the run's counts). Only the CRM's columns are written, and only when
 * they differ; an account whose customer Recoup does not know is reported, not created.
 */
export async function syncCrmAccounts(
  ctx: RequestContext,
  o: {
    connectionId: string;
    runId: string;
    crm: CrmConnector;
    config: { pageSize: number; minIntervalMs: number };
    state: { counts: Partial<Record<ErpStream, Counts>>; errors: SyncError[]; pages: number };
    onCustomersChanged: (customerIds: string[]) => void;
  },
): Promise<void> {
  const stream = ErpStream.CUSTOMERS;
  for (;;) {
    const [cur]: { cursor: string | null }[] = await ctx.em.query(`SELECT cursor FROM sync_cursors WHERE connection_id = $1 AND stream = $2`, [o.connectionId, stream]);
    const page = await o.crm.pullAccounts(cur?.cursor ?? null, { pageSize: o.config.pageSize });
    const changed = await ctx.em.transaction(async (em) => {
      const counts = { ...zero(), ...(o.state.counts[stream] ?? {}) };
      const errors: SyncError[] = [];
      const items = page.items as Account[];
      const label = (a: Account) => a.customerExternalId || a.domain || '(unmatched)';
      const byExt = new Map<string, string>();
      const byDomain = new Map<string, string[]>();
      const exts = items.map((a) => a.customerExternalId).filter(Boolean);
      if (exts.length) {
        const rows: { id: string; external_id: string }[] = await em.query(`SELECT id, external_id FROM customers WHERE tenant_id = $1 AND external_id = ANY($2::text[])`, [ctx.tenantId, exts]);
        rows.forEach((r) => byExt.set(r.external_id, r.id));
      }
      const domains = items.filter((a) => !a.customerExternalId && a.domain).map((a) => a.domain!.toLowerCase());
      if (domains.length) {
        const rows: { id: string; d: string }[] = await em.query(
          `SELECT DISTINCT c.id, lower(split_part(ct.email, '@', 2)) AS d FROM contacts ct JOIN customers c ON c.id = ct.customer_id
           WHERE ct.tenant_id = $1 AND ct.email IS NOT NULL AND lower(split_part(ct.email, '@', 2)) = ANY($2::text[])`,
          [ctx.tenantId, domains],
        );
        rows.forEach((r) => byDomain.set(r.d, [...(byDomain.get(r.d) ?? []), r.id]));
      }
      const emails = [...new Set(items.map((a) => a.ownerEmail?.toLowerCase()).filter((e): e is string => !!e))];
      const users = new Map<string, string>();
      if (emails.length) {
        const rows: { id: string; e: string }[] = await em.query(`SELECT id, lower(email) AS e FROM users WHERE tenant_id = $1 AND lower(email) = ANY($2::text[])`, [ctx.tenantId, emails]);
        rows.forEach((r) => users.set(r.e, r.id));
      }
      const changedIds: string[] = [];
      for (const a of items) {
        const fail = (field: string | null, message: string) => errors.push(stamp({ kind: 'VALIDATION', message, stream, externalId: label(a), field }));
        let customerId: string | undefined;
        if (a.customerExternalId) customerId = byExt.get(a.customerExternalId);
        else if (a.domain) {
          const ids = byDomain.get(a.domain.toLowerCase()) ?? [];
          if (ids.length > 1) {
            counts.failed++;
            fail('domain', `${ids.length} customers have contacts at ${a.domain}: match by the customer-number property instead`);
            continue;
          }
          customerId = ids[0];
        }
        if (!customerId) {
          counts.failed++;
          fail(a.customerExternalId ? 'customerExternalId' : 'domain', `no customer matches ${label(a)}`);
          continue;
        }
        a.problems?.forEach((p) => fail(p.field, p.message));
        const sets: string[] = [];
        const params: unknown[] = [ctx.tenantId, customerId];
        const set = (column: string, value: unknown, type: string) => {
          params.push(value);
          sets.push(`${column} = $${params.length}::${type}`);
        };
        if (a.unknownOwnerId) fail('ownerEmail', `HubSpot owner ${a.unknownOwnerId} has no owner record with an email: the owner is left as it is`);
        else if (a.ownerEmail === null) set('owner_user_id', null, 'uuid');
        else if (a.ownerEmail !== undefined) {
          const user = users.get(a.ownerEmail.toLowerCase());
          if (user) set('owner_user_id', user, 'uuid');
          else fail('ownerEmail', `no Recoup user with the email ${a.ownerEmail}: the owner is left as it is`);
        }
        if (a.renewalDate !== undefined) set('renewal_date', a.renewalDate, 'date');
        if (a.tier !== undefined) set('tier', a.tier, 'text');
        if (!sets.length) {
          counts.unchanged++;
          continue;
        }
        const cols = sets.map((s) => s.split(' = ')[0]);
        const updated = returned<{ id: string }>(await em.query(
          `UPDATE customers SET ${sets.join(', ')}, updated_at = now() WHERE tenant_id = $1 AND id = $2
             AND (${cols.map((c, i) => `${c} IS DISTINCT FROM ${sets[i].split(' = ')[1]}`).join(' OR ')}) RETURNING id`,
          params,
        ));
        if (updated.length) {
          counts.updated++;
          changedIds.push(customerId);
        } else counts.unchanged++;
      }
      await em.query(
        `INSERT INTO sync_cursors (tenant_id, connection_id, stream, cursor, pages) VALUES ($1, $2, $3, $4, 1)
         ON CONFLICT (connection_id, stream) DO UPDATE SET cursor = EXCLUDED.cursor, pages = sync_cursors.pages + 1, updated_at = now()`,
        [ctx.tenantId, o.connectionId, stream, page.nextCursor],
      );
      const all = [...o.state.errors, ...errors];
      const nextState = { counts: { ...o.state.counts, [stream]: counts }, errors: all.length > MAX_ERRORS ? all.slice(all.length - MAX_ERRORS) : all, pages: o.state.pages + 1 };
      await em.query(`UPDATE sync_runs SET counts = $3::jsonb, errors = $4::jsonb, pages = $5 WHERE tenant_id = $1 AND id = $2`, [ctx.tenantId, o.runId, JSON.stringify(nextState.counts), JSON.stringify(nextState.errors), nextState.pages]);
      return { changedIds, nextState };
    });
    Object.assign(o.state, changed.nextState);
    if (changed.changedIds.length) o.onCustomersChanged([...new Set(changed.changedIds)]);
    if (!page.hasMore) break;
    if (o.config.minIntervalMs) await sleep(o.config.minIntervalMs);
  }
}
