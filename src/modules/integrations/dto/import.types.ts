import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { BankStatementFormat } from '../../../../integrations/bank/bank-statement-parser';
import { TabularFormat } from '../../../../integrations/files/tabular-reader';
import { PaymentMethod } from '../../payments/payment.entity';

export enum ImportKind {
  CUSTOMERS = 'CUSTOMERS',
  INVOICES = 'INVOICES',
  PAYMENTS = 'PAYMENTS',
}
export enum ImportMode {
  WHOLE = 'WHOLE',
  PER_ROW = 'PER_ROW',
}
export enum ContentEncoding {
  UTF8 = 'UTF8',
  BASE64 = 'BASE64',
}
export enum DateFormat {
  ISO = 'ISO',
  DMY = 'DMY',
  MDY = 'MDY',
}
registerEnumType(ImportKind, { name: 'ImportKind' });
registerEnumType(ImportMode, { name: 'ImportMode', description: 'WHOLE: every row or none. PER_ROW: valid rows are imported, the others listed with their errors.' });
registerEnumType(TabularFormat, { name: 'FileFormat' });
registerEnumType(ContentEncoding, { name: 'ContentEncoding' });
registerEnumType(DateFormat, { name: 'DateFormat', description: 'How text dates are written: ISO 2026-03-31, DMY 31/03/2026 (or 31.03.2026), MDY 03/31/2026. XLSX date cells need none.' });
registerEnumType(BankStatementFormat, { name: 'BankStatementFormat' });

@InputType({ description: 'Which file column feeds which field, e.g. { field: "number", column: "Invoice No" }.' })
export class ColumnMappingInput {
  @Field() field: string;
  @Field() column: string;
}

@InputType({ description: 'Values for fields the file does not have.' })
export class ImportDefaultsInput {
  @Field(() => String, { nullable: true }) entityCode?: string | null;
  @Field(() => String, { nullable: true }) currency?: string | null;
  @Field(() => Int, { nullable: true, description: 'Invoices without a due date: NET n from the issue date.' }) termsDays?: number | null;
  @Field(() => PaymentMethod, { nullable: true }) method?: PaymentMethod | null;
  @Field(() => String, { nullable: true, description: 'Payments: the source of their idempotency key (default "file").' }) source?: string | null;
}

@InputType()
export class ImportFileInput {
  @Field(() => ImportKind) kind: ImportKind;
  @Field(() => TabularFormat) format: TabularFormat;
  @Field({ description: 'The file: base64, or for CSV the text itself (encoding UTF8).' }) content: string;
  @Field(() => ContentEncoding, { nullable: true, description: 'Default: BASE64 for XLSX, UTF8 for CSV.' }) encoding?: ContentEncoding | null;
  @Field(() => [ColumnMappingInput]) mapping: ColumnMappingInput[];
  @Field(() => ImportMode, { defaultValue: ImportMode.WHOLE }) mode: ImportMode;
  @Field({ defaultValue: false, description: 'Validate and write in a transaction that is rolled back: the report of a real import, nothing kept.' }) dryRun: boolean;
  @Field(() => DateFormat, { defaultValue: DateFormat.ISO }) dateFormat: DateFormat;
  @Field({ defaultValue: false, description: 'Amounts written 1.234,56 (decimal comma).' }) decimalComma: boolean;
  @Field(() => String, { nullable: true, description: 'XLSX: the sheet to read (default: the first).' }) sheet?: string | null;
  @Field(() => ImportDefaultsInput, { nullable: true }) defaults?: ImportDefaultsInput | null;
}

@ObjectType({ description: 'One problem in one row: the spreadsheet row number, the field and the file column it came from.' })
export class ImportRowError {
  @Field(() => Int) row: number;
  @Field() field: string;
  @Field(() => String, { nullable: true }) column: string | null;
  @Field() code: string;
  @Field() message: string;
}

@ObjectType()
export class ImportFilePayload {
  @Field(() => ID) importId: string;
  @Field(() => ImportKind) kind: ImportKind;
  @Field(() => ImportMode) mode: ImportMode;
  @Field() dryRun: boolean;
  @Field({ description: 'True when the rows counted in importedRows are stored.' }) committed: boolean;
  @Field(() => Int) totalRows: number;
  @Field(() => Int) importedRows: number;
  @Field(() => Int) failedRows: number;
  @Field(() => Int) created: number;
  @Field(() => Int) updated: number;
  @Field(() => Int) unchanged: number;
  @Field(() => [ImportRowError]) errors: ImportRowError[];
}

@InputType()
export class ImportBankStatementInput {
  @Field(() => BankStatementFormat) format: BankStatementFormat;
  @Field() content: string;
  @Field(() => ContentEncoding, { defaultValue: ContentEncoding.UTF8 }) encoding: ContentEncoding;
  @Field({ defaultValue: true, description: 'Apply new payments to invoices at once (else by a job).' }) applyNow: boolean;
}

@ObjectType()
export class BankStatementLineError {
  @Field() externalId: string;
  @Field() field: string;
  @Field() code: string;
  @Field() message: string;
}

@ObjectType()
export class ImportBankStatementPayload {
  @Field() statementId: string;
  @Field() account: string;
  @Field({ description: 'Payments are recorded with this source: with the line\'s bank reference, the idempotency key.' }) source: string;
  @Field(() => Int) credits: number;
  @Field(() => Int, { description: 'Credits recorded now.' }) recorded: number;
  @Field(() => Int, { description: 'Credits that were recorded by an earlier import: nothing changed.' }) alreadyRecorded: number;
  @Field(() => Int) returns: number;
  @Field(() => Int, { description: 'Returned payments reversed now.' }) reversed: number;
  @Field(() => Int) alreadyReversed: number;
  @Field(() => Int, { description: 'Lines that are neither credits nor returns (fees, outgoing payments, pending entries).' }) skipped: number;
  @Field(() => [ID]) paymentIds: string[];
  @Field(() => [BankStatementLineError]) errors: BankStatementLineError[];
}
