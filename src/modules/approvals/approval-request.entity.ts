import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { bigintTransformer } from '../../platform/db/transformers';

export enum ApprovalStatus {
  PENDING = 'PENDING',
  APPROVED = 'APPROVED',
  REJECTED = 'REJECTED',
}
registerEnumType(ApprovalStatus, { name: 'ApprovalStatus' });

/**
 * A request that someone other than the requester must decide (write-offs today; the worklists
 * issue extends it). The database refuses a decision by the requester.
 */
@ObjectType()
@Entity('approval_requests')
export class ApprovalRequest {
  @Field(() => ID) @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'tenant_id', type: 'uuid' }) tenantId: string;
  @Field({ description: 'What is asked, e.g. WRITE_OFF.' }) @Column({ type: 'varchar' }) kind: string;
  @Field() @Column({ name: 'subject_type', type: 'varchar' }) subjectType: string;
  @Field(() => ID) @Column({ name: 'subject_id', type: 'uuid' }) subjectId: string;
  @Column({ name: 'amount_minor', type: 'bigint', nullable: true, transformer: bigintTransformer }) amountMinor: bigint | null;
  @Column({ type: 'char', length: 3, nullable: true }) currency: string | null;
  @Field(() => GraphQLJSONObject) @Column({ type: 'jsonb' }) payload: Record<string, unknown>;
  @Field() @Column({ type: 'varchar' }) reason: string;
  @Field(() => ApprovalStatus) @Column({ type: 'varchar' }) status: ApprovalStatus;
  @Field() @Column({ name: 'requested_by', type: 'varchar' }) requestedBy: string;
  @Field() @Column({ name: 'requested_at', type: 'timestamptz' }) requestedAt: Date;
  @Field(() => String, { nullable: true }) @Column({ name: 'decided_by', type: 'varchar', nullable: true }) decidedBy: string | null;
  @Field(() => Date, { nullable: true }) @Column({ name: 'decided_at', type: 'timestamptz', nullable: true }) decidedAt: Date | null;
  @Field(() => String, { nullable: true }) @Column({ name: 'decision_note', type: 'varchar', nullable: true }) decisionNote: string | null;
}
