import { Arg, Authorized, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Role } from '../../platform/auth/roles';
import type { RequestContext } from '../../platform/context';
import { Ctx } from '../../platform/graphql/gql-context';
import { Money } from '../../platform/graphql/money.type';
import { ApprovalRequest, ApprovalStatus } from './approval-request.entity';
import type { ApprovalService } from './approval.service';

@Resolver(() => ApprovalRequest)
export class ApprovalResolver {
  constructor(private readonly approvals: ApprovalService) {}

  @Authorized(Role.VIEWER)
  @Query(() => [ApprovalRequest])
  approvalRequests(
    @Ctx() ctx: RequestContext,
    @Arg('status', () => [ApprovalStatus], { nullable: true }) status: ApprovalStatus[] | null,
    @Arg('kind', () => String, { nullable: true }) kind: string | null,
  ): Promise<ApprovalRequest[]> {
    return this.approvals.list(ctx, { status, kind });
  }

  @Authorized(Role.MANAGER)
  @Mutation(() => ApprovalRequest, { description: 'Approve or reject a pending request; never by the one who asked.' })
  decideApproval(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string, @Arg('approve') approve: boolean, @Arg('note', () => String, { nullable: true }) note: string | null): Promise<ApprovalRequest> {
    return this.approvals.decide(ctx, id, approve, note);
  }

  @FieldResolver(() => Money, { nullable: true })
  amount(@Root() r: ApprovalRequest): Money | null {
    return r.amountMinor !== null && r.currency ? Money.of(r.amountMinor, r.currency) : null;
  }
}
