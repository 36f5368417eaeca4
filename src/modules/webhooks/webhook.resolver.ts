import { Arg, Authorized, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import { Role } from '../../platform/auth/roles';
import type { RequestContext } from '../../platform/context';
import { Ctx } from '../../platform/graphql/gql-context';
import { CreateWebhookEndpointInput, CreateWebhookEndpointPayload, WebhookDelivery, WebhookEndpoint } from './dto/webhook.types';
import type { WebhookService } from './webhook.service';

@Resolver()
export class WebhookResolver {
  constructor(private readonly webhooks: WebhookService) {}

  @Authorized(Role.ADMIN)
  @Mutation(() => CreateWebhookEndpointPayload, { description: 'Subscribe a partner URL (http or https) to event types; the signing secret is in the payload, once.' })
  createWebhookEndpoint(@Ctx() ctx: RequestContext, @Arg('input') input: CreateWebhookEndpointInput): Promise<CreateWebhookEndpointPayload> {
    return this.webhooks.createEndpoint(ctx, input);
  }

  @Authorized(Role.ADMIN)
  @Query(() => [WebhookEndpoint])
  webhookEndpoints(@Ctx() ctx: RequestContext): Promise<WebhookEndpoint[]> {
    return this.webhooks.endpoints(ctx);
  }

  @Authorized(Role.ADMIN)
  @Query(() => [WebhookDelivery], { description: 'The delivery log, newest first: status, attempts, last HTTP status and error, next retry.' })
  webhookDeliveries(
    @Ctx() ctx: RequestContext,
    @Arg('endpointId', () => ID, { nullable: true }) endpointId: string | null,
    @Arg('eventType', () => String, { nullable: true }) eventType: string | null,
    @Arg('first', () => Int, { defaultValue: 50 }) first: number,
  ): Promise<WebhookDelivery[]> {
    return this.webhooks.deliveries(ctx, { endpointId, eventType, first });
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => WebhookDelivery, { description: 'Send a delivered or failed event again (a new delivery, freshly signed).' })
  replayWebhook(@Ctx() ctx: RequestContext, @Arg('deliveryId', () => ID) deliveryId: string): Promise<WebhookDelivery> {
    return this.webhooks.replay(ctx, deliveryId);
  }
}
