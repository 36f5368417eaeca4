import { Arg, Authorized, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Role } from '../../platform/auth/roles';
import type { RequestContext } from '../../platform/context';
import { Ctx } from '../../platform/graphql/gql-context';
import { Money } from '../../platform/graphql/money.type';
import type { CreditService } from '../payments/credit.service';
import { CreateCreditMemoInput } from '../payments/dto/payment.inputs';
import { ApprovalKind, ApprovalRequest, ApprovalStatus } from './approval-request.entity';
import type { ApprovalRule } from './approval-rules';
import type { ApprovalService } from './approval.service';
import type { CreditHoldService } from './credit-hold.service';
import { ApprovalRuleInput, ApprovalRuleType } from './dto/approval.types';

function ruleOut(r: ApprovalRule): ApprovalRuleType {
  const cur = r.currency ?? 'USD';
  return {
    kind: r.kind,
    requiresApproval: r.requiresApproval,
    currency: r.currency,
    threshold: r.thresholdMinor !== null ? Money.of(r.thresholdMinor, cur) : null,
    minRole: r.minRole,
    escalations: r.escalations.map((e) => ({ above: Money.of(e.aboveMinor, cur), minRole: e.minRole })),
    fastPath: r.fastPath ? { maxAmount: Money.of(r.fastPath.maxAmountMinor, cur), excludeTiers: r.fastPath.excludeTiers } : null,
    expiresAfterHours: r.expiresAfterHours,
  };
}

@Resolver(() => ApprovalRequest)
export class ApprovalResolver {
  constructor(
    private readonly approvals: ApprovalService,
    private readonly credits: CreditService,
    private readonly creditHolds: CreditHoldService,
  ) {}

  @Authorized(Role.VIEWER)
  @Query(() => [ApprovalRequest], { description: 'Newest first (at most `limit`, 500); pending requests past their expiry show as EXPIRED.' })
  approvalRequests(
    @Ctx() ctx: RequestContext,
    @Arg('status', () => [ApprovalStatus], { nullable: true }) status: ApprovalStatus[] | null,
    @Arg('kind', () => String, { nullable: true }) kind: string | null,
    @Arg('kinds', () => [ApprovalKind], { nullable: true }) kinds: ApprovalKind[] | null,
    @Arg('subjectId', () => ID, { nullable: true }) subjectId: string | null,
    @Arg('requestedBy', () => String, { nullable: true }) requestedBy: string | null,
    @Arg('limit', () => Int, { nullable: true }) limit: number | null,
  ): Promise<ApprovalRequest[]> {
    return this.approvals.list(ctx, { status, kind, kinds, subjectId, requestedBy, limit });
  }

  @Authorized(Role.VIEWER)
  @Query(() => ApprovalRequest, { nullable: true })
  approvalRequest(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<ApprovalRequest | null> {
    return this.approvals.get(ctx, id);
  }

  @Authorized(Role.MANAGER)
  @Mutation(() => ApprovalRequest, { description: 'Approve a pending request: MANAGER or above (the rule may ask more), never the one who asked.' })
  approve(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string, @Arg('reason', () => String, { nullable: true }) reason: string | null): Promise<ApprovalRequest> {
    return this.approvals.approve(ctx, id, reason);
  }

  @Authorized(Role.MANAGER)
  @Mutation(() => ApprovalRequest, { description: 'Reject a pending request, saying why.' })
  reject(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string, @Arg('reason') reason: string): Promise<ApprovalRequest> {
    return this.approvals.reject(ctx, id, reason);
  }

  @Authorized(Role.MANAGER)
  @Mutation(() => ApprovalRequest, { description: 'Approve or reject a pending request; never by the one who asked. (`approve` / `reject` are the same.)' })
  decideApproval(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string, @Arg('approve') approve: boolean, @Arg('note', () => String, { nullable: true }) note: string | null): Promise<ApprovalRequest> {
    return this.approvals.decide(ctx, id, approve, note);
  }

  @Authorized(Role.VIEWER)
  @Query(() => [ApprovalRuleType], { description: 'The tenant\'s approval rules, one per kind (defaults where none was set).' })
  async approvalRules(@Ctx() ctx: RequestContext): Promise<ApprovalRuleType[]> {
    return (await this.approvals.rules(ctx)).map(ruleOut);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => [ApprovalRuleType], { description: 'Replace the rules of the kinds given; the others keep theirs.' })
  async setApprovalRules(@Ctx() ctx: RequestContext, @Arg('rules', () => [ApprovalRuleInput]) rules: ApprovalRuleInput[]): Promise<ApprovalRuleType[]> {
    return (await this.approvals.setRules(ctx, rules)).map(ruleOut);
  }

  @Authorized(Role.COLLECTOR)
  @Mutation(() => ApprovalRequest, { description: 'Ask for a credit memo; created when approved (at once under the CREDIT_MEMO threshold or on the fast path).' })
  requestCreditMemo(@Ctx() ctx: RequestContext, @Arg('input') input: CreateCreditMemoInput): Promise<ApprovalRequest> {
    return this.credits.requestCreditMemo(ctx, input);
  }

  @Authorized(Role.COLLECTOR)
  @Mutation(() => ApprovalRequest, { description: 'Ask to put a customer on credit hold (hold: true) or release it (false), under the CREDIT_HOLD / CREDIT_HOLD_RELEASE rules.' })
  requestCreditHold(@Ctx() ctx: RequestContext, @Arg('customerId', () => ID) customerId: string, @Arg('hold', { defaultValue: true }) hold: boolean, @Arg('reason') reason: string): Promise<ApprovalRequest> {
    return this.creditHolds.request(ctx, { customerId, hold, reason });
  }

  @FieldResolver(() => Money, { nullable: true })
  amount(@Root() r: ApprovalRequest): Money | null {
    return r.amountMinor !== null && r.currency ? Money.of(r.amountMinor, r.currency) : null;
  }
}
