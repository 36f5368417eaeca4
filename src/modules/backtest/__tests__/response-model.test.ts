import { addDays, daysBetween } from '../../../platform/time/dates';
import { policyDefinitionSchema } from '../../policies/policy-definition';
import { delayDistribution, fitResponseModel, paidWithin, ResponseLookup, summarizeModel, type HistoryInvoice } from '../response-model';
import { calendar, emptyTotals, simulateCustomer, type SimCustomer } from '../simulator';

/** mulberry32: a seeded generator, so the synthetic history is the same on every run. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Known truth: one touch per invoice on its due date. Segment A answers an EMAIL: 60% pay on
 * the day or within the 5 following days (uniform over 0..5), 25% pay 20-45 days later, the
 * rest never. Segment B answers an SMS: 30% within 5 days, same tail.
 */
function synthetic(seed: number, n: { A: number; B: number }): HistoryInvoice[] {
  const r = rng(seed);
  const out: HistoryInvoice[] = [];
  for (const [segment, count, p5, kind] of [
    ['A', n.A, 0.6, 'EMAIL'],
    ['B', n.B, 0.3, 'SMS'],
  ] as const) {
    for (let i = 0; i < count; i++) {
      const issueDate = addDays('2025-01-01', Math.floor(r() * 240));
      const dueDate = addDays(issueDate, 30);
      const u = r();
      const delay = u < p5 ? Math.floor(r() * 6) : u < p5 + 0.25 ? 20 + Math.floor(r() * 26) : null;
      const paidOn = delay === null ? null : addDays(dueDate, delay);
      out.push({ segment, issueDate, dueDate, paidOn, endOn: paidOn ?? '2025-12-31', touches: [{ day: dueDate, kind }] });
    }
  }
  return out;
}

/** Stated tolerance: the fitted P(paid within 5 days of the touch) is within 0.05 of the truth. */
const TOLERANCE = 0.05;

describe('response model fitted from history', () => {
  const history = synthetic(42, { A: 2000, B: 1000 });
  const model = fitResponseModel(history, { from: '2024-12-31', to: '2025-12-31' });

  it('recovers P(pay within 5 days | touch) per segment and touch kind within the stated tolerance', () => {
    const a = model.cells.A.EMAIL!;
    const b = model.cells.B.SMS!;
    expect(a.touches).toBe(2000);
    expect(Math.abs(paidWithin(a.hazard, 5) - 0.6)).toBeLessThan(TOLERANCE);
    expect(Math.abs(paidWithin(b.hazard, 5) - 0.3)).toBeLessThan(TOLERANCE);
    // Nothing in the truth pays 6-14 days after the touch.
    expect(paidWithin(a.hazard, 14) - paidWithin(a.hazard, 5)).toBeLessThan(0.01);
    // The delay is uniform over 0..5: median 2 (or 3 by sampling noise), mean 2.5 ± 0.3.
    const d = delayDistribution(a.hazard);
    expect([2, 3]).toContain(d.median);
    expect(Math.abs(d.mean! - 2.5)).toBeLessThan(0.3);
    // No payment before the touch in the truth: the not-due baseline is zero.
    expect(model.baseline.A.NOT_DUE.hazard).toBe(0);
    expect(model.baseline.A.OVERDUE.hazard).toBeGreaterThan(0);
  });

  it('the recovery holds across seeds (not a lucky draw)', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const m = fitResponseModel(synthetic(seed, { A: 1000, B: 1000 }), { from: '2024-12-31', to: '2025-12-31' });
      expect(Math.abs(paidWithin(m.cells.A.EMAIL!.hazard, 5) - 0.6)).toBeLessThan(TOLERANCE);
      expect(Math.abs(paidWithin(m.cells.B.SMS!.hazard, 5) - 0.3)).toBeLessThan(TOLERANCE);
    }
  });

  it('a thin segment borrows from the all-segment cell; an unseen segment uses it', () => {
    const thin = fitResponseModel([...history, ...synthetic(7, { A: 3, B: 0 }).map((h) => ({ ...h, segment: 'C' }))], { from: '2024-12-31', to: '2025-12-31' });
    expect(thin.cells.C.EMAIL!.touches).toBe(3);
    const lookup = new ResponseLookup(thin);
    expect(lookup.hazard('never-seen', 0, 2, true)).toBe(thin.cells['*'].EMAIL!.hazard[2]);
    const rows = summarizeModel(model);
    expect(rows.find((r) => r.segment === 'A' && r.kind === 'EMAIL')!.within5).toBeCloseTo(paidWithin(model.cells.A.EMAIL!.hazard, 5), 12);
  });

  it('the replay with the fitted model collects the known share after the touch, deterministically', () => {
    const lookup = new ResponseLookup(model);
    const def = policyDefinitionSchema.parse({ steps: [{ key: 'due', offsetDays: 0, channels: ['EMAIL'], templateKey: 'due-today' }] });
    const silent = policyDefinitionSchema.parse({ steps: [{ key: 'internal', offsetDays: 0, channels: ['INTERNAL'], templateKey: 'due-today' }] });
    const customer: SimCustomer = {
      id: 'c1',
      segment: 'A',
      tier: null,
      country: 'US',
      ownerUserId: null,
      renewalDate: null,
      history: { lateInvoices: 0, disputes: 0, brokenPromises: 0 },
      lastStepOffset: new Map(),
      invoices: Array.from({ length: 10 }, (_, i) => ({
        id: `i${i}`,
        number: `N${i}`,
        currency: 'USD',
        openMinor: 100_000,
        totalMinor: 100_000n,
        issueDate: addDays('2026-01-01', i),
        dueDate: addDays('2026-01-31', i),
        billingModel: 'SERVICES' as const,
        startOn: addDays('2026-01-01', i),
        exitOn: null,
      })),
    };
    const from = '2026-01-01';
    const to = '2026-02-14'; // the last due date (02-09) + 5 days
    const run = (d: typeof def) => {
      const acc = emptyTotals();
      simulateCustomer(customer, { ref: { id: 'v', version: 1 }, def: d }, lookup, from, to, acc, calendar(from, to));
      return acc;
    };
    const emailed = run(def);
    expect(emailed.touches).toBeCloseTo(10, 6);
    expect(emailed.touchesByKind.EMAIL).toBeCloseTo(10, 6);
    // By due + 5 each invoice is paid with probability ≈ 0.6 (before due nothing pays).
    const share = emailed.cash.USD / 1_000_000;
    expect(Math.abs(share - 0.6)).toBeLessThan(TOLERANCE);
    const quiet = run(silent);
    expect(quiet.touchesByKind.EMAIL ?? 0).toBe(0);
    expect(quiet.cash.USD).toBeLessThan(emailed.cash.USD / 5);
    expect(run(def)).toEqual(emailed);
    expect(daysBetween(from, to)).toBe(44);
  });

  it('asking the engine only on the days its answer can change gives exactly the every-day replay', () => {
    const lookup = new ResponseLookup(model);
    const def = policyDefinitionSchema.parse({
      steps: [
        { key: 'pre-due', offsetDays: -7, channels: ['EMAIL'], templateKey: 't' },
        { key: 'due', offsetDays: 0, channels: ['EMAIL'], templateKey: 't' },
        { key: 'sms-5', offsetDays: 5, channels: ['SMS'], templateKey: 't', conditions: { minOpenAmount: { amount: '500.00', currency: 'USD' } } },
        { key: 'late-20', offsetDays: 20, channels: ['EMAIL'], templateKey: 't' },
      ],
      tiers: [
        { level: 1, name: 'auto', entry: [{ minDaysPastDue: 1 }] },
        { level: 2, name: 'people', entry: [{ minDaysPastDue: 12, minOverdueTotal: { amount: '1500.00', currency: 'USD' } }, { renewalWithinDays: 30 }], actions: [{ type: 'CREATE_TASK' }], stopsAutomatedReminders: true },
        { level: 3, name: 'mgmt', entry: [{ minDaysPastDue: 45 }], actions: [{ type: 'NOTIFY' }] },
      ],
    });
    const r = rng(9);
    const customers: SimCustomer[] = Array.from({ length: 40 }, (_, c) => ({
      id: `c${c}`,
      segment: c % 2 ? 'A' : 'B',
      tier: null,
      country: 'US',
      ownerUserId: null,
      renewalDate: c % 5 === 0 ? addDays('2026-03-01', Math.floor(r() * 120)) : null,
      history: { lateInvoices: 0, disputes: 0, brokenPromises: 0 },
      lastStepOffset: new Map(),
      invoices: Array.from({ length: 1 + Math.floor(r() * 4) }, (_, i) => {
        const issueDate = addDays('2025-12-01', Math.floor(r() * 150));
        const start = issueDate > '2026-01-01' ? issueDate : '2026-01-01';
        return { id: `c${c}i${i}`, number: `N${c}-${i}`, currency: 'USD', openMinor: 20_000 + Math.floor(r() * 200_000), totalMinor: 300_000n, issueDate, dueDate: addDays(issueDate, 30), billingModel: 'SERVICES' as const, startOn: start, exitOn: r() < 0.2 ? addDays(start, 40) : null };
      }),
    }));
    const from = '2026-01-01';
    const to = '2026-06-30';
    const cal = calendar(from, to);
    const skip = emptyTotals();
    const every = emptyTotals();
    for (const c of customers) {
      simulateCustomer(c, { ref: { id: 'v', version: 1 }, def }, lookup, from, to, skip, cal);
      simulateCustomer(c, { ref: { id: 'v', version: 1 }, def }, lookup, from, to, every, cal, { everyDay: true });
    }
    expect(skip.engineCalls).toBeLessThan(every.engineCalls / 3);
    expect(every.touches).toBeGreaterThan(0);
    expect(Object.keys(every.escalations).length).toBeGreaterThan(0);
    expect({ ...skip, engineCalls: 0 }).toEqual({ ...every, engineCalls: 0 });
  });
});
