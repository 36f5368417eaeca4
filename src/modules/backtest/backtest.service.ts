import { groupBy } from '../../platform/collections';
import type { RequestContext } from '../../platform/context';
import { isoDate } from '../../platform/db/sql';
import { badInput, notFound } from '../../platform/errors';
import { addDays, daysBetween, isIsoDate, type IsoDate } from '../../platform/time/dates';
import { customerFacts, type CustomerFactsRow } from '../engine/snapshot-loader';
import type { PolicyDefinition } from '../policies/policy-definition';
import type { PolicyService } from '../policies/policy.service';
import { resolveAssignment, type AssignmentRow } from '../policies/policy-resolution';
import { fitResponseModel, ResponseLookup, summarizeModel, touchKindOf, type HistoryInvoice, type ModelSummaryRow, type ResponseModel } from './response-model';
import { calendar, emptyTotals, simulateCustomer, type ArmTotals, type SimCustomer, type SimInvoice } from './simulator';

export const BACKTEST_BATCH = 1000;
/** Books up to this many invoices in scope are backtested inside the request; larger ones as a job. */
export const BACKTEST_INLINE_LIMIT = 20_000;
export const BACKTEST_MAX_DAYS = 731;
/** History used to fit the model starts this many days before the replay window (or at its start if longer). */
export const FIT_LOOKBACK_DAYS = 365;

const NIL = '00000000-0000-0000-0000-000000000000';

export interface BacktestRunRow {
  id: string;
  policyId: string;
  versionId: string | null;
  from: IsoDate;
  to: IsoDate;
  status: 'QUEUED' | 'RUNNING' | 'DONE' | 'FAILED';
  percentDone: number;
  customersTotal: number | null;
  customersDone: number;
  result: BacktestResult | null;
  model: ResponseModel | null;
  error: string | null;
  createdBy: string;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface CurrencyAmount {
  currency: string;
  amountMinor: string;
}

export interface ArmResult {
  label: 'candidate' | 'current';
  policies: { policyId: string; versionId: string; version: number; customers: number }[];
  cash: CurrencyAmount[];
  cashByWeek: { week: number; weekStart: IsoDate; cash: CurrencyAmount[]; touches: number }[];
  dso: { currency: string; days: number | null }[];
  touches: number;
  touchesByStep: Record<string, number>;
  touchesByKind: Record<string, number>;
  escalations: Record<string, number>;
  invoiceDays: number;
}

export interface BacktestResult {
  from: IsoDate;
  to: IsoDate;
  customers: number;
  invoices: number;
  invoiceDays: number;
  sales: CurrencyAmount[];
  candidate: ArmResult;
  current: ArmResult;
  /** What actually came in on the same invoices in the window (payments allocated), for calibration. */
  actualCash: CurrencyAmount[];
  delta: { cash: CurrencyAmount[]; dso: { currency: string; days: number | null }[]; touches: number };
  model: ModelSummaryRow[];
  modelInvoices: number;
  elapsedMs: number;
}

interface Candidate {
  ref: { id: string; version: number };
  def: PolicyDefinition;
}

const round = (m: Record<string, number>): CurrencyAmount[] =>
  Object.entries(m)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([currency, v]) => ({ currency, amountMinor: String(Math.round(v)) }));

/**
 * Backtests a dunning policy (a version or an unsaved definition) against the current policies on
 * the same history: fits the response model once, then streams customers in batches and replays
 * the pure engine day by day for both arms (simulator.ts). Results are kept per run.
 */
export class BacktestService {
  /** Set by the composition root: runs a backtest in the background (BullMQ). */
  enqueue: (ctx: RequestContext, runId: string) => Promise<void> = async () => {
    throw new Error('backtest jobs are not wired');
  };

  constructor(private readonly policies: PolicyService) {}

  async request(ctx: RequestContext, input: { policyId: string; versionId?: string | null; definition?: unknown; from: IsoDate; to: IsoDate; background?: boolean | null }): Promise<BacktestRunRow> {
    if (!isIsoDate(input.from)) throw badInput('from', 'must be YYYY-MM-DD');
    if (!isIsoDate(input.to)) throw badInput('to', 'must be YYYY-MM-DD');
    if (input.to < input.from) throw badInput('to', 'must not be before from');
    if (daysBetween(input.from, input.to) > BACKTEST_MAX_DAYS) throw badInput('to', `a backtest covers at most ${BACKTEST_MAX_DAYS} days`);
    const hasDef = input.definition !== undefined && input.definition !== null;
    if (hasDef && input.versionId) throw badInput('definition', 'give a versionId or a definition, not both');
    await this.candidate(ctx, { policyId: input.policyId, versionId: input.versionId ?? null, definition: hasDef ? input.definition : null });
    const [row] = await ctx.em.query(
      `INSERT INTO backtest_runs (tenant_id, policy_id, version_id, definition, from_date, to_date, status, created_by) VALUES ($1, $2, $3, $4::jsonb, $5, $6, 'QUEUED', $7) RETURNING id`,
      [ctx.tenantId, input.policyId, input.versionId ?? null, hasDef ? JSON.stringify(input.definition) : null, input.from, input.to, ctx.actor.id.slice(0, 64)],
    );
    const [{ n }] = await ctx.em.query(`SELECT count(*)::int AS n FROM invoices WHERE tenant_id = $1 AND issue_date <= $2::date AND (closed_on IS NULL OR closed_on >= $3::date) AND status <> 'VOID'`, [
      ctx.tenantId,
      input.to,
      input.from,
    ]);
    if (input.background || n > BACKTEST_INLINE_LIMIT) await this.enqueue(ctx, row.id);
    else await this.execute(ctx, row.id);
    return (await this.get(ctx, row.id))!;
  }

  private async candidate(ctx: RequestContext, input: { policyId: string; versionId: string | null; definition: unknown }): Promise<Candidate> {
    await this.policies.require(ctx, input.policyId);
    if (input.definition !== null && input.definition !== undefined) {
      const v = await this.policies.validate(ctx, input.definition);
      if (!v.def) throw badInput(v.problems[0].field, v.problems[0].message, v.problems[0].code);
      return { ref: { id: NIL, version: 0 }, def: v.def };
    }
    const versions = await this.policies.versions(ctx, input.policyId);
    const chosen = input.versionId ? versions.find((v) => v.id === input.versionId) : versions[0];
    if (!chosen) throw notFound('Policy version', input.versionId ?? '(latest)', 'versionId');
    return { ref: { id: chosen.id, version: chosen.version }, def: chosen.definition };
  }

  /** Runs a queued backtest to the end (inline or from the job), reporting progress on the row. */
  async execute(ctx: RequestContext, runId: string): Promise<void> {
    const run = await this.get(ctx, runId);
    if (!run) throw notFound('Backtest run', runId);
    if (run.status === 'DONE') return;
    const t0 = Date.now();
    await ctx.em.query(`UPDATE backtest_runs SET status = 'RUNNING', started_at = now(), percent_done = 0, customers_done = 0, error = NULL WHERE id = $1`, [runId]);
    try {
      const [stored] = await ctx.em.query(`SELECT definition FROM backtest_runs WHERE id = $1`, [runId]);
      const cand = await this.candidate(ctx, { policyId: run.policyId, versionId: run.versionId, definition: stored.definition });
      const { result, model } = await this.backtest(ctx, { policyId: run.policyId, candidate: cand, from: run.from, to: run.to }, async (done, total) => {
        await ctx.em.query(`UPDATE backtest_runs SET percent_done = $2, customers_done = $3, customers_total = $4 WHERE id = $1`, [runId, Math.min(99.9, (100 * done) / Math.max(1, total)), Math.floor(done / 2), Math.floor(total / 2)]);
      });
      result.elapsedMs = Date.now() - t0;
      await ctx.em.query(`UPDATE backtest_runs SET status = 'DONE', percent_done = 100, result = $2::jsonb, model = $3::jsonb, finished_at = now() WHERE id = $1`, [runId, JSON.stringify(result), JSON.stringify(model)]);
    } catch (err) {
      await ctx.em.query(`UPDATE backtest_runs SET status = 'FAILED', error = $2, finished_at = now() WHERE id = $1`, [runId, String(err instanceof Error ? err.message : err).slice(0, 2000)]);
      throw err;
    }
  }

  /**
   * The backtest itself, without the run row: two streaming passes over the customers in
   * batches, the first fits the response model, the second replays both arms.
   */
  async backtest(
    ctx: RequestContext,
    input: { policyId: string; candidate: Candidate; from: IsoDate; to: IsoDate },
    progress?: (done: number, total: number) => Promise<void>,
  ): Promise<{ result: BacktestResult; model: ResponseModel }> {
    const t0 = Date.now();
    const { from, to } = input;
    const fitFrom = addDays(to, -Math.max(FIT_LOOKBACK_DAYS, daysBetween(from, to)));
    const ids: string[] = (
      await ctx.em.query(
        `SELECT DISTINCT customer_id FROM invoices WHERE tenant_id = $1 AND issue_date <= $2::date AND (closed_on IS NULL OR closed_on > $3::date) ORDER BY customer_id`,
        [ctx.tenantId, to, fitFrom],
      )
    ).map((r: { customer_id: string }) => r.customer_id);
    const batches: string[][] = [];
    for (let i = 0; i < ids.length; i += BACKTEST_BATCH) batches.push(ids.slice(i, i + BACKTEST_BATCH));
    const total = ids.length * 2;
    let done = 0;

    // Pass 1: the response model, from every invoice at risk in the fitting window.
    const history: HistoryInvoice[] = [];
    for (const b of batches) {
      const data = await this.loadBatch(ctx, b, fitFrom, from, to);
      for (const h of data.history) history.push(h);
      done += b.length;
      await progress?.(done, total);
    }
    const model = fitResponseModel(history, { from: fitFrom, to });
    history.length = 0;
    const lookup = new ResponseLookup(model);

    // Pass 2: the replay, candidate and current, customer by customer.
    const book = await this.policies.book(ctx, from);
    const assignments: AssignmentRow[] = (await this.policies.assignments(ctx)).map((a) => ({ policyId: a.policyId, scope: a.scope, scopeValue: a.scopeValue }));
    const assigned = assignments.some((a) => a.policyId === input.policyId);
    const cal = calendar(from, to);
    const cand = emptyTotals();
    const cur = emptyTotals();
    const candPolicies = new Map<string, ArmResult['policies'][number]>();
    const curPolicies = new Map<string, ArmResult['policies'][number]>();
    const sales: Record<string, number> = {};
    const actual: Record<string, number> = {};
    let customers = 0;
    let invoices = 0;
    for (const b of batches) {
      const data = await this.loadBatch(ctx, b, fitFrom, from, to);
      for (const [cur_, v] of Object.entries(data.actual)) actual[cur_] = (actual[cur_] ?? 0) + v;
      for (const c of data.sim) {
        if (c.invoices.length === 0) continue;
        if (assigned && resolveAssignment(assignments, c).winner?.policyId !== input.policyId) continue;
        customers++;
        invoices += c.invoices.length;
        for (const i of c.invoices) if (i.issueDate >= from) sales[i.currency] = (sales[i.currency] ?? 0) + Number(i.totalMinor);
        simulateCustomer(c, input.candidate, lookup, from, to, cand, cal);
        bump(candPolicies, input.policyId, input.candidate.ref.id, input.candidate.ref.version);
        const pick = book.resolve(c);
        if (pick) {
          simulateCustomer(c, { ref: { id: pick.live.versionId, version: pick.live.version }, def: pick.live.definition }, lookup, from, to, cur, cal);
          bump(curPolicies, pick.live.policyId, pick.live.versionId, pick.live.version);
        } else {
          // No live policy: no reminders, payments at the baseline hazard.
          simulateCustomer(c, { ref: { id: NIL, version: 0 }, def: { steps: [], courtesy: { thresholdPercent: 90, steps: [] }, tiers: [], personOnlyTiers: [] } }, lookup, from, to, cur, cal);
        }
      }
      done += b.length;
      await progress?.(done, total);
    }
    const days = cal.length;
    const candidate = armResult('candidate', cand, [...candPolicies.values()], sales, days, from);
    const current = armResult('current', cur, [...curPolicies.values()], sales, days, from);
    const currencies = [...new Set([...Object.keys(cand.cash), ...Object.keys(cur.cash)])].sort();
    const result: BacktestResult = {
      from,
      to,
      customers,
      invoices,
      invoiceDays: cand.invoiceDays + cur.invoiceDays,
      sales: round(sales),
      candidate,
      current,
      actualCash: round(actual),
      delta: {
        cash: currencies.map((c) => ({ currency: c, amountMinor: String(Math.round(cand.cash[c] ?? 0) - Math.round(cur.cash[c] ?? 0)) })),
        dso: candidate.dso.map((d) => {
          const o = current.dso.find((x) => x.currency === d.currency);
          return { currency: d.currency, days: d.days !== null && o?.days !== null && o?.days !== undefined ? d.days - o.days : null };
        }),
        touches: candidate.touches - current.touches,
      },
      model: summarizeModel(model),
      modelInvoices: model.invoices,
      elapsedMs: Date.now() - t0,
    };
    return { result, model };
  }

  /** One batch of customers: the history rows for the fit and the replay inputs, in a fixed number of queries. */
  async loadBatch(ctx: RequestContext, ids: string[], fitFrom: IsoDate, from: IsoDate, to: IsoDate): Promise<{ history: HistoryInvoice[]; sim: SimCustomer[]; actual: Record<string, number> }> {
    const t = ctx.tenantId;
    const q = <T>(sql: string, params: unknown[]) => ctx.em.query(sql, params) as Promise<T[]>;
    const customers = await q<CustomerFactsRow & { late: number; disputes: number; broken: number }>(
      `SELECT c.id, c.segment, c.tier, c.country, c.owner_user_id, ${isoDate('c.renewal_date')} AS renewal_date,
              (SELECT count(*) FROM invoices i WHERE i.tenant_id = c.tenant_id AND i.customer_id = c.id AND i.due_date > $3::date - 365 AND i.due_date <= $3::date
                 AND ((i.closed_on IS NOT NULL AND i.closed_on < $3::date AND i.closed_on - i.due_date > 15) OR ((i.closed_on IS NULL OR i.closed_on >= $3::date) AND $3::date - i.due_date >= 30)))::int AS late,
              (SELECT count(*) FROM disputes d WHERE d.tenant_id = c.tenant_id AND d.customer_id = c.id AND d.status NOT IN ('SUGGESTED','DISMISSED') AND d.opened_at::date > $3::date - 365 AND d.opened_at::date < $3::date)::int AS disputes,
              (SELECT count(*) FROM promises_to_pay p WHERE p.tenant_id = c.tenant_id AND p.customer_id = c.id AND p.status = 'BROKEN' AND p.created_at::date > $3::date - 365 AND p.created_at::date < $3::date)::int AS broken
       FROM customers c WHERE c.tenant_id = $1 AND c.id = ANY($2::uuid[]) ORDER BY c.id`,
      [t, ids, from],
    );
    const invoices = await q<{ id: string; customer_id: string; number: string; currency: string; total_minor: string; issue_date: string; due_date: string; billing_model: string; status: string; closed_on: string | null; voided_on: string | null; paid_before: string }>(
      `SELECT i.id, i.customer_id, i.number, i.currency, i.total_minor::text, ${isoDate('i.issue_date')} AS issue_date, ${isoDate('i.due_date')} AS due_date, i.billing_model, i.status,
              ${isoDate('i.closed_on')} AS closed_on, ${isoDate('i.voided_at::date')} AS voided_on,
              COALESCE((SELECT sum(a.amount_minor) FROM payment_allocations a LEFT JOIN payments p ON p.id = a.payment_id
                        WHERE a.tenant_id = i.tenant_id AND a.invoice_id = i.id AND a.reversed_at IS NULL AND COALESCE(p.received_on, a.created_at::date) < $4::date), 0)::text AS paid_before
       FROM invoices i WHERE i.tenant_id = $1 AND i.customer_id = ANY($2::uuid[]) AND i.issue_date <= $5::date AND (i.closed_on IS NULL OR i.closed_on > $3::date)
       ORDER BY i.customer_id, i.due_date, i.id`,
      [t, ids, fitFrom, from, to],
    );
    const steps = await q<{ invoice_id: string; day: string; channels: string[]; step_offset: number | null }>(
      `SELECT a.invoice_id, ${isoDate('a.scheduled_for')} AS day, a.channels, a.step_offset FROM actions a
       WHERE a.tenant_id = $1 AND a.customer_id = ANY($2::uuid[]) AND a.kind = 'STEP' AND a.status = 'SENT' AND a.scheduled_for <= $3::date ORDER BY a.scheduled_for`,
      [t, ids, to],
    );
    const personal = await q<{ customer_id: string; day: string }>(
      `SELECT DISTINCT a.customer_id, ${isoDate('a.scheduled_for')} AS day FROM actions a
       WHERE a.tenant_id = $1 AND a.customer_id = ANY($2::uuid[]) AND a.kind = 'TIER_ENTRY' AND a.status = 'SENT' AND a.action_type IN ('ASSIGN_COLLECTOR','CREATE_TASK') AND a.scheduled_for <= $3::date`,
      [t, ids, to],
    );
    const actualRows = await q<{ currency: string; amount: string }>(
      `SELECT a.currency, sum(a.amount_minor)::text AS amount FROM payment_allocations a JOIN payments p ON p.id = a.payment_id
       WHERE a.tenant_id = $1 AND a.customer_id = ANY($2::uuid[]) AND a.reversed_at IS NULL AND p.received_on >= $3::date AND p.received_on <= $4::date GROUP BY a.currency`,
      [t, ids, from, to],
    );
    const stepsBy = groupBy(steps, (s) => s.invoice_id);
    const personalBy = groupBy(personal, (p) => p.customer_id, (p) => p.day);
    const invBy = groupBy(invoices, (i) => i.customer_id);
    const history: HistoryInvoice[] = [];
    const sim: SimCustomer[] = [];
    for (const c of customers) {
      const segment = c.segment ?? '';
      const simInvoices: SimInvoice[] = [];
      const lastStepOffset = new Map<string, number>();
      for (const i of invBy.get(c.id) ?? []) {
        const closedOn = i.closed_on ?? (i.status === 'VOID' ? i.voided_on : null);
        const paidOn = i.status === 'PAID' ? i.closed_on : null;
        const endOn = closedOn && closedOn < to ? closedOn : to;
        const touches = (stepsBy.get(i.id) ?? [])
          .map((s) => ({ day: s.day, kind: touchKindOf(s.channels) }))
          .concat((personalBy.get(c.id) ?? []).filter((d) => d >= i.issue_date && d <= endOn).map((d) => ({ day: d, kind: 'PERSONAL' as const })))
          .filter((x): x is HistoryInvoice['touches'][number] => x.kind !== null)
          .sort((a, b) => a.day.localeCompare(b.day));
        history.push({ segment, issueDate: i.issue_date, dueDate: i.due_date, paidOn, endOn, touches });
        // The replay: invoices open at some point in [from, to]; voids and write-offs leave on their day.
        if (i.status === 'VOID' && (!closedOn || closedOn < from)) continue;
        if (i.status === 'PAID' && !i.closed_on) continue;
        if (closedOn && closedOn < from) continue;
        const open = Number(i.total_minor) - Number(i.paid_before);
        if (open <= 0) continue;
        for (const s of stepsBy.get(i.id) ?? []) if (s.day < from && s.step_offset !== null) lastStepOffset.set(i.id, Math.max(lastStepOffset.get(i.id) ?? -Infinity, s.step_offset));
        simInvoices.push({
          id: i.id,
          number: i.number,
          currency: i.currency,
          openMinor: open,
          totalMinor: BigInt(i.total_minor),
          issueDate: i.issue_date,
          dueDate: i.due_date,
          billingModel: i.billing_model as SimInvoice['billingModel'],
          startOn: i.issue_date > from ? i.issue_date : from,
          exitOn: i.status !== 'PAID' && i.status !== 'OPEN' && closedOn ? closedOn : null,
        });
      }
      sim.push({
        ...customerFacts(c),
        history: { lateInvoices: c.late, disputes: c.disputes, brokenPromises: c.broken },
        invoices: simInvoices,
        lastStepOffset,
      });
    }
    return { history, sim, actual: Object.fromEntries(actualRows.map((r) => [r.currency, Number(r.amount)])) };
  }

  async get(ctx: RequestContext, id: string): Promise<BacktestRunRow | null> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
    return (await this.list(ctx, { id, limit: 1 }))[0] ?? null;
  }

  async list(ctx: RequestContext, opts: { id?: string; policyId?: string | null; limit: number }): Promise<BacktestRunRow[]> {
    const rows: {
      id: string;
      policy_id: string;
      version_id: string | null;
      from_date: string;
      to_date: string;
      status: BacktestRunRow['status'];
      percent_done: number;
      customers_total: number | null;
      customers_done: number;
      result: BacktestResult | null;
      model: ResponseModel | null;
      error: string | null;
      created_by: string;
      created_at: Date;
      started_at: Date | null;
      finished_at: Date | null;
    }[] = await ctx.em.query(
      `SELECT id, policy_id, version_id, ${isoDate('from_date')} AS from_date, ${isoDate('to_date')} AS to_date, status, percent_done, customers_total, customers_done, result, model, error, created_by, created_at, started_at, finished_at
       FROM backtest_runs WHERE tenant_id = $1 ${opts.id ? 'AND id = $3' : ''} ${opts.policyId ? `AND policy_id = $${opts.id ? 4 : 3}` : ''}
       ORDER BY created_at DESC, id LIMIT $2`,
      [ctx.tenantId, Math.min(Math.max(opts.limit, 1), 100), ...(opts.id ? [opts.id] : []), ...(opts.policyId ? [opts.policyId] : [])],
    );
    return rows.map((r) => ({
      id: r.id,
      policyId: r.policy_id,
      versionId: r.version_id,
      from: r.from_date,
      to: r.to_date,
      status: r.status,
      percentDone: r.percent_done,
      customersTotal: r.customers_total,
      customersDone: r.customers_done,
      result: r.result,
      model: r.model,
      error: r.error,
      createdBy: r.created_by,
      createdAt: r.created_at,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
    }));
  }
}

function bump(m: Map<string, ArmResult['policies'][number]>, policyId: string, versionId: string, version: number): void {
  const k = `${policyId}:${versionId}`;
  const e = m.get(k);
  if (e) e.customers++;
  else m.set(k, { policyId, versionId, version, customers: 1 });
}

function armResult(label: ArmResult['label'], a: ArmTotals, policies: ArmResult['policies'], sales: Record<string, number>, days: number, from: IsoDate): ArmResult {
  const weeks = Math.ceil(days / 7);
  const r4 = (x: number) => Math.round(x * 10_000) / 10_000;
  const roundMap = (m: Record<string, number>) => Object.fromEntries(Object.entries(m).sort(([x], [y]) => x.localeCompare(y)).map(([k, v]) => [k, r4(v)]));
  return {
    label,
    policies,
    cash: round(a.cash),
    cashByWeek: Array.from({ length: weeks }, (_, w) => ({ week: w, weekStart: addDays(from, 7 * w), cash: round(a.cashByWeek[w] ?? {}), touches: r4(a.touchesByWeek[w] ?? 0) })),
    // DSO = average receivable over the window / average daily sales (invoices issued in the window).
    dso: Object.keys({ ...a.arDays, ...sales })
      .sort()
      .map((currency) => ({ currency, days: sales[currency] ? r4((a.arDays[currency] ?? 0) / days / (sales[currency] / days)) : null })),
    touches: r4(a.touches),
    touchesByStep: roundMap(a.touchesByStep),
    touchesByKind: roundMap(a.touchesByKind),
    escalations: roundMap(a.escalations),
    invoiceDays: a.invoiceDays,
  };
}

