import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { bigintTransformer, dateTransformer } from '../../platform/db/transformers';
import { DateScalar } from '../../platform/graphql/scalars';

export enum DisputeReason {
  PRICING = 'PRICING',
  QUANTITY = 'QUANTITY',
  NOT_RECEIVED = 'NOT_RECEIVED',
  DUPLICATE = 'DUPLICATE',
  TAX = 'TAX',
  SERVICE = 'SERVICE',
  OTHER = 'OTHER',
}
registerEnumType(DisputeReason, { name: 'DisputeReason' });

export enum DisputeStatus {
  /** Found in an inbound reply; waits for a person to confirm; does not pause dunning. */
  SUGGESTED = 'SUGGESTED',
  OPEN = 'OPEN',
  AWAITING_CUSTOMER = 'AWAITING_CUSTOMER',
  UNDER_REVIEW = 'UNDER_REVIEW',
  RESOLVED = 'RESOLVED',
  /** A suggestion a person turned down. */
  DISMISSED = 'DISMISSED',
}
registerEnumType(DisputeStatus, { name: 'DisputeStatus', description: 'SUGGESTED → OPEN (or DISMISSED); OPEN → AWAITING_CUSTOMER → UNDER_REVIEW → RESOLVED.' });

/** Statuses in which the disputed lines are out of dunning. */
export const ACTIVE_DISPUTE_STATUSES = [DisputeStatus.OPEN, DisputeStatus.AWAITING_CUSTOMER, DisputeStatus.UNDER_REVIEW];

export enum DisputeResolution {
  /** A credit memo for the disputed amount, applied to the invoice. */
  CREDIT_MEMO = 'CREDIT_MEMO',
  /** The customer owes it: dunning resumes. */
  REJECTED = 'REJECTED',
  /** Written off through an approval request. */
  WRITE_OFF = 'WRITE_OFF',
}
registerEnumType(DisputeResolution, { name: 'DisputeResolution' });

export enum DisputeSource {
  MANUAL = 'MANUAL',
  INBOUND = 'INBOUND',
  SHORT_PAY = 'SHORT_PAY',
}
registerEnumType(DisputeSource, { name: 'DisputeSource' });

@ObjectType({ description: 'A customer\'s dispute of an invoice or of some of its lines; only what is disputed leaves dunning.' })
@Entity('disputes')
export class Dispute {
  @Field(() => ID) @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'tenant_id', type: 'uuid' }) tenantId: string;
  @Field(() => ID) @Column({ name: 'customer_id', type: 'uuid' }) customerId: string;
  @Field(() => ID) @Column({ name: 'invoice_id', type: 'uuid' }) invoiceId: string;
  @Field(() => [ID], { description: 'Disputed lines; empty = the whole invoice.' }) @Column({ name: 'line_ids', type: 'uuid', array: true, default: '{}' }) lineIds: string[];
  @Field(() => DisputeReason) @Column({ name: 'reason_code', type: 'varchar' }) reasonCode: DisputeReason;
  @Column({ name: 'amount_minor', type: 'bigint', transformer: bigintTransformer }) amountMinor: bigint;
  @Field() @Column({ type: 'char', length: 3 }) currency: string;
  @Field(() => String, { nullable: true, description: 'What the customer says; without it the customer is nudged after the tenant\'s nudge delay.' }) @Column({ type: 'varchar', nullable: true }) detail: string | null;
  @Field(() => DisputeStatus) @Column({ type: 'varchar' }) status: DisputeStatus;
  @Field(() => DisputeSource) @Column({ type: 'varchar', default: DisputeSource.MANUAL }) source: DisputeSource;
  @Field(() => ID, { nullable: true, description: 'Who works it: the routing rule\'s user for the reason, else the customer\'s owner.' })
  @Column({ name: 'owner_user_id', type: 'uuid', nullable: true })
  ownerUserId: string | null;
  @Field(() => DateScalar, { description: 'The day the customer raised it (tenant time zone).' }) @Column({ name: 'raised_on', type: 'date', transformer: dateTransformer }) raisedOn: string;
  @Field(() => DateScalar, { nullable: true, description: 'Resolve by: raised on + the SLA days of the reason.' }) @Column({ name: 'sla_due_on', type: 'date', nullable: true, transformer: dateTransformer }) slaDueOn: string | null;
  @Field(() => DateScalar, { nullable: true, description: 'When the customer is nudged for detail, if none was given.' }) @Column({ name: 'nudge_due_on', type: 'date', nullable: true, transformer: dateTransformer }) nudgeDueOn: string | null;
  @Field(() => Date, { nullable: true }) @Column({ name: 'nudged_at', type: 'timestamptz', nullable: true }) nudgedAt: Date | null;
  @Field(() => DisputeResolution, { nullable: true }) @Column({ type: 'varchar', nullable: true }) resolution: DisputeResolution | null;
  @Field(() => String, { nullable: true }) @Column({ name: 'resolution_note', type: 'varchar', nullable: true }) resolutionNote: string | null;
  @Field(() => String, { nullable: true }) @Column({ name: 'resolved_by', type: 'varchar', nullable: true }) resolvedBy: string | null;
  @Field(() => ID, { nullable: true }) @Column({ name: 'credit_memo_id', type: 'uuid', nullable: true }) creditMemoId: string | null;
  @Field(() => ID, { nullable: true, description: 'The approval request a write-off or credit memo resolution waits for.' })
  @Column({ name: 'approval_request_id', type: 'uuid', nullable: true })
  approvalRequestId: string | null;
  @Field() @Column({ name: 'opened_by' }) openedBy: string;
  @Field() @Column({ name: 'opened_at', type: 'timestamptz' }) openedAt: Date;
  @Field(() => String, { nullable: true }) @Column({ name: 'confirmed_by', type: 'varchar', nullable: true }) confirmedBy: string | null;
  @Field(() => Date, { nullable: true }) @Column({ name: 'resolved_at', type: 'timestamptz', nullable: true }) resolvedAt: Date | null;
  @Column({ name: 'confirmed_at', type: 'timestamptz', nullable: true }) confirmedAt: Date | null;
  @Field() @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' }) updatedAt: Date;
}
