import type { UpsertInvoiceInput } from '../dto/invoice.inputs';
import { InvoiceErrors, validateInvoice } from '../invoice.validation';
import { PaymentTermsKind } from '../payment-terms';

const lookups = {
  customerByExternalId: new Map([['C-1', { id: '00000000-0000-0000-0000-000000000001', entityId: '00000000-0000-0000-0000-0000000000e1' }]]),
  entityIdByCode: new Map([['UK01', '00000000-0000-0000-0000-0000000000e2']]),
};
const base = (): UpsertInvoiceInput =>
  ({ externalId: 'I-1', customerExternalId: 'C-1', number: 'INV-1', issueDate: '2026-01-10', currency: 'USD', total: '100.00', terms: { kind: PaymentTermsKind.NET, days: 30 } }) as UpsertInvoiceInput;

describe('validateInvoice', () => {
  it('derives the due date from terms, and prefers the source\'s own due date', () => {
    expect(validateInvoice(base(), lookups).row).toMatchObject({ dueDate: '2026-02-09', totalMinor: 10000n, openBalanceMinor: null, entityId: lookups.customerByExternalId.get('C-1')!.entityId });
    expect(validateInvoice({ ...base(), dueDate: '2026-03-01' }, lookups).row).toMatchObject({ dueDate: '2026-03-01', termsKind: PaymentTermsKind.NET });
    expect(validateInvoice({ ...base(), entityCode: 'UK01' }, lookups).row?.entityId).toBe(lookups.entityIdByCode.get('UK01'));
  });

  it('collects every problem of an item at once', () => {
    const { row, problems } = validateInvoice(
      { ...base(), currency: 'USD', total: '-1', dueDate: '2026-01-01', customerExternalId: 'missing', lines: [{ description: '', amount: '1.999' }] } as UpsertInvoiceInput,
      lookups,
    );
    expect(row).toBeNull();
    expect(problems.list.map((p) => [p.field, p.code])).toEqual([
      ['customerExternalId', InvoiceErrors.UNKNOWN_CUSTOMER],
      ['total', InvoiceErrors.NEGATIVE_AMOUNT],
      ['dueDate', InvoiceErrors.DUE_BEFORE_ISSUE],
      ['lines.0.description', InvoiceErrors.REQUIRED],
      ['lines.0.amount', InvoiceErrors.INVALID_AMOUNT],
    ]);
  });

  it('lines must add up to the total to the cent', () => {
    const ok = validateInvoice({ ...base(), lines: [{ description: 'a', amount: '33.33' }, { description: 'b', amount: '66.67' }] } as UpsertInvoiceInput, lookups);
    expect(ok.problems.ok).toBe(true);
    expect(ok.row?.lines?.map((l) => l.amountMinor)).toEqual([3333n, 6667n]);
    const bad = validateInvoice({ ...base(), lines: [{ description: 'a', amount: '33.33' }, { description: 'b', amount: '66.66' }] } as UpsertInvoiceInput, lookups);
    expect(bad.problems.list.map((p) => p.code)).toEqual([InvoiceErrors.LINES_DO_NOT_ADD_UP]);
  });
});
