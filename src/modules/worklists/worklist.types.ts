import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Task } from '../actions/task.entity';
import { connectionType } from '../../platform/graphql/connection';
import { DateScalar } from '../../platform/graphql/scalars';
import { Money } from '../../platform/graphql/money.type';
import { ScoreTermKind } from './scoring';

export enum TaskStatus {
  OPEN = 'OPEN',
  SNOOZED = 'SNOOZED',
  DONE = 'DONE',
  CANCELLED = 'CANCELLED',
}

export enum TaskOutcome {
  REACHED = 'REACHED',
  VOICEMAIL = 'VOICEMAIL',
  PROMISED = 'PROMISED',
  DISPUTED = 'DISPUTED',
  WRONG_CONTACT = 'WRONG_CONTACT',
  PAID = 'PAID',
}
registerEnumType(TaskOutcome, { name: 'TaskOutcome', description: 'What came of working a task (e.g. of a call).' });

export enum AssignmentRuleKind {
  CUSTOMER_OWNER = 'CUSTOMER_OWNER',
  SEGMENT = 'SEGMENT',
  ROUND_ROBIN = 'ROUND_ROBIN',
}
registerEnumType(AssignmentRuleKind, { name: 'AssignmentRuleKind', description: 'How a new task finds its owner; the first rule that yields an active user wins.' });
registerEnumType(ScoreTermKind, { name: 'ScoreTermKind' });

/** What raised a task; with the source id it makes task creation idempotent. */
export type TaskSourceKind = 'ACTION' | 'PROMISE' | 'PAYMENT' | 'APPROVAL' | 'DISPUTE' | 'DISPUTE_CONFIRM' | 'MANUAL' | 'INBOUND_SUGGESTION';

// ---- rules (object and input types mirror each other) ----

@ObjectType('DaysPastDueWeight')
@InputType('DaysPastDueWeightInput')
export class DaysPastDueWeight {
  @Field(() => Float) pointsPerDay: number;
  @Field(() => Int, { description: 'Days past due beyond this add nothing more.' }) maxDays: number;
}

@ObjectType('OpenAmountWeight')
@InputType('OpenAmountWeightInput')
export class OpenAmountWeight {
  @Field(() => Float, { description: 'Points per tenfold of the open amount in major units: log10(amount) × this.' }) pointsPerTenfold: number;
}

@ObjectType('SegmentWeight')
@InputType('SegmentWeightInput')
export class SegmentWeight {
  @Field() segment: string;
  @Field(() => Float) points: number;
}

@ObjectType('CustomerTierWeight')
@InputType('CustomerTierWeightInput')
export class CustomerTierWeight {
  @Field() tier: string;
  @Field(() => Float) points: number;
}

@ObjectType('EscalationTierWeight')
@InputType('EscalationTierWeightInput')
export class EscalationTierWeight {
  @Field(() => Float) pointsPerLevel: number;
}

@ObjectType('SlaBreachWeight')
@InputType('SlaBreachWeightInput')
export class SlaBreachWeight {
  @Field(() => Float, { description: 'Once the task is past its due date.' }) points: number;
  @Field(() => Float) pointsPerDayLate: number;
}

@ObjectType('RecencyWeight')
@InputType('RecencyWeightInput')
export class RecencyWeight {
  @Field(() => Float) points: number;
  @Field(() => Int) withinDays: number;
}

@ObjectType('ReasonWeight')
@InputType('ReasonWeightInput')
export class ReasonWeight {
  @Field() reasonCode: string;
  @Field(() => Float) points: number;
}

@ObjectType('WorklistScoring', { description: 'Weights of the worklist score; each term adds points.' })
@InputType('WorklistScoringInput')
export class WorklistScoring {
  @Field(() => DaysPastDueWeight) daysPastDue: DaysPastDueWeight;
  @Field(() => OpenAmountWeight) openAmount: OpenAmountWeight;
  @Field(() => [SegmentWeight]) segments: SegmentWeight[];
  @Field(() => [CustomerTierWeight]) customerTiers: CustomerTierWeight[];
  @Field(() => EscalationTierWeight) escalationTier: EscalationTierWeight;
  @Field(() => SlaBreachWeight) slaBreach: SlaBreachWeight;
  @Field(() => RecencyWeight, { description: 'A payment received within the window.' }) recentPayment: RecencyWeight;
  @Field(() => RecencyWeight, { description: 'A portal visit or reply within the window.' }) recentActivity: RecencyWeight;
  @Field(() => [ReasonWeight], { description: 'Extra points by task reason code.' }) reasons: ReasonWeight[];
}

@ObjectType('SegmentOwner')
@InputType('SegmentOwnerInput')
export class SegmentOwner {
  @Field() segment: string;
  @Field(() => ID) userId: string;
}

@ObjectType('TaskAssignmentRules')
@InputType('TaskAssignmentRulesInput')
export class TaskAssignmentRules {
  @Field(() => [AssignmentRuleKind], { description: 'Tried in order when a task is created.' }) order: AssignmentRuleKind[];
  @Field(() => [SegmentOwner]) segmentOwners: SegmentOwner[];
  @Field(() => [ID], { description: 'Round-robin pool; empty = every active COLLECTOR user.' }) roundRobinUserIds: string[];
}

@ObjectType('WorklistRules')
export class WorklistRules {
  @Field(() => WorklistScoring) scoring: WorklistScoring;
  @Field(() => TaskAssignmentRules) assignment: TaskAssignmentRules;
  @Field(() => String, { nullable: true }) updatedBy: string | null;
  @Field(() => Date, { nullable: true }) updatedAt: Date | null;
}

@InputType()
export class SetWorklistRulesInput {
  @Field(() => WorklistScoring) scoring: WorklistScoring;
  @Field(() => TaskAssignmentRules) assignment: TaskAssignmentRules;
}

// ---- the ranked list ----

@ObjectType()
export class ScoreTerm {
  @Field(() => ScoreTermKind) term: ScoreTermKind;
  @Field(() => Float) points: number;
  @Field({ description: 'The fact behind the points.' }) detail: string;
}

@ObjectType({ description: 'A task in a ranked worklist, with its score and why.' })
export class WorklistItem {
  @Field(() => Int, { description: '1 = work this first.' }) rank: number;
  @Field(() => Float) score: number;
  @Field(() => [ScoreTerm], { description: 'The score, term by term; the points add up to `score`.' }) breakdown: ScoreTerm[];
  @Field({ description: 'The breakdown in one sentence.' }) explanation: string;
  @Field() slaBreached: boolean;
  @Field(() => Int, { nullable: true }) daysPastDue: number | null;
  @Field(() => Money, { nullable: true }) openAmount: Money | null;
  @Field(() => Task) task: Task;
  id: string;
}

export const WorklistConnection = connectionType(WorklistItem, 'WorklistItem');

@InputType()
export class CompleteTaskInput {
  @Field(() => TaskOutcome) outcome: TaskOutcome;
  @Field(() => String, { nullable: true }) note?: string | null;
  @Field(() => DateScalar, { nullable: true, description: 'The day it was done; default today in the tenant time zone.' }) asOf?: string | null;
}

@ObjectType({ description: 'A worklist changed: tasks created, assigned, snoozed, woken or completed.' })
export class WorklistChange {
  @Field(() => ID, { nullable: true, description: 'The collector whose list changed (null: unassigned tasks).' }) collectorId: string | null;
  @Field(() => [ID]) taskIds: string[];
  @Field({ description: 'CREATED, ASSIGNED, UNASSIGNED, SNOOZED, WOKEN, COMPLETED, CANCELLED' }) reason: string;
}
