import { ConnectorError, ConnectorErrorKind } from '../core/connector-error';
import { httpJson } from '../core/http-json';
import { ErpStream, WriteBackOperation, type ErpConnector, type ErpPage, type ErpRecordByStream, type ReconcileResult, type WriteBackCall } from './erp-connector';

export interface GenericHttpErpConfig {
  baseUrl: string;
  timeoutMs: number;
}

const PATHS: Record<ErpStream, string> = {
  [ErpStream.CUSTOMERS]: 'customers',
  [ErpStream.INVOICES]: 'invoices',
  [ErpStream.PAYMENTS]: 'payments',
  [ErpStream.CREDIT_MEMOS]: 'credit-memos',
};
const REQUIRED: Record<ErpStream, string[]> = {
  [ErpStream.CUSTOMERS]: ['externalId', 'name', 'currency'],
  [ErpStream.INVOICES]: ['externalId', 'customerExternalId', 'number', 'issueDate', 'currency', 'total'],
  [ErpStream.PAYMENTS]: ['externalId', 'amount', 'currency', 'receivedOn', 'method'],
  [ErpStream.CREDIT_MEMOS]: ['externalId', 'customerExternalId', 'number', 'amount', 'currency'],
};

/**
 * An ERP that speaks Recoup's canonical records over JSON (`GET /<stream>?cursor=&limit=`
 * answering `{ data, next_cursor, has_more }`; write-backs as POSTs with an Idempotency-Key
 * and GETs to read the state back). Middleware and home-grown ERPs can expose it directly;
 * the test suite uses it as the "fake ERP" that proves the sync framework.
 */
export class GenericHttpErpConnector implements ErpConnector {
  readonly kind = 'GENERIC_HTTP_ERP';

  constructor(
    private readonly config: GenericHttpErpConfig,
    private readonly credentials: { apiKey?: string } = {},
  ) {}

  private call<T>(method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    return httpJson<T>({
      method,
      url: `${this.config.baseUrl.replace(/\/$/, '')}/${path}`,
      body,
      timeoutMs: this.config.timeoutMs,
      headers: { ...(this.credentials.apiKey ? { authorization: `Bearer ${this.credentials.apiKey}` } : {}), ...headers },
    });
  }

  async check(): Promise<void> {
    await this.call('GET', 'health');
  }

  async pull<S extends ErpStream>(stream: S, cursor: string | null, opts: { pageSize: number }): Promise<ErpPage<ErpRecordByStream[S]>> {
    const qs = new URLSearchParams({ limit: String(opts.pageSize), ...(cursor ? { cursor } : {}) });
    const body = await this.call<{ data?: unknown; next_cursor?: unknown; has_more?: unknown }>('GET', `${PATHS[stream]}?${qs}`);
    if (!body || typeof body !== 'object' || !Array.isArray(body.data) || typeof body.has_more !== 'boolean' || (body.next_cursor !== null && typeof body.next_cursor !== 'string')) {
      throw new ConnectorError(ConnectorErrorKind.INVALID_RESPONSE, `${PATHS[stream]}: expected { data: [], next_cursor, has_more }, got ${JSON.stringify(body).slice(0, 200)}`);
    }
    body.data.forEach((item, i) => {
      const missing = REQUIRED[stream].filter((k) => !item || typeof item !== 'object' || (item as Record<string, unknown>)[k] === undefined || (item as Record<string, unknown>)[k] === null);
      if (missing.length) throw new ConnectorError(ConnectorErrorKind.INVALID_RESPONSE, `${PATHS[stream]}: item ${i} lacks ${missing.join(', ')}`);
    });
    return { items: body.data as ErpRecordByStream[S][], nextCursor: (body.next_cursor as string | null) ?? null, hasMore: body.has_more };
  }

  async push(call: WriteBackCall): Promise<{ remoteRef?: string | null }> {
    const p = call.payload;
    const headers = { 'idempotency-key': call.idempotencyKey };
    switch (call.operation) {
      case WriteBackOperation.SET_CREDIT_HOLD:
        await this.call('POST', `customers/${encodeURIComponent(String(p.customerExternalId))}/credit-hold`, { creditHold: !!p.creditHold }, headers);
        return {};
      case WriteBackOperation.SET_INVOICE_STATUS:
        await this.call('POST', `invoices/${encodeURIComponent(String(p.invoiceExternalId))}/status`, { status: p.status }, headers);
        return {};
      case WriteBackOperation.ADD_INVOICE_NOTE: {
        const r = await this.call<{ id?: string }>('POST', `invoices/${encodeURIComponent(String(p.invoiceExternalId))}/notes`, { note: p.note, idempotencyKey: call.idempotencyKey }, headers);
        return { remoteRef: r?.id ?? null };
      }
      case WriteBackOperation.LOG_ACTIVITY: {
        const r = await this.call<{ id?: string }>('POST', 'activities', { ...p, idempotencyKey: call.idempotencyKey }, headers);
        return { remoteRef: r?.id ?? null };
      }
    }
  }

  async reconcile(call: WriteBackCall): Promise<ReconcileResult> {
    const p = call.payload;
    switch (call.operation) {
      case WriteBackOperation.SET_CREDIT_HOLD: {
        const c = await this.call<{ creditHold?: unknown }>('GET', `customers/${encodeURIComponent(String(p.customerExternalId))}`);
        return typeof c?.creditHold !== 'boolean' ? 'UNKNOWN' : c.creditHold === !!p.creditHold ? 'APPLIED' : 'NOT_APPLIED';
      }
      case WriteBackOperation.SET_INVOICE_STATUS: {
        const i = await this.call<{ status?: unknown }>('GET', `invoices/${encodeURIComponent(String(p.invoiceExternalId))}`);
        return typeof i?.status !== 'string' ? 'UNKNOWN' : i.status === p.status ? 'APPLIED' : 'NOT_APPLIED';
      }
      case WriteBackOperation.ADD_INVOICE_NOTE: {
        const notes = await this.call<{ idempotencyKey?: string }[]>('GET', `invoices/${encodeURIComponent(String(p.invoiceExternalId))}/notes`);
        return Array.isArray(notes) ? (notes.some((n) => n?.idempotencyKey === call.idempotencyKey) ? 'APPLIED' : 'NOT_APPLIED') : 'UNKNOWN';
      }
      case WriteBackOperation.LOG_ACTIVITY: {
        const found = await this.call<unknown[]>('GET', `activities?idempotencyKey=${encodeURIComponent(call.idempotencyKey)}`);
        return Array.isArray(found) ? (found.length ? 'APPLIED' : 'NOT_APPLIED') : 'UNKNOWN';
      }
    }
  }
}
