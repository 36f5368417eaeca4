import { inTransaction, type RequestContext } from '../../platform/context';
import { isoDate } from '../../platform/db/sql';
import { badInput, notFound } from '../../platform/errors';
import { isIsoDate, type IsoDate } from '../../platform/time/dates';
import type { AuditService } from '../audit/audit.service';
import type { PolicyDefinition } from '../policies/policy-definition';
import type { PolicyService } from '../policies/policy.service';
import { quantile, wilson } from './behaviour-stats';
import type { BehaviourService, CustomerBehaviourRow } from './behaviour.service';

export type RecommendationKind = 'START_AT_STEP' | 'PERSONAL_OUTREACH' | 'STEP_TIMING';

export interface RecommendationDraft {
  key: string;
  kind: RecommendationKind;
  customerId: string | null;
  policyId: string;
  title: string;
  evidence: Record<string, unknown>;
  /** The definition a policy draft would get, and why. */
  proposal: { definition: PolicyDefinition; basedOnVersionId: string; change: string };
}

export interface Recommendation extends RecommendationDraft {
  id: string;
  status: 'OPEN' | 'APPLIED' | 'STALE';
  generatedOn: IsoDate;
  appliedPolicyId: string | null;
  appliedVersionId: string | null;
  createdAt: Date;
}

/** Thresholds, stated once. */
export const START_AT_STEP_MIN_INVOICES = 4;
export const START_AT_STEP_MIN_SHARE = 0.75;
export const PERSONAL_MIN_INVOICES = 3;
export const PERSONAL_MIN_MEDIAN_DAYS_LATE = 21;
export const TIMING_MIN_TOUCHES = 30;
export const TIMING_RESPONSE_DAYS = 7;

interface PolicyPick {
  policyId: string;
  policyName: string;
  versionId: string;
  definition: PolicyDefinition;
}

/** "Pays after step N": most paid invoices had step N as the last reminder before payment; earlier steps are noise for them. */
export function startAtStep(customer: { id: string; name: string }, b: CustomerBehaviourRow, p: PolicyPick): RecommendationDraft | null {
  if (b.paidInvoices < START_AT_STEP_MIN_INVOICES) return null;
  const top = b.paidAfterStep[0];
  if (!top || top.step === 'NONE' || top.share < START_AT_STEP_MIN_SHARE) return null;
  const idx = p.definition.steps.findIndex((s) => s.key === top.step);
  if (idx <= 0) return null;
  const skipped = p.definition.steps.slice(0, idx);
  return {
    key: `START_AT_STEP:${customer.id}:${p.versionId}:${top.step}`,
    kind: 'START_AT_STEP',
    customerId: customer.id,
    policyId: p.policyId,
    title: `${customer.name} pays after "${top.step}": start there and skip ${skipped.length} earlier reminder${skipped.length > 1 ? 's' : ''}`,
    evidence: {
      paidInvoices: b.paidInvoices,
      paidAfterStep: b.paidAfterStep,
      share: top.share,
      interval95: wilson(top.invoices, b.paidInvoices),
      daysLateMedian: b.daysLate.median,
      skippedSteps: skipped.map((s) => ({ key: s.key, offsetDays: s.offsetDays })),
    },
    proposal: { definition: { ...p.definition, steps: p.definition.steps.slice(idx) }, basedOnVersionId: p.versionId, change: `steps before "${top.step}" removed` },
  };
}

/** Chronically very late on a large account, automation not converting: a person should call. */
export function personalOutreach(customer: { id: string; name: string }, b: CustomerBehaviourRow, p: PolicyPick, invoicedP75: bigint): RecommendationDraft | null {
  if (b.paidInvoices < PERSONAL_MIN_INVOICES || (b.daysLate.median ?? 0) < PERSONAL_MIN_MEDIAN_DAYS_LATE) return null;
  if (b.invoiced365Minor < invoicedP75 || b.invoiced365Minor === 0n) return null;
  const lastSteps = new Set(p.definition.steps.filter((s) => s.offsetDays >= PERSONAL_MIN_MEDIAN_DAYS_LATE).map((s) => s.key));
  const afterLate = b.paidAfterStep.filter((s) => lastSteps.has(s.step)).reduce((n, s) => n + s.invoices, 0);
  const steps = p.definition.steps.map((s) => (s.offsetDays > 0 && !s.channels.includes('CALL_TASK') ? { ...s, channels: [...s.channels, 'CALL_TASK' as const] } : s));
  return {
    key: `PERSONAL_OUTREACH:${customer.id}:${p.versionId}`,
    kind: 'PERSONAL_OUTREACH',
    customerId: customer.id,
    policyId: p.policyId,
    title: `${customer.name}: personal outreach instead of automation (median ${b.daysLate.median} days late)`,
    evidence: {
      paidInvoices: b.paidInvoices,
      daysLate: b.daysLate,
      paidOnlyAfterLateSteps: afterLate,
      paidAfterStep: b.paidAfterStep,
      promiseKeptRate: b.promiseKeptRate,
      invoicedLast365Minor: b.invoiced365Minor.toString(),
      tenantInvoicedP75Minor: invoicedP75.toString(),
      openBalanceMinor: b.openBalanceMinor.toString(),
      currency: b.currency,
      trend: b.trend,
    },
    proposal: { definition: { ...p.definition, steps }, basedOnVersionId: p.versionId, change: 'a call task added to every overdue step' },
  };
}

export interface StepConversion {
  step: string;
  offsetDays: number;
  touches: number;
  paidWithin: number;
}

/** The step that converts worst (95% intervals apart from the best) moves halfway toward the best one's timing. */
export function stepTiming(p: PolicyPick, conv: StepConversion[]): RecommendationDraft | null {
  const rated = conv
    .filter((c) => c.touches >= TIMING_MIN_TOUCHES && p.definition.steps.some((s) => s.key === c.step))
    .map((c) => ({ ...c, ci: wilson(c.paidWithin, c.touches)! }))
    .sort((a, b) => a.ci.rate - b.ci.rate);
  if (rated.length < 2) return null;
  const worst = rated[0];
  const best = rated[rated.length - 1];
  if (worst.ci.high >= best.ci.low) return null;
  const steps = p.definition.steps;
  const i = steps.findIndex((s) => s.key === worst.step);
  const target = Math.round((steps[i].offsetDays + best.offsetDays) / 2);
  const lo = i > 0 ? steps[i - 1].offsetDays + 1 : -90;
  const hi = i < steps.length - 1 ? steps[i + 1].offsetDays - 1 : 365;
  const moved = Math.min(hi, Math.max(lo, target));
  if (moved === steps[i].offsetDays) return null;
  return {
    key: `STEP_TIMING:${p.versionId}:${worst.step}:${moved}`,
    kind: 'STEP_TIMING',
    customerId: null,
    policyId: p.policyId,
    title: `"${worst.step}" converts ${(100 * worst.ci.rate).toFixed(0)}% within ${TIMING_RESPONSE_DAYS} days vs ${(100 * best.ci.rate).toFixed(0)}% for "${best.step}": move it from ${steps[i].offsetDays} to ${moved} days`,
    evidence: {
      responseDays: TIMING_RESPONSE_DAYS,
      steps: rated.map((r) => ({ step: r.step, offsetDays: r.offsetDays, touches: r.touches, paidWithin: r.paidWithin, rate: r.ci.rate, interval95: [r.ci.low, r.ci.high] })),
      note: 'observational: backtest the draft before publishing it',
    },
    proposal: { definition: { ...p.definition, steps: steps.map((s, k) => (k === i ? { ...s, offsetDays: moved } : s)) }, basedOnVersionId: p.versionId, change: `"${worst.step}" moved from ${steps[i].offsetDays} to ${moved} days` },
  };
}


/**
 * Recommendations with their evidence, regenerated from stored behaviour and the reminder
 * history; applying one creates a policy DRAFT through PolicyService, never a live change.
 */
export class RecommendationService {
  constructor(
    private readonly audit: AuditService,
    private readonly policies: PolicyService,
    private readonly behaviour: BehaviourService,
  ) {}

  async generate(ctx: RequestContext, asOf: IsoDate): Promise<Recommendation[]> {
    if (!isIsoDate(asOf)) throw badInput('asOf', 'must be YYYY-MM-DD');
    const book = await this.policies.book(ctx, asOf);
    const drafts: RecommendationDraft[] = [];
    const customers: { id: string; name: string; segment: string | null; tier: string | null; country: string | null }[] = await ctx.em.query(
      `SELECT c.id, c.name, c.segment, c.tier, c.country FROM customers c JOIN customer_behaviour b ON b.tenant_id = c.tenant_id AND b.customer_id = c.id WHERE c.tenant_id = $1 ORDER BY c.id`,
      [ctx.tenantId],
    );
    for (let i = 0; i < customers.length; i += 1000) {
      const batch = customers.slice(i, i + 1000);
      const rows = await this.behaviour.byCustomerIds(ctx, batch.map((c) => c.id));
      const invoiced = [...rows.values()].filter((r) => r.invoiced365Minor > 0n).map((r) => Number(r.invoiced365Minor));
      const p75 = BigInt(Math.round(quantile(invoiced, 0.75) ?? 0));
      for (const c of batch) {
        const b = rows.get(c.id);
        const pick = book.resolve(c);
        if (!b || !pick) continue;
        const p = { policyId: pick.live.policyId, policyName: pick.live.policyName, versionId: pick.live.versionId, definition: pick.live.definition };
        const r1 = startAtStep(c, b, p);
        if (r1) drafts.push(r1);
        const r2 = personalOutreach(c, b, p, p75);
        if (r2) drafts.push(r2);
      }
    }
    for (const live of book.live.values()) {
      const conv: StepConversion[] = (
        await ctx.em.query(
          `SELECT a.step_key AS step, min(a.step_offset)::int AS offset_days, count(*)::int AS touches,
                  (count(*) FILTER (WHERE i.closed_on IS NOT NULL AND i.status = 'PAID' AND i.closed_on - a.scheduled_for BETWEEN 0 AND $4))::int AS paid_within
           FROM actions a JOIN invoices i ON i.id = a.invoice_id
           WHERE a.tenant_id = $1 AND a.policy_version_id = $2 AND a.kind = 'STEP' AND a.status = 'SENT' AND a.scheduled_for > $3::date - 365 AND a.scheduled_for <= $3::date - $4
           GROUP BY a.step_key`,
          [ctx.tenantId, live.versionId, asOf, TIMING_RESPONSE_DAYS],
        )
      ).map((r: { step: string; offset_days: number; touches: number; paid_within: number }) => ({ step: r.step, offsetDays: r.offset_days, touches: r.touches, paidWithin: r.paid_within }));
      const r3 = stepTiming({ policyId: live.policyId, policyName: live.policyName, versionId: live.versionId, definition: live.definition }, conv);
      if (r3) drafts.push(r3);
    }
    await inTransaction(ctx, async (tx) => {
      if (drafts.length) {
        await tx.em.query(
          `INSERT INTO recommendations (tenant_id, key, kind, customer_id, policy_id, title, evidence, proposal, status, generated_on)
           SELECT $1, r.key, r.kind, r.customer_id, r.policy_id, r.title, r.evidence, r.proposal, 'OPEN', $2::date
           FROM jsonb_to_recordset($3::jsonb) AS r(key text, kind text, customer_id uuid, policy_id uuid, title text, evidence jsonb, proposal jsonb)
           ON CONFLICT (tenant_id, key) DO UPDATE SET title = EXCLUDED.title, evidence = EXCLUDED.evidence, proposal = EXCLUDED.proposal, generated_on = EXCLUDED.generated_on,
             status = CASE WHEN recommendations.status = 'APPLIED' THEN 'APPLIED' ELSE 'OPEN' END, updated_at = now()`,
          [ctx.tenantId, asOf, JSON.stringify(drafts.map((d) => ({ key: d.key, kind: d.kind, customer_id: d.customerId, policy_id: d.policyId, title: d.title.slice(0, 500), evidence: d.evidence, proposal: d.proposal })))],
        );
      }
      // What history no longer supports goes stale (kept, with its evidence, for the record).
      await tx.em.query(`UPDATE recommendations SET status = 'STALE', updated_at = now() WHERE tenant_id = $1 AND status = 'OPEN' AND generated_on < $2::date`, [ctx.tenantId, asOf]);
      await tx.em.query(`UPDATE recommendations SET status = 'STALE', updated_at = now() WHERE tenant_id = $1 AND status = 'OPEN' AND NOT (key = ANY($2::text[]))`, [ctx.tenantId, drafts.map((d) => d.key)]);
    });
    return this.list(ctx, { status: 'OPEN' });
  }

  async list(ctx: RequestContext, opts: { status?: string | null; kind?: string | null; customerId?: string | null; id?: string; limit?: number } = {}): Promise<Recommendation[]> {
    const params: unknown[] = [ctx.tenantId];
    const where: string[] = ['tenant_id = $1'];
    const add = (sql: string, v: unknown) => {
      params.push(v);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (opts.id) add('id = ?', opts.id);
    if (opts.status) add('status = ?', opts.status);
    if (opts.kind) add('kind = ?', opts.kind);
    if (opts.customerId) add('customer_id = ?', opts.customerId);
    params.push(Math.min(opts.limit ?? 100, 500));
    const rows: {
      id: string;
      key: string;
      kind: RecommendationKind;
      customer_id: string | null;
      policy_id: string;
      title: string;
      evidence: Record<string, unknown>;
      proposal: RecommendationDraft['proposal'];
      status: Recommendation['status'];
      generated_on: string;
      applied_policy_id: string | null;
      applied_version_id: string | null;
      created_at: Date;
    }[] = await ctx.em.query(
      `SELECT id, key, kind, customer_id, policy_id, title, evidence, proposal, status, ${isoDate('generated_on')} AS generated_on, applied_policy_id, applied_version_id, created_at
       FROM recommendations WHERE ${where.join(' AND ')} ORDER BY created_at DESC, key LIMIT $${params.length}`,
      params,
    );
    return rows.map((r) => ({
      id: r.id,
      key: r.key,
      kind: r.kind,
      customerId: r.customer_id,
      policyId: r.policy_id,
      title: r.title,
      evidence: r.evidence,
      proposal: r.proposal,
      status: r.status,
      generatedOn: r.generated_on,
      appliedPolicyId: r.applied_policy_id,
      appliedVersionId: r.applied_version_id,
      createdAt: r.created_at,
    }));
  }

  /** Creates a policy draft with the proposed definition; nothing is published or assigned. */
  async apply(ctx: RequestContext, id: string) {
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw notFound('Recommendation', id, 'id');
    return inTransaction(ctx, async (tx) => {
      const [rec] = await this.list(tx, { id, limit: 1 });
      if (!rec) throw notFound('Recommendation', id, 'id');
      if (rec.status === 'APPLIED') throw badInput('id', `recommendation already applied as policy ${rec.appliedPolicyId}`, 'ALREADY_APPLIED');
      const name = `${rec.kind.toLowerCase().replace(/_/g, '-')}: ${rec.title}`.slice(0, 180) + ` #${rec.id.slice(0, 8)}`;
      const created = await this.policies.create(tx, { name, description: `From recommendation ${rec.id} (${rec.proposal.change}), generated ${rec.generatedOn}. A draft: backtest, publish and assign it yourself.`, definition: rec.proposal.definition });
      if (!created.policy || !created.version) throw badInput(created.problems[0]?.field ?? 'id', created.problems[0]?.message ?? 'the proposal is not a valid policy any more', 'PROPOSAL_INVALID');
      await tx.em.query(`UPDATE recommendations SET status = 'APPLIED', applied_policy_id = $2, applied_version_id = $3, applied_by = $4, applied_at = now(), updated_at = now() WHERE id = $1`, [
        rec.id,
        created.policy.id,
        created.version.id,
        ctx.actor.id.slice(0, 64),
      ]);
      await this.audit.record(tx, { action: 'recommendation.applied', subjectType: 'Recommendation', subjectId: rec.id, data: { kind: rec.kind, policyId: created.policy.id, versionId: created.version.id, change: rec.proposal.change } });
      const [after] = await this.list(tx, { id, limit: 1 });
      return { recommendation: after, policy: created.policy, version: created.version };
    });
  }
}

