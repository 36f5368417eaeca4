import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { bigintTransformer, dateTransformer } from '../../platform/db/transformers';
import { DateScalar } from '../../platform/graphql/scalars';

export enum ActionStatus {
  PLANNED = 'PLANNED',
  AWAITING_APPROVAL = 'AWAITING_APPROVAL',
  SENDING = 'SENDING',
  SENT = 'SENT',
  CANCELLED = 'CANCELLED',
  SUPPRESSED = 'SUPPRESSED',
  FAILED = 'FAILED',
}
registerEnumType(ActionStatus, { name: 'ActionStatus', description: 'PLANNED → SENT, or AWAITING_APPROVAL first; CANCELLED, SUPPRESSED (re-checked at send time) or FAILED otherwise.' });

export enum ActionKind {
  STEP = 'STEP',
  TIER_ENTRY = 'TIER_ENTRY',
  /** A reminder to a customer who disputed without saying why (disputes module). */
  DISPUTE_NUDGE = 'DISPUTE_NUDGE',
}
registerEnumType(ActionKind, { name: 'ActionKind' });

export enum ActionMode {
  AUTO = 'AUTO',
  APPROVAL = 'APPROVAL',
}
registerEnumType(ActionMode, { name: 'ActionMode' });

@ObjectType()
export class ActionReason {
  @Field({ description: 'The rule that fired, e.g. `step:overdue-3 (offset +3d)`.' }) rule: string;
  @Field(() => GraphQLJSONObject, { description: 'The facts that made it fire.' }) facts: Record<string, unknown>;
}

/** The outbox: every reminder and tier action the engine decides, once per idempotency key. */
@ObjectType({ description: 'A decision of the dunning engine: a reminder step or an escalation action, with why.' })
@Entity('actions')
export class Action {
  @Field(() => ID) @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'tenant_id', type: 'uuid' }) tenantId: string;
  @Field({ description: '(invoice or customer, policy version, step or tier): at most one action each.' })
  @Column({ name: 'idempotency_key' })
  idempotencyKey: string;
  @Column({ name: 'customer_id', type: 'uuid' }) customerId: string;
  @Column({ name: 'invoice_id', type: 'uuid', nullable: true }) invoiceId: string | null;
  @Field(() => ID, { nullable: true, description: 'The policy version behind it; null for dispute nudges.' }) @Column({ name: 'policy_version_id', type: 'uuid', nullable: true }) policyVersionId: string | null;
  @Field(() => ID, { nullable: true }) @Column({ name: 'evaluation_run_id', type: 'uuid', nullable: true }) evaluationRunId: string | null;
  @Field(() => ActionKind) @Column({ type: 'varchar' }) kind: ActionKind;
  @Field(() => String, { nullable: true }) @Column({ name: 'step_key', type: 'varchar', nullable: true }) stepKey: string | null;
  @Field(() => Int, { nullable: true }) @Column({ type: 'int', nullable: true }) tier: number | null;
  @Field(() => String, { nullable: true, description: 'For tier entries: NOTIFY, CREATE_TASK, CREDIT_HOLD, …' })
  @Column({ name: 'action_type', type: 'varchar', nullable: true })
  actionType: string | null;
  @Field(() => [String]) @Column({ type: 'text', array: true, default: '{}' }) channels: string[];
  @Field(() => String, { nullable: true }) @Column({ name: 'template_key', type: 'varchar', nullable: true }) templateKey: string | null;
  @Field(() => ActionMode) @Column({ type: 'varchar' }) mode: ActionMode;
  @Field(() => ActionStatus) @Column({ type: 'varchar' }) status: ActionStatus;
  @Field(() => ActionReason) @Column({ type: 'jsonb' }) reason: ActionReason;
  @Column({ name: 'amount_due_minor', type: 'bigint', nullable: true, transformer: bigintTransformer }) amountDueMinor: bigint | null;
  @Column({ type: 'char', length: 3, nullable: true }) currency: string | null;
  @Field(() => DateScalar) @Column({ name: 'scheduled_for', type: 'date', transformer: dateTransformer }) scheduledFor: string;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'For approval: draft message, invoices, prior outreach, payment, promise and dispute history, next owner, why.' })
  @Column({ type: 'jsonb', nullable: true })
  packet: Record<string, unknown> | null;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'The edited message an approver chose to send instead.' })
  @Column({ name: 'message_override', type: 'jsonb', nullable: true })
  messageOverride: { subject?: string; body?: string } | null;
  @Field(() => Int) @Column({ type: 'int', default: 0 }) attempts: number;
  @Column({ name: 'next_attempt_at', type: 'timestamptz', nullable: true }) nextAttemptAt: Date | null;
  @Field(() => String, { nullable: true }) @Column({ name: 'last_error', type: 'varchar', nullable: true }) lastError: string | null;
  @Field(() => String, { nullable: true, description: 'Why it was suppressed, cancelled or rejected.' })
  @Column({ name: 'status_reason', type: 'varchar', nullable: true })
  statusReason: string | null;
  @Field(() => String, { nullable: true }) @Column({ name: 'decided_by', type: 'varchar', nullable: true }) decidedBy: string | null;
  @Field(() => Date, { nullable: true }) @Column({ name: 'decided_at', type: 'timestamptz', nullable: true }) decidedAt: Date | null;
  @Field(() => Date, { nullable: true }) @Column({ name: 'sent_at', type: 'timestamptz', nullable: true }) sentAt: Date | null;
  @Field() @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
