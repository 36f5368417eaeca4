import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { FieldError } from '../../../platform/graphql/field-error.type';
import { DateScalar } from '../../../platform/graphql/scalars';
import { connectionType } from '../../../platform/graphql/connection';
import { DisputeReason } from '../../disputes/dispute.entity';
import { LedgerAccount } from '../../ledger/journal.entity';
import { StrategyKind } from '../allocation-strategies';
import { Payment, PaymentMethod, PaymentStatus } from '../payment.entity';
import { registerEnumType } from 'type-graphql';

registerEnumType(StrategyKind, { name: 'PaymentStrategyKind', description: 'How a payment is matched to invoices; a tenant orders them.' });

@InputType()
export class RecordPaymentInput {
  @Field({ description: 'Where the line came from (bank feed, lockbox, portal…); with externalId, the idempotency key.' }) source: string;
  @Field() externalId: string;
  @Field(() => PaymentMethod) method: PaymentMethod;
  @Field({ description: 'Decimal string, e.g. "1042.50".' }) amount: string;
  @Field() currency: string;
  @Field(() => DateScalar, { nullable: true, description: 'Default: today in the tenant time zone.' }) receivedOn?: string | null;
  @Field(() => ID, { nullable: true }) customerId?: string | null;
  @Field(() => String, { nullable: true }) customerExternalId?: string | null;
  @Field(() => String, { nullable: true, description: 'Default: the customer\'s entity.' }) entityCode?: string | null;
  @Field(() => String, { nullable: true }) payerName?: string | null;
  @Field(() => String, { nullable: true, description: 'Remitting bank account; learned per customer once matched.' }) payerAccount?: string | null;
  @Field(() => String, { nullable: true, description: 'Free remittance text, e.g. "INV 1042/1043".' }) remittanceText?: string | null;
  @Field(() => [String], { nullable: true, description: 'Structured references (invoice numbers).' }) references?: string[] | null;
  @Field(() => String, { nullable: true, description: 'Why the payer paid less; opens a deduction dispute for what stays open.' }) shortPayReason?: string | null;
  @Field(() => DisputeReason, { nullable: true }) deductionCode?: DisputeReason | null;
}

@ObjectType()
export class RecordPaymentResult {
  @Field(() => Int) index: number;
  @Field() externalId: string;
  @Field(() => Payment, { nullable: true }) payment: Payment | null;
  @Field({ description: 'False when this line was recorded before: nothing changed.' }) created: boolean;
  @Field(() => [FieldError]) errors: FieldError[];
}

@ObjectType()
export class RecordPaymentsPayload {
  @Field(() => [RecordPaymentResult]) results: RecordPaymentResult[];
  @Field(() => Int) succeeded: number;
  @Field(() => Int) failed: number;
}

@InputType()
export class AllocationInput {
  @Field(() => ID) invoiceId: string;
  @Field({ description: 'Decimal string in the payment (or credit memo) currency.' }) amount: string;
  @Field(() => String, {
    nullable: true,
    description:
      'Only for an invoice in another currency: units of the invoice currency for one unit of the payment currency, as a decimal string (up to 12 places). Default: the cross rate of the tenant\'s stored FX rates on the day the payment was received (for a credit memo, the day it is applied).',
  })
  rate?: string | null;
}

@InputType()
export class PaymentFilterInput {
  @Field(() => [PaymentStatus], { nullable: true }) status?: PaymentStatus[] | null;
  @Field(() => ID, { nullable: true }) customerId?: string | null;
  @Field(() => PaymentMethod, { nullable: true }) method?: PaymentMethod | null;
  @Field(() => String, { nullable: true }) source?: string | null;
}

export const PaymentConnection = connectionType(Payment, 'Payment');

@InputType()
export class PaymentStrategyInput {
  @Field(() => StrategyKind) kind: StrategyKind;
  @Field(() => String, { nullable: true, description: 'For CUSTOM: the registered hook name.' }) hook?: string | null;
}

@InputType()
export class SetPaymentApplicationRulesInput {
  @Field(() => String, { nullable: true, description: 'Rules for one legal entity; omit for the tenant default.' }) entityCode?: string | null;
  @Field(() => [PaymentStrategyInput], { description: 'Tried in order on what is still unapplied.' }) strategies: PaymentStrategyInput[];
  @Field(() => [String], { nullable: true }) beforeHooks?: string[] | null;
  @Field(() => [String], { nullable: true }) afterHooks?: string[] | null;
}

@ObjectType()
export class PaymentStrategy {
  @Field(() => StrategyKind) kind: StrategyKind;
  @Field(() => String, { nullable: true }) hook?: string | null;
}

@ObjectType()
export class PaymentApplicationRules {
  @Field(() => ID, { nullable: true, description: 'The entity these rules are for; null = the tenant default.' }) entityId: string | null;
  @Field(() => [PaymentStrategy]) strategies: PaymentStrategy[];
  @Field(() => [String]) beforeHooks: string[];
  @Field(() => [String]) afterHooks: string[];
  @Field({ description: 'False when nothing was saved and the defaults (BY_REFERENCE, EXACT_AMOUNT) apply.' }) configured: boolean;
}

@InputType()
export class CreateCreditMemoInput {
  @Field(() => ID) customerId: string;
  @Field() number: string;
  @Field() amount: string;
  @Field(() => String, { nullable: true, description: 'Default: the customer currency.' }) currency?: string | null;
  @Field() reason: string;
}

@InputType()
export class CreateDebitMemoInput {
  @Field(() => ID) customerId: string;
  @Field() number: string;
  @Field() amount: string;
  @Field() reason: string;
  @Field(() => DateScalar, { nullable: true }) dueDate?: string | null;
}

@InputType()
export class CreateAdjustmentInput {
  @Field(() => ID) invoiceId: string;
  @Field({ description: 'Signed decimal: negative lowers the balance, positive raises it (up to the total).' }) amount: string;
  @Field(() => LedgerAccount, { nullable: true, description: 'ADJUSTMENTS (default) or DISCOUNTS.' }) account?: LedgerAccount | null;
  @Field() reason: string;
}

@InputType()
export class RequestWriteOffInput {
  @Field(() => ID) invoiceId: string;
  @Field(() => String, { nullable: true, description: 'Default: the whole open balance.' }) amount?: string | null;
  @Field() reason: string;
}
