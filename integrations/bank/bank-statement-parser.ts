/**
 * The contract of bank statement parsers (ISO 20022 camt.053, BAI2, …): a whole file in, a
 * whole statement out, or a BankFileError. A parser never returns part of a file: a file that
 * is cut off or malformed is refused whole, so nothing of it is imported.
 */
export enum BankStatementFormat {
  CAMT053 = 'CAMT053',
  BAI2 = 'BAI2',
}

export interface StatementCredit {
  /** The bank's unique reference for the line: with the account, the idempotency key. */
  externalId: string;
  amount: string;
  currency: string;
  bookedOn: string;
  method: 'ACH' | 'WIRE' | 'CHECK' | 'CARD';
  payerName: string | null;
  payerAccount: string | null;
  remittanceText: string | null;
  /** Structured remittance references (invoice numbers). */
  references: string[];
}

/** A payment that came back (returned ACH, recalled transfer): reverses the original. */
export interface StatementReturn {
  externalId: string;
  /** References of the original credit (end-to-end id, transaction id, bank reference). */
  originalRefs: string[];
  amount: string;
  currency: string;
  bookedOn: string;
  /** ISO 20022 external return reason code (AC04, AM04, MS02, …) or BAI2 type code. */
  reasonCode: string | null;
  reasonText: string | null;
}

export interface ParsedStatement {
  format: BankStatementFormat;
  statementId: string;
  /** IBAN or account number: payments are recorded with source `bank:<account>`. */
  account: string;
  currency: string | null;
  credits: StatementCredit[];
  returns: StatementReturn[];
  /** Lines that are neither (fees, outgoing payments): counted, not imported. */
  skipped: number;
}

export class BankFileError extends Error {
  constructor(
    readonly code: 'MALFORMED' | 'TRUNCATED' | 'UNSUPPORTED' | 'CONTROL_TOTAL_MISMATCH' | 'INVALID_VALUE',
    message: string,
    readonly location?: string,
  ) {
    super(message);
    this.name = 'BankFileError';
  }
}

export interface BankStatementParser {
  readonly format: BankStatementFormat;
  parse(content: string): ParsedStatement;
}
