import { addDays, daysBetween } from '../../platform/time/dates';
import { totalsOf, type MessageInvoice, type MessageModel } from './message-model';

/** Tone and offset of the steps the shipped templates are written for (previews use them). */
export const STEP_DEFAULTS: Readonly<Record<string, { tone: string; offsetDays: number }>> = {
  'pre-due-reminder': { tone: 'FRIENDLY', offsetDays: -7 },
  'due-today': { tone: 'FRIENDLY', offsetDays: 0 },
  'overdue-friendly': { tone: 'FRIENDLY', offsetDays: 3 },
  'overdue-firm': { tone: 'FIRM', offsetDays: 10 },
  'escalation-notice': { tone: 'FINAL', offsetDays: 21 },
  'internal-escalation': { tone: 'NEUTRAL', offsetDays: 21 },
  'credit-hold-notice': { tone: 'FINAL', offsetDays: 30 },
  'courtesy-balance': { tone: 'FRIENDLY', offsetDays: 10 },
  'dispute-nudge': { tone: 'NEUTRAL', offsetDays: 7 },
};

export function stepFor(key: string): { key: string; tone: string; offsetDays: number } {
  const d = STEP_DEFAULTS[key] ?? { tone: 'NEUTRAL', offsetDays: 0 };
  return { key, ...d };
}

const CURRENCY_BY_LANGUAGE: Record<string, string> = { en: 'USD', de: 'EUR', fr: 'EUR' };
const PEOPLE: Record<string, { contact: string; sender: string; customer: string; owner: string }> = {
  en: { contact: 'Dana Whitfield', sender: 'Jordan Lee', customer: 'Northwind Traders Inc.', owner: 'Sam Rivera' },
  de: { contact: 'Dana Weber', sender: 'Jordan Krüger', customer: 'Nordwind Handels GmbH', owner: 'Sam Becker' },
  fr: { contact: 'Dana Laurent', sender: 'Jordan Moreau', customer: 'Vent du Nord SARL', owner: 'Sam Girard' },
};

/**
 * A realistic model for previews and tests: two invoices of the customer, the first one due
 * on 2026-03-02, seen on the day the template's step runs (so a 10-day template shows 10 days
 * past due). courtesy-balance gets a mostly paid invoice, dispute-nudge a disputed line.
 */
export function sampleModel(opts: { key: string; locale: string; currency?: string }): MessageModel {
  const language = opts.locale.split('-')[0];
  const currency = opts.currency ?? CURRENCY_BY_LANGUAGE[language] ?? 'USD';
  const people = PEOPLE[language] ?? PEOPLE.en;
  const step = stepFor(opts.key);
  const firstDue = '2026-03-02';
  const asOf = addDays(firstDue, step.offsetDays);
  const inv = (number: string, issueDate: string, dueDate: string, total: bigint, open: bigint, disputed = 0n): MessageInvoice => ({
    number,
    issueDate,
    dueDate,
    daysPastDue: daysBetween(dueDate, asOf),
    total,
    openBalance: open,
    amountDue: open - disputed,
    currency,
  });
  let invoices: MessageInvoice[];
  let dispute: MessageModel['dispute'] = null;
  if (opts.key === 'courtesy-balance') {
    invoices = [inv('INV-2026-0141', '2026-01-31', firstDue, 1234550n, 48000n)];
  } else if (opts.key === 'dispute-nudge') {
    invoices = [
      {
        ...inv('INV-2026-0141', '2026-01-31', firstDue, 1234550n, 1234550n, 240000n),
        lines: [
          { description: 'Annual platform licence', quantity: '1', amount: 994550n },
          { description: 'Onboarding services (days)', quantity: '4', amount: 240000n },
        ],
      },
    ];
    dispute = { reasonCode: 'SERVICE_NOT_RECEIVED', openedAt: addDays(firstDue, 2) };
  } else {
    // Before and on the due date both invoices fall due together; after it, the second one is 10 days younger.
    const secondDue = step.offsetDays <= 0 ? firstDue : '2026-03-12';
    invoices = [inv('INV-2026-0141', '2026-01-31', firstDue, 1234550n, 1234550n), inv('INV-2026-0163', '2026-02-10', secondDue, 86000n, 86000n)];
    if (step.offsetDays > 0) invoices = invoices.filter((i) => i.daysPastDue > 0);
  }
  return {
    customer: { name: people.customer, externalId: 'CUST-0042' },
    // INTERNAL messages go to the AR team: the contact is the account owner.
    contact: opts.key.startsWith('internal') ? { name: people.owner, email: 'owner@acme-supplies.example' } : { name: people.contact, email: 'ap@northwind.example' },
    sender: { name: people.sender, email: 'billing@acme-supplies.example', phone: '+1 415 555 0100' },
    invoices,
    ...totalsOf(invoices),
    step,
    links: { payment: 'https://pay.acme-supplies.example/p/7f3c9a', portal: 'https://portal.acme-supplies.example/accounts/CUST-0042' },
    tenant: { name: 'Acme Supplies' },
    dispute,
  };
}
