import { Arg, Authorized, Field, FieldResolver, ID, InputType, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Role } from '../../platform/auth/roles';
import type { RequestContext } from '../../platform/context';
import { Ctx } from '../../platform/graphql/gql-context';
import { Money } from '../../platform/graphql/money.type';
import { Dispute, DisputeReason, DisputeStatus } from './dispute.entity';
import type { DisputeService } from './dispute.service';

@InputType()
export class OpenDisputeInput {
  @Field(() => ID) invoiceId: string;
  @Field(() => [ID], { nullable: true, description: 'Dispute only these lines; omit for the whole invoice.' }) lineIds?: string[] | null;
  @Field(() => DisputeReason) reasonCode: DisputeReason;
  @Field(() => String, { nullable: true, description: 'Decimal; default: the disputed lines, or the open balance.' }) amount?: string | null;
  @Field(() => String, { nullable: true }) detail?: string | null;
}

@Resolver(() => Dispute)
export class DisputeResolver {
  constructor(private readonly disputeService: DisputeService) {}

  @Authorized(Role.COLLECTOR)
  @Mutation(() => Dispute, { description: 'Open a dispute on an invoice or some of its lines: only what is disputed leaves dunning.' })
  openDispute(@Ctx() ctx: RequestContext, @Arg('input') input: OpenDisputeInput): Promise<Dispute> {
    return this.disputeService.open(ctx, input);
  }

  @Authorized(Role.MANAGER)
  @Mutation(() => Dispute)
  resolveDispute(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string, @Arg('resolution') resolution: string): Promise<Dispute> {
    return this.disputeService.resolve(ctx, id, resolution);
  }

  @Authorized()
  @Query(() => [Dispute])
  disputes(
    @Ctx() ctx: RequestContext,
    @Arg('invoiceId', () => ID, { nullable: true }) invoiceId: string | null,
    @Arg('customerId', () => ID, { nullable: true }) customerId: string | null,
    @Arg('status', () => [DisputeStatus], { nullable: true }) status: DisputeStatus[] | null,
  ): Promise<Dispute[]> {
    return this.disputeService.list(ctx, { invoiceId, customerId, status });
  }

  @FieldResolver(() => Money)
  amount(@Root() d: Dispute): Money {
    return Money.of(d.amountMinor, d.currency);
  }
}
