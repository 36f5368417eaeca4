import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { GraphQLJSON, GraphQLJSONObject } from 'graphql-scalars';
import { connectionType } from '../../../platform/graphql/connection';

@ObjectType({ description: 'Who did what to what, when and why; append-only and hash-chained per tenant.' })
export class AuditEventNode {
  @Field(() => ID) id: string;
  @Field() occurredAt: Date;
  @Field({ description: 'api_key, system or rule.' }) actorKind: string;
  @Field({ description: 'The API key id, the job name, or the rule that decided.' }) actorId: string;
  @Field({ description: 'e.g. dispute.opened, approval.approved, engine.action_planned.' }) action: string;
  @Field() subjectType: string;
  @Field() subjectId: string;
  @Field(() => GraphQLJSONObject) data: Record<string, unknown>;
  @Field(() => GraphQLJSON, { nullable: true, description: 'State before the change, when recorded.' }) before: unknown;
  @Field(() => GraphQLJSON, { nullable: true, description: 'State after the change, when recorded.' }) after: unknown;
  @Field(() => String, { nullable: true }) reason: string | null;
  @Field(() => String, { nullable: true }) requestId: string | null;
  @Field(() => String, { nullable: true, description: 'Position in the tenant\'s hash chain; null until sealed (seconds).' }) chainSeq: string | null;
  @Field(() => String, { nullable: true, description: 'sha256(previous hash || canonical event), hex; null until sealed.' }) hash: string | null;
}

export const AuditEventConnection = connectionType(AuditEventNode, 'AuditEvent');

@InputType()
export class AuditEventFilter {
  @Field(() => String, { nullable: true }) subjectType?: string | null;
  @Field(() => String, { nullable: true }) subjectId?: string | null;
  @Field(() => String, { nullable: true, description: 'API key id, job name or rule.' }) actorId?: string | null;
  @Field(() => String, { nullable: true }) actorKind?: string | null;
  @Field(() => String, { nullable: true, description: 'Exact action, or a prefix ending in `.`, e.g. `dispute.`.' }) action?: string | null;
  @Field(() => Date, { nullable: true }) from?: Date | null;
  @Field(() => Date, { nullable: true }) to?: Date | null;
}

@ObjectType()
export class AuditChainBreak {
  @Field({ description: 'Chain position of the first broken link.' }) seq: string;
  @Field(() => ID, { nullable: true, description: 'The audit event at that position.' }) eventId: string | null;
  @Field({ description: 'The hash recomputed from the event as it is now (or the previous hash when the link itself is broken).' }) expectedHash: string;
  @Field() storedHash: string;
  @Field() reason: string;
}

@ObjectType()
export class AuditChainVerification {
  @Field() ok: boolean;
  @Field(() => Int) checkedEvents: number;
  @Field(() => String, { nullable: true }) fromSeq: string | null;
  @Field(() => String, { nullable: true }) toSeq: string | null;
  @Field({ description: 'Chain length after sealing.' }) headSeq: string;
  @Field({ description: 'Hash of the last position: anchor it elsewhere to detect a wholesale rewrite.' }) headHash: string;
  @Field(() => AuditChainBreak, { nullable: true }) firstBrokenLink: AuditChainBreak | null;
}
