import type { IsoDate } from '../../platform/time/dates';

/**
 * The fixed model every message template is rendered with. Amounts are integer minor units
 * (format them with `{{money amount currency}}`), dates are YYYY-MM-DD (`{{date d}}`).
 * Templates are checked against MESSAGE_MODEL_FIELDS when they are saved, so this type and
 * that list must say the same thing (a unit test compares them with a sample model).
 */
export interface MessageModel {
  customer: { name: string; externalId: string };
  contact: { name: string; email: string | null };
  sender: { name: string; email: string; phone: string | null };
  invoices: MessageInvoice[];
  /** The amount due when every invoice of the message is in one currency; null otherwise. */
  totals: MessageTotal | null;
  /** The amount due per currency, always (one entry when the message has one currency). */
  totalsByCurrency: MessageTotal[];
  step: { key: string; tone: string; offsetDays: number };
  links: { payment: string; portal: string };
  tenant: { name: string };
  /** Set for dispute nudges only. */
  dispute?: { reasonCode: string; openedAt: IsoDate } | null;
}

export type MinorUnits = bigint;

export interface MessageInvoice {
  number: string;
  issueDate: IsoDate;
  dueDate: IsoDate;
  /** Negative before the due date. */
  daysPastDue: number;
  total: MinorUnits;
  openBalance: MinorUnits;
  /** The open balance outside disputes: what the customer is asked to pay now. */
  amountDue: MinorUnits;
  currency: string;
  lines?: MessageInvoiceLine[];
}

export interface MessageInvoiceLine {
  description: string;
  quantity: string;
  amount: MinorUnits;
}

export interface MessageTotal {
  amountDue: MinorUnits;
  currency: string;
}

export type MergeFieldType = 'string' | 'number' | 'money' | 'date' | 'currency' | 'object' | 'list';

export interface MergeField {
  /** Dotted path; `[]` marks a list (`invoices[].number` is `number` inside `{{#each invoices}}`). */
  path: string;
  type: MergeFieldType;
  description: string;
  /** May be null or absent: guard it with `{{#if}}`. */
  optional?: boolean;
}

/** The documented merge fields: used to validate templates and served by `messageMergeFields`. */
export const MESSAGE_MODEL_FIELDS: readonly MergeField[] = [
  { path: 'customer', type: 'object', description: 'The customer account the message is about.' },
  { path: 'customer.name', type: 'string', description: 'Customer name as in the ERP.' },
  { path: 'customer.externalId', type: 'string', description: 'Customer id in the ERP (account number).' },
  { path: 'contact', type: 'object', description: 'The person the message is addressed to.' },
  { path: 'contact.name', type: 'string', description: 'Contact name (for INTERNAL messages: the team member).' },
  { path: 'contact.email', type: 'string', description: 'Contact email address.', optional: true },
  { path: 'sender', type: 'object', description: 'Who signs the message: the billing team or the account owner.' },
  { path: 'sender.name', type: 'string', description: 'Signature name.' },
  { path: 'sender.email', type: 'string', description: 'Reply-to email address.' },
  { path: 'sender.phone', type: 'string', description: 'Phone number to call back.', optional: true },
  { path: 'invoices', type: 'list', description: 'The invoices the message is about, oldest due first. `invoices.length` is their count.' },
  { path: 'invoices[].number', type: 'string', description: 'Invoice number as printed.' },
  { path: 'invoices[].issueDate', type: 'date', description: 'Issue date.' },
  { path: 'invoices[].dueDate', type: 'date', description: 'Due date.' },
  { path: 'invoices[].daysPastDue', type: 'number', description: 'Calendar days past due on the day of sending (negative: days until due).' },
  { path: 'invoices[].total', type: 'money', description: 'Invoice total, minor units.' },
  { path: 'invoices[].openBalance', type: 'money', description: 'What is still open on the invoice, minor units.' },
  { path: 'invoices[].amountDue', type: 'money', description: 'The open balance outside disputes: what is asked for now, minor units.' },
  { path: 'invoices[].currency', type: 'currency', description: 'ISO 4217 code of the invoice.' },
  { path: 'invoices[].lines', type: 'list', description: 'Invoice lines, when the message includes them.', optional: true },
  { path: 'invoices[].lines[].description', type: 'string', description: 'Line description.' },
  { path: 'invoices[].lines[].quantity', type: 'string', description: 'Quantity, a decimal string.' },
  { path: 'invoices[].lines[].amount', type: 'money', description: 'Line amount, minor units, in the invoice currency.' },
  { path: 'totals', type: 'object', description: 'Amount due over all invoices when they share one currency; null when they do not (use totalsByCurrency).', optional: true },
  { path: 'totals.amountDue', type: 'money', description: 'Total amount due, minor units.' },
  { path: 'totals.currency', type: 'currency', description: 'ISO 4217 code.' },
  { path: 'totalsByCurrency', type: 'list', description: 'Amount due per currency; always set, one entry for a single-currency message.' },
  { path: 'totalsByCurrency[].amountDue', type: 'money', description: 'Amount due in that currency, minor units.' },
  { path: 'totalsByCurrency[].currency', type: 'currency', description: 'ISO 4217 code.' },
  { path: 'step', type: 'object', description: 'The dunning step that sends the message.' },
  { path: 'step.key', type: 'string', description: 'Step key in the policy, e.g. overdue-3.' },
  { path: 'step.tone', type: 'string', description: 'FRIENDLY, NEUTRAL, FIRM or FINAL.' },
  { path: 'step.offsetDays', type: 'number', description: 'Days from the due date at which the step runs (negative: before).' },
  { path: 'links', type: 'object', description: 'Links for the customer.' },
  { path: 'links.payment', type: 'string', description: 'Where to pay the invoices online.' },
  { path: 'links.portal', type: 'string', description: 'The customer portal (statements, invoice copies, disputes).' },
  { path: 'tenant', type: 'object', description: 'The company collecting (the tenant).' },
  { path: 'tenant.name', type: 'string', description: 'Company name.' },
  { path: 'dispute', type: 'object', description: 'The open dispute; set for dispute-nudge only.', optional: true },
  { path: 'dispute.reasonCode', type: 'string', description: 'Reason code recorded on the dispute, e.g. PRICING.' },
  { path: 'dispute.openedAt', type: 'date', description: 'Day the dispute was opened.' },
];

/** A node of the model tree the validator walks: an object with fields, a list of items, or a value. */
export type ModelNode =
  | { kind: 'object'; fields: Map<string, ModelNode> }
  | { kind: 'list'; item: ModelNode }
  | { kind: 'value'; type: MergeFieldType };

function buildTree(fields: readonly MergeField[]): ModelNode {
  const root: ModelNode = { kind: 'object', fields: new Map() };
  for (const f of fields) {
    const parts = f.path.split('.');
    let node: ModelNode = root;
    parts.forEach((raw, i) => {
      const isList = raw.endsWith('[]');
      const name = isList ? raw.slice(0, -2) : raw;
      if (node.kind === 'list') node = node.item;
      if (node.kind !== 'object') throw new Error(`merge field ${f.path}: ${parts.slice(0, i).join('.')} is not an object`);
      let next = node.fields.get(name);
      const last = i === parts.length - 1;
      if (!next) {
        if (last) next = f.type === 'list' ? { kind: 'list', item: { kind: 'object', fields: new Map() } } : f.type === 'object' ? { kind: 'object', fields: new Map() } : { kind: 'value', type: f.type };
        else if (isList) next = { kind: 'list', item: { kind: 'object', fields: new Map() } };
        else next = { kind: 'object', fields: new Map() };
        node.fields.set(name, next);
      }
      node = next;
    });
  }
  return root;
}

export const MESSAGE_MODEL_TREE: ModelNode = buildTree(MESSAGE_MODEL_FIELDS);

/** Sums amount due per currency, in first-seen order; `totals` only for a single currency. */
export function totalsOf(invoices: Pick<MessageInvoice, 'amountDue' | 'currency'>[]): Pick<MessageModel, 'totals' | 'totalsByCurrency'> {
  const by = new Map<string, bigint>();
  for (const i of invoices) by.set(i.currency, (by.get(i.currency) ?? 0n) + i.amountDue);
  const totalsByCurrency = [...by].map(([currency, amountDue]) => ({ amountDue, currency }));
  return { totalsByCurrency, totals: totalsByCurrency.length === 1 ? totalsByCurrency[0] : null };
}
