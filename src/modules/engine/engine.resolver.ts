import { Arg, Authorized, Field, ID, InputType, Int, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Role } from '../../platform/auth/roles';
import type { RequestContext } from '../../platform/context';
import { FieldError } from '../../platform/graphql/field-error.type';
import { Ctx } from '../../platform/graphql/gql-context';
import { DateScalar } from '../../platform/graphql/scalars';
import type { DispatchService } from '../actions/dispatch.service';
import type { TenantService } from '../tenants/tenant.service';
import { DunningPause, PauseKind } from './dunning-pause.entity';
import { EvaluationRun } from './evaluation-run.entity';
import type { EvaluationService } from './evaluation.service';
import type { PauseService } from './pause.service';
import type { PreviewService } from './preview.service';

@InputType()
export class PreviewDunningPolicyInput {
  @Field(() => ID) policyId: string;
  @Field(() => ID, { nullable: true, description: 'A version to preview; default: the newest (usually the draft).' }) versionId?: string | null;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'An unsaved definition to preview instead.' }) definition?: Record<string, unknown> | null;
  @Field(() => DateScalar, { nullable: true }) asOf?: string | null;
  @Field(() => Int, { defaultValue: 200 }) limit: number;
}

@ObjectType()
export class PreviewItem {
  @Field(() => ID) customerId: string;
  @Field(() => ID, { nullable: true }) invoiceId: string | null;
  @Field({ description: 'step:<key> or tier:<level>:<action>' }) decision: string;
  @Field(() => [String]) channels: string[];
  @Field() mode: string;
  @Field() rule: string;
  @Field(() => GraphQLJSONObject) facts: Record<string, unknown>;
  @Field(() => String, { nullable: true, description: 'What the live policy decides for the same invoice today.' }) liveDecision: string | null;
}

@ObjectType({ description: 'What a policy would do to the real book on a day, against the live policies; nothing is written.' })
export class PolicyPreview {
  @Field(() => DateScalar) asOf: string;
  @Field(() => Int) customersEvaluated: number;
  @Field(() => Int) invoicesEvaluated: number;
  @Field(() => GraphQLJSONObject, { description: 'Counts by decision and suppression under the candidate.' }) candidate: Record<string, number>;
  @Field(() => GraphQLJSONObject, { description: 'Counts by decision under the live policies, same customers.' }) live: Record<string, number>;
  @Field(() => [PreviewItem]) items: PreviewItem[];
  @Field() truncated: boolean;
  @Field(() => [FieldError]) problems: FieldError[];
}

@ObjectType()
export class DispatchSummary {
  @Field(() => Int) sent: number;
  @Field(() => Int) suppressed: number;
  @Field(() => Int) failed: number;
  @Field(() => Int) retrying: number;
}

@InputType()
export class PauseDunningInput {
  @Field(() => ID) customerId: string;
  @Field(() => PauseKind, { defaultValue: PauseKind.PAUSE }) kind: PauseKind;
  @Field() reason: string;
  @Field(() => DateScalar, { nullable: true, description: 'Last paused day; null = until resumed.' }) until?: string | null;
}

@Resolver()
export class EngineResolver {
  constructor(
    private readonly evaluation: EvaluationService,
    private readonly previews: PreviewService,
    private readonly pauses: PauseService,
    private readonly dispatch: DispatchService,
    private readonly tenants: TenantService,
  ) {}

  @Authorized()
  @Query(() => PolicyPreview, { description: 'Run a draft, version or unsaved definition over the real book without writing.' })
  async previewDunningPolicy(@Ctx() ctx: RequestContext, @Arg('input') input: PreviewDunningPolicyInput): Promise<PolicyPreview> {
    const asOf = input.asOf ?? (await this.tenants.today(ctx));
    return this.previews.preview(ctx, { ...input, asOf, limit: Math.min(Math.max(input.limit, 0), 2000) });
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => EvaluationRun, { description: 'Evaluate the book (or some customers) as of a day, now, in this process: for replays and operations.' })
  async runEvaluation(
    @Ctx() ctx: RequestContext,
    @Arg('asOf', () => DateScalar, { nullable: true }) asOf: string | null,
    @Arg('customerIds', () => [ID], { nullable: true }) customerIds: string[] | null,
  ): Promise<EvaluationRun> {
    return this.evaluation.run(ctx, { asOf: asOf ?? (await this.tenants.today(ctx)), trigger: 'MANUAL', customerIds: customerIds ?? undefined });
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => DispatchSummary, { description: 'Send the actions due by a day now (the dispatcher job does this every few minutes).' })
  async dispatchActions(@Ctx() ctx: RequestContext, @Arg('asOf', () => DateScalar, { nullable: true }) asOf: string | null): Promise<DispatchSummary> {
    return this.dispatch.dispatchDue(ctx, asOf ?? (await this.tenants.today(ctx)));
  }

  @Authorized()
  @Query(() => [EvaluationRun], { description: 'Newest first.' })
  evaluationRuns(@Ctx() ctx: RequestContext, @Arg('limit', () => Int, { defaultValue: 20 }) limit: number): Promise<EvaluationRun[]> {
    return this.evaluation.runs(ctx, Math.min(Math.max(limit, 1), 200));
  }

  @Authorized(Role.COLLECTOR)
  @Mutation(() => DunningPause, { description: 'Pause dunning for a customer (with a reason and an end date), or exclude it from automation.' })
  pauseDunning(@Ctx() ctx: RequestContext, @Arg('input') input: PauseDunningInput): Promise<DunningPause> {
    return this.pauses.pause(ctx, input);
  }

  @Authorized(Role.COLLECTOR)
  @Mutation(() => Boolean, { description: 'End a pause or exclusion; false when there was none.' })
  resumeDunning(@Ctx() ctx: RequestContext, @Arg('customerId', () => ID) customerId: string): Promise<boolean> {
    return this.pauses.resume(ctx, customerId);
  }
}
