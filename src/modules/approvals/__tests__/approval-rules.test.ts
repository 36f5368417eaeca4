import { Role } from '../../../platform/auth/roles';
import { ApprovalKind } from '../approval-request.entity';
import { defaultRule, effectiveRules, planApproval, type ApprovalRule } from '../approval-rules';

const now = new Date('2026-05-01T10:00:00Z');
const rule = (r: Partial<ApprovalRule>): ApprovalRule => ({ ...defaultRule(ApprovalKind.WRITE_OFF), currency: 'USD', ...r });

describe('approval rules', () => {
  it('defaults: write-offs and manual overrides need a manager, other kinds keep their old behaviour', () => {
    const rules = effectiveRules(null);
    expect(rules.map((r) => [r.kind, r.requiresApproval])).toEqual([
      ['WRITE_OFF', true],
      ['CREDIT_HOLD', false],
      ['CREDIT_HOLD_RELEASE', false],
      ['CREDIT_MEMO', false],
      ['POLICY_PUBLISH', false],
      ['MANUAL_OVERRIDE', true],
    ]);
  });

  it('a threshold lets small amounts through without approval', () => {
    const r = rule({ kind: ApprovalKind.CREDIT_MEMO, thresholdMinor: '100000' });
    expect(planApproval(r, { amountMinor: 100000n, currency: 'USD' }, now).outcome).toBe('NOT_REQUIRED');
    expect(planApproval(r, { amountMinor: 100001n, currency: 'USD' }, now).outcome).toBe('PENDING');
    // Another currency cannot be compared: the strict path.
    expect(planApproval(r, { amountMinor: 10n, currency: 'EUR' }, now).outcome).toBe('PENDING');
  });

  it('the fast path approves routine cases but never for excluded tiers', () => {
    const r = rule({ fastPath: { maxAmountMinor: '5000', excludeTiers: ['strategic'] } });
    expect(planApproval(r, { amountMinor: 5000n, currency: 'USD', customerTier: 'standard' }, now).outcome).toBe('FAST_PATH');
    expect(planApproval(r, { amountMinor: 5000n, currency: 'USD', customerTier: 'Strategic' }, now).outcome).toBe('PENDING');
    expect(planApproval(r, { amountMinor: 5001n, currency: 'USD' }, now).outcome).toBe('PENDING');
  });

  it('escalations raise the role above an amount; the request expires after the rule\'s hours', () => {
    const r = rule({ escalations: [{ aboveMinor: '1000000', minRole: Role.ADMIN }], expiresAfterHours: 24 });
    const small = planApproval(r, { amountMinor: 1000000n, currency: 'USD' }, now);
    const big = planApproval(r, { amountMinor: 1000001n, currency: 'USD' }, now);
    expect(small).toMatchObject({ outcome: 'PENDING', requiredRole: 'MANAGER', expiresAt: new Date('2026-05-02T10:00:00Z') });
    expect(big).toMatchObject({ outcome: 'PENDING', requiredRole: 'ADMIN' });
  });
});
