import { registerEnumType } from 'type-graphql';
import { addDays, endOfMonth, type IsoDate } from '../../platform/time/dates';

export enum PaymentTermsKind {
  /** Due N days after the issue date (net 30). */
  NET = 'NET',
  /** Due N days after the end of the issue month (EOM + 15). */
  EOM_PLUS = 'EOM_PLUS',
  /** Due on the issue date. */
  DUE_ON_RECEIPT = 'DUE_ON_RECEIPT',
  /** The source gave the due date itself. */
  EXPLICIT = 'EXPLICIT',
}
registerEnumType(PaymentTermsKind, { name: 'PaymentTermsKind', description: 'How the due date follows from the issue date.' });

export interface PaymentTerms {
  kind: PaymentTermsKind;
  days: number;
}

/** The due date that the terms give for an issue date; EXPLICIT terms give none. */
export function dueDateFromTerms(issueDate: IsoDate, terms: PaymentTerms): IsoDate | null {
  switch (terms.kind) {
    case PaymentTermsKind.NET:
      return addDays(issueDate, terms.days);
    case PaymentTermsKind.EOM_PLUS:
      return addDays(endOfMonth(issueDate), terms.days);
    case PaymentTermsKind.DUE_ON_RECEIPT:
      return issueDate;
    case PaymentTermsKind.EXPLICIT:
      return null;
  }
}

export function describeTerms(t: PaymentTerms): string {
  switch (t.kind) {
    case PaymentTermsKind.NET:
      return `Net ${t.days}`;
    case PaymentTermsKind.EOM_PLUS:
      return `EOM + ${t.days}`;
    case PaymentTermsKind.DUE_ON_RECEIPT:
      return 'Due on receipt';
    case PaymentTermsKind.EXPLICIT:
      return 'Due date given by source';
  }
}
