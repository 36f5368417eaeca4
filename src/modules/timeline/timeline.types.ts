import { Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { connectionType } from '../../platform/graphql/connection';
import { Money } from '../../platform/graphql/money.type';
import { DateScalar } from '../../platform/graphql/scalars';

export enum TimelineKind {
  REMINDER_SENT = 'REMINDER_SENT',
  REPLY_RECEIVED = 'REPLY_RECEIVED',
  TASK_COMPLETED = 'TASK_COMPLETED',
  PROMISE_MADE = 'PROMISE_MADE',
  PROMISE_KEPT = 'PROMISE_KEPT',
  PROMISE_PARTIALLY_KEPT = 'PROMISE_PARTIALLY_KEPT',
  PROMISE_BROKEN = 'PROMISE_BROKEN',
  DISPUTE_OPENED = 'DISPUTE_OPENED',
  DISPUTE_RESOLVED = 'DISPUTE_RESOLVED',
  PAYMENT_APPLIED = 'PAYMENT_APPLIED',
  PAYMENT_REVERSED = 'PAYMENT_REVERSED',
  CREDIT_APPLIED = 'CREDIT_APPLIED',
  TIER_CHANGED = 'TIER_CHANGED',
  PORTAL_VISIT = 'PORTAL_VISIT',
  NOTE = 'NOTE',
}
registerEnumType(TimelineKind, { name: 'TimelineKind', description: 'A kind of touch on a customer or invoice.' });

@ObjectType({ description: 'One touch on a customer or invoice: a reminder, reply, call outcome, promise, dispute, payment, tier change, portal visit or note.' })
export class TimelineEntry {
  @Field(() => ID, { description: 'Stable across pages: kind prefix and the source row id.' }) id: string;
  @Field(() => TimelineKind) kind: TimelineKind;
  @Field({ description: 'When it was recorded.' }) occurredAt: Date;
  @Field(() => DateScalar, { nullable: true, description: 'The business day it belongs to (the as-of day of a replay), when known.' }) onDate: string | null;
  @Field(() => ID) customerId: string;
  @Field(() => ID, { nullable: true }) invoiceId: string | null;
  @Field(() => String, { nullable: true }) invoiceNumber: string | null;
  @Field() summary: string;
  @Field(() => Money, { nullable: true }) amount: Money | null;
  @Field(() => String, { nullable: true, description: 'Who: an API key id, `system` or a rule.' }) actor: string | null;
  @Field(() => ID, { description: 'The row behind it (message, task, promise, dispute, allocation, action or interaction).' }) sourceId: string;
}

export const TimelineConnection = connectionType(TimelineEntry, 'TimelineEntry');

@InputType()
export class AddNoteInput {
  @Field(() => ID) customerId: string;
  @Field(() => ID, { nullable: true }) invoiceId?: string | null;
  @Field() body: string;
  @Field(() => DateScalar, { nullable: true, description: 'The day it belongs to; default today in the tenant time zone.' }) asOf?: string | null;
}
