import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { bigintTransformer } from '../../platform/db/transformers';

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
  OPEN = 'OPEN',
  AWAITING_CUSTOMER = 'AWAITING_CUSTOMER',
  UNDER_REVIEW = 'UNDER_REVIEW',
  RESOLVED = 'RESOLVED',
}
registerEnumType(DisputeStatus, { name: 'DisputeStatus' });

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
  @Field(() => String, { nullable: true }) @Column({ type: 'varchar', nullable: true }) detail: string | null;
  @Field(() => DisputeStatus) @Column({ type: 'varchar' }) status: DisputeStatus;
  @Field(() => String, { nullable: true }) @Column({ type: 'varchar', nullable: true }) resolution: string | null;
  @Field() @Column({ name: 'opened_by' }) openedBy: string;
  @Field() @Column({ name: 'opened_at', type: 'timestamptz' }) openedAt: Date;
  @Field(() => Date, { nullable: true }) @Column({ name: 'resolved_at', type: 'timestamptz', nullable: true }) resolvedAt: Date | null;
}
