import type { ErpCreditMemo, ErpCustomer, ErpInvoice, ErpInvoiceLine, ErpPayment } from '../erp-connector';

/** The parts of QBO's documented JSON shapes that Recoup reads (Accounting API v3). */
export interface QboRef {
  value: string;
  name?: string;
}
export interface QboMeta {
  CreateTime?: string;
  LastUpdatedTime?: string;
}
export interface QboEntity {
  Id: string;
  SyncToken?: string;
  /** "Deleted" on the tombstones the CDC endpoint returns. */
  status?: string;
  MetaData?: QboMeta;
}
export interface QboCustomer extends QboEntity {
  DisplayName?: string;
  CompanyName?: string;
  GivenName?: string;
  FamilyName?: string;
  FullyQualifiedName?: string;
  PrimaryEmailAddr?: { Address?: string };
  PrimaryPhone?: { FreeFormNumber?: string };
  CurrencyRef?: QboRef;
  BillAddr?: { Country?: string; CountryCode?: string; CountrySubDivisionCode?: string };
  Notes?: string;
  Active?: boolean;
}
export interface QboLine {
  Id?: string;
  LineNum?: number;
  Description?: string;
  Amount?: number;
  DetailType?: string;
  SalesItemLineDetail?: { ItemRef?: QboRef; UnitPrice?: number; Qty?: number };
  GroupLineDetail?: { GroupItemRef?: QboRef; Quantity?: number };
  LinkedTxn?: { TxnId: string; TxnType: string }[];
}
export interface QboInvoice extends QboEntity {
  DocNumber?: string;
  TxnDate?: string;
  DueDate?: string;
  TotalAmt?: number;
  Balance?: number;
  CustomerRef?: QboRef;
  CurrencyRef?: QboRef;
  SalesTermRef?: QboRef;
  Line?: QboLine[];
  TxnTaxDetail?: { TotalTax?: number };
  PrivateNote?: string;
  CustomField?: { DefinitionId: string; Name?: string; Type?: string; StringValue?: string }[];
}
export interface QboPayment extends QboEntity {
  TxnDate?: string;
  TotalAmt?: number;
  CustomerRef?: QboRef;
  CurrencyRef?: QboRef;
  PaymentMethodRef?: QboRef;
  PaymentRefNum?: string;
  PrivateNote?: string;
  Line?: QboLine[];
}
export interface QboCreditMemo extends QboEntity {
  DocNumber?: string;
  TxnDate?: string;
  TotalAmt?: number;
  CustomerRef?: QboRef;
  CurrencyRef?: QboRef;
  PrivateNote?: string;
  CustomerMemo?: { value?: string };
}

export interface MappingDefaults {
  /** The company's home currency, for records without CurrencyRef (multicurrency off). */
  homeCurrency: string;
}

/** `Voided` is prepended to PrivateNote and every amount zeroed when a transaction is voided in QBO. */
export function isVoided(e: { TotalAmt?: number; PrivateNote?: string }): boolean {
  return Number(e.TotalAmt ?? 0) === 0 && /^\s*voided\b/i.test(e.PrivateNote ?? '');
}

export const isDeleted = (e: QboEntity): boolean => e.status === 'Deleted';

const exponents = new Map<string, number>();
function exponentOf(currency: string): number {
  let e = exponents.get(currency);
  if (e === undefined) {
    try {
      e = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    } catch {
      e = 2;
    }
    exponents.set(currency, e);
  }
  return e;
}

/** QBO sends amounts as JSON numbers; Recoup takes decimal strings in the currency's exponent. */
export function decimal(n: number | undefined | null, currency: string): string {
  const v = Number(n ?? 0);
  return (Object.is(v, -0) ? 0 : v).toFixed(exponentOf(currency));
}

/** The number an invoice is known by: DocNumber, or its Id when the company does not number transactions. */
export const invoiceNumber = (i: { Id: string; DocNumber?: string }): string => i.DocNumber?.trim() || `QBO-${i.Id}`;

const currencyOf = (ref: QboRef | undefined, d: MappingDefaults) => (ref?.value?.trim() || d.homeCurrency).toUpperCase();
const day = (s: string | undefined) => (s ?? '').slice(0, 10).replace(/\//g, '-');

let regionNames: Map<string, string> | null = null;
const ALIASES: Record<string, string> = { USA: 'US', 'UNITED STATES OF AMERICA': 'US', 'U.S.A.': 'US', 'U.S.': 'US', UK: 'GB', 'GREAT BRITAIN': 'GB', ENGLAND: 'GB', SCOTLAND: 'GB', WALES: 'GB' };
const ALPHA3: Record<string, string> = { USA: 'US', CAN: 'CA', GBR: 'GB', AUS: 'AU', NZL: 'NZ', IRL: 'IE', DEU: 'DE', FRA: 'FR', ESP: 'ES', ITA: 'IT', NLD: 'NL', BEL: 'BE', CHE: 'CH', AUT: 'AT', MEX: 'MX', IND: 'IN', SGP: 'SG', ZAF: 'ZA' };

/** BillAddr.Country is free text in QBO ("USA", "United States", "US", "Canada"): to ISO 3166-1 alpha-2, or null. */
export function countryCode(raw: string | undefined | null): string | null {
  const s = raw?.trim().toUpperCase();
  if (!s) return null;
  if (ALIASES[s]) return ALIASES[s];
  if (ALPHA3[s]) return ALPHA3[s];
  if (!regionNames) {
    regionNames = new Map();
    const names = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });
    for (let a = 65; a <= 90; a++) {
      for (let b = 65; b <= 90; b++) {
        const code = String.fromCharCode(a, b);
        const name = names.of(code);
        if (name) regionNames.set(name.toUpperCase(), code);
      }
    }
  }
  if (/^[A-Z]{2}$/.test(s)) return [...regionNames.values()].includes(s) ? s : null;
  return regionNames.get(s) ?? null;
}

/** The line Recoup keeps in Customer.Notes while it holds the customer's credit (see README: QuickBooks Online). */
export const CREDIT_HOLD_MARKER = '[Recoup] CREDIT HOLD';
export const hasCreditHoldMarker = (notes: string | undefined | null): boolean => (notes ?? '').split(/\r?\n/).some((l) => l.trim().startsWith(CREDIT_HOLD_MARKER));

export function mapCustomer(c: QboCustomer, d: MappingDefaults): ErpCustomer {
  const name = c.DisplayName?.trim() || c.CompanyName?.trim() || c.FullyQualifiedName?.trim() || `QBO customer ${c.Id}`;
  const email = c.PrimaryEmailAddr?.Address?.trim() || null;
  const phoneRaw = c.PrimaryPhone?.FreeFormNumber?.replace(/[\s().-]/g, '') ?? '';
  const phone = /^\+\d{8,15}$/.test(phoneRaw) ? phoneRaw : null;
  const person = [c.GivenName, c.FamilyName].filter((x) => x?.trim()).join(' ').trim();
  return {
    externalId: c.Id,
    name,
    currency: currencyOf(c.CurrencyRef, d),
    country: countryCode(c.BillAddr?.CountryCode ?? c.BillAddr?.Country),
    // Only the hold Recoup itself wrote is read back; a customer without the marker keeps Recoup's own state.
    creditHold: hasCreditHoldMarker(c.Notes) ? true : null,
    contacts: email || phone ? [{ name: person || name, email, phone, isPrimary: true }] : null,
  };
}

/**
 * QBO lines to Recoup lines: item lines (and bundles) with their quantity and unit price, plus one
 * line for the sales tax. Recoup's lines must add up to the total and cannot be negative, so an
 * invoice whose lines do not (discount lines, deposits) keeps its header and no lines (null).
 */
export function mapLines(i: QboInvoice, currency: string): ErpInvoiceLine[] | null {
  const lines: ErpInvoiceLine[] = [];
  for (const l of i.Line ?? []) {
    if (l.DetailType === 'SalesItemLineDetail') {
      const d = l.SalesItemLineDetail ?? {};
      const qty = typeof d.Qty === 'number' && d.Qty > 0 ? d.Qty : null;
      lines.push({
        externalId: l.Id ?? null,
        description: l.Description?.trim() || d.ItemRef?.name?.trim() || 'Item',
        amount: decimal(l.Amount, currency),
        quantity: qty !== null && Number.isInteger(qty * 10_000) ? String(qty) : null,
        unitPrice: qty !== null && typeof d.UnitPrice === 'number' ? decimal(d.UnitPrice, currency) : null,
      });
    } else if (l.DetailType === 'GroupLineDetail') {
      lines.push({ externalId: l.Id ?? null, description: l.Description?.trim() || l.GroupLineDetail?.GroupItemRef?.name?.trim() || 'Bundle', amount: decimal(l.Amount, currency) });
    }
  }
  const tax = Number(i.TxnTaxDetail?.TotalTax ?? 0);
  if (tax > 0) lines.push({ externalId: null, description: 'Sales tax', amount: decimal(tax, currency) });
  if (!lines.length) return null;
  const minor = (s: string) => Math.round(Number(s) * 10 ** exponentOf(currency));
  const sum = lines.reduce((s, l) => s + minor(l.amount), 0);
  if (sum !== minor(decimal(i.TotalAmt, currency)) || lines.some((l) => minor(l.amount) < 0)) return null;
  return lines;
}

/** "Net 30", "Net 15", "Due on receipt": used only when an invoice has no DueDate. */
export function termsOf(ref: QboRef | undefined): ErpInvoice['terms'] {
  const n = ref?.name?.trim() ?? '';
  const net = /^net\s*(\d{1,3})$/i.exec(n);
  if (net) return { kind: 'NET', days: Number(net[1]) };
  if (/due\s+on\s+receipt/i.test(n)) return { kind: 'DUE_ON_RECEIPT' };
  return null;
}

/**
 * Invoice.Balance is not sent: the balance follows the payments that arrive through the PAYMENTS
 * stream (QBO Payment → Recoup payment applied by reference), so a payment is never counted twice.
 */
export function mapInvoice(i: QboInvoice, d: MappingDefaults): ErpInvoice {
  const currency = currencyOf(i.CurrencyRef, d);
  return {
    externalId: i.Id,
    customerExternalId: i.CustomerRef?.value ?? '',
    number: invoiceNumber(i),
    issueDate: day(i.TxnDate),
    dueDate: i.DueDate ? day(i.DueDate) : null,
    terms: i.DueDate ? null : termsOf(i.SalesTermRef),
    currency,
    total: decimal(i.TotalAmt, currency),
    lines: mapLines(i, currency),
  };
}

/** PaymentMethodRef names are the company's own list ("Check", "Visa", "Direct Deposit"…); unknown ones count as ACH. */
export function methodOf(ref: QboRef | undefined): ErpPayment['method'] {
  const n = ref?.name?.toLowerCase() ?? '';
  if (/che(ck|que)/.test(n)) return 'CHECK';
  if (/card|visa|master|amex|american express|discover/.test(n)) return 'CARD';
  if (/wire/.test(n)) return 'WIRE';
  return 'ACH';
}

/** The Invoice ids a Payment was applied to in QBO (Line[].LinkedTxn with TxnType Invoice). */
export function linkedInvoiceIds(p: QboPayment): string[] {
  return [...new Set((p.Line ?? []).flatMap((l) => (l.LinkedTxn ?? []).filter((t) => t.TxnType === 'Invoice').map((t) => String(t.TxnId))))];
}

/** `numbers` resolves the linked invoice ids to their numbers, which the payment matcher reads as references. */
export function mapPayment(p: QboPayment, d: MappingDefaults, numbers: Map<string, string>): ErpPayment {
  const currency = currencyOf(p.CurrencyRef, d);
  return {
    externalId: p.Id,
    customerExternalId: p.CustomerRef?.value ?? null,
    method: methodOf(p.PaymentMethodRef),
    amount: decimal(p.TotalAmt, currency),
    currency,
    receivedOn: day(p.TxnDate),
    // An id QBO could not resolve is left out: its digits could match another invoice's number.
    references: linkedInvoiceIds(p).flatMap((id) => (numbers.has(id) ? [numbers.get(id)!] : [])),
    payerName: p.CustomerRef?.name ?? null,
  };
}

export function mapCreditMemo(m: QboCreditMemo, d: MappingDefaults): ErpCreditMemo {
  const currency = currencyOf(m.CurrencyRef, d);
  return {
    externalId: m.Id,
    customerExternalId: m.CustomerRef?.value ?? '',
    number: m.DocNumber?.trim() || `QBO-CM-${m.Id}`,
    amount: decimal(m.TotalAmt, currency),
    currency,
    reason: m.PrivateNote?.trim() || m.CustomerMemo?.value?.trim() || null,
  };
}
