/**
 * The parts of Stripe's documented objects the connector reads (https://docs.stripe.com/api).
 * Money is in the currency's smallest unit (cents; yen for zero-decimal currencies); times are
 * Unix seconds; currencies are lowercase ISO codes.
 */

export interface StripeList<T> {
  object: 'list';
  data: T[];
  has_more: boolean;
  url?: string;
}

export interface StripeCustomer {
  id: string;
  object: 'customer';
  created: number;
  name?: string | null;
  email?: string | null;
  phone?: string | null;
  currency?: string | null;
  address?: { country?: string | null } | null;
  preferred_locales?: string[] | null;
  metadata?: Record<string, string> | null;
  deleted?: boolean;
}

export interface StripeInvoiceLine {
  id: string;
  description?: string | null;
  amount: number;
  quantity?: number | null;
  price?: { unit_amount?: number | null } | null;
}

export type StripeInvoiceStatus = 'draft' | 'open' | 'paid' | 'uncollectible' | 'void';

export interface StripeInvoice {
  id: string;
  object: 'invoice';
  created: number;
  customer: string | { id: string } | null;
  number?: string | null;
  status: StripeInvoiceStatus | null;
  currency: string;
  amount_due: number;
  amount_paid?: number;
  amount_remaining: number;
  total?: number;
  due_date?: number | null;
  paid_out_of_band?: boolean;
  status_transitions?: { finalized_at?: number | null } | null;
  lines?: StripeList<StripeInvoiceLine> | null;
  metadata?: Record<string, string> | null;
}

export interface StripeCharge {
  id: string;
  object: 'charge';
  amount: number;
  currency: string;
  customer?: string | { id: string } | null;
  /** Present up to API version 2025-03-31 (pinned by `apiVersion`); newer versions moved it to InvoicePayment. */
  invoice?: string | { id: string } | null;
  payment_intent?: string | { id: string; invoice?: string | { id: string } | null } | null;
  metadata?: Record<string, string> | null;
}

export interface StripePaymentIntent {
  id: string;
  object: 'payment_intent';
  invoice?: string | { id: string } | null;
}

export interface StripeRefund {
  id: string;
  object: 'refund';
  amount: number;
  charge: string | StripeCharge | null;
}

export interface StripeDispute {
  id: string;
  object: 'dispute';
  amount: number;
  charge: string | StripeCharge;
}

/** type: charge, payment, refund, payment_refund, adjustment (disputes), payout, stripe_fee, … */
export interface StripeBalanceTransaction {
  id: string;
  object: 'balance_transaction';
  amount: number;
  fee: number;
  net: number;
  currency: string;
  type: string;
  created: number;
  source: string | { id: string; object: string } | null;
}

export type StripePayoutStatus = 'paid' | 'pending' | 'in_transit' | 'canceled' | 'failed';

export interface StripePayout {
  id: string;
  object: 'payout';
  amount: number;
  currency: string;
  arrival_date: number;
  created: number;
  status: StripePayoutStatus;
  automatic?: boolean;
}

/** The error body of every failed call: `{ error: { type, code, message, param } }`. */
export interface StripeErrorBody {
  error?: { type?: string; code?: string; decline_code?: string; message?: string; param?: string };
}

/** Zero- and three-decimal currencies (https://docs.stripe.com/currencies#zero-decimal). */
const ZERO_DECIMAL = new Set(['BIF', 'CLP', 'DJF', 'GNF', 'JPY', 'KMF', 'KRW', 'MGA', 'PYG', 'RWF', 'UGX', 'VND', 'VUV', 'XAF', 'XOF', 'XPF']);
const THREE_DECIMAL = new Set(['BHD', 'JOD', 'KWD', 'OMR', 'TND']);

export function currencyExponent(currency: string): number {
  const c = currency.toUpperCase();
  return ZERO_DECIMAL.has(c) ? 0 : THREE_DECIMAL.has(c) ? 3 : 2;
}

/** Smallest units to the decimal string the canonical records carry: 123456 USD → "1234.56". */
export function fromMinor(amount: number | bigint, currency: string): string {
  const e = currencyExponent(currency);
  const v = BigInt(amount);
  const neg = v < 0n;
  const abs = (neg ? -v : v).toString().padStart(e + 1, '0');
  const out = e ? `${abs.slice(0, abs.length - e)}.${abs.slice(abs.length - e)}` : abs;
  return neg ? `-${out}` : out;
}

export function isoDay(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().slice(0, 10);
}

export function idOf(ref: string | { id: string } | null | undefined): string | null {
  if (!ref) return null;
  return typeof ref === 'string' ? ref : ref.id ?? null;
}
