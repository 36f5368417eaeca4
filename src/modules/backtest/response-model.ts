import { daysBetween, type IsoDate } from '../../platform/time/dates';
import type { StepChannel, TierAction } from '../policies/policy-definition';

/**
 * The response model of the backtest (docs/decisions/017-backtest-model.md): a discrete-time
 * hazard of payment per (segment, touch kind, days since the touch), fitted from history by
 * counting invoice-days at risk and payments (the Kaplan–Meier / life-table estimator), with a
 * baseline hazard per (segment, phase) for days with no touch in the horizon. Pure: plain rows in,
 * plain numbers out.
 */
export const TOUCH_KINDS = ['EMAIL', 'SMS', 'PORTAL', 'CALL', 'PERSONAL'] as const;
export type TouchKind = (typeof TOUCH_KINDS)[number];
export type Phase = 'NOT_DUE' | 'OVERDUE';

/** Days after a touch that the touch is credited with (day 0 = the day it went out). */
export const DEFAULT_HORIZON = 14;
/** Prior strength (invoice-days) pulling a thin segment cell toward the all-segment cell. */
export const SHRINK_DAYS = 5;
export const ALL_SEGMENTS = '*';

/** A reminder's touch kind: the most personal channel it uses; internal-only steps touch nobody. */
export function touchKindOf(channels: readonly (StepChannel | string)[]): TouchKind | null {
  if (channels.includes('CALL_TASK')) return 'CALL';
  if (channels.includes('SMS')) return 'SMS';
  if (channels.includes('EMAIL')) return 'EMAIL';
  if (channels.includes('PORTAL')) return 'PORTAL';
  return null;
}

/** Tier entry actions that put a person on the account count as a PERSONAL touch on each open invoice. */
export function isPersonalAction(a: Pick<TierAction, 'type'>): boolean {
  return a.type === 'ASSIGN_COLLECTOR' || a.type === 'CREATE_TASK';
}

export interface HistoryInvoice {
  segment: string;
  issueDate: IsoDate;
  dueDate: IsoDate;
  /** The day it was paid in full; null when not paid (open, void or written off) by the end. */
  paidOn: IsoDate | null;
  /** Last day it was at risk of being paid (closed otherwise, or the end of the window). */
  endOn: IsoDate;
  /** Customer touches on this invoice, in day order. */
  touches: { day: IsoDate; kind: TouchKind }[];
}

interface Cell {
  atRisk: number[];
  paid: number[];
  touches: number;
}

export interface ResponseCell {
  touches: number;
  /** Hazard by days since the touch, 0..horizon. */
  hazard: number[];
}

export interface ResponseModel {
  horizonDays: number;
  fittedFrom: IsoDate;
  fittedTo: IsoDate;
  invoices: number;
  /** segment (or `*` for all) → touch kind → cell. */
  cells: Record<string, Partial<Record<TouchKind, ResponseCell>>>;
  /** segment (or `*`) → phase → daily hazard with no touch inside the horizon. */
  baseline: Record<string, Record<Phase, { days: number; payments: number; hazard: number }>>;
}

/**
 * Fits the model over the days in (from, to]: each invoice-day on which the invoice was still
 * unpaid is "at risk" in the state given by the last touch on or before that day (kind and days
 * since, when within the horizon) or else the baseline of its phase; a payment on that day counts
 * as an event of that state. Hazard = events / days at risk; a segment's cell is shrunk toward the
 * all-segment cell with SHRINK_DAYS pseudo-days, so a thin segment borrows strength.
 */
export function fitResponseModel(history: Iterable<HistoryInvoice>, opts: { from: IsoDate; to: IsoDate; horizonDays?: number }): ResponseModel {
  const H = opts.horizonDays ?? DEFAULT_HORIZON;
  const cells = new Map<string, Map<TouchKind, Cell>>();
  const base = new Map<string, Record<Phase, { days: number; payments: number }>>();
  const cellOf = (seg: string, kind: TouchKind) => {
    let m = cells.get(seg);
    if (!m) cells.set(seg, (m = new Map()));
    let c = m.get(kind);
    if (!c) m.set(kind, (c = { atRisk: new Array(H + 1).fill(0), paid: new Array(H + 1).fill(0), touches: 0 }));
    return c;
  };
  const baseOf = (seg: string) => {
    let b = base.get(seg);
    if (!b) base.set(seg, (b = { NOT_DUE: { days: 0, payments: 0 }, OVERDUE: { days: 0, payments: 0 } }));
    return b;
  };
  let invoices = 0;
  for (const inv of history) {
    // At risk from the day after issue (or the window start) to the day it was paid or left.
    const first = Math.max(daysBetween(opts.from, inv.issueDate), 1);
    const last = Math.min(daysBetween(opts.from, inv.endOn), daysBetween(opts.from, opts.to));
    if (last < first) continue;
    invoices++;
    const paidAt = inv.paidOn ? daysBetween(opts.from, inv.paidOn) : Infinity;
    const due = daysBetween(opts.from, inv.dueDate);
    const touchDays = inv.touches.map((t) => daysBetween(opts.from, t.day));
    for (const [i, d] of touchDays.entries()) {
      if (d >= first && d <= last) {
        cellOf(inv.segment, inv.touches[i].kind).touches++;
        cellOf(ALL_SEGMENTS, inv.touches[i].kind).touches++;
      }
    }
    let ti = -1;
    for (let day = first; day <= last; day++) {
      while (ti + 1 < touchDays.length && touchDays[ti + 1] <= day) ti++;
      const paid = day === paidAt ? 1 : 0;
      const since = ti >= 0 ? day - touchDays[ti] : Infinity;
      if (since <= H) {
        const kind = inv.touches[ti].kind;
        for (const seg of [inv.segment, ALL_SEGMENTS]) {
          const c = cellOf(seg, kind);
          c.atRisk[since]++;
          c.paid[since] += paid;
        }
      } else {
        const phase: Phase = day < due ? 'NOT_DUE' : 'OVERDUE';
        for (const seg of [inv.segment, ALL_SEGMENTS]) {
          const b = baseOf(seg)[phase];
          b.days++;
          b.payments += paid;
        }
      }
      if (paid) break;
    }
  }
  const pooled = cells.get(ALL_SEGMENTS) ?? new Map<TouchKind, Cell>();
  const rate = (x: number, n: number) => (n > 0 ? x / n : 0);
  const out: ResponseModel = { horizonDays: H, fittedFrom: opts.from, fittedTo: opts.to, invoices, cells: {}, baseline: {} };
  for (const [seg, m] of cells) {
    out.cells[seg] = {};
    for (const [kind, c] of m) {
      const p = pooled.get(kind)!;
      const hazard = c.atRisk.map((n, d) => (seg === ALL_SEGMENTS ? rate(c.paid[d], n) : (c.paid[d] + SHRINK_DAYS * rate(p.paid[d], p.atRisk[d])) / (n + SHRINK_DAYS)));
      out.cells[seg][kind] = { touches: c.touches, hazard };
    }
  }
  const pooledBase = base.get(ALL_SEGMENTS);
  for (const [seg, b] of base) {
    const shrunk = (ph: Phase) => {
      const pr = pooledBase ? rate(pooledBase[ph].payments, pooledBase[ph].days) : 0;
      return seg === ALL_SEGMENTS ? rate(b[ph].payments, b[ph].days) : (b[ph].payments + SHRINK_DAYS * pr) / (b[ph].days + SHRINK_DAYS);
    };
    out.baseline[seg] = { NOT_DUE: { ...b.NOT_DUE, hazard: shrunk('NOT_DUE') }, OVERDUE: { ...b.OVERDUE, hazard: shrunk('OVERDUE') } };
  }
  return out;
}

/** Fast lookups for the simulator: a segment never seen in history uses the all-segment cells. */
export class ResponseLookup {
  private readonly hz = new Map<string, (number[] | null)[]>();
  private readonly bl = new Map<string, [number, number]>();
  constructor(readonly model: ResponseModel) {}

  private forSegment(seg: string): { hz: (number[] | null)[]; bl: [number, number] } {
    let hz = this.hz.get(seg);
    let bl = this.bl.get(seg);
    if (!hz || !bl) {
      const cells = this.model.cells[seg] ?? this.model.cells[ALL_SEGMENTS] ?? {};
      const pooled = this.model.cells[ALL_SEGMENTS] ?? {};
      hz = TOUCH_KINDS.map((k) => cells[k]?.hazard ?? pooled[k]?.hazard ?? null);
      const b = this.model.baseline[seg] ?? this.model.baseline[ALL_SEGMENTS];
      bl = [b?.NOT_DUE.hazard ?? 0, b?.OVERDUE.hazard ?? 0];
      this.hz.set(seg, hz);
      this.bl.set(seg, bl);
    }
    return { hz, bl };
  }

  /** The segment's hazard arrays by touch kind (index into TOUCH_KINDS) and baseline [not due, overdue]: look up once per customer. */
  segment(seg: string): { hz: (number[] | null)[]; bl: [number, number] } {
    return this.forSegment(seg);
  }

  /** Daily hazard of payment for an unpaid invoice. `kindIndex` is an index into TOUCH_KINDS, or -1. */
  hazard(seg: string, kindIndex: number, daysSinceTouch: number, overdue: boolean): number {
    const s = this.forSegment(seg);
    if (kindIndex >= 0 && daysSinceTouch <= this.model.horizonDays) {
      const h = s.hz[kindIndex];
      // A touch kind never seen in history responds like no touch at all (the baseline).
      if (h) return h[daysSinceTouch];
    }
    return s.bl[overdue ? 1 : 0];
  }
}

/** P(paid within k days of the touch) = 1 - Π_{d=0..k} (1 - h_d). */
export function paidWithin(hazard: readonly number[], k: number): number {
  let survive = 1;
  for (let d = 0; d <= Math.min(k, hazard.length - 1); d++) survive *= 1 - hazard[d];
  return 1 - survive;
}

/** Delay distribution over 0..horizon: f(d) = S(d-1) h_d; its mean and median among payers in the horizon. */
export function delayDistribution(hazard: readonly number[]): { pmf: number[]; mean: number | null; median: number | null } {
  let survive = 1;
  const pmf = hazard.map((h) => {
    const f = survive * h;
    survive *= 1 - h;
    return f;
  });
  const total = pmf.reduce((s, f) => s + f, 0);
  if (total <= 0) return { pmf, mean: null, median: null };
  let cum = 0;
  let median: number | null = null;
  pmf.forEach((f, d) => {
    cum += f;
    if (median === null && cum >= total / 2) median = d;
  });
  return { pmf, mean: pmf.reduce((s, f, d) => s + f * d, 0) / total, median };
}

export interface ModelSummaryRow {
  segment: string;
  kind: TouchKind;
  touches: number;
  within1: number;
  within3: number;
  within5: number;
  within7: number;
  withinHorizon: number;
  meanDelay: number | null;
  medianDelay: number | null;
}

/** The model as a table a person can read: per segment and touch kind. */
export function summarizeModel(m: ResponseModel): ModelSummaryRow[] {
  const rows: ModelSummaryRow[] = [];
  for (const [segment, kinds] of Object.entries(m.cells)) {
    for (const kind of TOUCH_KINDS) {
      const c = kinds[kind];
      if (!c) continue;
      const d = delayDistribution(c.hazard);
      rows.push({
        segment,
        kind,
        touches: c.touches,
        within1: paidWithin(c.hazard, 1),
        within3: paidWithin(c.hazard, 3),
        within5: paidWithin(c.hazard, 5),
        within7: paidWithin(c.hazard, 7),
        withinHorizon: paidWithin(c.hazard, m.horizonDays),
        meanDelay: d.mean,
        medianDelay: d.median,
      });
    }
  }
  return rows.sort((a, b) => a.segment.localeCompare(b.segment) || a.kind.localeCompare(b.kind));
}
