import { Problems } from '../../platform/errors';
import { isCurrency, parseDecimal } from '../../platform/money/money';
import { isIsoDate } from '../../platform/time/dates';
import type { UpsertInvoiceInput } from './dto/invoice.inputs';
import { BillingModel } from './invoice.entity';
import { dueDateFromTerms, PaymentTermsKind } from './payment-terms';

export const InvoiceErrors = {
  REQUIRED: 'REQUIRED',
  UNKNOWN_CUSTOMER: 'UNKNOWN_CUSTOMER',
  UNKNOWN_ENTITY: 'UNKNOWN_ENTITY',
  UNKNOWN_CURRENCY: 'UNKNOWN_CURRENCY',
  INVALID_AMOUNT: 'INVALID_AMOUNT',
  NEGATIVE_AMOUNT: 'NEGATIVE_AMOUNT',
  DUE_BEFORE_ISSUE: 'DUE_BEFORE_ISSUE',
  NO_DUE_DATE: 'NO_DUE_DATE',
  LINES_DO_NOT_ADD_UP: 'LINES_DO_NOT_ADD_UP',
  OPEN_ABOVE_TOTAL: 'OPEN_ABOVE_TOTAL',
  DUPLICATE_IN_BATCH: 'DUPLICATE_IN_BATCH',
  INVOICE_VOID: 'INVOICE_VOID',
  TOTAL_BELOW_PAID: 'TOTAL_BELOW_PAID',
  CURRENCY_CHANGE_AFTER_PAYMENT: 'CURRENCY_CHANGE_AFTER_PAYMENT',
} as const;

export interface InvoiceLineRow {
  lineNo: number;
  externalId: string | null;
  description: string;
  quantity: string;
  unitPriceMinor: bigint;
  amountMinor: bigint;
}

/** An invoice ready to write; `openBalanceMinor` null means "keep what was paid" on update. */
export interface InvoiceRow {
  externalId: string;
  customerId: string;
  entityId: string;
  number: string;
  issueDate: string;
  termsKind: PaymentTermsKind;
  termsDays: number;
  dueDate: string;
  billingModel: BillingModel;
  reconciliationHold: boolean;
  currency: string;
  totalMinor: bigint;
  openBalanceMinor: bigint | null;
  poNumber: string | null;
  lines: InvoiceLineRow[] | null;
}

export interface InvoiceLookups {
  customerByExternalId: Map<string, { id: string; entityId: string }>;
  entityIdByCode: Map<string, string>;
}

const QUANTITY = /^\d{1,14}(\.\d{1,4})?$/;

function money(p: Problems, field: string, value: string, currency: string): bigint | null {
  const r = parseDecimal(value, currency);
  if (!r.ok) {
    p.add(field, InvoiceErrors.INVALID_AMOUNT, r.message);
    return null;
  }
  if (r.minor < 0n) {
    p.add(field, InvoiceErrors.NEGATIVE_AMOUNT, 'must not be negative');
    return null;
  }
  return r.minor;
}

export function validateInvoice(input: UpsertInvoiceInput, lookups: InvoiceLookups): { row: InvoiceRow | null; problems: Problems } {
  const p = new Problems();
  const externalId = input.externalId?.trim() ?? '';
  if (!externalId || externalId.length > 128) p.add('externalId', InvoiceErrors.REQUIRED, 'must be 1-128 characters');
  const number = input.number?.trim() ?? '';
  if (!number || number.length > 64) p.add('number', InvoiceErrors.REQUIRED, 'must be 1-64 characters');
  const customer = lookups.customerByExternalId.get(input.customerExternalId);
  if (!customer) p.add('customerExternalId', InvoiceErrors.UNKNOWN_CUSTOMER, `no customer with externalId "${input.customerExternalId}"`);
  let entityId = customer?.entityId;
  if (input.entityCode) {
    entityId = lookups.entityIdByCode.get(input.entityCode);
    if (!entityId) p.add('entityCode', InvoiceErrors.UNKNOWN_ENTITY, `no entity with code "${input.entityCode}"`);
  }
  const currencyOk = isCurrency(input.currency);
  if (!currencyOk) p.add('currency', InvoiceErrors.UNKNOWN_CURRENCY, `"${input.currency}" is not an ISO 4217 currency code`);
  const total = currencyOk ? money(p, 'total', input.total, input.currency) : null;
  const open = currencyOk && input.openBalance !== undefined && input.openBalance !== null ? money(p, 'openBalance', input.openBalance, input.currency) : null;
  if (total !== null && open !== null && open > total) p.add('openBalance', InvoiceErrors.OPEN_ABOVE_TOTAL, 'must not exceed total');

  const terms = { kind: input.terms?.kind ?? PaymentTermsKind.EXPLICIT, days: input.terms?.days ?? 0 };
  let dueDate: string | null = null;
  if (isIsoDate(input.issueDate)) {
    dueDate = input.dueDate ?? dueDateFromTerms(input.issueDate, terms);
    if (!dueDate) p.add('dueDate', InvoiceErrors.NO_DUE_DATE, 'give dueDate, or terms that imply one (NET, EOM_PLUS, DUE_ON_RECEIPT)');
    else if (dueDate < input.issueDate) p.add('dueDate', InvoiceErrors.DUE_BEFORE_ISSUE, `due date ${dueDate} is before issue date ${input.issueDate}`);
  }

  let lines: InvoiceLineRow[] | null = null;
  if (input.lines && currencyOk) {
    lines = [];
    input.lines.forEach((l, i) => {
      const f = `lines.${i}`;
      if (!l.description?.trim()) p.add(`${f}.description`, InvoiceErrors.REQUIRED, 'must not be empty');
      const amount = money(p, `${f}.amount`, l.amount, input.currency);
      const quantity = l.quantity ?? '1';
      if (!QUANTITY.test(quantity) || Number(quantity) === 0) p.add(`${f}.quantity`, InvoiceErrors.INVALID_AMOUNT, 'must be a positive decimal with at most 4 places');
      const unit = l.unitPrice !== undefined && l.unitPrice !== null ? money(p, `${f}.unitPrice`, l.unitPrice, input.currency) : amount;
      if (amount !== null && unit !== null) {
        lines!.push({ lineNo: i + 1, externalId: l.externalId ?? null, description: l.description.trim(), quantity, unitPriceMinor: unit, amountMinor: amount });
      }
    });
    const sum = lines.reduce((s, l) => s + l.amountMinor, 0n);
    if (total !== null && lines.length === input.lines.length && lines.length > 0 && sum !== total) {
      p.add('lines', InvoiceErrors.LINES_DO_NOT_ADD_UP, `line amounts add up to ${sum} minor units, total is ${total}`);
    }
  }
  if (!p.ok) return { row: null, problems: p };
  return {
    problems: p,
    row: {
      externalId,
      customerId: customer!.id,
      entityId: entityId!,
      number,
      issueDate: input.issueDate,
      termsKind: terms.kind,
      termsDays: terms.days,
      dueDate: dueDate!,
      billingModel: input.billingModel ?? BillingModel.SERVICES,
      reconciliationHold: !!input.reconciliationHold,
      currency: input.currency,
      totalMinor: total!,
      openBalanceMinor: open,
      poNumber: input.poNumber?.trim() || null,
      lines,
    },
  };
}
