import { addDays } from '../../../platform/time/dates';
import { policyDefinitionSchema, type PolicyDefinitionInput } from '../../policies/policy-definition';
import { evaluateCustomer, stepKey } from '../engine';
import type { CustomerSnapshot, InvoiceSnapshot } from '../engine.types';

const ref = { id: 'v1', version: 1 };
const typical: PolicyDefinitionInput = {
  steps: [
    { key: 'pre-due', offsetDays: -7, channels: ['EMAIL'], templateKey: 'pre-due-reminder', tone: 'FRIENDLY' },
    { key: 'due', offsetDays: 0, channels: ['EMAIL'], templateKey: 'due-today' },
    { key: 'overdue-3', offsetDays: 3, channels: ['EMAIL'], templateKey: 'overdue-friendly' },
    { key: 'overdue-10', offsetDays: 10, channels: ['EMAIL', 'PORTAL'], templateKey: 'overdue-firm', tone: 'FIRM' },
    { key: 'escalation-21', offsetDays: 21, channels: ['EMAIL', 'INTERNAL'], templateKey: 'escalation-notice', tone: 'FIRM' },
    { key: 'hold-30', offsetDays: 30, channels: ['EMAIL'], templateKey: 'credit-hold-notice', tone: 'FINAL', accountFlag: 'HOLD_NOTICE_SENT' },
  ],
  courtesy: { thresholdPercent: 90, steps: [{ key: 'courtesy', offsetDays: 7, channels: ['EMAIL'], templateKey: 'courtesy-balance', tone: 'FRIENDLY' }] },
  tiers: [
    { level: 1, name: 'Automated', entry: [{ minDaysPastDue: 1 }] },
    {
      level: 2,
      name: 'Personal outreach',
      entry: [
        { minDaysPastDue: 14, minInvoiceAmount: { amount: '25000.00', currency: 'USD' } },
        { minDaysPastDue: 7, customerTiers: ['strategic'], minDisputes: 1 },
        { minDaysPastDue: 45 },
      ],
      actions: [{ type: 'ASSIGN_COLLECTOR' }, { type: 'CREATE_TASK', params: { nextAction: 'Call the AP contact' } }],
      stopsAutomatedReminders: true,
    },
    { level: 3, name: 'Management', entry: [{ minDaysPastDue: 60 }], actions: [{ type: 'CREDIT_HOLD', requiresApproval: true }] },
  ],
  personOnlyTiers: [],
};
const policy = { ref, def: policyDefinitionSchema.parse(typical) };

function invoice(p: Partial<InvoiceSnapshot> = {}): InvoiceSnapshot {
  return {
    id: 'i1',
    number: 'INV-1',
    status: 'OPEN',
    currency: 'USD',
    totalMinor: 100000n,
    openBalanceMinor: 100000n,
    issueDate: '2026-01-01',
    dueDate: '2026-01-31',
    billingModel: 'SERVICES',
    reconciliationHold: false,
    lines: [],
    disputes: [],
    promiseUntil: null,
    ...p,
  };
}

function customer(invoices: InvoiceSnapshot[], p: Partial<CustomerSnapshot> = {}): CustomerSnapshot {
  return { id: 'c1', segment: 'smb', tier: 'standard', country: 'US', ownerUserId: null, renewalDate: null, pause: null, invoices, history: { lateInvoices: 0, disputes: 0, brokenPromises: 0 }, currentTier: 0, existingKeys: new Set(), ...p };
}

/** Runs the engine day by day, remembering what it decided, like the daily scheduler does. */
function walk(snap: CustomerSnapshot, from: string, to: string): { day: string; steps: string[] }[] {
  const existing = new Set<string>();
  const out: { day: string; steps: string[] }[] = [];
  for (let day = from; day <= to; day = addDays(day, 1)) {
    const e = evaluateCustomer({ ...snap, existingKeys: existing }, policy, day);
    const steps = e.decisions.flatMap((d) => (d.kind === 'STEP' ? [d.step.key] : []));
    e.decisions.forEach((d) => existing.add(d.idempotencyKey));
    if (steps.length) out.push({ day, steps });
  }
  return out;
}

describe('dunning engine', () => {
  it('sends each step of the typical policy on its day, once', () => {
    expect(walk(customer([invoice()]), '2026-01-01', '2026-03-31')).toEqual([
      { day: '2026-01-24', steps: ['pre-due'] },
      { day: '2026-01-31', steps: ['due'] },
      { day: '2026-02-03', steps: ['overdue-3'] },
      { day: '2026-02-10', steps: ['overdue-10'] },
      { day: '2026-02-21', steps: ['escalation-21'] },
      { day: '2026-03-02', steps: ['hold-30'] },
    ]);
  });

  it('an invoice first seen 25 days late gets one reminder, not three', () => {
    const e = evaluateCustomer(customer([invoice()]), policy, '2026-02-25');
    const steps = e.decisions.filter((d) => d.kind === 'STEP');
    expect(steps).toHaveLength(1);
    expect(steps[0]).toMatchObject({ step: { key: 'escalation-21' }, reason: { facts: { daysPastDue: 25, skippedSteps: ['pre-due', 'due', 'overdue-3', 'overdue-10'] } } });
    // and nothing more until the next step is due
    expect(walk(customer([invoice()]), '2026-02-25', '2026-03-10').map((d) => d.day)).toEqual(['2026-02-25', '2026-03-02']);
  });

  it('reruns on the same day decide nothing new (idempotency keys)', () => {
    const first = evaluateCustomer(customer([invoice()]), policy, '2026-02-03');
    const again = evaluateCustomer(customer([invoice()], { existingKeys: new Set(first.decisions.map((d) => d.idempotencyKey)) }), policy, '2026-02-03');
    expect(again.decisions).toEqual([]);
    expect(again.suppressions.map((s) => s.code)).toEqual(['ALREADY_SENT']);
  });

  it('suppresses paid, held, paused, promised and wholly disputed invoices, saying why', () => {
    const day = '2026-02-10';
    const codes = (inv: Partial<InvoiceSnapshot>, snap: Partial<CustomerSnapshot> = {}) => evaluateCustomer(customer([invoice(inv)], snap), policy, day).suppressions.map((s) => s.code);
    expect(codes({ status: 'PAID', openBalanceMinor: 0n })).toEqual(['PAID_OR_CLOSED']);
    expect(codes({ reconciliationHold: true })).toEqual(['RECONCILIATION_HOLD']);
    expect(codes({}, { pause: { kind: 'PAUSE', reason: 'CFO on holiday', by: 'ann', until: '2026-02-15' } })).toEqual(['CUSTOMER_PAUSED']);
    expect(codes({}, { pause: { kind: 'PAUSE', reason: 'expired', by: 'ann', until: '2026-02-09' } })).toEqual([]);
    expect(codes({ promiseUntil: '2026-02-12' })).toEqual(['PROMISE_TO_PAY']);
    expect(codes({ disputes: [{ id: 'd1', lineIds: [], amountMinor: 100000n }] })).toEqual(['DISPUTED']);
  });

  it('a disputed line leaves dunning; the reminder asks for the other lines only', () => {
    const lines = [
      { id: 'l1', amountMinor: 50000n },
      { id: 'l2', amountMinor: 30000n },
      { id: 'l3', amountMinor: 20000n },
    ];
    const e = evaluateCustomer(customer([invoice({ lines, disputes: [{ id: 'd1', lineIds: ['l2'], amountMinor: 30000n }] })]), policy, '2026-02-03');
    expect(e.decisions[0]).toMatchObject({ kind: 'STEP', step: { key: 'overdue-3' }, amountDueMinor: 70000n });
  });

  it('an excluded account routes every step to a person', () => {
    const e = evaluateCustomer(customer([invoice()], { pause: { kind: 'EXCLUSION', reason: 'key account', by: 'ann', until: null } }), policy, '2026-02-03');
    expect(e.decisions[0]).toMatchObject({ kind: 'STEP', mode: 'APPROVAL', reason: { facts: { routedToPerson: 'excluded account' } } });
  });

  it('a mostly paid invoice moves to the courtesy path and does not escalate', () => {
    const inv = invoice({ totalMinor: 5000000n, openBalanceMinor: 500000n });
    expect(walk(customer([inv]), '2026-01-20', '2026-04-30')).toEqual([{ day: '2026-02-07', steps: ['courtesy'] }]);
    const e = evaluateCustomer(customer([inv]), policy, '2026-04-30');
    expect(e.decisions.filter((d) => d.kind === 'TIER_ENTRY')).toEqual([]);
  });

  it('a $200K strategic invoice with a prior dispute reaches tier 2 at 7 days; a $3K clean SMB invoice stays automated past 30', () => {
    const big = customer([invoice({ totalMinor: 20000000n, openBalanceMinor: 20000000n })], { tier: 'strategic', history: { lateInvoices: 0, disputes: 1, brokenPromises: 0 } });
    expect(evaluateCustomer(big, policy, '2026-02-06').tier).toBe(1);
    const at7 = evaluateCustomer(big, policy, '2026-02-07');
    expect(at7.tier).toBe(2);
    expect(at7.decisions.filter((d) => d.kind === 'TIER_ENTRY').map((d) => d.kind === 'TIER_ENTRY' && d.action.type)).toEqual(['ASSIGN_COLLECTOR', 'CREATE_TASK']);
    expect(at7.decisions.find((d) => d.kind === 'TIER_ENTRY')!.reason).toMatchObject({ rule: 'tier:2 "Personal outreach" entry group 2', facts: { customerTier: 'strategic', disputes: 1, maxDaysPastDue: 7 } });
    expect(at7.suppressions.map((s) => s.code)).toEqual(['ESCALATED_TO_PEOPLE']);

    const small = customer([invoice({ totalMinor: 300000n, openBalanceMinor: 300000n })]);
    const at35 = evaluateCustomer(small, policy, '2026-03-07');
    expect(at35.tier).toBe(1);
    expect(at35.decisions.map((d) => d.kind)).toEqual(['STEP']);
  });

  it('jumping straight to tier 3 runs tier 2 entry actions too, and credit hold waits for approval', () => {
    const e = evaluateCustomer(customer([invoice()]), policy, '2026-04-05'); // 64 days
    expect(e.tier).toBe(3);
    expect(e.decisions.filter((d) => d.kind === 'TIER_ENTRY').map((d) => d.kind === 'TIER_ENTRY' && [d.tier, d.action.type, d.mode])).toEqual([
      [2, 'ASSIGN_COLLECTOR', 'AUTO'],
      [2, 'CREATE_TASK', 'AUTO'],
      [3, 'CREDIT_HOLD', 'APPROVAL'],
    ]);
  });

  it('a chronic-late customer gets the firmer cadence from day one (behaviour conditions)', () => {
    const def = policyDefinitionSchema.parse({
      steps: [
        { key: 'firm-0', offsetDays: 0, channels: ['EMAIL'], templateKey: 'overdue-firm', conditions: { behaviour: 'CHRONIC_LATE' } },
        { key: 'friendly-3', offsetDays: 3, channels: ['EMAIL'], templateKey: 'overdue-friendly', conditions: { behaviour: 'FIRST_TIME_LATE' } },
      ],
    });
    const p = { ref, def };
    const chronic = customer([invoice()], { history: { lateInvoices: 5, disputes: 0, brokenPromises: 0 } });
    expect(evaluateCustomer(chronic, p, '2026-01-31').decisions.map((d) => d.kind === 'STEP' && d.step.key)).toEqual(['firm-0']);
    expect(evaluateCustomer(customer([invoice()]), p, '2026-01-31').decisions).toEqual([]);
    expect(evaluateCustomer(customer([invoice()]), p, '2026-02-03').decisions.map((d) => d.kind === 'STEP' && d.step.key)).toEqual(['friendly-3']);
  });

  it('keys are per invoice, policy version and step', () => {
    expect(stepKey('i1', ref, policy.def.steps[0])).toBe('step:i1:v1:pre-due');
  });
});

describe('policy definition validation', () => {
  it('names the field of each problem', () => {
    const r = policyDefinitionSchema.safeParse({
      steps: [
        { key: 'b', offsetDays: 10, channels: ['EMAIL'], templateKey: 'x' },
        { key: 'a', offsetDays: 3, channels: [], templateKey: 'x' },
        { key: 'b', offsetDays: 20, channels: ['FAX'], templateKey: 'x' },
      ],
    });
    expect(r.success).toBe(false);
    const paths = r.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['steps.1.channels', 'steps.2.channels.0']));
    expect(policyDefinitionSchema.safeParse({ steps: [] }).error!.issues[0]).toMatchObject({ path: ['steps'], message: 'a policy needs at least one step' });
    const order = policyDefinitionSchema.safeParse({ steps: [{ key: 'b', offsetDays: 10, channels: ['EMAIL'], templateKey: 'x' }, { key: 'b', offsetDays: 3, channels: ['EMAIL'], templateKey: 'x' }] });
    expect(order.error!.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['steps.1.key', 'step key "b" is used twice'],
      ['steps.1.offsetDays', 'steps must be in increasing offset order: 3 follows 10'],
    ]);
  });
});
