import type { RequestContext } from '../../platform/context';
import type { FieldProblem } from '../../platform/errors';
import type { IsoDate } from '../../platform/time/dates';
import type { PolicyDefinition } from '../policies/policy-definition';
import type { LiveVersion, PolicyService } from '../policies/policy.service';
import { resolveAssignment } from '../policies/policy-resolution';
import { evaluateCustomer } from './engine';
import type { Decision } from './engine.types';
import { EVALUATION_BATCH, type EvaluationService } from './evaluation.service';
import { loadSnapshots, type LoadedCustomer } from './snapshot-loader';

export interface PreviewItem {
  customerId: string;
  invoiceId: string | null;
  decision: string;
  channels: string[];
  mode: string;
  rule: string;
  facts: Record<string, unknown>;
  liveDecision: string | null;
}

export interface PreviewResult {
  asOf: IsoDate;
  customersEvaluated: number;
  invoicesEvaluated: number;
  candidate: Record<string, number>;
  live: Record<string, number>;
  items: PreviewItem[];
  truncated: boolean;
  problems: FieldProblem[];
}

const label = (d: Decision) => (d.kind === 'STEP' ? `step:${d.step.key}` : `tier:${d.tier}:${d.action.type}`);

/**
 * What a draft or version would do to the real book on a day, without writing anything,
 * side by side with what the live policies do. A policy that is assigned applies to its
 * customers; one that is not yet assigned is previewed over every customer.
 */
export class PreviewService {
  constructor(
    private readonly policies: PolicyService,
    private readonly evaluation: EvaluationService,
  ) {}

  async preview(ctx: RequestContext, input: { policyId: string; versionId?: string | null; definition?: unknown; asOf: IsoDate; limit: number }): Promise<PreviewResult> {
    const empty: PreviewResult = { asOf: input.asOf, customersEvaluated: 0, invoicesEvaluated: 0, candidate: {}, live: {}, items: [], truncated: false, problems: [] };
    await this.policies.require(ctx, input.policyId);
    let def: PolicyDefinition;
    let ref: { id: string; version: number };
    if (input.definition !== undefined && input.definition !== null) {
      const v = await this.policies.validate(ctx, input.definition);
      if (!v.def) return { ...empty, problems: v.problems };
      def = v.def;
      // An unsaved definition has no version id yet: the nil uuid never matches a stored action.
      ref = { id: '00000000-0000-0000-0000-000000000000', version: 0 };
    } else {
      const versions = await this.policies.versions(ctx, input.policyId);
      const chosen = input.versionId ? versions.find((v) => v.id === input.versionId) : versions[0];
      if (!chosen) return { ...empty, problems: [{ field: 'versionId', code: 'NOT_FOUND', message: 'no such version of this policy' }] };
      def = chosen.definition;
      ref = { id: chosen.id, version: chosen.version };
    }
    const book = await this.policies.book(ctx, input.asOf);
    const allAssignments = await this.policies.assignments(ctx);
    const assigned = allAssignments.some((a) => a.policyId === input.policyId);
    const versionIds = [...book.live.values()].map((l) => l.versionId);
    const result = { ...empty };
    for (const ids of await this.evaluation.customerBatches(ctx, EVALUATION_BATCH)) {
      const snaps = await loadSnapshots(ctx, ids, input.asOf, [...versionIds, ref.id]);
      for (const snap of snaps) {
        const livePick = book.resolve(snap);
        if (assigned && resolveAssignment(allAssignments, snap).winner?.policyId !== input.policyId) continue;
        result.customersEvaluated++;
        result.invoicesEvaluated += snap.invoices.length;
        const cand = evaluateCustomer({ ...snap, currentTier: 0, existingKeys: snap.keys, lastStepOffset: snap.lastStepOffset }, { ref, def }, input.asOf);
        const live = livePick ? this.liveEvaluation(snap, livePick.live, input.asOf) : [];
        for (const d of cand.decisions) result.candidate[label(d)] = (result.candidate[label(d)] ?? 0) + 1;
        for (const s of cand.suppressions) result.candidate[`suppressed:${s.code}`] = (result.candidate[`suppressed:${s.code}`] ?? 0) + 1;
        for (const d of live) result.live[label(d)] = (result.live[label(d)] ?? 0) + 1;
        for (const d of cand.decisions) {
          if (result.items.length >= input.limit) {
            result.truncated = true;
            continue;
          }
          const invoiceId = d.kind === 'STEP' ? d.invoiceId : null;
          const liveSame = live.find((l) => (l.kind === 'STEP' ? l.invoiceId === invoiceId : invoiceId === null));
          result.items.push({
            customerId: snap.id,
            invoiceId,
            decision: label(d),
            channels: d.kind === 'STEP' ? d.channels : [],
            mode: d.mode,
            rule: d.reason.rule,
            facts: d.reason.facts,
            liveDecision: liveSame ? label(liveSame) : null,
          });
        }
      }
    }
    return result;
  }

  private liveEvaluation(snap: LoadedCustomer, live: LiveVersion, asOf: IsoDate): Decision[] {
    const currentTier = snap.escalation?.versionId === live.versionId ? snap.escalation.tier : 0;
    return evaluateCustomer({ ...snap, currentTier, existingKeys: snap.keys, lastStepOffset: snap.lastStepOffset }, { ref: { id: live.versionId, version: live.version }, def: live.definition }, asOf).decisions;
  }
}
