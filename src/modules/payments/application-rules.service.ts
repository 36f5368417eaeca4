import { z } from 'zod';
import { inTransaction, type RequestContext } from '../../platform/context';
import { badInput } from '../../platform/errors';
import type { AuditService } from '../audit/audit.service';
import type { LegalEntityService } from '../legal-entities/legal-entity.service';
import { DEFAULT_RULES, StrategyKind, type StrategyRule } from './allocation-strategies';
import type { PaymentHookRegistry } from './payment-hooks';
import { PaymentErrors } from './payment.errors';

export interface ApplicationRules {
  entityId: string | null;
  strategies: StrategyRule[];
  beforeHooks: string[];
  afterHooks: string[];
  /** False when no rules were saved for this scope and the defaults apply. */
  configured: boolean;
}

const ruleSchema = z.array(z.object({ kind: z.enum(StrategyKind), hook: z.string().nullish() })).min(1).max(10);

/** The ordered matching strategies per tenant, overridable per legal entity. */
export class ApplicationRulesService {
  constructor(
    private readonly entities: LegalEntityService,
    private readonly hooks: PaymentHookRegistry,
    private readonly audit: AuditService,
  ) {}

  /** Every saved rule set of the tenant: entity id (or '' for the tenant default) -> rules. */
  async all(ctx: RequestContext): Promise<Map<string, ApplicationRules>> {
    const rows: { entity_id: string | null; strategies: StrategyRule[]; before_hooks: string[]; after_hooks: string[] }[] = await ctx.em.query(
      `SELECT entity_id, strategies, before_hooks, after_hooks FROM payment_application_rules WHERE tenant_id = $1`,
      [ctx.tenantId],
    );
    return new Map(rows.map((r) => [r.entity_id ?? '', { entityId: r.entity_id, strategies: r.strategies, beforeHooks: r.before_hooks, afterHooks: r.after_hooks, configured: true }]));
  }

  static pick(all: Map<string, ApplicationRules>, entityId: string | null): ApplicationRules {
    return (entityId ? all.get(entityId) : undefined) ?? all.get('') ?? { entityId: null, strategies: DEFAULT_RULES, beforeHooks: [], afterHooks: [], configured: false };
  }

  async get(ctx: RequestContext, entityCode: string | null): Promise<ApplicationRules> {
    const entityId = entityCode ? await this.entityId(ctx, entityCode) : null;
    const r = ApplicationRulesService.pick(await this.all(ctx), entityId);
    return entityId && r.entityId !== entityId ? { ...r, entityId: r.entityId } : r;
  }

  async set(ctx: RequestContext, input: { entityCode?: string | null; strategies: StrategyRule[]; beforeHooks?: string[] | null; afterHooks?: string[] | null }): Promise<ApplicationRules> {
    const parsed = ruleSchema.safeParse(input.strategies);
    if (!parsed.success) throw badInput('strategies', 'give 1 to 10 strategies', PaymentErrors.INVALID_RULES);
    const seen = new Set<string>();
    input.strategies.forEach((s, i) => {
      if (s.kind === StrategyKind.CUSTOM) {
        if (!s.hook) throw badInput(`strategies.${i}.hook`, 'a CUSTOM strategy names its registered hook', PaymentErrors.REQUIRED);
        if (!this.hooks.has('strategy', s.hook)) throw badInput(`strategies.${i}.hook`, `no payment strategy hook named "${s.hook}" is registered`, PaymentErrors.UNKNOWN_HOOK);
      } else if (s.hook) throw badInput(`strategies.${i}.hook`, 'only CUSTOM strategies take a hook', PaymentErrors.INVALID_RULES);
      const key = `${s.kind}:${s.hook ?? ''}`;
      if (seen.has(key)) throw badInput(`strategies.${i}.kind`, 'appears twice', PaymentErrors.INVALID_RULES);
      seen.add(key);
    });
    for (const [field, kind, names] of [['beforeHooks', 'before', input.beforeHooks ?? []], ['afterHooks', 'after', input.afterHooks ?? []]] as const) {
      names.forEach((n, i) => {
        if (!this.hooks.has(kind, n)) throw badInput(`${field}.${i}`, `no ${kind}-application hook named "${n}" is registered`, PaymentErrors.UNKNOWN_HOOK);
      });
    }
    const entityId = input.entityCode ? await this.entityId(ctx, input.entityCode) : null;
    const strategies = input.strategies.map((s) => ({ kind: s.kind, ...(s.hook ? { hook: s.hook } : {}) }));
    await inTransaction(ctx, async (tx) => {
      await tx.em.query(
        `INSERT INTO payment_application_rules (tenant_id, entity_id, strategies, before_hooks, after_hooks, updated_by) VALUES ($1, $2, $3::jsonb, $4, $5, $6)
         ON CONFLICT (tenant_id, COALESCE(entity_id, '00000000-0000-0000-0000-000000000000'::uuid))
         DO UPDATE SET strategies = EXCLUDED.strategies, before_hooks = EXCLUDED.before_hooks, after_hooks = EXCLUDED.after_hooks, updated_by = EXCLUDED.updated_by, updated_at = now()`,
        [ctx.tenantId, entityId, JSON.stringify(strategies), input.beforeHooks ?? [], input.afterHooks ?? [], ctx.actor.id],
      );
      await this.audit.record(tx, { action: 'payment_rules.set', subjectType: 'Tenant', subjectId: ctx.tenantId, data: { entityId, strategies, beforeHooks: input.beforeHooks ?? [], afterHooks: input.afterHooks ?? [] } });
    });
    return { entityId, strategies, beforeHooks: input.beforeHooks ?? [], afterHooks: input.afterHooks ?? [], configured: true };
  }

  private async entityId(ctx: RequestContext, code: string): Promise<string> {
    const [e] = await this.entities.byCodes(ctx, [code]);
    if (!e) throw badInput('entityCode', `no legal entity with code ${code}`, PaymentErrors.UNKNOWN_ENTITY);
    return e.id;
  }
}
