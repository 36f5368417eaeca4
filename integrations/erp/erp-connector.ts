/**
 * The contract every ERP connector implements (QuickBooks Online, NetSuite, the generic HTTP
 * ERP, …). Records cross it in one canonical shape: money as decimal strings in the record's
 * currency, dates as YYYY-MM-DD, ids as the ERP's own (`externalId`). The sync framework in
 * src/modules/integrations owns cursors, retries, idempotency and the write-back outbox; a
 * connector only pulls one page and pushes one call.
 */

export enum ErpStream {
  CUSTOMERS = 'CUSTOMERS',
  INVOICES = 'INVOICES',
  PAYMENTS = 'PAYMENTS',
  CREDIT_MEMOS = 'CREDIT_MEMOS',
}

/** Pull order: customers before the invoices that name them, invoices before payments and credits. */
export const ERP_STREAM_ORDER: ErpStream[] = [ErpStream.CUSTOMERS, ErpStream.INVOICES, ErpStream.PAYMENTS, ErpStream.CREDIT_MEMOS];

export interface ErpCustomer {
  externalId: string;
  name: string;
  /** Legal entity (subsidiary / company file) code; the connection's default when absent. */
  entityCode?: string | null;
  currency: string;
  segment?: string | null;
  tier?: string | null;
  country?: string | null;
  locale?: string | null;
  creditLimit?: string | null;
  creditHold?: boolean | null;
  renewalDate?: string | null;
  contacts?: { name: string; email?: string | null; phone?: string | null; role?: string | null; isPrimary?: boolean | null }[] | null;
}

export interface ErpInvoiceLine {
  externalId?: string | null;
  description: string;
  amount: string;
  quantity?: string | null;
  unitPrice?: string | null;
}

export interface ErpInvoice {
  externalId: string;
  customerExternalId: string;
  number: string;
  issueDate: string;
  dueDate?: string | null;
  /** e.g. NET 30; used when dueDate is absent. */
  terms?: { kind: 'NET' | 'EOM_PLUS' | 'DUE_ON_RECEIPT'; days?: number } | null;
  currency: string;
  total: string;
  openBalance?: string | null;
  poNumber?: string | null;
  entityCode?: string | null;
  lines?: ErpInvoiceLine[] | null;
}

export interface ErpPayment {
  externalId: string;
  customerExternalId?: string | null;
  method: 'ACH' | 'WIRE' | 'CHECK' | 'CARD' | 'PORTAL' | 'BATCH_SETTLEMENT';
  amount: string;
  currency: string;
  receivedOn: string;
  /** Invoice numbers the payment was applied to in the ERP, or remittance references. */
  references?: string[] | null;
  remittanceText?: string | null;
  payerName?: string | null;
}

export interface ErpCreditMemo {
  externalId: string;
  customerExternalId: string;
  number: string;
  amount: string;
  currency: string;
  reason?: string | null;
}

export interface ErpRecordByStream {
  [ErpStream.CUSTOMERS]: ErpCustomer;
  [ErpStream.INVOICES]: ErpInvoice;
  [ErpStream.PAYMENTS]: ErpPayment;
  [ErpStream.CREDIT_MEMOS]: ErpCreditMemo;
}

/** One page of changes after `cursor`. `nextCursor` is opaque and is stored only once the page is written. */
export interface ErpPage<T> {
  items: T[];
  nextCursor: string | null;
  hasMore: boolean;
  /**
   * External ids the ERP deleted or voided in this page's window (e.g. QuickBooks CDC
   * `status: "Deleted"`). The sync voids such invoices; other streams report them.
   */
  deleted?: string[];
}

export enum WriteBackOperation {
  SET_INVOICE_STATUS = 'SET_INVOICE_STATUS',
  ADD_INVOICE_NOTE = 'ADD_INVOICE_NOTE',
  SET_CREDIT_HOLD = 'SET_CREDIT_HOLD',
  LOG_ACTIVITY = 'LOG_ACTIVITY',
}

export interface WriteBackCall {
  operation: WriteBackOperation;
  /** Unique per intended effect; sent to remotes that honour an Idempotency-Key header. */
  idempotencyKey: string;
  /** ERP ids: { customerExternalId, creditHold } / { invoiceExternalId, status } / { invoiceExternalId, note } / { customerExternalId, subject, body }. */
  payload: Record<string, unknown>;
}

/**
 * Whether the target already shows the effect of a call. Asked before every retry of a call
 * whose first attempt ended without a clear answer (timeout, connection reset), so that a
 * write the ERP applied before the answer was lost is never applied twice.
 */
export type ReconcileResult = 'APPLIED' | 'NOT_APPLIED' | 'UNKNOWN';

export interface ErpConnector {
  readonly kind: string;
  /** Cheap authenticated call; throws a ConnectorError when the connection cannot work. */
  check(): Promise<void>;
  pull<S extends ErpStream>(stream: S, cursor: string | null, opts: { pageSize: number }): Promise<ErpPage<ErpRecordByStream[S]>>;
  push(call: WriteBackCall): Promise<{ remoteRef?: string | null }>;
  reconcile(call: WriteBackCall): Promise<ReconcileResult>;
}
