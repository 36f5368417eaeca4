import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { bigintTransformer } from '../../platform/db/transformers';
import { formatRate, parseRate } from '../../platform/money/fx-conversion';

export enum AllocationRule {
  BY_REFERENCE = 'BY_REFERENCE',
  EXACT_AMOUNT = 'EXACT_AMOUNT',
  OLDEST_FIRST = 'OLDEST_FIRST',
  PROPORTIONAL = 'PROPORTIONAL',
  CUSTOM = 'CUSTOM',
  MANUAL = 'MANUAL',
  SUGGESTION = 'SUGGESTION',
  CREDIT_MEMO = 'CREDIT_MEMO',
}
registerEnumType(AllocationRule, { name: 'AllocationRule' });

@ObjectType({ description: 'Part of a payment (or credit memo) placed on an invoice, and the rule that placed it.' })
@Entity('payment_allocations')
export class Allocation {
  @Field(() => ID) @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'tenant_id', type: 'uuid' }) tenantId: string;
  @Field(() => ID, { nullable: true }) @Column({ name: 'payment_id', type: 'uuid', nullable: true }) paymentId: string | null;
  @Field(() => ID, { nullable: true }) @Column({ name: 'credit_memo_id', type: 'uuid', nullable: true }) creditMemoId: string | null;
  @Field(() => ID) @Column({ name: 'invoice_id', type: 'uuid' }) invoiceId: string;
  @Column({ name: 'customer_id', type: 'uuid' }) customerId: string;
  @Column({ name: 'amount_minor', type: 'bigint', transformer: bigintTransformer }) amountMinor: bigint;
  @Column({ type: 'char', length: 3 }) currency: string;
  /** What the payment or credit memo gave up, in its own currency (equal to amountMinor unless a rate is set). */
  @Column({ name: 'source_amount_minor', type: 'bigint', transformer: bigintTransformer }) sourceAmountMinor: bigint;
  @Column({ name: 'source_currency', type: 'char', length: 3 }) sourceCurrency: string;
  @Field(() => String, { nullable: true, description: 'Units of the invoice currency for one unit of the payment (or memo) currency, when the two differ; null otherwise.' })
  @Column({ type: 'numeric', precision: 24, scale: 12, nullable: true, transformer: { to: (v: string | null) => v, from: (v: string | null) => (v === null ? null : formatRate(parseRate(v)!)) } })
  rate: string | null;
  @Field(() => AllocationRule) @Column({ type: 'varchar' }) rule: AllocationRule;
  @Field() @Column({ name: 'created_by', type: 'varchar' }) createdBy: string;
  @Field() @Column({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Field(() => Date, { nullable: true }) @Column({ name: 'reversed_at', type: 'timestamptz', nullable: true }) reversedAt: Date | null;
}
