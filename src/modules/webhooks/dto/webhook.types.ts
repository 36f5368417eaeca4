import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';

/** Event types partners subscribe to (the `type` of each delivery). */
export const WEBHOOK_EVENT_TYPES = ['invoice.paid', 'invoice.overdue', 'action.sent', 'dispute.opened', 'dispute.resolved', 'promise.broken', 'tier.changed', 'payment.unapplied'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export enum WebhookDeliveryStatus {
  PENDING = 'PENDING',
  RETRYING = 'RETRYING',
  DELIVERED = 'DELIVERED',
  FAILED = 'FAILED',
}
registerEnumType(WebhookDeliveryStatus, { name: 'WebhookDeliveryStatus' });

@InputType()
export class CreateWebhookEndpointInput {
  @Field({ description: 'http:// or https:// URL that receives POSTed JSON events.' }) url: string;
  @Field(() => [String], { description: `Any of ${WEBHOOK_EVENT_TYPES.join(', ')}, or "*" for all.` }) eventTypes: string[];
  @Field(() => String, { nullable: true }) description?: string | null;
}

@ObjectType()
export class WebhookEndpoint {
  @Field(() => ID) id: string;
  @Field() url: string;
  @Field(() => [String]) eventTypes: string[];
  @Field(() => String, { nullable: true }) description: string | null;
  @Field() active: boolean;
  @Field({ description: 'Last characters of the signing secret, to tell secrets apart.' }) secretHint: string;
  @Field() createdAt: Date;
}

@ObjectType()
export class CreateWebhookEndpointPayload {
  @Field(() => WebhookEndpoint) endpoint: WebhookEndpoint;
  @Field({ description: 'The signing secret: shown once, store it now. Verify each delivery\'s Recoup-Signature header with it.' }) secret: string;
}

@ObjectType()
export class WebhookDelivery {
  @Field(() => ID) id: string;
  @Field(() => ID) endpointId: string;
  @Field(() => ID) eventId: string;
  @Field() eventType: string;
  @Field(() => GraphQLJSONObject) payload: Record<string, unknown>;
  @Field(() => WebhookDeliveryStatus) status: WebhookDeliveryStatus;
  @Field(() => Int) attempts: number;
  @Field(() => Int, { nullable: true }) lastStatusCode: number | null;
  @Field(() => String, { nullable: true }) lastError: string | null;
  @Field(() => Date, { nullable: true }) nextAttemptAt: Date | null;
  @Field(() => Date, { nullable: true }) deliveredAt: Date | null;
  @Field(() => ID, { nullable: true, description: 'Set on a replay: the delivery it repeats.' }) replayOf: string | null;
  @Field() createdAt: Date;
}
