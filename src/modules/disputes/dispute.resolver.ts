import { Arg, Args, Authorized, Field, FieldResolver, ID, InputType, Int, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { Role } from '../../platform/auth/roles';
import type { RequestContext } from '../../platform/context';
import { connectionType, PageArgs } from '../../platform/graphql/connection';
import { Ctx } from '../../platform/graphql/gql-context';
import { pageComplexity } from '../../platform/graphql/limits';
import { Money } from '../../platform/graphql/money.type';
import { DateScalar } from '../../platform/graphql/scalars';
import { Dispute, DisputeReason, DisputeResolution, DisputeStatus } from './dispute.entity';
import type { DisputeService, DisputeSettings } from './dispute.service';

@InputType()
export class OpenDisputeInput {
  @Field(() => ID) invoiceId: string;
  @Field(() => [ID], { nullable: true, description: 'Dispute only these lines; omit for the whole invoice.' }) lineIds?: string[] | null;
  @Field(() => DisputeReason) reasonCode: DisputeReason;
  @Field(() => String, { nullable: true, description: 'Decimal; default: the disputed lines, or the open balance.' }) amount?: string | null;
  @Field(() => String, { nullable: true, description: 'What the customer says; without it they are nudged for detail after the tenant\'s delay (7 days by default).' }) detail?: string | null;
  @Field(() => DateScalar, { nullable: true, description: 'The day the customer raised it (default today, tenant time zone); never in the future.' }) raisedOn?: string | null;
  @Field(() => ID, { nullable: true, description: 'Owner; default the routing rule\'s user for the reason, else the customer\'s owner.' }) ownerUserId?: string | null;
}

@InputType()
export class UpdateDisputeInput {
  @Field(() => DisputeStatus, { nullable: true, description: 'OPEN ↔ AWAITING_CUSTOMER → UNDER_REVIEW → AWAITING_CUSTOMER; resolve with resolveDispute.' }) status?: DisputeStatus | null;
  @Field(() => DisputeReason, { nullable: true }) reasonCode?: DisputeReason | null;
  @Field(() => String, { nullable: true }) amount?: string | null;
  @Field(() => String, { nullable: true, description: 'The customer\'s detail; cancels a nudge not yet sent.' }) detail?: string | null;
  @Field(() => ID, { nullable: true }) ownerUserId?: string | null;
  @Field(() => String, { nullable: true }) note?: string | null;
}

@InputType()
export class ResolveDisputeInput {
  @Field(() => DisputeResolution) resolution: DisputeResolution;
  @Field({ description: 'How it was settled.' }) note: string;
  @Field(() => String, { nullable: true, description: 'CREDIT_MEMO: the memo number (default CM-<dispute id prefix>).' }) creditMemoNumber?: string | null;
  @Field(() => String, { nullable: true, description: 'CREDIT_MEMO / WRITE_OFF: decimal amount; default the disputed amount (at most the open balance).' }) amount?: string | null;
}

@InputType()
export class ConfirmDisputeInput {
  @Field(() => DisputeReason, { nullable: true }) reasonCode?: DisputeReason | null;
  @Field(() => String, { nullable: true }) amount?: string | null;
  @Field(() => String, { nullable: true }) detail?: string | null;
}

@InputType()
export class DisputeFilterInput {
  @Field(() => ID, { nullable: true }) invoiceId?: string | null;
  @Field(() => ID, { nullable: true }) customerId?: string | null;
  @Field(() => [DisputeStatus], { nullable: true }) status?: DisputeStatus[] | null;
  @Field(() => [DisputeReason], { nullable: true }) reasonCode?: DisputeReason[] | null;
  @Field(() => ID, { nullable: true }) ownerUserId?: string | null;
  @Field(() => DateScalar, { nullable: true, description: 'Unresolved disputes whose SLA day is before this day.' }) slaBreachedAsOf?: string | null;
  @Field(() => Date, { nullable: true }) openedFrom?: Date | null;
  @Field(() => Date, { nullable: true }) openedTo?: Date | null;
}

@InputType()
export class DisputeRoutingInput {
  @Field(() => DisputeReason) reasonCode: DisputeReason;
  @Field(() => ID, { nullable: true, description: 'null removes the route (the customer owner takes it).' }) userId: string | null;
}

@InputType()
export class DisputeSlaInput {
  @Field(() => DisputeReason) reasonCode: DisputeReason;
  @Field(() => Int) days: number;
}

@InputType()
export class DisputeSettingsInput {
  @Field(() => Int, { nullable: true }) nudgeAfterDays?: number | null;
  @Field(() => [DisputeRoutingInput], { nullable: true }) routing?: DisputeRoutingInput[] | null;
  @Field(() => [DisputeSlaInput], { nullable: true }) slaDays?: DisputeSlaInput[] | null;
}

@ObjectType()
export class DisputeRoute {
  @Field(() => DisputeReason) reasonCode: DisputeReason;
  @Field(() => ID, { nullable: true }) userId: string | null;
  @Field(() => Int) slaDays: number;
}

@ObjectType({ description: 'How disputes are routed and nudged in this tenant.' })
export class DisputeSettingsType {
  @Field(() => Int) nudgeAfterDays: number;
  @Field(() => [DisputeRoute]) routes: DisputeRoute[];
}

export const DisputeConnection = connectionType(Dispute, 'Dispute');

const settingsOut = (s: DisputeSettings): DisputeSettingsType => ({
  nudgeAfterDays: s.nudgeAfterDays,
  routes: Object.values(DisputeReason).map((r) => ({ reasonCode: r, userId: s.routing[r] ?? null, slaDays: s.slaDays[r] })),
});

@Resolver(() => Dispute)
export class DisputeResolver {
  constructor(private readonly disputeService: DisputeService) {}

  @Authorized(Role.COLLECTOR)
  @Mutation(() => Dispute, { description: 'Open a dispute on an invoice or some of its lines: only what is disputed leaves dunning.' })
  openDispute(@Ctx() ctx: RequestContext, @Arg('input') input: OpenDisputeInput): Promise<Dispute> {
    return this.disputeService.open(ctx, input);
  }

  @Authorized(Role.COLLECTOR)
  @Mutation(() => Dispute, { description: 'Record a dispute found in an inbound reply: SUGGESTED, it pauses nothing until a person confirms it.' })
  suggestDispute(@Ctx() ctx: RequestContext, @Arg('input') input: OpenDisputeInput): Promise<Dispute> {
    return this.disputeService.suggest(ctx, input);
  }

  @Authorized(Role.COLLECTOR)
  @Mutation(() => Dispute, { description: 'Confirm a suggested dispute (optionally correcting it): its lines leave dunning from now on.' })
  confirmDispute(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string, @Arg('input', () => ConfirmDisputeInput, { nullable: true }) input: ConfirmDisputeInput | null): Promise<Dispute> {
    return this.disputeService.confirm(ctx, id, input ?? {});
  }

  @Authorized(Role.COLLECTOR)
  @Mutation(() => Dispute, { description: 'Turn down a suggested dispute, saying why.' })
  dismissDispute(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string, @Arg('reason') reason: string): Promise<Dispute> {
    return this.disputeService.dismiss(ctx, id, reason);
  }

  @Authorized(Role.COLLECTOR)
  @Mutation(() => Dispute, { description: 'Move a dispute along (status, reason, amount, detail, owner).' })
  updateDispute(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string, @Arg('input') input: UpdateDisputeInput): Promise<Dispute> {
    return this.disputeService.update(ctx, id, input);
  }

  @Authorized(Role.MANAGER)
  @Mutation(() => Dispute, { description: 'REJECTED resolves now and dunning resumes; CREDIT_MEMO and WRITE_OFF go through approval requests and resolve when approved.' })
  resolveDispute(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string, @Arg('input') input: ResolveDisputeInput): Promise<Dispute> {
    return this.disputeService.resolve(ctx, id, input);
  }

  @Authorized()
  @Query(() => DisputeConnection, { complexity: pageComplexity, description: 'Newest first, keyset-paginated.' })
  disputes(@Ctx() ctx: RequestContext, @Args() page: PageArgs, @Arg('filter', () => DisputeFilterInput, { nullable: true }) filter: DisputeFilterInput | null) {
    return this.disputeService.list(ctx, { ...page, filter });
  }

  @Authorized()
  @Query(() => Dispute, { nullable: true })
  dispute(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<Dispute | null> {
    return this.disputeService.get(ctx, id);
  }

  @Authorized()
  @Query(() => DisputeSettingsType)
  async disputeSettings(@Ctx() ctx: RequestContext): Promise<DisputeSettingsType> {
    return settingsOut(await this.disputeService.settings(ctx));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => DisputeSettingsType, { description: 'Routing (reason → user), SLA days per reason, and the nudge delay.' })
  async setDisputeSettings(@Ctx() ctx: RequestContext, @Arg('input') input: DisputeSettingsInput): Promise<DisputeSettingsType> {
    return settingsOut(await this.disputeService.setSettings(ctx, input));
  }

  @FieldResolver(() => Money)
  amount(@Root() d: Dispute): Money {
    return Money.of(d.amountMinor, d.currency);
  }
}
