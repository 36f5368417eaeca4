import { roleAtLeast, type Role } from '../../platform/auth/roles';
import { inTransaction, type RequestContext } from '../../platform/context';
import { isoDate } from '../../platform/db/sql';
import { badInput, notFound } from '../../platform/errors';
import { isIsoDate, type IsoDate } from '../../platform/time/dates';
import type { AuditService } from '../audit/audit.service';
import type { BehaviourService } from './behaviour.service';
import { DEFAULT_RULES, rulesSchema, segmentFor, type SegmentationRule } from './segmentation-rules';

export interface SegmentAssignment {
  customerId: string;
  segment: string | null;
  source: 'RULE' | 'OVERRIDE' | 'NONE';
  ruleName: string | null;
  reason: Record<string, unknown>;
  assignedOn: IsoDate;
  overrideUntil: IsoDate | null;
  overrideReason: string | null;
  overriddenBy: string | null;
}

export interface SegmentationOutcome {
  asOf: IsoDate;
  customers: number;
  changed: number;
  overridesKept: number;
  overridesExpired: number;
  bySegment: Record<string, number>;
}


/**
 * Segments customers from the tenant's ordered rules. The segment lands on `customers.segment`
 * (what policy assignment by segment reads), with its reason in `customer_segments`; the ERP's
 * own segment is kept as `base_segment` and restored when no rule matches any more. A manual
 * override sticks until its expiry, whatever the rules say. Every change is audited and the
 * customer is re-evaluated, so a policy assigned to the new segment follows.
 */
/** What segment overrides need from approvals (MANUAL_OVERRIDE rules; set by the composition root). */
export interface OverrideApprovals {
  /** The role that may override without asking, or null when no approval is needed. */
  requiredRole(ctx: RequestContext): Promise<Role | null>;
  request(ctx: RequestContext, input: SegmentOverrideInput): Promise<unknown>;
}
export interface SegmentOverrideInput {
  customerId: string;
  segment: string;
  until: IsoDate;
  reason: string;
  asOf: IsoDate;
}

export class SegmentationService {
  /** Set by the composition root: re-evaluates customers whose segment changed. */
  onCustomersChanged: (ctx: RequestContext, customerIds: string[]) => void = () => undefined;
  approvals: OverrideApprovals | null = null;

  constructor(
    private readonly audit: AuditService,
    private readonly behaviour: BehaviourService,
  ) {}

  async rules(ctx: RequestContext): Promise<{ rules: SegmentationRule[]; isDefault: boolean; updatedBy: string | null; updatedAt: Date | null }> {
    const [row] = await ctx.em.query(`SELECT rules, updated_by, updated_at FROM segmentation_rule_sets WHERE tenant_id = $1`, [ctx.tenantId]);
    if (!row) return { rules: DEFAULT_RULES, isDefault: true, updatedBy: null, updatedAt: null };
    return { rules: rulesSchema.parse(row.rules), isDefault: false, updatedBy: row.updated_by, updatedAt: row.updated_at };
  }

  async setRules(ctx: RequestContext, input: unknown): Promise<SegmentationRule[]> {
    const parsed = rulesSchema.safeParse(input);
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      throw badInput(['rules', ...i.path].join('.'), i.message, 'INVALID_SEGMENTATION_RULE');
    }
    return inTransaction(ctx, async (tx) => {
      const before = await this.rules(tx);
      await tx.em.query(
        `INSERT INTO segmentation_rule_sets (tenant_id, rules, updated_by) VALUES ($1, $2::jsonb, $3)
         ON CONFLICT (tenant_id) DO UPDATE SET rules = EXCLUDED.rules, updated_by = EXCLUDED.updated_by, updated_at = now()`,
        [ctx.tenantId, JSON.stringify(parsed.data), ctx.actor.id.slice(0, 64)],
      );
      await this.audit.record(tx, { action: 'segmentation.rules_set', subjectType: 'SegmentationRules', subjectId: ctx.tenantId, before: before.rules, after: parsed.data });
      return parsed.data;
    });
  }

  /**
   * Refreshes behaviour (unless told not to), then applies the rules to every customer (or the
   * given ones) as of `asOf`. Overrides still in force are kept; expired ones give way to the rules.
   */
  async run(ctx: RequestContext, asOf: IsoDate, opts: { customerIds?: string[]; refreshBehaviour?: boolean } = {}): Promise<SegmentationOutcome> {
    if (!isIsoDate(asOf)) throw badInput('asOf', 'must be YYYY-MM-DD');
    if (opts.refreshBehaviour !== false) await this.behaviour.refresh(ctx, asOf, opts.customerIds);
    const { rules } = await this.rules(ctx);
    const out: SegmentationOutcome = { asOf, customers: 0, changed: 0, overridesKept: 0, overridesExpired: 0, bySegment: {} };
    const ids: string[] = opts.customerIds ?? (await ctx.em.query(`SELECT id FROM customers WHERE tenant_id = $1 ORDER BY id`, [ctx.tenantId])).map((r: { id: string }) => r.id);
    const changedIds: string[] = [];
    for (let i = 0; i < ids.length; i += 1000) {
      const batch = ids.slice(i, i + 1000);
      await inTransaction(ctx, async (tx) => {
        const customers: { id: string; segment: string | null; tier: string | null; country: string | null; renewal_date: string | null }[] = await tx.em.query(
          `SELECT id, segment, tier, country, ${isoDate('renewal_date')} AS renewal_date FROM customers WHERE tenant_id = $1 AND id = ANY($2::uuid[]) ORDER BY id FOR UPDATE`,
          [ctx.tenantId, batch],
        );
        const current = await this.assignmentsFor(tx, batch);
        const behaviour = await this.behaviour.byCustomerIds(tx, batch);
        const upserts: unknown[] = [];
        const audits: Parameters<AuditService['record']>[1][] = [];
        const segmentChanges: { id: string; segment: string | null }[] = [];
        for (const c of customers) {
          out.customers++;
          const prev = current.get(c.id);
          if (prev?.source === 'OVERRIDE' && prev.overrideUntil && prev.overrideUntil >= asOf) {
            out.overridesKept++;
            out.bySegment[prev.segment ?? '(none)'] = (out.bySegment[prev.segment ?? '(none)'] ?? 0) + 1;
            continue;
          }
          const base = prev ? (prev.baseSegment ?? null) : c.segment;
          const d = segmentFor(rules, { customerId: c.id, tier: c.tier, country: c.country, renewalDate: c.renewal_date, behaviour: behaviour.get(c.id) ?? null }, asOf);
          const segment = d.segment ?? base;
          const source = d.segment ? 'RULE' : 'NONE';
          const reason = d.segment ? d.reason : { rule: 'no rule matched: the ERP segment applies', facts: { baseSegment: base } };
          out.bySegment[segment ?? '(none)'] = (out.bySegment[segment ?? '(none)'] ?? 0) + 1;
          const expired = prev?.source === 'OVERRIDE';
          if (expired) out.overridesExpired++;
          const sameAssignment = prev && prev.source === source && prev.segment === segment && prev.ruleName === d.ruleName;
          if (!sameAssignment || c.segment !== segment) {
            upserts.push({ customer_id: c.id, segment, source, rule_name: d.ruleName, reason, base_segment: base });
          }
          if (c.segment !== segment) {
            segmentChanges.push({ id: c.id, segment });
            audits.push({
              action: 'customer.segment_changed',
              subjectType: 'Customer',
              subjectId: c.id,
              before: { segment: c.segment },
              after: { segment },
              reason: expired ? `override expired on ${prev.overrideUntil}; ${reason.rule}` : reason.rule,
              data: { asOf, source, facts: reason.facts },
              actor: { kind: 'rule', id: d.ruleName ? `segmentation:${d.ruleName}` : 'segmentation' },
            });
          }
        }
        if (upserts.length) {
          await tx.em.query(
            `INSERT INTO customer_segments (tenant_id, customer_id, segment, source, rule_name, reason, base_segment, assigned_on, override_until, override_reason, overridden_by, updated_at)
             SELECT $1, r.customer_id, r.segment, r.source, r.rule_name, r.reason, r.base_segment, $2::date, NULL, NULL, NULL, now()
             FROM jsonb_to_recordset($3::jsonb) AS r(customer_id uuid, segment text, source text, rule_name text, reason jsonb, base_segment text)
             ON CONFLICT (tenant_id, customer_id) DO UPDATE SET segment = EXCLUDED.segment, source = EXCLUDED.source, rule_name = EXCLUDED.rule_name, reason = EXCLUDED.reason,
               assigned_on = EXCLUDED.assigned_on, override_until = NULL, override_reason = NULL, overridden_by = NULL, updated_at = now()`,
            [ctx.tenantId, asOf, JSON.stringify(upserts)],
          );
        }
        if (segmentChanges.length) {
          await tx.em.query(
            `UPDATE customers c SET segment = r.segment, updated_at = now() FROM jsonb_to_recordset($2::jsonb) AS r(id uuid, segment text) WHERE c.tenant_id = $1 AND c.id = r.id`,
            [ctx.tenantId, JSON.stringify(segmentChanges)],
          );
          await this.audit.record(tx, ...audits);
          out.changed += segmentChanges.length;
          changedIds.push(...segmentChanges.map((s) => s.id));
        }
      });
    }
    this.onCustomersChanged(ctx, changedIds);
    return out;
  }

  /** A person's choice that sticks until `until` (inclusive), with the reason, audited. */
  /**
   * A manual override under the tenant's MANUAL_OVERRIDE rule: whoever holds the rule's role
   * overrides at once (audited); anyone else is refused with APPROVAL_REQUIRED and asks with
   * `requestOverride`. The approval's handler applies it with `override(..., { approved: true })`.
   */
  async override(ctx: RequestContext, input: SegmentOverrideInput, opts: { approved?: boolean } = {}): Promise<SegmentAssignment> {
    this.checkOverride(input);
    if (!opts.approved && this.approvals && ctx.actor.kind === 'api_key') {
      const need = await this.approvals.requiredRole(ctx);
      if (need && !roleAtLeast(ctx.actor.role, need)) throw badInput('customerId', `a manual override needs ${need} or an approval: ask with requestSegmentOverride`, 'APPROVAL_REQUIRED');
    }
    return this.applyOverride(ctx, input);
  }

  /** Files a MANUAL_OVERRIDE approval request for a segment override (validated first; nothing changes until approved). */
  async requestOverride(ctx: RequestContext, input: SegmentOverrideInput): Promise<unknown> {
    this.checkOverride(input);
    if (!this.approvals) throw new Error('override approvals are not configured');
    const [c] = /^[0-9a-f-]{36}$/i.test(input.customerId) ? await ctx.em.query(`SELECT id FROM customers WHERE tenant_id = $1 AND id = $2`, [ctx.tenantId, input.customerId]) : [];
    if (!c) throw notFound('Customer', input.customerId, 'customerId');
    return this.approvals.request(ctx, { ...input, segment: input.segment.trim(), reason: input.reason.trim() });
  }

  private checkOverride(input: SegmentOverrideInput): void {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(input.segment.trim())) throw badInput('segment', 'a segment is 1-64 letters, digits, _ or -');
    if (!isIsoDate(input.until)) throw badInput('until', 'must be YYYY-MM-DD');
    if (input.until < input.asOf) throw badInput('until', `must not be before today (${input.asOf})`);
    if (!input.reason.trim()) throw badInput('reason', 'an override needs a reason');
  }

  private async applyOverride(ctx: RequestContext, input: SegmentOverrideInput): Promise<SegmentAssignment> {
    const segment = input.segment.trim();
    const reason = input.reason.trim();
    if (!/^[0-9a-f-]{36}$/i.test(input.customerId)) throw notFound('Customer', input.customerId, 'customerId');
    const result = await inTransaction(ctx, async (tx) => {
      const [c] = await tx.em.query(`SELECT id, segment FROM customers WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, [ctx.tenantId, input.customerId]);
      if (!c) throw notFound('Customer', input.customerId, 'customerId');
      const prev = (await this.assignmentsFor(tx, [c.id])).get(c.id);
      const base = prev ? prev.baseSegment : c.segment;
      await tx.em.query(
        `INSERT INTO customer_segments (tenant_id, customer_id, segment, source, rule_name, reason, base_segment, assigned_on, override_until, override_reason, overridden_by)
         VALUES ($1, $2, $3, 'OVERRIDE', NULL, $4::jsonb, $5, $6, $7, $8, $9)
         ON CONFLICT (tenant_id, customer_id) DO UPDATE SET segment = EXCLUDED.segment, source = 'OVERRIDE', rule_name = NULL, reason = EXCLUDED.reason, assigned_on = EXCLUDED.assigned_on,
           override_until = EXCLUDED.override_until, override_reason = EXCLUDED.override_reason, overridden_by = EXCLUDED.overridden_by, updated_at = now()`,
        [ctx.tenantId, c.id, segment, JSON.stringify({ rule: `manual override until ${input.until}`, facts: { by: ctx.actor.id, reason } }), base, input.asOf, input.until, reason, ctx.actor.id.slice(0, 64)],
      );
      if (c.segment !== segment) await tx.em.query(`UPDATE customers SET segment = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2`, [ctx.tenantId, c.id, segment]);
      await this.audit.record(tx, { action: 'customer.segment_overridden', subjectType: 'Customer', subjectId: c.id, before: { segment: c.segment }, after: { segment, until: input.until }, reason });
      return { changed: c.segment !== segment, row: (await this.assignmentsFor(tx, [c.id])).get(c.id)! };
    });
    if (result.changed) this.onCustomersChanged(ctx, [input.customerId]);
    return result.row;
  }

  async assignmentsFor(ctx: RequestContext, ids: readonly string[]): Promise<Map<string, SegmentAssignment & { baseSegment: string | null }>> {
    if (!ids.length) return new Map();
    const rows: { customer_id: string; segment: string | null; source: SegmentAssignment['source']; rule_name: string | null; reason: Record<string, unknown>; base_segment: string | null; assigned_on: string; override_until: string | null; override_reason: string | null; overridden_by: string | null }[] =
      await ctx.em.query(
        `SELECT customer_id, segment, source, rule_name, reason, base_segment, ${isoDate('assigned_on')} AS assigned_on, ${isoDate('override_until')} AS override_until, override_reason, overridden_by
         FROM customer_segments WHERE tenant_id = $1 AND customer_id = ANY($2::uuid[])`,
        [ctx.tenantId, [...ids]],
      );
    return new Map(
      rows.map((r) => [
        r.customer_id,
        { customerId: r.customer_id, segment: r.segment, source: r.source, ruleName: r.rule_name, reason: r.reason, baseSegment: r.base_segment, assignedOn: r.assigned_on, overrideUntil: r.override_until, overrideReason: r.override_reason, overriddenBy: r.overridden_by },
      ]),
    );
  }
}
