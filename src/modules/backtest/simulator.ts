import { addDays, daysBetween, type IsoDate } from '../../platform/time/dates';
import { evaluateCustomer } from '../engine/engine';
import type { CustomerSnapshot, Decision, InvoiceSnapshot, PolicyVersionRef } from '../engine/engine.types';
import type { PolicyDefinition } from '../policies/policy-definition';
import { isPersonalAction, TOUCH_KINDS, touchKindOf, type ResponseLookup, type TouchKind } from './response-model';

/**
 * The replay: for one customer and one policy, the pure engine is run on every day of the
 * window, and the response model turns its touches into expected payments. Expected values, not
 * draws: each invoice carries the probability S that it is still unpaid; the engine sees the
 * world conditional on "still unpaid" (so the decisions it takes are the ones that would be
 * taken on that path), each touch counts S touches, each day pays S·h of the balance and leaves
 * S·(1-h). Same inputs, same numbers, every time.
 */
export interface SimInvoice {
  id: string;
  number: string;
  currency: string;
  /** Open balance at the start (the window start, or the issue day). */
  openMinor: number;
  totalMinor: bigint;
  issueDate: IsoDate;
  dueDate: IsoDate;
  billingModel: InvoiceSnapshot['billingModel'];
  /** Day it enters the book in the replay: max(from, issue date). */
  startOn: IsoDate;
  /** Day it left the book for reasons the model does not replay (void, written off, credited); null = never. */
  exitOn: IsoDate | null;
}

/** The engine's customer facts, without what the replay does not model (pauses) and with its own invoices. */
export interface SimCustomer extends Pick<CustomerSnapshot, 'id' | 'segment' | 'tier' | 'country' | 'ownerUserId' | 'renewalDate' | 'history'> {
  invoices: SimInvoice[];
  /** Highest step offset sent before the window per invoice: the sequence continues, it does not restart. */
  lastStepOffset: Map<string, number>;
}

export interface ArmTotals {
  /** currency → expected cash collected (minor units, fractional). */
  cash: Record<string, number>;
  /** week index (0 = the week starting on `from`) → currency → cash. */
  cashByWeek: Record<number, Record<string, number>>;
  touchesByWeek: Record<number, number>;
  touches: number;
  touchesByStep: Record<string, number>;
  touchesByKind: Record<string, number>;
  escalations: Record<string, number>;
  /** Σ over days of the expected receivable, per currency (for DSO). */
  arDays: Record<string, number>;
  invoiceDays: number;
  engineCalls: number;
}

export const emptyTotals = (): ArmTotals => ({ cash: {}, cashByWeek: {}, touchesByWeek: {}, touches: 0, touchesByStep: {}, touchesByKind: {}, escalations: {}, arDays: {}, invoiceDays: 0, engineCalls: 0 });

/** Below this probability of still being unpaid, an invoice leaves the replay. */
export const SURVIVAL_FLOOR = 1e-4;

const add = (m: Record<string | number, number>, k: string | number, v: number) => {
  m[k] = (m[k] ?? 0) + v;
};

/** Every day of the window as an ISO date, index 0 = `from` (computed once per run, not per customer-day). */
export function calendar(from: IsoDate, to: IsoDate): IsoDate[] {
  const start = Date.UTC(Number(from.slice(0, 4)), Number(from.slice(5, 7)) - 1, Number(from.slice(8, 10)));
  const out: IsoDate[] = [];
  for (let d = 0; d <= daysBetween(from, to); d++) out.push(new Date(start + d * 86_400_000).toISOString().slice(0, 10));
  return out;
}

/**
 * Days past due on which the engine's answer for an invoice can change under this policy: step
 * offsets (standard and courtesy), tier thresholds (minDaysPastDue, default 1; 1 also for the
 * overdue total). Between two such days, with the same open invoices, the engine can only repeat
 * "already sent": the replay skips those calls (same decisions, far fewer calls).
 */
const offsetCache = new WeakMap<PolicyDefinition, number[]>();
export function decisionOffsets(def: PolicyDefinition): number[] {
  let o = offsetCache.get(def);
  if (!o) {
    const set = new Set<number>([1]);
    for (const s of [...def.steps, ...def.courtesy.steps]) set.add(s.offsetDays);
    for (const t of def.tiers) for (const g of t.entry) set.add(g.minDaysPastDue ?? 1);
    o = [...set].sort((a, b) => a - b);
    offsetCache.set(def, o);
  }
  return o;
}

/** Renewal-window lengths used by the tiers: the days a renewal condition turns on and off. */
const renewalCache = new WeakMap<PolicyDefinition, number[]>();
function renewalWindows(def: PolicyDefinition): number[] {
  let r = renewalCache.get(def);
  if (!r) {
    r = [...new Set(def.tiers.flatMap((t) => t.entry.map((g) => g.renewalWithinDays).filter((x): x is number => x !== undefined)))];
    renewalCache.set(def, r);
  }
  return r;
}

export function simulateCustomer(
  c: SimCustomer,
  policy: { ref: PolicyVersionRef; def: PolicyDefinition },
  model: ResponseLookup,
  from: IsoDate,
  to: IsoDate,
  acc: ArmTotals,
  cal: readonly IsoDate[] = calendar(from, to),
  opts: { everyDay?: boolean } = {},
): void {
  const days = cal.length - 1;
  const seg = c.segment ?? '';
  const n = c.invoices.length;
  const startIdx = c.invoices.map((i) => daysBetween(from, i.startOn));
  const exitIdx = c.invoices.map((i) => (i.exitOn ? daysBetween(from, i.exitOn) : Infinity));
  const dueIdx = c.invoices.map((i) => daysBetween(from, i.dueDate));
  const survive = new Float64Array(n).fill(1);
  const lastTouchDay = new Int32Array(n).fill(-1_000_000);
  const lastTouchKind = new Int8Array(n).fill(-1);
  const snaps: InvoiceSnapshot[] = c.invoices.map((i) => ({
    id: i.id,
    number: i.number,
    status: 'OPEN',
    currency: i.currency,
    totalMinor: i.totalMinor,
    openBalanceMinor: BigInt(Math.round(i.openMinor)),
    issueDate: i.issueDate,
    dueDate: i.dueDate,
    billingModel: i.billingModel,
    reconciliationHold: false,
    lines: [],
    disputes: [],
    promiseUntil: null,
  }));
  const index = new Map(c.invoices.map((inv, k) => [inv.id, k]));
  // Hazard curves by touch kind (null: a kind never seen in history responds like no touch) and baselines.
  const { hz, bl } = model.segment(seg);
  const horizon = model.model.horizonDays;
  const currencies = [...new Set(c.invoices.map((i) => i.currency))];
  const curIdx = Int32Array.from(c.invoices.map((i) => currencies.indexOf(i.currency)));
  const open = Float64Array.from(c.invoices.map((i) => i.openMinor));
  const weeks = Math.floor(days / 7) + 1;
  const cashByWeek = new Float64Array(currencies.length * weeks);
  const arDays = new Float64Array(currencies.length);
  const existingKeys = new Set<string>();
  const base = { id: c.id, segment: c.segment, tier: c.tier, country: c.country, ownerUserId: c.ownerUserId, renewalDate: c.renewalDate, pause: null, history: c.history, existingKeys, lastStepOffset: c.lastStepOffset };

  // Warm-up: the tier the customer is already in on the eve of the window (no actions counted).
  const eve = c.invoices.map((_, k) => k).filter((k) => startIdx[k] <= 0 && exitIdx[k] > 0);
  let currentTier = 0;
  if (eve.length) {
    const ev = evaluateCustomer({ ...base, invoices: eve.map((k) => snaps[k]), currentTier: 0, existingKeys: new Set() }, policy, addDays(from, -1));
    currentTier = ev.tier;
    for (const d of ev.decisions) if (d.kind === 'TIER_ENTRY') existingKeys.add(d.idempotencyKey);
  }

  // The days on which the engine is asked; every other day only the payments move.
  const ask = new Uint8Array(days + 1);
  const mark = (d: number) => {
    if (d >= 0 && d <= days) ask[d] = 1;
  };
  if (opts.everyDay) ask.fill(1);
  else {
    mark(0);
    const offsets = decisionOffsets(policy.def);
    for (let k = 0; k < n; k++) {
      mark(startIdx[k]);
      if (exitIdx[k] !== Infinity) mark(exitIdx[k]);
      for (const o of offsets) mark(dueIdx[k] + o);
    }
    if (c.renewalDate) {
      const r = daysBetween(from, c.renewalDate);
      for (const w of renewalWindows(policy.def)) {
        mark(r - w);
        mark(r + 1);
      }
    }
  }

  let live: number[] = [];
  let liveSnaps: InvoiceSnapshot[] = [];
  let dirty = true;
  for (let day = 0; day <= days; day++) {
    if (dirty || ask[day] || live.some((k) => exitIdx[k] <= day || survive[k] < SURVIVAL_FLOOR)) {
      const before = live.length;
      live = [];
      for (let k = 0; k < n; k++) if (startIdx[k] <= day && exitIdx[k] > day && survive[k] >= SURVIVAL_FLOOR) live.push(k);
      liveSnaps = live.map((k) => snaps[k]);
      // A changed set of open invoices can change the tier: ask the engine.
      if (live.length !== before || dirty) ask[day] = 1;
      dirty = false;
    }
    if (live.length === 0) continue;
    const week = Math.floor(day / 7);
    acc.invoiceDays += live.length;
    let personal = 0;
    let decisions: Decision[] = [];
    if (ask[day]) {
      const ev = evaluateCustomer({ ...base, invoices: liveSnaps, currentTier }, policy, cal[day]);
      acc.engineCalls++;
      currentTier = ev.tier;
      decisions = ev.decisions;
    }
    for (const d of decisions) {
      existingKeys.add(d.idempotencyKey);
      if (d.kind === 'STEP') {
        const k = index.get(d.invoiceId)!;
        const kind = touchKindOf(d.channels);
        const w = survive[k];
        acc.touches += w;
        add(acc.touchesByWeek, week, w);
        add(acc.touchesByStep, d.step.key, w);
        if (kind) {
          add(acc.touchesByKind, kind, w);
          lastTouchDay[k] = day;
          lastTouchKind[k] = TOUCH_KINDS.indexOf(kind);
        }
      } else {
        // The customer is in this tier on the paths where something is still unpaid.
        const w = Math.max(...live.map((k) => survive[k]));
        if (d.actionIndex === 0) add(acc.escalations, `tier ${d.tier}`, w);
        if (isPersonalAction(d.action)) personal = Math.max(personal, w);
      }
    }
    if (personal > 0) {
      const pk = TOUCH_KINDS.indexOf('PERSONAL' as TouchKind);
      for (const k of live) {
        lastTouchDay[k] = day;
        lastTouchKind[k] = pk;
      }
      add(acc.touchesByKind, 'PERSONAL', personal);
    }
    // The day's expected payments (hot loop: typed arrays, no lookups by name).
    for (const k of live) {
      const since = day - lastTouchDay[k];
      const kind = lastTouchKind[k];
      const curve = kind >= 0 && since <= horizon ? hz[kind] : null;
      const h = curve ? curve[since] : day >= dueIdx[k] ? bl[1] : bl[0];
      const s = survive[k];
      const ci = curIdx[k];
      if (h > 0) {
        const paid = s * h * open[k];
        cashByWeek[ci * weeks + week] += paid;
        survive[k] = s * (1 - h);
      }
      arDays[ci] += survive[k] * open[k];
    }
  }
  currencies.forEach((cur, ci) => {
    for (let w = 0; w < weeks; w++) {
      const v = cashByWeek[ci * weeks + w];
      if (v === 0) continue;
      add(acc.cash, cur, v);
      let wk = acc.cashByWeek[w];
      if (!wk) acc.cashByWeek[w] = wk = {};
      add(wk, cur, v);
    }
    add(acc.arDays, cur, arDays[ci]);
  });
}
