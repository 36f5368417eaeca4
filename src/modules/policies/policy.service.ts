import { In } from 'typeorm';
import { inTransaction, type RequestContext } from '../../platform/context';
import { badInput, notFound, type FieldProblem } from '../../platform/errors';
import { isIsoDate, type IsoDate } from '../../platform/time/dates';
import type { AuditService } from '../audit/audit.service';
import type { TenantService } from '../tenants/tenant.service';
import { policyDefinitionSchema, type PolicyDefinition } from './policy-definition';
import { AssignmentScope, DunningPolicy, PolicyAssignment, PolicyVersion, PolicyVersionStatus } from './policy.entities';
import { PolicyErrors } from './policy.errors';
import { describeAssignment, resolveAssignment, type AssignmentRow, type CustomerFacts } from './policy-resolution';

/** Checks template keys against the outreach module; returns the unknown ones. */
export type TemplateCheck = (ctx: RequestContext, keys: string[]) => Promise<string[]>;

export interface LiveVersion {
  policyId: string;
  policyName: string;
  versionId: string;
  version: number;
  definition: PolicyDefinition;
  effectiveFrom: IsoDate;
}

/** Everything needed to pick each customer's policy on a day, loaded once per run. */
export interface PolicyBook {
  asOf: IsoDate;
  assignments: AssignmentRow[];
  live: Map<string, LiveVersion>;
  resolve(c: CustomerFacts): { live: LiveVersion; assignment: AssignmentRow; reason: string } | null;
}

export interface DraftResult {
  policy?: DunningPolicy;
  version?: PolicyVersion;
  problems: FieldProblem[];
}

/** What the policy module needs from approvals (kept narrow: approvals depend on nothing here). */
export interface PublishApprovals {
  required(ctx: RequestContext): Promise<boolean>;
  request(ctx: RequestContext, input: { policyId: string; versionId: string; effectiveFrom: string | null; reason: string }): Promise<unknown>;
}

export class PolicyService {
  constructor(
    private readonly audit: AuditService,
    private readonly tenants: TenantService,
    private readonly templateCheck: TemplateCheck,
  ) {}

  /** zod shape first, then references (templates); every problem with its path. */
  async validate(ctx: RequestContext, definition: unknown): Promise<{ def: PolicyDefinition | null; problems: FieldProblem[] }> {
    const parsed = policyDefinitionSchema.safeParse(definition);
    if (!parsed.success) {
      return {
        def: null,
        problems: parsed.error.issues.map((i) => ({ field: ['definition', ...i.path].join('.'), code: PolicyErrors.INVALID_DEFINITION, message: i.message })),
      };
    }
    const def = parsed.data;
    const keys = [...new Set([...def.steps, ...def.courtesy.steps].map((s) => s.templateKey))];
    const unknown = new Set(await this.templateCheck(ctx, keys));
    const problems: FieldProblem[] = [];
    const check = (steps: PolicyDefinition['steps'], path: string) =>
      steps.forEach((s, i) => {
        if (unknown.has(s.templateKey)) problems.push({ field: `definition.${path}.${i}.templateKey`, code: PolicyErrors.UNKNOWN_TEMPLATE, message: `no message template "${s.templateKey}"` });
      });
    check(def.steps, 'steps');
    check(def.courtesy.steps, 'courtesy.steps');
    return { def: problems.length ? null : def, problems };
  }

  async create(ctx: RequestContext, input: { name: string; description?: string | null; definition: unknown }): Promise<DraftResult> {
    const name = input.name.trim();
    if (!name) return { problems: [{ field: 'name', code: 'REQUIRED', message: 'must not be empty' }] };
    const { def, problems } = await this.validate(ctx, input.definition);
    if (!def) return { problems };
    return inTransaction(ctx, async (tx) => {
      if (await tx.em.getRepository(DunningPolicy).existsBy({ tenantId: ctx.tenantId, name })) {
        return { problems: [{ field: 'name', code: PolicyErrors.NAME_TAKEN, message: `a policy named "${name}" exists` }] };
      }
      const policy = await tx.em.getRepository(DunningPolicy).save({ tenantId: ctx.tenantId, name, description: input.description ?? null });
      const version = await tx.em.getRepository(PolicyVersion).save({ tenantId: ctx.tenantId, policyId: policy.id, version: 1, status: PolicyVersionStatus.DRAFT, definition: def, createdBy: ctx.actor.id });
      await this.audit.record(tx, { action: 'dunning_policy.created', subjectType: 'DunningPolicy', subjectId: policy.id, data: { name, version: 1 } });
      return { policy, version, problems: [] as FieldProblem[] };
    });
  }

  /** Replaces the draft's definition, or opens a new draft version after the latest one. */
  async updateDraft(ctx: RequestContext, policyId: string, input: { definition: unknown; description?: string | null }): Promise<DraftResult> {
    const { def, problems } = await this.validate(ctx, input.definition);
    if (!def) return { problems };
    return inTransaction(ctx, async (tx) => {
      const policy = await this.require(tx, policyId);
      const repo = tx.em.getRepository(PolicyVersion);
      let draft = await repo.findOneBy({ tenantId: ctx.tenantId, policyId, status: PolicyVersionStatus.DRAFT });
      if (draft) {
        draft.definition = def;
        draft = await repo.save(draft);
      } else {
        const [{ max }] = await tx.em.query('SELECT COALESCE(MAX(version), 0)::int AS max FROM dunning_policy_versions WHERE policy_id = $1', [policyId]);
        draft = await repo.save({ tenantId: ctx.tenantId, policyId, version: max + 1, status: PolicyVersionStatus.DRAFT, definition: def, createdBy: ctx.actor.id });
      }
      if (input.description !== undefined) {
        policy.description = input.description;
        await tx.em.getRepository(DunningPolicy).save(policy);
      }
      await this.audit.record(tx, { action: 'dunning_policy.draft_updated', subjectType: 'DunningPolicy', subjectId: policyId, data: { version: draft.version } });
      return { policy, version: draft, problems: [] as FieldProblem[] };
    });
  }

  /**
   * Makes a version live from `effectiveFrom` (default: today in the tenant's zone). Publishing
   * an older version again is the rollback. Other published versions of the policy retire.
   */
  /**
   * Approvals for publishes that touch strategic accounts (set by the composition root): a
   * policy assigned globally, to the STRATEGIC segment or tier, or to a strategic customer.
   */
  approvals: PublishApprovals | null = null;

  async publish(ctx: RequestContext, policyId: string, versionId: string | null, effectiveFrom: string | null) {
    if (effectiveFrom && !isIsoDate(effectiveFrom)) throw badInput('effectiveFrom', 'must be YYYY-MM-DD');
    if (this.approvals && (await this.touchesStrategic(ctx, policyId)) && (await this.approvals.required(ctx))) {
      throw badInput('policyId', 'this policy reaches strategic accounts and the tenant\'s rules want its publication approved: ask with requestPolicyPublish', PolicyErrors.APPROVAL_REQUIRED);
    }
    return this.publishNow(ctx, policyId, versionId, effectiveFrom);
  }

  /** Files a POLICY_PUBLISH approval request; approved (by a person or a rule), the version is published. */
  async requestPublish(ctx: RequestContext, input: { policyId: string; versionId: string | null; effectiveFrom: string | null; reason: string }) {
    if (input.effectiveFrom && !isIsoDate(input.effectiveFrom)) throw badInput('effectiveFrom', 'must be YYYY-MM-DD');
    if (!this.approvals) throw new Error('policy publish approvals are not configured');
    const policy = await this.require(ctx, input.policyId);
    const version = input.versionId
      ? await ctx.em.getRepository(PolicyVersion).findOneBy({ tenantId: ctx.tenantId, policyId: policy.id, id: input.versionId })
      : await ctx.em.getRepository(PolicyVersion).findOneBy({ tenantId: ctx.tenantId, policyId: policy.id, status: PolicyVersionStatus.DRAFT });
    if (!version) throw input.versionId ? notFound('Policy version', input.versionId, 'versionId') : badInput('versionId', 'this policy has no draft to publish', PolicyErrors.NO_DRAFT);
    const { problems } = await this.validate(ctx, version.definition);
    if (problems.length) throw badInput(problems[0].field, `cannot publish: ${problems[0].message}`, PolicyErrors.NOT_PUBLISHABLE);
    return this.approvals.request(ctx, { policyId: policy.id, versionId: version.id, effectiveFrom: input.effectiveFrom, reason: input.reason });
  }

  private async touchesStrategic(ctx: RequestContext, policyId: string): Promise<boolean> {
    const [row] = await ctx.em.query(
      `SELECT 1 FROM policy_assignments a WHERE a.tenant_id = $1 AND a.policy_id = $2 AND (
         a.scope = 'GLOBAL' OR (a.scope IN ('SEGMENT','TIER') AND upper(a.scope_value) = 'STRATEGIC')
         OR (a.scope = 'CUSTOMER' AND EXISTS (SELECT 1 FROM customers c WHERE c.tenant_id = a.tenant_id AND c.id::text = a.scope_value AND (upper(c.segment) = 'STRATEGIC' OR upper(c.tier) = 'STRATEGIC'))))
       LIMIT 1`,
      [ctx.tenantId, policyId],
    );
    return !!row;
  }

  /** Publishes without asking (the approval handler's path, and policies that touch no strategic account). */
  async publishNow(ctx: RequestContext, policyId: string, versionId: string | null, effectiveFrom: string | null) {
    const from = effectiveFrom ?? (await this.tenants.today(ctx));
    return inTransaction(ctx, async (tx) => {
      await this.require(tx, policyId);
      const repo = tx.em.getRepository(PolicyVersion);
      const version = versionId
        ? await repo.findOneBy({ tenantId: ctx.tenantId, policyId, id: versionId })
        : await repo.findOneBy({ tenantId: ctx.tenantId, policyId, status: PolicyVersionStatus.DRAFT });
      if (!version) throw versionId ? notFound('Policy version', versionId, 'versionId') : badInput('versionId', 'this policy has no draft to publish', PolicyErrors.NO_DRAFT);
      // Re-validate: templates may have changed since the draft was saved.
      const { problems } = await this.validate(tx, version.definition);
      if (problems.length) throw badInput(problems[0].field, `cannot publish: ${problems[0].message}`, PolicyErrors.NOT_PUBLISHABLE);
      await tx.em.query(`UPDATE dunning_policy_versions SET status = 'RETIRED', updated_at = now() WHERE policy_id = $1 AND status = 'PUBLISHED' AND id <> $2`, [policyId, version.id]);
      version.status = PolicyVersionStatus.PUBLISHED;
      await repo.save(version);
      await tx.em.query(`INSERT INTO dunning_policy_publications (tenant_id, policy_id, version_id, effective_from, published_by) VALUES ($1, $2, $3, $4, $5)`, [
        ctx.tenantId,
        policyId,
        version.id,
        from,
        ctx.actor.id,
      ]);
      await this.audit.record(tx, { action: 'dunning_policy.published', subjectType: 'DunningPolicy', subjectId: policyId, data: { version: version.version, effectiveFrom: from } });
      return { version, effectiveFrom: from };
    });
  }

  async assign(ctx: RequestContext, policyId: string, scope: AssignmentScope, value: string | null): Promise<PolicyAssignment> {
    const scopeValue = scope === AssignmentScope.GLOBAL ? '' : (value ?? '').trim();
    if (scope !== AssignmentScope.GLOBAL && !scopeValue) throw badInput('value', `a ${scope} assignment needs a value`);
    if (scope === AssignmentScope.COUNTRY && !/^[A-Z]{2}$/.test(scopeValue)) throw badInput('value', 'a country is an ISO 3166-1 alpha-2 code such as US');
    if (scope === AssignmentScope.CUSTOMER) {
      const ok = /^[0-9a-f-]{36}$/i.test(scopeValue) && (await ctx.em.query('SELECT 1 FROM customers WHERE tenant_id = $1 AND id = $2', [ctx.tenantId, scopeValue])).length > 0;
      if (!ok) throw badInput('value', `no customer ${scopeValue}`, PolicyErrors.UNKNOWN_SCOPE_VALUE);
    }
    return inTransaction(ctx, async (tx) => {
      await this.require(tx, policyId);
      await tx.em.query(
        `INSERT INTO policy_assignments (tenant_id, policy_id, scope, scope_value, created_by) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (tenant_id, scope, scope_value) DO UPDATE SET policy_id = EXCLUDED.policy_id, created_by = EXCLUDED.created_by, created_at = now()`,
        [ctx.tenantId, policyId, scope, scopeValue, ctx.actor.id],
      );
      await this.audit.record(tx, { action: 'dunning_policy.assigned', subjectType: 'DunningPolicy', subjectId: policyId, data: { scope, value: scopeValue } });
      return (await tx.em.getRepository(PolicyAssignment).findOneBy({ tenantId: ctx.tenantId, scope, scopeValue }))!;
    });
  }

  async unassign(ctx: RequestContext, scope: AssignmentScope, value: string | null): Promise<boolean> {
    const scopeValue = scope === AssignmentScope.GLOBAL ? '' : (value ?? '').trim();
    return inTransaction(ctx, async (tx) => {
      const [, n] = await tx.em.query('DELETE FROM policy_assignments WHERE tenant_id = $1 AND scope = $2 AND scope_value = $3', [ctx.tenantId, scope, scopeValue]);
      if (n) await this.audit.record(tx, { action: 'dunning_policy.unassigned', subjectType: 'PolicyAssignment', subjectId: `${scope}:${scopeValue}`, data: {} });
      return n > 0;
    });
  }

  list(ctx: RequestContext): Promise<DunningPolicy[]> {
    return ctx.em.getRepository(DunningPolicy).find({ where: { tenantId: ctx.tenantId }, order: { name: 'ASC' } });
  }

  async get(ctx: RequestContext, id: string): Promise<DunningPolicy | null> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
    return ctx.em.getRepository(DunningPolicy).findOneBy({ tenantId: ctx.tenantId, id });
  }

  async require(ctx: RequestContext, id: string): Promise<DunningPolicy> {
    const p = await this.get(ctx, id);
    if (!p) throw notFound('Dunning policy', id, 'policyId');
    return p;
  }

  versions(ctx: RequestContext, policyId: string): Promise<PolicyVersion[]> {
    return ctx.em.getRepository(PolicyVersion).find({ where: { tenantId: ctx.tenantId, policyId }, order: { version: 'DESC' } });
  }

  async version(ctx: RequestContext, versionId: string): Promise<PolicyVersion | null> {
    if (!/^[0-9a-f-]{36}$/i.test(versionId)) return null;
    return ctx.em.getRepository(PolicyVersion).findOneBy({ tenantId: ctx.tenantId, id: versionId });
  }

  assignments(ctx: RequestContext, policyId?: string): Promise<PolicyAssignment[]> {
    return ctx.em.getRepository(PolicyAssignment).find({ where: { tenantId: ctx.tenantId, ...(policyId ? { policyId } : {}) }, order: { scope: 'ASC', scopeValue: 'ASC' } });
  }

  /** Live version of each policy on a day: the latest publication in effect by then. */
  async liveVersions(ctx: RequestContext, asOf: IsoDate, policyIds?: string[]): Promise<Map<string, LiveVersion>> {
    const rows: { policy_id: string; name: string; version_id: string; version: number; definition: PolicyDefinition; effective_from: string }[] = await ctx.em.query(
      `SELECT DISTINCT ON (pub.policy_id) pub.policy_id, p.name, v.id AS version_id, v.version, v.definition, to_char(pub.effective_from, 'YYYY-MM-DD') AS effective_from
       FROM dunning_policy_publications pub
       JOIN dunning_policy_versions v ON v.id = pub.version_id
       JOIN dunning_policies p ON p.id = pub.policy_id
       WHERE pub.tenant_id = $1 AND pub.effective_from <= $2 ${policyIds ? 'AND pub.policy_id = ANY($3::uuid[])' : ''}
       ORDER BY pub.policy_id, pub.effective_from DESC, pub.published_at DESC`,
      policyIds ? [ctx.tenantId, asOf, policyIds] : [ctx.tenantId, asOf],
    );
    return new Map(
      rows.map((r) => [r.policy_id, { policyId: r.policy_id, policyName: r.name, versionId: r.version_id, version: r.version, definition: policyDefinitionSchema.parse(r.definition), effectiveFrom: r.effective_from }]),
    );
  }

  async book(ctx: RequestContext, asOf: IsoDate): Promise<PolicyBook> {
    const [assignments, live] = await Promise.all([this.assignments(ctx), this.liveVersions(ctx, asOf)]);
    const rows: AssignmentRow[] = assignments.filter((a) => live.has(a.policyId)).map((a) => ({ policyId: a.policyId, scope: a.scope, scopeValue: a.scopeValue }));
    return {
      asOf,
      assignments: rows,
      live,
      resolve(c) {
        const { winner, matched } = resolveAssignment(rows, c);
        if (!winner) return null;
        const others = matched.slice(1).map(describeAssignment);
        return {
          live: live.get(winner.policyId)!,
          assignment: winner,
          reason: `${describeAssignment(winner)} is the most specific assignment that matches${others.length ? ` (also matched: ${others.join(', ')})` : ''}`,
        };
      },
    };
  }

  async policiesByIds(ctx: RequestContext, ids: string[]): Promise<DunningPolicy[]> {
    return ctx.em.getRepository(DunningPolicy).findBy({ tenantId: ctx.tenantId, id: In(ids) });
  }
}
