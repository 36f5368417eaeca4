import { Role, roleAtLeast } from '../../platform/auth/roles';
import { ApprovalKind } from './approval-request.entity';

/** One tenant rule: whether a kind needs a person, which role, by amount, and the fast path. */
export interface ApprovalRule {
  kind: ApprovalKind;
  requiresApproval: boolean;
  /** Amounts in this currency are compared with the thresholds below; other currencies get the strictest path. */
  currency: string | null;
  /** At or below this amount no approval is needed (e.g. credit memos over a threshold). */
  thresholdMinor: string | null;
  minRole: Role;
  /** Above an amount, a higher role decides. */
  escalations: { aboveMinor: string; minRole: Role }[];
  /** Routine low-risk cases the rule approves itself (recorded as the approver). */
  fastPath: { maxAmountMinor: string; excludeTiers: string[] } | null;
  expiresAfterHours: number;
}

export const DEFAULT_EXPIRY_HOURS = 72;

/** Without tenant rules: write-offs need a manager; the rest follows what each feature did before. */
export function defaultRule(kind: ApprovalKind): ApprovalRule {
  return { kind, requiresApproval: kind === ApprovalKind.WRITE_OFF || kind === ApprovalKind.MANUAL_OVERRIDE, currency: null, thresholdMinor: null, minRole: Role.MANAGER, escalations: [], fastPath: null, expiresAfterHours: DEFAULT_EXPIRY_HOURS };
}

export function effectiveRules(stored: ApprovalRule[] | null | undefined): ApprovalRule[] {
  const byKind = new Map((stored ?? []).map((r) => [r.kind, r]));
  return Object.values(ApprovalKind).map((k) => byKind.get(k) ?? defaultRule(k));
}

export type ApprovalPlan =
  | { outcome: 'NOT_REQUIRED'; rule: ApprovalRule; why: string }
  | { outcome: 'FAST_PATH'; rule: ApprovalRule; why: string }
  | { outcome: 'PENDING'; rule: ApprovalRule; requiredRole: Role; expiresAt: Date; why: string };

export interface ApprovalCase {
  amountMinor: bigint | null;
  currency: string | null;
  /** The customer's tier, for fast-path exclusions (e.g. strategic accounts). */
  customerTier?: string | null;
}

/** Decides what a request of this rule needs; pure, so it is unit-tested on its own. */
export function planApproval(rule: ApprovalRule, c: ApprovalCase, now: Date): ApprovalPlan {
  const comparable = c.amountMinor !== null && (!rule.currency || !c.currency || rule.currency === c.currency);
  if (!rule.requiresApproval) return { outcome: 'NOT_REQUIRED', rule, why: `${rule.kind} needs no approval` };
  if (rule.thresholdMinor !== null && comparable && c.amountMinor! <= BigInt(rule.thresholdMinor)) return { outcome: 'NOT_REQUIRED', rule, why: `${rule.kind} at or below the approval threshold` };
  const fp = rule.fastPath;
  if (fp && comparable && c.amountMinor! <= BigInt(fp.maxAmountMinor) && !fp.excludeTiers.some((t) => t.toLowerCase() === (c.customerTier ?? '').toLowerCase())) {
    return { outcome: 'FAST_PATH', rule, why: `fast path: ${rule.kind} up to ${fp.maxAmountMinor} minor units${fp.excludeTiers.length ? `, not ${fp.excludeTiers.join('/')}` : ''}` };
  }
  let role = rule.minRole;
  for (const e of rule.escalations) {
    if (!comparable || c.amountMinor! > BigInt(e.aboveMinor)) role = roleAtLeast(e.minRole, role) ? e.minRole : role;
  }
  return { outcome: 'PENDING', rule, requiredRole: role, expiresAt: new Date(now.getTime() + rule.expiresAfterHours * 3600_000), why: `${rule.kind} needs ${role} or above` };
}
