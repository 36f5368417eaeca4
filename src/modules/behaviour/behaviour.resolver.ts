import { ApprovalRequest } from '../approvals/approval-request.entity';
import { Arg, Args, ArgsType, Authorized, Field, Float, FieldResolver, ID, InputType, Int, Mutation, ObjectType, Query, Resolver, Root, registerEnumType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import DataLoader from 'dataloader';
import { Role } from '../../platform/auth/roles';
import type { RequestContext } from '../../platform/context';
import { badInput } from '../../platform/errors';
import { Ctx } from '../../platform/graphql/gql-context';
import { Money } from '../../platform/graphql/money.type';
import { DateScalar } from '../../platform/graphql/scalars';
import { isIsoDate } from '../../platform/time/dates';
import { Customer } from '../customers/customer.entity';
import { DunningPolicy, PolicyVersion } from '../policies/policy.entities';
import type { TenantService } from '../tenants/tenant.service';
import type { BehaviourService, CustomerBehaviourRow } from './behaviour.service';
import type { Recommendation as RecommendationRow, RecommendationService } from './recommendation.service';
import { SEGMENT_FIELDS, SEGMENT_OPS } from './segmentation-rules';
import type { SegmentAssignment as SegmentAssignmentRow, SegmentationService } from './segmentation.service';

export enum PaymentTrend {
  IMPROVING = 'IMPROVING',
  STABLE = 'STABLE',
  WORSENING = 'WORSENING',
  INSUFFICIENT_DATA = 'INSUFFICIENT_DATA',
}
registerEnumType(PaymentTrend, { name: 'PaymentTrend', description: 'Mean days late over the last 90 days against the 90 before: 3 days or more either way.' });
const SegmentFieldEnum = Object.fromEntries(SEGMENT_FIELDS.map((f) => [f, f])) as Record<(typeof SEGMENT_FIELDS)[number], string>;
registerEnumType(SegmentFieldEnum, { name: 'SegmentField', description: 'What a segmentation condition looks at: stored payment behaviour, balances (decimal amounts in the customer currency), tier, country, CRM renewal date.' });
const SegmentOpEnum = Object.fromEntries(SEGMENT_OPS.map((f) => [f, f])) as Record<(typeof SEGMENT_OPS)[number], string>;
registerEnumType(SegmentOpEnum, { name: 'SegmentOp' });
export enum RecommendationKind {
  START_AT_STEP = 'START_AT_STEP',
  PERSONAL_OUTREACH = 'PERSONAL_OUTREACH',
  STEP_TIMING = 'STEP_TIMING',
}
registerEnumType(RecommendationKind, { name: 'RecommendationKind' });
export enum RecommendationStatus {
  OPEN = 'OPEN',
  APPLIED = 'APPLIED',
  STALE = 'STALE',
}
registerEnumType(RecommendationStatus, { name: 'RecommendationStatus' });

@ObjectType({ description: 'Mean, median and 90th percentile of a number of days (null without data).' })
export class DayStats {
  @Field(() => Float, { nullable: true }) mean: number | null;
  @Field(() => Float, { nullable: true }) median: number | null;
  @Field(() => Float, { nullable: true }) p90: number | null;
}

@ObjectType({ description: 'Invoices paid after a dunning step: the last reminder sent on or before the payment day (NONE = paid with no reminder).' })
export class StepShare {
  @Field() step: string;
  @Field(() => Int) invoices: number;
  @Field(() => Float) share: number;
}

@ObjectType({ description: 'How a customer pays, over the 365 days before asOf; kept current by a daily job and on demand.' })
export class PaymentBehaviour {
  @Field(() => DateScalar) asOf: string;
  @Field(() => Int, { description: 'Invoices paid in full in the window.' }) paidInvoices: number;
  @Field(() => Int, { description: 'Of those, paid after their due date.' }) lateInvoices: number;
  @Field(() => DayStats, { description: 'Paid day - issue day.' }) daysToPay: DayStats;
  @Field(() => DayStats, { description: 'max(0, paid day - due day).' }) daysLate: DayStats;
  @Field(() => [StepShare]) paidAfterStep: StepShare[];
  @Field(() => Int) promisesResolved: number;
  @Field(() => Float, { nullable: true, description: 'Kept / resolved (a partly kept promise counts half).' }) promiseKeptRate: number | null;
  @Field(() => Int) invoicesDue: number;
  @Field(() => Int) disputedInvoices: number;
  @Field(() => Float, { nullable: true, description: 'Disputed invoices / invoices due in the window.' }) disputeRate: number | null;
  @Field(() => PaymentTrend) trend: PaymentTrend;
  @Field(() => Float, { nullable: true }) recentDaysLateMean: number | null;
  @Field(() => Float, { nullable: true }) priorDaysLateMean: number | null;
  @Field(() => Money) openBalance: Money;
  @Field(() => Money) overdueBalance: Money;
  @Field(() => Money, { description: 'Invoiced over the last 365 days (an ARR proxy).' }) invoicedLast365: Money;
  @Field(() => Int, { nullable: true }) maxDaysPastDue: number | null;
  @Field() updatedAt: Date;
}

function toBehaviour(r: CustomerBehaviourRow): PaymentBehaviour {
  return Object.assign(new PaymentBehaviour(), {
    ...r,
    trend: r.trend as PaymentTrend,
    openBalance: Money.of(r.openBalanceMinor, r.currency),
    overdueBalance: Money.of(r.overdueBalanceMinor, r.currency),
    invoicedLast365: Money.of(r.invoiced365Minor, r.currency),
  });
}

@ObjectType({ description: 'Why a customer is in its segment: the rule (and the facts it saw) or a manual override with its expiry.' })
export class SegmentAssignment {
  @Field(() => ID) customerId: string;
  @Field(() => String, { nullable: true }) segment: string | null;
  @Field({ description: 'RULE, OVERRIDE, or NONE (no rule matched: the ERP segment applies).' }) source: string;
  @Field(() => String, { nullable: true }) ruleName: string | null;
  @Field(() => GraphQLJSONObject) reason: Record<string, unknown>;
  @Field(() => DateScalar) assignedOn: string;
  @Field(() => DateScalar, { nullable: true }) overrideUntil: string | null;
  @Field(() => String, { nullable: true }) overrideReason: string | null;
  @Field(() => String, { nullable: true }) overriddenBy: string | null;
}

@ObjectType()
@InputType('SegmentConditionInput')
export class SegmentCondition {
  @Field(() => SegmentFieldEnum) field: string;
  @Field(() => SegmentOpEnum) op: string;
  @Field(() => String, { nullable: true }) value?: string | null;
  @Field(() => [String], { nullable: true, description: 'For IN.' }) values?: string[] | null;
}

@ObjectType()
@InputType('SegmentationRuleInput')
export class SegmentationRule {
  @Field() name: string;
  @Field({ description: 'e.g. STRATEGIC, MID_MARKET, LONG_TAIL, FIRST_TIME_LATE, CHRONIC_LATE, or a name of your own.' }) segment: string;
  @Field(() => [SegmentCondition], { description: 'All must hold; none = always.' }) conditions: SegmentCondition[];
}

@ObjectType({ description: 'The tenant’s ordered segmentation rules: the first that matches assigns its segment.' })
export class SegmentationRuleSet {
  @Field(() => [SegmentationRule]) rules: SegmentationRule[];
  @Field({ description: 'True while the tenant has not set its own rules.' }) isDefault: boolean;
  @Field(() => String, { nullable: true }) updatedBy: string | null;
  @Field(() => Date, { nullable: true }) updatedAt: Date | null;
}

@ObjectType()
export class SegmentationRun {
  @Field(() => DateScalar) asOf: string;
  @Field(() => Int) customers: number;
  @Field(() => Int) changed: number;
  @Field(() => Int) overridesKept: number;
  @Field(() => Int) overridesExpired: number;
  @Field(() => GraphQLJSONObject) bySegment: Record<string, number>;
}

@ObjectType({ description: 'A suggestion with the evidence behind it; applying it creates a policy draft, never a live change.' })
export class Recommendation {
  @Field(() => ID) id: string;
  @Field(() => RecommendationKind) kind: RecommendationKind;
  @Field(() => ID, { nullable: true }) customerId: string | null;
  @Field(() => ID) policyId: string;
  @Field() title: string;
  @Field(() => GraphQLJSONObject) evidence: Record<string, unknown>;
  @Field({ description: 'What the draft would change.' }) change: string;
  @Field(() => GraphQLJSONObject, { description: 'The definition the draft would get.' }) proposedDefinition: Record<string, unknown>;
  @Field(() => ID) basedOnVersionId: string;
  @Field(() => RecommendationStatus) status: RecommendationStatus;
  @Field(() => DateScalar) generatedOn: string;
  @Field(() => ID, { nullable: true }) appliedPolicyId: string | null;
  @Field(() => ID, { nullable: true }) appliedVersionId: string | null;
}

const toRecommendation = (r: RecommendationRow): Recommendation =>
  Object.assign(new Recommendation(), {
    ...r,
    kind: r.kind as RecommendationKind,
    status: r.status as RecommendationStatus,
    change: r.proposal.change,
    proposedDefinition: r.proposal.definition as unknown as Record<string, unknown>,
    basedOnVersionId: r.proposal.basedOnVersionId,
  });

@ObjectType()
export class ApplyRecommendationPayload {
  @Field(() => Recommendation) recommendation: Recommendation;
  @Field(() => DunningPolicy) policy: DunningPolicy;
  @Field(() => PolicyVersion, { description: 'A DRAFT: preview, backtest, publish and assign it yourself.' }) version: PolicyVersion;
}

@Resolver(() => Customer)
export class CustomerBehaviourResolver {
  constructor(
    private readonly behaviour: BehaviourService,
    private readonly segmentation: SegmentationService,
  ) {}

  @FieldResolver(() => PaymentBehaviour, { nullable: true, description: 'How the customer pays (null until the behaviour job has seen it). One query per page.' })
  async paymentBehaviour(@Root() c: Customer, @Ctx() ctx: RequestContext): Promise<PaymentBehaviour | null> {
    const r = await this.behaviour.loader(ctx).load(c.id);
    return r ? toBehaviour(r) : null;
  }

  @FieldResolver(() => SegmentAssignment, { nullable: true, description: 'Why the customer is in its segment (rule or override).' })
  async segmentAssignment(@Root() c: Customer, @Ctx() ctx: RequestContext): Promise<SegmentAssignmentRow | null> {
    const loader = ctx.loaders.get('segmentAssignment', () => new DataLoader<string, SegmentAssignmentRow | null>(async (ids) => {
      const m = await this.segmentation.assignmentsFor(ctx, ids);
      return ids.map((id) => m.get(id) ?? null);
    }));
    return loader.load(c.id);
  }
}


/** A segment override, applied at once or asked for under the MANUAL_OVERRIDE approval rule. */
@ArgsType()
class SegmentOverrideArgs {
  @Field(() => ID) customerId!: string;
  @Field() segment!: string;
  @Field(() => DateScalar) until!: string;
  @Field() reason!: string;
  @Field(() => DateScalar, { nullable: true, description: 'Default: today in the tenant zone.' }) asOf!: string | null;
}

@Resolver()
export class BehaviourResolver {
  constructor(
    private readonly behaviour: BehaviourService,
    private readonly segmentation: SegmentationService,
    private readonly recs: RecommendationService,
    private readonly tenants: TenantService,
  ) {}

  private async day(ctx: RequestContext, asOf: string | null | undefined, field = 'asOf'): Promise<string> {
    if (asOf && !isIsoDate(asOf)) throw badInput(field, 'must be YYYY-MM-DD');
    return asOf ?? (await this.tenants.today(ctx));
  }

  @Authorized(Role.MANAGER)
  @Mutation(() => Int, { description: 'Recomputes payment behaviour now (all customers, or the given ones) as of a day; returns how many.' })
  async refreshPaymentBehaviour(
    @Ctx() ctx: RequestContext,
    @Arg('asOf', () => DateScalar, { nullable: true }) asOf: string | null,
    @Arg('customerIds', () => [ID], { nullable: true }) customerIds: string[] | null,
  ): Promise<number> {
    if (customerIds && customerIds.some((id) => !/^[0-9a-f-]{36}$/i.test(id))) throw badInput('customerIds', 'must be customer ids');
    return (await this.behaviour.refresh(ctx, await this.day(ctx, asOf), customerIds ?? undefined)).customers;
  }

  @Authorized()
  @Query(() => SegmentationRuleSet)
  async segmentationRules(@Ctx() ctx: RequestContext): Promise<SegmentationRuleSet> {
    return (await this.segmentation.rules(ctx)) as SegmentationRuleSet;
  }

  @Authorized(Role.MANAGER)
  @Mutation(() => SegmentationRuleSet, { description: 'Replaces the ordered rules (validated; audited). Run runSegmentation to apply them.' })
  async setSegmentationRules(@Ctx() ctx: RequestContext, @Arg('rules', () => [SegmentationRule]) rules: SegmentationRule[]): Promise<SegmentationRuleSet> {
    await this.segmentation.setRules(ctx, JSON.parse(JSON.stringify(rules)));
    return (await this.segmentation.rules(ctx)) as SegmentationRuleSet;
  }

  @Authorized(Role.MANAGER)
  @Mutation(() => SegmentationRun, { description: 'Refreshes behaviour, then assigns segments from the rules as of a day; overrides in force are kept; changes are audited and re-evaluate the customer.' })
  async runSegmentation(@Ctx() ctx: RequestContext, @Arg('asOf', () => DateScalar, { nullable: true }) asOf: string | null): Promise<SegmentationRun> {
    return this.segmentation.run(ctx, await this.day(ctx, asOf));
  }

  @Authorized(Role.MANAGER)
  @Mutation(() => SegmentAssignment, { description: 'Puts a customer in a segment until a day (inclusive), whatever the rules say; audited with the reason.' })
  async overrideSegment(@Ctx() ctx: RequestContext, @Args() a: SegmentOverrideArgs): Promise<SegmentAssignmentRow> {
    return this.segmentation.override(ctx, { ...a, asOf: await this.day(ctx, a.asOf) });
  }

  @Authorized(Role.COLLECTOR)
  @Mutation(() => ApprovalRequest, { description: 'Asks for a segment override under the MANUAL_OVERRIDE approval rule; approved, it applies as overrideSegment would.' })
  async requestSegmentOverride(@Ctx() ctx: RequestContext, @Args() a: SegmentOverrideArgs): Promise<ApprovalRequest> {
    return (await this.segmentation.requestOverride(ctx, { ...a, asOf: await this.day(ctx, a.asOf) })) as ApprovalRequest;
  }

  @Authorized()
  @Query(() => [Recommendation])
  async recommendations(
    @Ctx() ctx: RequestContext,
    @Arg('status', () => RecommendationStatus, { nullable: true, defaultValue: RecommendationStatus.OPEN }) status: RecommendationStatus | null,
    @Arg('kind', () => RecommendationKind, { nullable: true }) kind: RecommendationKind | null,
    @Arg('customerId', () => ID, { nullable: true }) customerId: string | null,
  ): Promise<Recommendation[]> {
    if (customerId && !/^[0-9a-f-]{36}$/i.test(customerId)) throw badInput('customerId', 'must be a customer id');
    return (await this.recs.list(ctx, { status, kind, customerId })).map(toRecommendation);
  }

  @Authorized(Role.MANAGER)
  @Mutation(() => [Recommendation], { description: 'Regenerates recommendations from stored behaviour and reminder history as of a day (the daily job does it too).' })
  async refreshRecommendations(@Ctx() ctx: RequestContext, @Arg('asOf', () => DateScalar, { nullable: true }) asOf: string | null): Promise<Recommendation[]> {
    return (await this.recs.generate(ctx, await this.day(ctx, asOf))).map(toRecommendation);
  }

  @Authorized(Role.MANAGER)
  @Mutation(() => ApplyRecommendationPayload, { description: 'Creates a policy DRAFT from the recommendation; nothing is published or assigned.' })
  async applyRecommendation(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<ApplyRecommendationPayload> {
    const r = await this.recs.apply(ctx, id);
    return { recommendation: toRecommendation(r.recommendation), policy: r.policy, version: r.version };
  }
}
