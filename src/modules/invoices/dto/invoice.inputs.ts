import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { IsUUID, Max, Min } from 'class-validator';
import { connectionType } from '../../../platform/graphql/connection';
import { FieldError } from '../../../platform/graphql/field-error.type';
import { DateScalar } from '../../../platform/graphql/scalars';
import { BillingModel, Invoice, InvoiceStatus } from '../invoice.entity';
import { PaymentTermsKind } from '../payment-terms';

@InputType()
export class PaymentTermsInput {
  @Field(() => PaymentTermsKind) kind: PaymentTermsKind;
  @Field(() => Int, { nullable: true, defaultValue: 0, description: 'N in net N / EOM + N.' })
  @Min(0)
  @Max(3650)
  days?: number;
}

@InputType()
export class InvoiceLineInput {
  @Field() description: string;
  @Field({ description: 'Decimal string in the invoice currency.' }) amount: string;
  @Field({ nullable: true, defaultValue: '1', description: 'Decimal string.' }) quantity?: string;
  @Field({ nullable: true, description: 'Decimal string; defaults to amount / quantity.' }) unitPrice?: string;
  @Field(() => String, { nullable: true }) externalId?: string | null;
}

@InputType({ description: 'An invoice, matched by `externalId`. Due date: `dueDate` when the source gives it, else from `terms`.' })
export class UpsertInvoiceInput {
  @Field() externalId: string;
  @Field() customerExternalId: string;
  @Field() number: string;
  @Field(() => DateScalar) issueDate: string;
  @Field() currency: string;
  @Field({ description: 'Decimal string, e.g. "1250.00".' }) total: string;
  @Field(() => PaymentTermsInput, { nullable: true }) terms?: PaymentTermsInput | null;
  @Field(() => DateScalar, { nullable: true }) dueDate?: string | null;
  @Field(() => String, { nullable: true, description: 'Decimal string; defaults to total on create, and keeps what was paid on update.' })
  openBalance?: string | null;
  @Field(() => BillingModel, { nullable: true }) billingModel?: BillingModel | null;
  @Field({ nullable: true }) reconciliationHold?: boolean;
  @Field(() => String, { nullable: true }) poNumber?: string | null;
  @Field(() => String, { nullable: true, description: 'Defaults to the customer\'s entity.' }) entityCode?: string | null;
  @Field(() => [InvoiceLineInput], { nullable: true, description: 'When given, replaces the lines; their amounts must add up to total.' })
  lines?: InvoiceLineInput[] | null;
}

@ObjectType()
export class UpsertInvoiceResult {
  @Field(() => Int) index: number;
  @Field() externalId: string;
  @Field(() => Invoice, { nullable: true }) invoice: Invoice | null;
  @Field({ nullable: true }) created?: boolean;
  @Field({ nullable: true, description: 'False when the item matched what was stored: nothing was written.' }) changed?: boolean;
  @Field(() => [FieldError]) errors: FieldError[];
}

@ObjectType()
export class UpsertInvoicesPayload {
  @Field(() => [UpsertInvoiceResult]) results: UpsertInvoiceResult[];
  @Field(() => Int) succeeded: number;
  @Field(() => Int) failed: number;
}

@InputType()
export class DateRangeInput {
  @Field(() => DateScalar, { nullable: true }) from?: string | null;
  @Field(() => DateScalar, { nullable: true }) to?: string | null;
}

@InputType()
export class IntRangeInput {
  @Field(() => Int, { nullable: true }) min?: number | null;
  @Field(() => Int, { nullable: true }) max?: number | null;
}

@InputType()
export class InvoiceFilter {
  @Field(() => [InvoiceStatus], { nullable: true }) status?: InvoiceStatus[];
  @Field(() => [ID], { nullable: true }) @IsUUID('all', { each: true }) entityIds?: string[];
  @Field(() => [ID], { nullable: true }) @IsUUID('all', { each: true }) customerIds?: string[];
  @Field(() => [String], { nullable: true }) segments?: string[];
  @Field(() => [ID], { nullable: true, description: 'Owning collectors (user ids).' }) @IsUUID('all', { each: true }) ownerIds?: string[];
  @Field(() => [String], { nullable: true }) currencies?: string[];
  @Field(() => [BillingModel], { nullable: true }) billingModels?: BillingModel[];
  @Field({ nullable: true, description: 'Open with a balance and past its due date as of `asOf`.' }) overdue?: boolean;
  @Field(() => DateRangeInput, { nullable: true }) dueDate?: DateRangeInput;
  @Field(() => IntRangeInput, { nullable: true, description: 'Days past due as of `asOf` (negative: days until due).' }) daysPastDue?: IntRangeInput;
  @Field({ nullable: true, description: 'Case-insensitive match on invoice number or customer name.' }) search?: string;
}

export enum InvoiceOrderField {
  DUE_DATE = 'DUE_DATE',
  ISSUE_DATE = 'ISSUE_DATE',
  NUMBER = 'NUMBER',
  TOTAL = 'TOTAL',
  OPEN_BALANCE = 'OPEN_BALANCE',
  CREATED_AT = 'CREATED_AT',
}
registerEnumType(InvoiceOrderField, { name: 'InvoiceOrderField', description: 'DUE_DATE ascending = most days past due first.' });

export const InvoiceConnection = connectionType(Invoice, 'Invoice');
export type InvoiceConnection = InstanceType<typeof InvoiceConnection>;
