import type { UpsertCustomerInput, UpsertInvoiceInput } from '../generated/graphql';

/** Two entities, three customers, ten invoices: a small AR book for e2e stories. */
export const entities = [
  { code: 'US01', name: 'Acme Inc.', currency: 'USD', country: 'US' },
  { code: 'UK01', name: 'Acme Ltd', currency: 'GBP', country: 'GB' },
];

export const customers: UpsertCustomerInput[] = [
  {
    externalId: 'C-1',
    name: 'Globex Corporation',
    entityCode: 'US01',
    currency: 'USD',
    segment: 'enterprise',
    tier: 'strategic',
    country: 'US',
    creditLimit: '250000.00',
    contacts: [{ name: 'Hank Scorpio', email: 'ap@globex.example', phone: '+14155550100', role: 'AP', isPrimary: true }],
  },
  {
    externalId: 'C-2',
    name: 'Initech LLC',
    entityCode: 'US01',
    currency: 'USD',
    segment: 'smb',
    contacts: [{ name: 'Bill Lumbergh', email: 'billing@initech.example' }],
  },
  { externalId: 'C-3', name: 'Wayne Enterprises UK', entityCode: 'UK01', currency: 'GBP', segment: 'enterprise', contacts: [{ name: 'Alfred', email: 'alfred@wayne.example' }] },
];

/** As of 2026-03-31: invoices in every aging bucket, US01 and UK01. */
export const invoices: UpsertInvoiceInput[] = [
  { externalId: 'I-1', customerExternalId: 'C-1', number: 'INV-1001', issueDate: '2025-11-01', currency: 'USD', total: '12000.00', terms: { kind: 'NET', days: 30 } },
  { externalId: 'I-2', customerExternalId: 'C-1', number: 'INV-1002', issueDate: '2026-01-15', currency: 'USD', total: '5400.50', terms: { kind: 'NET', days: 30 } },
  { externalId: 'I-3', customerExternalId: 'C-1', number: 'INV-1003', issueDate: '2026-03-20', currency: 'USD', total: '800.00', terms: { kind: 'NET', days: 30 } },
  {
    externalId: 'I-4',
    customerExternalId: 'C-2',
    number: 'INV-1004',
    issueDate: '2026-02-01',
    currency: 'USD',
    total: '300.00',
    terms: { kind: 'EOM_PLUS', days: 15 },
    lines: [
      { description: 'Licence', amount: '250.00' },
      { description: 'Support', amount: '50.00' },
    ],
  },
  { externalId: 'I-5', customerExternalId: 'C-2', number: 'INV-1005', issueDate: '2026-03-01', currency: 'USD', total: '99.99', terms: { kind: 'DUE_ON_RECEIPT' } },
  { externalId: 'I-6', customerExternalId: 'C-2', number: 'INV-1006', issueDate: '2025-12-01', currency: 'USD', total: '1500.00', dueDate: '2026-01-10' },
  { externalId: 'I-7', customerExternalId: 'C-2', number: 'INV-1007', issueDate: '2026-03-25', currency: 'USD', total: '42.00', terms: { kind: 'NET', days: 15 } },
  { externalId: 'I-8', customerExternalId: 'C-3', number: 'UK-2001', issueDate: '2026-01-05', currency: 'GBP', total: '7000.00', terms: { kind: 'NET', days: 30 } },
  { externalId: 'I-9', customerExternalId: 'C-3', number: 'UK-2002', issueDate: '2026-02-20', currency: 'GBP', total: '2500.00', terms: { kind: 'NET', days: 14 } },
  { externalId: 'I-10', customerExternalId: 'C-1', number: 'INV-1010', issueDate: '2026-01-02', currency: 'USD', total: '900.00', openBalance: '0.00', terms: { kind: 'NET', days: 30 } },
];
