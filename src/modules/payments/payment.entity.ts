import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { bigintTransformer, dateTransformer } from '../../platform/db/transformers';
import { DateScalar } from '../../platform/graphql/scalars';

export enum PaymentMethod {
  ACH = 'ACH',
  WIRE = 'WIRE',
  CHECK = 'CHECK',
  CARD = 'CARD',
  PORTAL = 'PORTAL',
  BATCH_SETTLEMENT = 'BATCH_SETTLEMENT',
}
registerEnumType(PaymentMethod, { name: 'PaymentMethod' });

export enum PaymentStatus {
  /** Recorded, not yet through matching. */
  PENDING = 'PENDING',
  /** Nothing matched with confidence: in the unapplied-cash queue with suggestions. */
  UNAPPLIED = 'UNAPPLIED',
  /** Some applied; the rest is unapplied credit of the payer. */
  PARTIALLY_APPLIED = 'PARTIALLY_APPLIED',
  APPLIED = 'APPLIED',
  REVERSED = 'REVERSED',
}
registerEnumType(PaymentStatus, { name: 'PaymentStatus' });

export enum ReversalReason {
  RETURNED_ACH = 'RETURNED_ACH',
  NSF = 'NSF',
  CHARGEBACK = 'CHARGEBACK',
  BANK_ERROR = 'BANK_ERROR',
  OTHER = 'OTHER',
}
registerEnumType(ReversalReason, { name: 'ReversalReason' });

@ObjectType({ description: 'Cash received: applied + unapplied + reversed = amount, always (enforced by the database).' })
@Entity('payments')
export class Payment {
  @Field(() => ID) @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'tenant_id', type: 'uuid' }) tenantId: string;
  @Column({ name: 'entity_id', type: 'uuid', nullable: true }) entityId: string | null;
  @Field({ description: 'Where the line came from (bank feed, lockbox, portal); with externalId, unique.' }) @Column({ type: 'varchar' }) source: string;
  @Field() @Column({ name: 'external_id', type: 'varchar' }) externalId: string;
  @Field(() => PaymentMethod) @Column({ type: 'varchar' }) method: PaymentMethod;
  @Field() @Column({ type: 'char', length: 3 }) currency: string;
  @Column({ name: 'amount_minor', type: 'bigint', transformer: bigintTransformer }) amountMinor: bigint;
  @Column({ name: 'applied_minor', type: 'bigint', transformer: bigintTransformer }) appliedMinor: bigint;
  @Column({ name: 'unapplied_minor', type: 'bigint', transformer: bigintTransformer }) unappliedMinor: bigint;
  @Column({ name: 'reversed_minor', type: 'bigint', transformer: bigintTransformer }) reversedMinor: bigint;
  @Field(() => DateScalar) @Column({ name: 'received_on', type: 'date', transformer: dateTransformer }) receivedOn: string;
  @Field(() => ID, { nullable: true, description: 'The payer, when known.' }) @Column({ name: 'customer_id', type: 'uuid', nullable: true }) customerId: string | null;
  @Field(() => String, { nullable: true }) @Column({ name: 'payer_name', type: 'varchar', nullable: true }) payerName: string | null;
  @Field(() => String, { nullable: true }) @Column({ name: 'payer_account', type: 'varchar', nullable: true }) payerAccount: string | null;
  @Field(() => String, { nullable: true }) @Column({ name: 'remittance_text', type: 'varchar', nullable: true }) remittanceText: string | null;
  @Field(() => [String]) @Column({ name: 'remittance_refs', type: 'text', array: true }) remittanceRefs: string[];
  @Field(() => String, { nullable: true, description: 'Why the payer paid less, when they said.' }) @Column({ name: 'short_pay_reason', type: 'varchar', nullable: true }) shortPayReason: string | null;
  @Column({ name: 'deduction_code', type: 'varchar', nullable: true }) deductionCode: string | null;
  @Field(() => PaymentStatus) @Column({ type: 'varchar' }) status: PaymentStatus;
  @Column({ type: 'int' }) attempts: number;
  @Column({ name: 'next_attempt_at', type: 'timestamptz', nullable: true }) nextAttemptAt: Date | null;
  @Field(() => Date, { nullable: true }) @Column({ name: 'applied_at', type: 'timestamptz', nullable: true }) appliedAt: Date | null;
  @Field(() => ReversalReason, { nullable: true }) @Column({ name: 'reversal_reason', type: 'varchar', nullable: true }) reversalReason: ReversalReason | null;
  @Field(() => String, { nullable: true }) @Column({ name: 'reversal_note', type: 'varchar', nullable: true }) reversalNote: string | null;
  @Field(() => Date, { nullable: true }) @Column({ name: 'reversed_at', type: 'timestamptz', nullable: true }) reversedAt: Date | null;
  @Column({ name: 'reversed_by', type: 'varchar', nullable: true }) reversedBy: string | null;
  @Column({ name: 'created_by', type: 'varchar' }) createdBy: string;
  @Field() @Column({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Field() @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
