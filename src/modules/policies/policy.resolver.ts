import { ApprovalRequest } from '../approvals/approval-request.entity';
import { Arg, Authorized, Field, FieldResolver, ID, InputType, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { z } from 'zod';
import { Role } from '../../platform/auth/roles';
import type { RequestContext } from '../../platform/context';
import { FieldError } from '../../platform/graphql/field-error.type';
import { Ctx } from '../../platform/graphql/gql-context';
import { DateScalar } from '../../platform/graphql/scalars';
import type { TenantService } from '../tenants/tenant.service';
import { policyDefinitionSchema } from './policy-definition';
import { AssignmentScope, DunningPolicy, PolicyAssignment, PolicyVersion } from './policy.entities';
import type { PolicyService } from './policy.service';

@InputType()
export class CreateDunningPolicyInput {
  @Field() name: string;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => GraphQLJSONObject, { description: 'Steps, courtesy path and tiers; see dunningPolicyJsonSchema.' }) definition: Record<string, unknown>;
}

@InputType()
export class UpdateDunningPolicyDraftInput {
  @Field(() => GraphQLJSONObject) definition: Record<string, unknown>;
  @Field(() => String, { nullable: true }) description?: string | null;
}

@ObjectType({ description: 'The policy and its draft, or why nothing was saved.' })
export class DunningPolicyPayload {
  @Field(() => DunningPolicy, { nullable: true }) policy: DunningPolicy | null;
  @Field(() => PolicyVersion, { nullable: true }) version: PolicyVersion | null;
  @Field(() => [FieldError]) errors: FieldError[];
}

@ObjectType()
export class PublishDunningPolicyPayload {
  @Field(() => PolicyVersion) version: PolicyVersion;
  @Field(() => DateScalar) effectiveFrom: string;
}

@ObjectType({ description: 'Which policy version applies to a customer on a day, and why.' })
export class EffectivePolicy {
  @Field(() => DunningPolicy) policy: DunningPolicy;
  @Field(() => PolicyVersion) version: PolicyVersion;
  @Field(() => PolicyAssignment) assignment: PolicyAssignment;
  @Field() reason: string;
}

@Resolver(() => DunningPolicy)
export class PolicyResolver {
  constructor(
    private readonly policyService: PolicyService,
    private readonly tenants: TenantService,
  ) {}

  @Authorized()
  @Query(() => [DunningPolicy])
  dunningPolicies(@Ctx() ctx: RequestContext): Promise<DunningPolicy[]> {
    return this.policyService.list(ctx);
  }

  @Authorized()
  @Query(() => DunningPolicy, { nullable: true })
  dunningPolicy(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<DunningPolicy | null> {
    return this.policyService.get(ctx, id);
  }

  @Authorized()
  @Query(() => GraphQLJSONObject, { description: 'JSON Schema of a policy definition, for editors and scripts.' })
  dunningPolicyJsonSchema(): Record<string, unknown> {
    return z.toJSONSchema(policyDefinitionSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  }

  @Authorized(Role.MANAGER)
  @Mutation(() => DunningPolicyPayload, { description: 'A new policy with its first draft version. Nothing is saved when errors come back.' })
  async createDunningPolicy(@Ctx() ctx: RequestContext, @Arg('input') input: CreateDunningPolicyInput): Promise<DunningPolicyPayload> {
    const r = await this.policyService.create(ctx, input);
    return { policy: r.policy ?? null, version: r.version ?? null, errors: r.problems };
  }

  @Authorized(Role.MANAGER)
  @Mutation(() => DunningPolicyPayload, { description: 'Edit the draft (or open a new draft after the latest version).' })
  async updateDunningPolicyDraft(@Ctx() ctx: RequestContext, @Arg('policyId', () => ID) policyId: string, @Arg('input') input: UpdateDunningPolicyDraftInput): Promise<DunningPolicyPayload> {
    const r = await this.policyService.updateDraft(ctx, policyId, input);
    return { policy: r.policy ?? null, version: r.version ?? null, errors: r.problems };
  }

  @Authorized(Role.MANAGER)
  @Mutation(() => ApprovalRequest, { description: 'Ask for a publication that the tenant\'s POLICY_PUBLISH rules want approved (policies reaching strategic accounts); approved, the version is published.' })
  requestPolicyPublish(
    @Ctx() ctx: RequestContext,
    @Arg('policyId', () => ID) policyId: string,
    @Arg('versionId', () => ID, { nullable: true, description: 'Default: the draft.' }) versionId: string | null,
    @Arg('effectiveFrom', () => DateScalar, { nullable: true }) effectiveFrom: string | null,
    @Arg('reason') reason: string,
  ): Promise<ApprovalRequest> {
    return this.policyService.requestPublish(ctx, { policyId, versionId, effectiveFrom, reason }) as Promise<ApprovalRequest>;
  }

  @Authorized(Role.MANAGER)
  @Mutation(() => PublishDunningPolicyPayload, { description: 'Make a version live from a date (default today). Publishing an older version again rolls back.' })
  publishDunningPolicy(
    @Ctx() ctx: RequestContext,
    @Arg('policyId', () => ID) policyId: string,
    @Arg('versionId', () => ID, { nullable: true, description: 'Default: the draft.' }) versionId: string | null,
    @Arg('effectiveFrom', () => DateScalar, { nullable: true }) effectiveFrom: string | null,
  ): Promise<PublishDunningPolicyPayload> {
    return this.policyService.publish(ctx, policyId, versionId, effectiveFrom);
  }

  @Authorized(Role.MANAGER)
  @Mutation(() => PolicyAssignment, { description: 'Bind a policy to every customer (GLOBAL), a segment, tier, country or one customer; replaces the previous binding of that scope.' })
  assignDunningPolicy(
    @Ctx() ctx: RequestContext,
    @Arg('policyId', () => ID) policyId: string,
    @Arg('scope', () => AssignmentScope) scope: AssignmentScope,
    @Arg('value', () => String, { nullable: true }) value: string | null,
  ): Promise<PolicyAssignment> {
    return this.policyService.assign(ctx, policyId, scope, value);
  }

  @Authorized(Role.MANAGER)
  @Mutation(() => Boolean)
  unassignDunningPolicy(@Ctx() ctx: RequestContext, @Arg('scope', () => AssignmentScope) scope: AssignmentScope, @Arg('value', () => String, { nullable: true }) value: string | null): Promise<boolean> {
    return this.policyService.unassign(ctx, scope, value);
  }

  @Authorized()
  @Query(() => EffectivePolicy, { nullable: true, description: 'The policy a customer gets on a day, which assignment won and why; null when none applies.' })
  async effectivePolicy(@Ctx() ctx: RequestContext, @Arg('customerId', () => ID) customerId: string, @Arg('asOf', () => DateScalar, { nullable: true }) asOf: string | null): Promise<EffectivePolicy | null> {
    const day = asOf ?? (await this.tenants.today(ctx));
    const [c] = /^[0-9a-f-]{36}$/i.test(customerId) ? await ctx.em.query('SELECT id, segment, tier, country FROM customers WHERE tenant_id = $1 AND id = $2', [ctx.tenantId, customerId]) : [];
    if (!c) return null;
    const pick = (await this.policyService.book(ctx, day)).resolve(c);
    if (!pick) return null;
    const [policy, version, assignments] = await Promise.all([this.policyService.require(ctx, pick.live.policyId), this.policyService.version(ctx, pick.live.versionId), this.policyService.assignments(ctx, pick.live.policyId)]);
    const assignment = assignments.find((a) => a.scope === pick.assignment.scope && a.scopeValue === pick.assignment.scopeValue)!;
    return { policy, version: version!, assignment, reason: pick.reason };
  }

  @FieldResolver(() => [PolicyVersion], { description: 'Newest first.' })
  versions(@Root() p: DunningPolicy, @Ctx() ctx: RequestContext): Promise<PolicyVersion[]> {
    return this.policyService.versions(ctx, p.id);
  }

  @FieldResolver(() => PolicyVersion, { nullable: true, description: 'The version in effect on a day (default today).' })
  async liveVersion(@Root() p: DunningPolicy, @Ctx() ctx: RequestContext, @Arg('asOf', () => DateScalar, { nullable: true }) asOf: string | null): Promise<PolicyVersion | null> {
    const live = (await this.policyService.liveVersions(ctx, asOf ?? (await this.tenants.today(ctx)), [p.id])).get(p.id);
    return live ? this.policyService.version(ctx, live.versionId) : null;
  }

  @FieldResolver(() => [PolicyAssignment])
  assignments(@Root() p: DunningPolicy, @Ctx() ctx: RequestContext): Promise<PolicyAssignment[]> {
    return this.policyService.assignments(ctx, p.id);
  }
}
