import { createHash } from 'node:crypto';
import { ConnectorError, ConnectorErrorKind } from '../../core/connector-error';
import { ErpStream, WriteBackOperation, type ErpConnector, type ErpPage, type ErpRecordByStream, type ReconcileResult, type WriteBackCall } from '../erp-connector';
import { QboClient, type CredentialStore, type QboClientConfig, type QboCredentials } from './qbo-client';
import {
  CREDIT_HOLD_MARKER,
  hasCreditHoldMarker,
  invoiceNumber,
  isDeleted,
  isVoided,
  linkedInvoiceIds,
  mapCreditMemo,
  mapCustomer,
  mapInvoice,
  mapPayment,
  type MappingDefaults,
  type QboCreditMemo,
  type QboCustomer,
  type QboEntity,
  type QboInvoice,
  type QboPayment,
} from './qbo-mapping';

export interface QuickBooksConfig extends QboClientConfig, MappingDefaults {
  /** The CDC request asks for changes since the stored cursor minus this many seconds (late commits); re-pulled records are unchanged. */
  cdcOverlapSeconds: number;
}

/** QBO entity names per stream. */
const ENTITY: Record<ErpStream, 'Customer' | 'Invoice' | 'Payment' | 'CreditMemo'> = {
  [ErpStream.CUSTOMERS]: 'Customer',
  [ErpStream.INVOICES]: 'Invoice',
  [ErpStream.PAYMENTS]: 'Payment',
  [ErpStream.CREDIT_MEMOS]: 'CreditMemo',
};

/** QBO answers at most 1,000 objects per query page and per CDC response. */
const MAX_RESULTS = 1000;
const PRIVATE_NOTE_MAX = 4000;
const CUSTOMER_NOTES_MAX = 2000;
const STATUS_PREFIX = '[Recoup] status:';

/**
 * Stored cursor per stream:
 * - `q|<startPosition>|<since>`: the initial load, paging `select * from <Entity> STARTPOSITION n MAXRESULTS m`;
 *   `since` is QBO's own `time` from the first page, so changes made while the load pages are caught by CDC;
 * - `cdc|<since>`: incremental, `GET /cdc?entities=<Entity>&changedSince=<since>`; the next cursor is the
 *   `time` of the CDC answer (or the last LastUpdatedTime when the answer is capped at 1,000 objects).
 */
type Cursor = { phase: 'query'; position: number; since: string | null } | { phase: 'cdc'; since: string };

export function parseCursor(cursor: string | null): Cursor {
  if (!cursor) return { phase: 'query', position: 1, since: null };
  const [phase, a, b] = cursor.split('|');
  if (phase === 'q' && /^\d+$/.test(a ?? '') && Number(a) >= 1) return { phase: 'query', position: Number(a), since: b || null };
  if (phase === 'cdc' && a && !Number.isNaN(Date.parse(a))) return { phase: 'cdc', since: a };
  throw new ConnectorError(ConnectorErrorKind.PERMANENT, `"${cursor}" is not a QuickBooks cursor (q|<position>|<since> or cdc|<since>); run syncNow with fromStart`);
}

type QueryEnvelope = { QueryResponse?: Record<string, unknown>; time?: string };
type CdcEnvelope = { CDCResponse?: { QueryResponse?: Record<string, unknown>[] }[]; time?: string };

const tagOf = (key: string) => createHash('sha256').update(key).digest('hex').slice(0, 10);
const oneLine = (s: string) => s.replace(/\s*[\r\n]+\s*/g, ' ').trim();
const linesOf = (s: string | undefined | null) => (s ? s.split(/\r?\n/) : []);

/**
 * QuickBooks Online (Accounting API v3) behind the ErpConnector contract: Customer, Invoice (with
 * its SalesItemLineDetail lines), Payment (its LinkedTxn invoices as references) and CreditMemo,
 * loaded by query pages and then followed through change data capture; deleted (CDC
 * `status: "Deleted"`) and voided transactions come back as `deleted` ids. Write-backs are sparse
 * updates carrying the SyncToken just read, with a `requestid` derived from the idempotency key
 * and that SyncToken; `reconcile` reads the entity back.
 */
export class QuickBooksOnlineConnector implements ErpConnector {
  readonly kind = 'QUICKBOOKS_ONLINE';
  private readonly client: QboClient;
  /** Invoice id → number, from the invoices pulled by this connector and the look-ups made for payments. */
  private readonly numbers = new Map<string, string>();

  constructor(
    private readonly config: QuickBooksConfig,
    credentials: QboCredentials,
    store: CredentialStore | null = null,
  ) {
    this.client = new QboClient(config, credentials, store);
  }

  async check(): Promise<void> {
    await this.client.get(`companyinfo/${encodeURIComponent(this.config.realmId)}`);
  }

  async pull<S extends ErpStream>(stream: S, cursor: string | null, opts: { pageSize: number }): Promise<ErpPage<ErpRecordByStream[S]>> {
    const entity = ENTITY[stream];
    const c = parseCursor(cursor);
    if (c.phase === 'query') {
      const max = Math.min(Math.max(opts.pageSize, 1), MAX_RESULTS);
      const body = await this.client.get<QueryEnvelope>('query', { query: `select * from ${entity} STARTPOSITION ${c.position} MAXRESULTS ${max}` });
      if (!body.QueryResponse || typeof body.QueryResponse !== 'object') throw this.invalid('query', `expected { QueryResponse: { ${entity}: [] } }`, body);
      const list = this.entities(body.QueryResponse, entity, 'query');
      const since = c.since ?? validTime(body.time) ?? new Date().toISOString();
      const more = list.length >= max;
      return this.page(stream, list, more ? `q|${c.position + list.length}|${since}` : `cdc|${since}`, more);
    }
    const changedSince = this.config.cdcOverlapSeconds > 0 ? new Date(Date.parse(c.since) - this.config.cdcOverlapSeconds * 1000).toISOString() : c.since;
    const body = await this.client.get<CdcEnvelope>('cdc', { entities: entity, changedSince });
    if (!body || !Array.isArray(body.CDCResponse)) throw this.invalid('cdc', 'expected { CDCResponse: [ { QueryResponse: [...] } ] }', body);
    const list: QboEntity[] = [];
    for (const r of body.CDCResponse) {
      if (r?.QueryResponse !== undefined && !Array.isArray(r.QueryResponse)) throw this.invalid('cdc', 'CDCResponse[].QueryResponse is not a list', body);
      for (const q of r?.QueryResponse ?? []) list.push(...this.entities(q ?? {}, entity, 'cdc'));
    }
    const time = validTime(body.time);
    if (list.length >= MAX_RESULTS) {
      // Capped: continue from the last change seen (objects come in LastUpdatedTime order within a type).
      const last = list.map((e) => validTime(e.MetaData?.LastUpdatedTime)).filter((t): t is string => !!t).sort((x, y) => Date.parse(x) - Date.parse(y)).pop();
      if (last && Date.parse(last) > Date.parse(c.since)) return this.page(stream, list, `cdc|${last}`, true);
    }
    return this.page(stream, list, `cdc|${time ?? c.since}`, false);
  }

  private entities(container: Record<string, unknown>, entity: string, where: string): QboEntity[] {
    const list = container[entity];
    if (list === undefined) return [];
    if (!Array.isArray(list)) throw this.invalid(where, `${entity} is not a list`, container);
    list.forEach((e, i) => {
      if (!e || typeof e !== 'object' || typeof (e as QboEntity).Id !== 'string' || !(e as QboEntity).Id) throw this.invalid(where, `${entity}[${i}] has no Id`, e);
    });
    return list as QboEntity[];
  }

  private async page<S extends ErpStream>(stream: S, list: QboEntity[], nextCursor: string, hasMore: boolean): Promise<ErpPage<ErpRecordByStream[S]>> {
    const deleted: string[] = [];
    const live: QboEntity[] = [];
    for (const e of list) {
      if (isDeleted(e) || (stream !== ErpStream.CUSTOMERS && isVoided(e as QboInvoice))) deleted.push(e.Id);
      else live.push(e);
    }
    let items: unknown[];
    switch (stream) {
      case ErpStream.CUSTOMERS:
        items = (live as QboCustomer[]).map((c) => mapCustomer(c, this.config));
        break;
      case ErpStream.INVOICES:
        items = (live as QboInvoice[]).map((i) => {
          this.numbers.set(i.Id, invoiceNumber(i));
          return mapInvoice(i, this.config);
        });
        break;
      case ErpStream.PAYMENTS: {
        // A zero payment that is not voided applies a credit memo to invoices in QBO: no money moved.
        const payments = (live as QboPayment[]).filter((p) => Number(p.TotalAmt ?? 0) !== 0);
        await this.resolveNumbers(payments.flatMap(linkedInvoiceIds));
        items = payments.map((p) => mapPayment(p, this.config, this.numbers));
        break;
      }
      default:
        items = (live as QboCreditMemo[]).map((m) => mapCreditMemo(m, this.config));
    }
    return { items: items as ErpRecordByStream[S][], nextCursor, hasMore, deleted };
  }

  /** Invoice ids linked by payments → DocNumbers (what the payment matcher reads), 100 ids per query. */
  private async resolveNumbers(ids: string[]): Promise<void> {
    const missing = [...new Set(ids)].filter((id) => !this.numbers.has(id) && /^[0-9A-Za-z-]+$/.test(id));
    for (let i = 0; i < missing.length; i += 100) {
      const part = missing.slice(i, i + 100);
      const body = await this.client.get<QueryEnvelope>('query', { query: `select Id, DocNumber from Invoice where Id in (${part.map((id) => `'${id}'`).join(', ')}) MAXRESULTS ${MAX_RESULTS}` });
      for (const inv of this.entities(body.QueryResponse ?? {}, 'Invoice', 'query')) this.numbers.set(inv.Id, invoiceNumber(inv as QboInvoice));
    }
  }

  private invalid(where: string, what: string, got: unknown): ConnectorError {
    return new ConnectorError(ConnectorErrorKind.INVALID_RESPONSE, `QuickBooks ${where}: ${what}, got ${JSON.stringify(got)?.slice(0, 200)}`);
  }

  // ---- write-back -------------------------------------------------------------------------

  private async read<T extends QboEntity>(kind: 'customer' | 'invoice', id: unknown): Promise<T> {
    const key = kind === 'customer' ? 'Customer' : 'Invoice';
    if (typeof id !== 'string' || !id) throw new ConnectorError(ConnectorErrorKind.PERMANENT, `the write-back names no ${kind} id`);
    const body = await this.client.get<Record<string, unknown>>(`${kind}/${encodeURIComponent(id)}`);
    const e = body[key] as T | undefined;
    if (!e || typeof e !== 'object' || typeof e.SyncToken !== 'string') throw this.invalid(`${kind} read`, `expected { ${key}: { Id, SyncToken } }`, body);
    return e;
  }

  /** Sparse update with the SyncToken just read; a stale token (5010) is transient: the retry re-reads. */
  private async sparseUpdate(kind: 'customer' | 'invoice', e: QboEntity, fields: Record<string, unknown>, idempotencyKey: string): Promise<void> {
    const requestid = createHash('sha256').update(`${idempotencyKey}:${e.SyncToken}`).digest('hex').slice(0, 32);
    await this.client.post(kind, { Id: e.Id, SyncToken: e.SyncToken, sparse: true, ...fields }, { requestid });
  }

  async push(call: WriteBackCall): Promise<{ remoteRef?: string | null }> {
    const p = call.payload;
    switch (call.operation) {
      case WriteBackOperation.SET_CREDIT_HOLD: {
        const c = await this.read<QboCustomer>('customer', p.customerExternalId);
        const notes = withCreditHold(c.Notes, !!p.creditHold);
        if (notes === (c.Notes ?? '')) return { remoteRef: c.Id };
        if (notes.length > CUSTOMER_NOTES_MAX) throw new ConnectorError(ConnectorErrorKind.PERMANENT, `customer ${c.Id}: Notes would exceed QuickBooks' ${CUSTOMER_NOTES_MAX} characters`);
        await this.sparseUpdate('customer', c, { Notes: notes }, call.idempotencyKey);
        return { remoteRef: c.Id };
      }
      case WriteBackOperation.SET_INVOICE_STATUS: {
        const status = oneLine(String(p.status ?? ''));
        const i = await this.read<QboInvoice>('invoice', p.invoiceExternalId);
        const note = [...linesOf(i.PrivateNote).filter((l) => !l.startsWith(STATUS_PREFIX)), `${STATUS_PREFIX} ${status}`].join('\n');
        if (note === (i.PrivateNote ?? '')) return { remoteRef: i.Id };
        if (note.length > PRIVATE_NOTE_MAX) throw new ConnectorError(ConnectorErrorKind.PERMANENT, `invoice ${i.Id}: PrivateNote would exceed QuickBooks' ${PRIVATE_NOTE_MAX} characters`);
        await this.sparseUpdate('invoice', i, { PrivateNote: note }, call.idempotencyKey);
        return { remoteRef: i.Id };
      }
      case WriteBackOperation.ADD_INVOICE_NOTE: {
        const i = await this.read<QboInvoice>('invoice', p.invoiceExternalId);
        const tag = `[Recoup ${tagOf(call.idempotencyKey)}]`;
        if (linesOf(i.PrivateNote).some((l) => l.startsWith(tag))) return { remoteRef: i.Id };
        const note = [...linesOf(i.PrivateNote), `${tag} ${oneLine(String(p.note ?? ''))}`].join('\n');
        if (note.length > PRIVATE_NOTE_MAX) throw new ConnectorError(ConnectorErrorKind.PERMANENT, `invoice ${i.Id}: PrivateNote would exceed QuickBooks' ${PRIVATE_NOTE_MAX} characters`);
        await this.sparseUpdate('invoice', i, { PrivateNote: note }, call.idempotencyKey);
        return { remoteRef: i.Id };
      }
      case WriteBackOperation.LOG_ACTIVITY:
        throw new ConnectorError(ConnectorErrorKind.PERMANENT, 'QuickBooks Online has no activity log; log activities through a CRM connection');
    }
  }

  async reconcile(call: WriteBackCall): Promise<ReconcileResult> {
    const p = call.payload;
    switch (call.operation) {
      case WriteBackOperation.SET_CREDIT_HOLD: {
        const c = await this.read<QboCustomer>('customer', p.customerExternalId);
        return hasCreditHoldMarker(c.Notes) === !!p.creditHold ? 'APPLIED' : 'NOT_APPLIED';
      }
      case WriteBackOperation.SET_INVOICE_STATUS: {
        const i = await this.read<QboInvoice>('invoice', p.invoiceExternalId);
        return linesOf(i.PrivateNote).includes(`${STATUS_PREFIX} ${oneLine(String(p.status ?? ''))}`) ? 'APPLIED' : 'NOT_APPLIED';
      }
      case WriteBackOperation.ADD_INVOICE_NOTE: {
        const i = await this.read<QboInvoice>('invoice', p.invoiceExternalId);
        return linesOf(i.PrivateNote).some((l) => l.startsWith(`[Recoup ${tagOf(call.idempotencyKey)}]`)) ? 'APPLIED' : 'NOT_APPLIED';
      }
      case WriteBackOperation.LOG_ACTIVITY:
        return 'NOT_APPLIED';
    }
  }
}

function validTime(t: unknown): string | null {
  return typeof t === 'string' && !Number.isNaN(Date.parse(t)) ? t : null;
}

/** Customer.Notes with Recoup's credit-hold line added or removed; the rest of the notes untouched. */
export function withCreditHold(notes: string | undefined, hold: boolean): string {
  const rest = linesOf(notes).filter((l) => !l.trim().startsWith(CREDIT_HOLD_MARKER));
  return (hold ? [...rest, `${CREDIT_HOLD_MARKER} (set by Recoup collections; release it in Recoup)`] : rest).join('\n');
}
