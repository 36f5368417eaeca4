import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Role } from '../../platform/auth/roles';
import { bigintTransformer } from '../../platform/db/transformers';

export enum ApprovalStatus {
  PENDING = 'PENDING',
  APPROVED = 'APPROVED',
  REJECTED = 'REJECTED',
  EXPIRED = 'EXPIRED',
}
registerEnumType(ApprovalStatus, { name: 'ApprovalStatus' });

export enum ApprovalKind {
  WRITE_OFF = 'WRITE_OFF',
  CREDIT_HOLD = 'CREDIT_HOLD',
  CREDIT_HOLD_RELEASE = 'CREDIT_HOLD_RELEASE',
  CREDIT_MEMO = 'CREDIT_MEMO',
  POLICY_PUBLISH = 'POLICY_PUBLISH',
  MANUAL_OVERRIDE = 'MANUAL_OVERRIDE',
}
registerEnumType(ApprovalKind, { name: 'ApprovalKind', description: 'What a request asks for; the tenant\'s approval rules say which kinds need a person and whom.' });

/**
 * A request that someone other than the requester must decide. The database refuses a decision
 * by the requester; the service also refuses roles below the rule's and requests past expiry.
 */
@ObjectType()
@Entity('approval_requests')
export class ApprovalRequest {
  @Field(() => ID) @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'tenant_id', type: 'uuid' }) tenantId: string;
  @Field(() => ApprovalKind) @Column({ type: 'varchar' }) kind: ApprovalKind;
  @Field() @Column({ name: 'subject_type', type: 'varchar' }) subjectType: string;
  @Field(() => ID) @Column({ name: 'subject_id', type: 'uuid' }) subjectId: string;
  @Column({ name: 'amount_minor', type: 'bigint', nullable: true, transformer: bigintTransformer }) amountMinor: bigint | null;
  @Column({ type: 'char', length: 3, nullable: true }) currency: string | null;
  @Field(() => GraphQLJSONObject) @Column({ type: 'jsonb' }) payload: Record<string, unknown>;
  @Field() @Column({ type: 'varchar' }) reason: string;
  @Field(() => ApprovalStatus) @Column({ type: 'varchar' }) status: ApprovalStatus;
  @Field() @Column({ name: 'requested_by', type: 'varchar' }) requestedBy: string;
  @Field() @Column({ name: 'requested_at', type: 'timestamptz' }) requestedAt: Date;
  @Field(() => Role, { description: 'The lowest role that may decide it (from the tenant\'s rule and the amount).' })
  @Column({ name: 'required_role', type: 'varchar', default: Role.MANAGER })
  requiredRole: Role;
  @Field(() => Date, { nullable: true, description: 'Undecided by then, the request expires.' }) @Column({ name: 'expires_at', type: 'timestamptz', nullable: true }) expiresAt: Date | null;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'The approval rule that applied, as it was then.' }) @Column({ type: 'jsonb', nullable: true }) rule: Record<string, unknown> | null;
  @Field(() => String, { nullable: true, description: 'An API key id, or `rule:…` when the fast path approved it.' }) @Column({ name: 'decided_by', type: 'varchar', nullable: true }) decidedBy: string | null;
  @Field(() => String, { nullable: true, description: 'api_key, system or rule.' }) @Column({ name: 'decided_by_kind', type: 'varchar', nullable: true }) decidedByKind: string | null;
  @Field(() => Date, { nullable: true }) @Column({ name: 'decided_at', type: 'timestamptz', nullable: true }) decidedAt: Date | null;
  @Field(() => String, { nullable: true }) @Column({ name: 'decision_note', type: 'varchar', nullable: true }) decisionNote: string | null;
}
