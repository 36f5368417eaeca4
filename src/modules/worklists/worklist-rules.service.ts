import { inTransaction, type RequestContext } from '../../platform/context';
import { badInput } from '../../platform/errors';
import type { AuditService } from '../audit/audit.service';
import { DEFAULT_SCORING, type ScoringRule } from './scoring';
import { WorklistErrors } from './worklist.errors';
import { AssignmentRuleKind } from './worklist.types';

export interface AssignmentRules {
  order: AssignmentRuleKind[];
  segmentOwners: { segment: string; userId: string }[];
  roundRobinUserIds: string[];
}

export interface StoredWorklistRules {
  scoring: ScoringRule;
  assignment: AssignmentRules;
  updatedBy: string | null;
  updatedAt: Date | null;
}

export const DEFAULT_ASSIGNMENT: AssignmentRules = {
  order: [AssignmentRuleKind.CUSTOMER_OWNER, AssignmentRuleKind.SEGMENT, AssignmentRuleKind.ROUND_ROBIN],
  segmentOwners: [],
  roundRobinUserIds: [],
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_POINTS = 10_000;

/** The tenant's scoring and assignment rules: defaults until a manager sets them. */
export class WorklistRulesService {
  constructor(private readonly audit: AuditService) {}

  async get(ctx: RequestContext): Promise<StoredWorklistRules> {
    const [row] = await ctx.em.query(`SELECT rules, updated_by, updated_at FROM worklist_rules WHERE tenant_id = $1`, [ctx.tenantId]);
    if (!row) return { scoring: DEFAULT_SCORING, assignment: DEFAULT_ASSIGNMENT, updatedBy: null, updatedAt: null };
    const r = row.rules as { scoring: ScoringRule; assignment: AssignmentRules };
    return { scoring: { ...DEFAULT_SCORING, ...r.scoring }, assignment: { ...DEFAULT_ASSIGNMENT, ...r.assignment }, updatedBy: row.updated_by, updatedAt: row.updated_at };
  }

  /** Validates everything first (naming the field), then replaces the rules in one statement. */
  async set(ctx: RequestContext, input: { scoring: ScoringRule; assignment: AssignmentRules }): Promise<StoredWorklistRules> {
    const scoring = validateScoring(input.scoring);
    return inTransaction(ctx, async (tx) => {
      const assignment = await this.validateAssignment(tx, input.assignment);
      const before = await this.get(tx);
      const rules = { scoring, assignment };
      await tx.em.query(
        `INSERT INTO worklist_rules (tenant_id, rules, updated_by) VALUES ($1, $2, $3)
         ON CONFLICT (tenant_id) DO UPDATE SET rules = EXCLUDED.rules, updated_by = EXCLUDED.updated_by, updated_at = now()`,
        [ctx.tenantId, JSON.stringify(rules), ctx.actor.id],
      );
      await this.audit.record(tx, { action: 'worklist_rules.set', subjectType: 'Tenant', subjectId: ctx.tenantId, before: { scoring: before.scoring, assignment: before.assignment }, after: rules });
      return this.get(tx);
    });
  }

  /** The next position of the tenant's round robin (atomic: concurrent task creations never share one). */
  async nextRoundRobin(ctx: RequestContext): Promise<number> {
    const [row] = await ctx.em.query(
      `INSERT INTO worklist_rules (tenant_id, rules, updated_by, round_robin_seq) VALUES ($1, $2, 'system', 1)
       ON CONFLICT (tenant_id) DO UPDATE SET round_robin_seq = worklist_rules.round_robin_seq + 1 RETURNING round_robin_seq`,
      [ctx.tenantId, JSON.stringify({ scoring: DEFAULT_SCORING, assignment: DEFAULT_ASSIGNMENT })],
    );
    return Number(row.round_robin_seq);
  }

  private async validateAssignment(ctx: RequestContext, a: AssignmentRules): Promise<AssignmentRules> {
    if (!a.order.length) throw badInput('assignment.order', 'name at least one assignment rule', WorklistErrors.INVALID_RULES);
    if (new Set(a.order).size !== a.order.length) throw badInput('assignment.order', 'each rule may appear once', WorklistErrors.INVALID_RULES);
    const segments = new Set<string>();
    a.segmentOwners.forEach((s, i) => {
      const seg = s.segment.trim();
      if (!seg) throw badInput(`assignment.segmentOwners.${i}.segment`, 'must not be empty', WorklistErrors.INVALID_RULES);
      if (segments.has(seg.toLowerCase())) throw badInput(`assignment.segmentOwners.${i}.segment`, `segment ${seg} is listed twice`, WorklistErrors.INVALID_RULES);
      segments.add(seg.toLowerCase());
    });
    const ids = [...a.segmentOwners.map((s) => s.userId), ...a.roundRobinUserIds];
    const bad = (id: string) => {
      const i = a.segmentOwners.findIndex((s) => s.userId === id);
      return i >= 0 ? `assignment.segmentOwners.${i}.userId` : `assignment.roundRobinUserIds.${a.roundRobinUserIds.indexOf(id)}`;
    };
    const malformed = ids.find((id) => !UUID.test(id));
    if (malformed) throw badInput(bad(malformed), `${malformed} is not a user id`, WorklistErrors.UNKNOWN_USER);
    if (new Set(a.roundRobinUserIds).size !== a.roundRobinUserIds.length) throw badInput('assignment.roundRobinUserIds', 'each user may appear once', WorklistErrors.INVALID_RULES);
    const rows: { id: string }[] = ids.length ? await ctx.em.query(`SELECT id FROM users WHERE tenant_id = $1 AND active AND id = ANY($2::uuid[])`, [ctx.tenantId, ids]) : [];
    const known = new Set(rows.map((r) => r.id));
    const unknown = ids.find((id) => !known.has(id));
    if (unknown) throw badInput(bad(unknown), `no active user ${unknown} in this tenant`, WorklistErrors.UNKNOWN_USER);
    return { order: a.order, segmentOwners: a.segmentOwners.map((s) => ({ segment: s.segment.trim(), userId: s.userId })), roundRobinUserIds: a.roundRobinUserIds };
  }
}

function validateScoring(s: ScoringRule): ScoringRule {
  const points = (field: string, v: number) => {
    if (!Number.isFinite(v) || Math.abs(v) > MAX_POINTS) throw badInput(`scoring.${field}`, `must be a number between -${MAX_POINTS} and ${MAX_POINTS}`, WorklistErrors.INVALID_WEIGHT);
    return v;
  };
  const days = (field: string, v: number) => {
    if (!Number.isInteger(v) || v < 0 || v > 3650) throw badInput(`scoring.${field}`, 'must be a whole number of days, 0 to 3650', WorklistErrors.INVALID_WEIGHT);
    return v;
  };
  const named = <T extends { points: number }>(list: T[], field: string, key: keyof T) => {
    const seen = new Set<string>();
    return list.map((e, i) => {
      const name = String(e[key]).trim();
      if (!name) throw badInput(`scoring.${field}.${i}.${String(key)}`, 'must not be empty', WorklistErrors.INVALID_RULES);
      if (seen.has(name.toLowerCase())) throw badInput(`scoring.${field}.${i}.${String(key)}`, `${name} is listed twice`, WorklistErrors.INVALID_RULES);
      seen.add(name.toLowerCase());
      return { ...e, [key]: name, points: points(`${field}.${i}.points`, e.points) };
    });
  };
  return {
    daysPastDue: { pointsPerDay: points('daysPastDue.pointsPerDay', s.daysPastDue.pointsPerDay), maxDays: days('daysPastDue.maxDays', s.daysPastDue.maxDays) },
    openAmount: { pointsPerTenfold: points('openAmount.pointsPerTenfold', s.openAmount.pointsPerTenfold) },
    segments: named(s.segments, 'segments', 'segment'),
    customerTiers: named(s.customerTiers, 'customerTiers', 'tier'),
    escalationTier: { pointsPerLevel: points('escalationTier.pointsPerLevel', s.escalationTier.pointsPerLevel) },
    slaBreach: { points: points('slaBreach.points', s.slaBreach.points), pointsPerDayLate: points('slaBreach.pointsPerDayLate', s.slaBreach.pointsPerDayLate) },
    recentPayment: { points: points('recentPayment.points', s.recentPayment.points), withinDays: days('recentPayment.withinDays', s.recentPayment.withinDays) },
    recentActivity: { points: points('recentActivity.points', s.recentActivity.points), withinDays: days('recentActivity.withinDays', s.recentActivity.withinDays) },
    reasons: named(s.reasons, 'reasons', 'reasonCode'),
  };
}
