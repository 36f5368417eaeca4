import { Arg, Args, Authorized, ID, Mutation, Query, Resolver } from 'type-graphql';
import { Role } from '../../platform/auth/roles';
import type { RequestContext } from '../../platform/context';
import { PageArgs } from '../../platform/graphql/connection';
import { Ctx } from '../../platform/graphql/gql-context';
import { pageComplexity } from '../../platform/graphql/limits';
import type { InboundService } from './inbound.service';
import { ConfirmInboundSuggestionInput, InboundMessage, InboundMessageConnection, InboundMessageFilter, InboundMessageStatus, InboundSuggestion } from './inbound.types';

@Resolver(() => InboundMessage)
export class InboundResolver {
  constructor(private readonly inbound: InboundService) {}

  @Authorized()
  @Query(() => InboundMessageConnection, { complexity: pageComplexity, description: 'Inbound emails, newest first; `status: UNMATCHED` is the queue waiting for a person.' })
  inboundMessages(
    @Ctx() ctx: RequestContext,
    @Args() page: PageArgs,
    @Arg('status', () => InboundMessageStatus, { nullable: true, description: 'Shorthand for filter.status: [status].' }) status: InboundMessageStatus | null,
    @Arg('filter', () => InboundMessageFilter, { nullable: true }) filter: InboundMessageFilter | null,
  ) {
    const f: InboundMessageFilter = { ...(filter ?? {}) };
    if (status) f.status = [...new Set([...(f.status ?? []), status])];
    return this.inbound.list(ctx, { first: page.first, after: page.after, filter: f });
  }

  @Authorized()
  @Query(() => InboundMessage, { nullable: true })
  inboundMessage(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<InboundMessage | null> {
    return this.inbound.get(ctx, id);
  }

  @Authorized(Role.COLLECTOR)
  @Mutation(() => InboundMessage, { description: 'Thread an UNMATCHED message to a customer (and invoices; default: the invoice numbers it names): it goes on the timeline and its suggestions are raised.' })
  assignInboundMessage(
    @Ctx() ctx: RequestContext,
    @Arg('id', () => ID) id: string,
    @Arg('customerId', () => ID) customerId: string,
    @Arg('invoiceIds', () => [ID], { nullable: true }) invoiceIds: string[] | null,
  ): Promise<InboundMessage> {
    return this.inbound.assign(ctx, id, customerId, invoiceIds);
  }

  @Authorized(Role.COLLECTOR)
  @Mutation(() => InboundSuggestion, { description: 'Confirm a suggestion: a DISPUTE is confirmed (confirmDispute does the same), a PROMISE becomes a promise to pay.' })
  confirmInboundSuggestion(
    @Ctx() ctx: RequestContext,
    @Arg('id', () => ID) id: string,
    @Arg('input', () => ConfirmInboundSuggestionInput, { nullable: true }) input: ConfirmInboundSuggestionInput | null,
  ): Promise<InboundSuggestion> {
    return this.inbound.confirm(ctx, id, input ?? {});
  }

  @Authorized(Role.COLLECTOR)
  @Mutation(() => InboundSuggestion, { description: 'Turn down a suggestion, saying why (a suggested dispute is dismissed with it).' })
  dismissInboundSuggestion(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string, @Arg('reason') reason: string): Promise<InboundSuggestion> {
    return this.inbound.dismiss(ctx, id, reason);
  }
}
