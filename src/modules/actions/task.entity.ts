import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { dateTransformer } from '../../platform/db/transformers';
import { DateScalar } from '../../platform/graphql/scalars';

/**
 * A worklist item for a person: from call steps, tier escalations, failed sends, broken promises,
 * unapplied cash and pending approvals. Its lifecycle (assign, snooze, complete with an outcome)
 * belongs to the worklists module.
 */
@ObjectType()
@Entity('tasks')
export class Task {
  @Field(() => ID) @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'tenant_id', type: 'uuid' }) tenantId: string;
  @Field(() => ID, { nullable: true, description: 'Null only for unapplied cash not yet tied to a customer.' }) @Column({ name: 'customer_id', type: 'uuid', nullable: true }) customerId: string | null;
  @Field(() => ID, { nullable: true }) @Column({ name: 'invoice_id', type: 'uuid', nullable: true }) invoiceId: string | null;
  @Field(() => ID, { nullable: true }) @Column({ name: 'owner_user_id', type: 'uuid', nullable: true }) ownerUserId: string | null;
  @Field({ description: 'Why the task exists: CALL_STEP, TIER_n, SEND_FAILED, MISSING_CONTACT, BROKEN_PROMISE, PARTIAL_PROMISE, UNAPPLIED_CASH, APPROVAL_PENDING, …' }) @Column({ name: 'reason_code' }) reasonCode: string;
  @Field() @Column({ name: 'next_action' }) nextAction: string;
  @Field(() => Int) @Column({ type: 'int', default: 0 }) priority: number;
  @Field(() => DateScalar, { nullable: true, description: 'The SLA: the day by which it should be done.' }) @Column({ name: 'due_date', type: 'date', nullable: true, transformer: dateTransformer }) dueDate: string | null;
  @Field({ description: 'OPEN, SNOOZED, DONE or CANCELLED.' }) @Column({ default: 'OPEN' }) status: string;
  @Field(() => ID, { nullable: true }) @Column({ name: 'source_action_id', type: 'uuid', nullable: true }) sourceActionId: string | null;
  @Field(() => String, { nullable: true, description: 'What raised it: ACTION, PROMISE, PAYMENT, APPROVAL, DISPUTE, MANUAL.' }) @Column({ name: 'source_kind', type: 'varchar', nullable: true }) sourceKind: string | null;
  @Field(() => ID, { nullable: true }) @Column({ name: 'source_id', type: 'uuid', nullable: true }) sourceId: string | null;
  @Field(() => DateScalar, { nullable: true }) @Column({ name: 'snoozed_until', type: 'date', nullable: true, transformer: dateTransformer }) snoozedUntil: string | null;
  @Field(() => String, { nullable: true, description: 'REACHED, VOICEMAIL, PROMISED, DISPUTED, WRONG_CONTACT or PAID.' }) @Column({ type: 'varchar', nullable: true }) outcome: string | null;
  @Field(() => String, { nullable: true }) @Column({ name: 'outcome_note', type: 'varchar', nullable: true }) outcomeNote: string | null;
  @Field(() => DateScalar, { nullable: true }) @Column({ name: 'completed_on', type: 'date', nullable: true, transformer: dateTransformer }) completedOn: string | null;
  @Field(() => Date, { nullable: true }) @Column({ name: 'completed_at', type: 'timestamptz', nullable: true }) completedAt: Date | null;
  @Field(() => String, { nullable: true }) @Column({ name: 'completed_by', type: 'varchar', nullable: true }) completedBy: string | null;
  @Field(() => String, { nullable: true, description: 'The assignment rule that chose the owner: CUSTOMER_OWNER, SEGMENT, ROUND_ROBIN, MANAGER, EXPLICIT or MANUAL.' }) @Column({ name: 'assignment_rule', type: 'varchar', nullable: true }) assignmentRule: string | null;
  @Column({ name: 'assigned_by', type: 'varchar', nullable: true }) assignedBy: string | null;
  @Field() @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
