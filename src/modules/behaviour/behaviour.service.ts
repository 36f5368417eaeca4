import DataLoader from 'dataloader';
import { groupBy } from '../../platform/collections';
import type { RequestContext } from '../../platform/context';
import { isoDate } from '../../platform/db/sql';
import { addDays, type IsoDate } from '../../platform/time/dates';
import { BEHAVIOUR_WINDOW_DAYS, computeBehaviour, type BehaviourStats, type PaidInvoiceRow, type StepShare, type Trend } from './behaviour-stats';

export const BEHAVIOUR_BATCH = 1000;

/** One customer's stored behaviour row, as the API and the segmentation rules read it. */
export interface CustomerBehaviourRow extends BehaviourStats {
  customerId: string;
  asOf: IsoDate;
  invoicesDue: number;
  disputedInvoices: number;
  currency: string;
  openBalanceMinor: bigint;
  overdueBalanceMinor: bigint;
  maxDaysPastDue: number | null;
  invoiced365Minor: bigint;
  updatedAt: Date;
}


interface DbRow {
  customer_id: string;
  as_of: string;
  paid_invoices: number;
  late_invoices: number;
  days_to_pay_mean: number | null;
  days_to_pay_median: number | null;
  days_to_pay_p90: number | null;
  days_late_mean: number | null;
  days_late_median: number | null;
  days_late_p90: number | null;
  paid_after_step: StepShare[];
  promises_resolved: number;
  promise_kept_rate: number | null;
  invoices_due: number;
  disputed_invoices: number;
  dispute_rate: number | null;
  recent_days_late_mean: number | null;
  prior_days_late_mean: number | null;
  trend: Trend;
  open_balance_minor: string;
  overdue_balance_minor: string;
  max_days_past_due: number | null;
  invoiced_365_minor: string;
  currency: string;
  updated_at: Date;
}

function fromDb(r: DbRow): CustomerBehaviourRow {
  return {
    customerId: r.customer_id,
    asOf: r.as_of,
    paidInvoices: r.paid_invoices,
    lateInvoices: r.late_invoices,
    daysToPay: { mean: r.days_to_pay_mean, median: r.days_to_pay_median, p90: r.days_to_pay_p90 },
    daysLate: { mean: r.days_late_mean, median: r.days_late_median, p90: r.days_late_p90 },
    paidAfterStep: r.paid_after_step,
    promisesResolved: r.promises_resolved,
    promiseKeptRate: r.promise_kept_rate,
    invoicesDue: r.invoices_due,
    disputedInvoices: r.disputed_invoices,
    disputeRate: r.dispute_rate,
    recentDaysLateMean: r.recent_days_late_mean,
    priorDaysLateMean: r.prior_days_late_mean,
    trend: r.trend,
    currency: r.currency,
    openBalanceMinor: BigInt(r.open_balance_minor),
    overdueBalanceMinor: BigInt(r.overdue_balance_minor),
    maxDaysPastDue: r.max_days_past_due,
    invoiced365Minor: BigInt(r.invoiced_365_minor),
    updatedAt: r.updated_at,
  };
}

/**
 * Keeps `customer_behaviour` current: per batch of customers, five set-based queries (paid
 * invoices with the last reminder sent before payment, balances, invoices due and disputed,
 * resolved promises), the pure statistics, one upsert. Amounts are in the customer's currency
 * (invoices in other currencies are left out of the balances, not converted).
 */
export class BehaviourService {
  async refresh(ctx: RequestContext, asOf: IsoDate, customerIds?: string[], onBatch?: (done: number, total: number) => Promise<void>): Promise<{ customers: number }> {
    const ids: string[] = customerIds ?? (await ctx.em.query(`SELECT id FROM customers WHERE tenant_id = $1 ORDER BY id`, [ctx.tenantId])).map((r: { id: string }) => r.id);
    let done = 0;
    for (let i = 0; i < ids.length; i += BEHAVIOUR_BATCH) {
      const batch = ids.slice(i, i + BEHAVIOUR_BATCH);
      await this.refreshBatch(ctx, asOf, batch);
      done += batch.length;
      await onBatch?.(done, ids.length);
    }
    return { customers: ids.length };
  }

  private async refreshBatch(ctx: RequestContext, asOf: IsoDate, ids: string[]): Promise<void> {
    const t = ctx.tenantId;
    const since = addDays(asOf, -BEHAVIOUR_WINDOW_DAYS);
    const q = <T>(sql: string, params: unknown[]) => ctx.em.query(sql, params) as Promise<T[]>;
    const customers = await q<{ id: string; currency: string }>(`SELECT id, currency FROM customers WHERE tenant_id = $1 AND id = ANY($2::uuid[])`, [t, ids]);
    // The last reminder that went out on or before the day the invoice was paid.
    const paid = await q<{ customer_id: string; issue_date: string; due_date: string; paid_on: string; last_step: string | null }>(
      `SELECT i.customer_id, ${isoDate('i.issue_date')} AS issue_date, ${isoDate('i.due_date')} AS due_date, ${isoDate('i.closed_on')} AS paid_on,
              (SELECT a.step_key FROM actions a WHERE a.tenant_id = i.tenant_id AND a.invoice_id = i.id AND a.kind = 'STEP' AND a.status = 'SENT' AND a.scheduled_for <= i.closed_on
                ORDER BY a.scheduled_for DESC, a.step_offset DESC LIMIT 1) AS last_step
       FROM invoices i WHERE i.tenant_id = $1 AND i.customer_id = ANY($2::uuid[]) AND i.status = 'PAID' AND i.closed_on IS NOT NULL AND i.closed_on > $3::date AND i.closed_on <= $4::date`,
      [t, ids, since, asOf],
    );
    const balances = await q<{ customer_id: string; open: string; overdue: string; max_dpd: number | null; invoiced: string; due: number; disputed: number }>(
      `SELECT i.customer_id,
              COALESCE(sum(i.open_balance_minor) FILTER (WHERE i.status = 'OPEN' AND i.currency = c.currency), 0)::text AS open,
              COALESCE(sum(i.open_balance_minor) FILTER (WHERE i.status = 'OPEN' AND i.currency = c.currency AND i.due_date < $3::date), 0)::text AS overdue,
              max($3::date - i.due_date) FILTER (WHERE i.status = 'OPEN' AND i.open_balance_minor > 0 AND i.due_date < $3::date) AS max_dpd,
              COALESCE(sum(i.total_minor) FILTER (WHERE i.status <> 'VOID' AND i.currency = c.currency AND i.issue_date > $4::date AND i.issue_date <= $3::date), 0)::text AS invoiced,
              (count(*) FILTER (WHERE i.status <> 'VOID' AND i.due_date > $4::date AND i.due_date <= $3::date))::int AS due,
              (count(*) FILTER (WHERE i.status <> 'VOID' AND i.due_date > $4::date AND i.due_date <= $3::date AND EXISTS (
                 SELECT 1 FROM disputes d WHERE d.tenant_id = i.tenant_id AND d.invoice_id = i.id AND d.status NOT IN ('SUGGESTED','DISMISSED'))))::int AS disputed
       FROM invoices i JOIN customers c ON c.id = i.customer_id
       WHERE i.tenant_id = $1 AND i.customer_id = ANY($2::uuid[]) GROUP BY i.customer_id`,
      [t, ids, asOf, since],
    );
    const promises = await q<{ customer_id: string; kept: number; partial: number; broken: number }>(
      `SELECT customer_id, (count(*) FILTER (WHERE status = 'KEPT'))::int AS kept, (count(*) FILTER (WHERE status = 'PARTIALLY_KEPT'))::int AS partial,
              (count(*) FILTER (WHERE status = 'BROKEN'))::int AS broken
       FROM promises_to_pay WHERE tenant_id = $1 AND customer_id = ANY($2::uuid[]) AND status IN ('KEPT','PARTIALLY_KEPT','BROKEN')
         AND COALESCE(resolved_on, resolved_at::date, promised_date) > $3::date AND COALESCE(resolved_on, resolved_at::date, promised_date) <= $4::date
       GROUP BY customer_id`,
      [t, ids, since, asOf],
    );
    const paidBy = groupBy(
      paid,
      (p) => p.customer_id,
      (p): PaidInvoiceRow => ({ issueDate: p.issue_date, dueDate: p.due_date, paidOn: p.paid_on, lastStepKey: p.last_step }),
    );
    const balBy = new Map(balances.map((b) => [b.customer_id, b]));
    const promBy = new Map(promises.map((p) => [p.customer_id, p]));
    const rows = customers.map((c) => {
      const b = balBy.get(c.id);
      const p = promBy.get(c.id);
      const s = computeBehaviour({
        asOf,
        paid: paidBy.get(c.id) ?? [],
        promises: { kept: p?.kept ?? 0, partiallyKept: p?.partial ?? 0, broken: p?.broken ?? 0 },
        invoicesDue: b?.due ?? 0,
        disputedInvoices: b?.disputed ?? 0,
      });
      return {
        customer_id: c.id,
        paid_invoices: s.paidInvoices,
        late_invoices: s.lateInvoices,
        days_to_pay_mean: s.daysToPay.mean,
        days_to_pay_median: s.daysToPay.median,
        days_to_pay_p90: s.daysToPay.p90,
        days_late_mean: s.daysLate.mean,
        days_late_median: s.daysLate.median,
        days_late_p90: s.daysLate.p90,
        paid_after_step: s.paidAfterStep,
        promises_resolved: s.promisesResolved,
        promise_kept_rate: s.promiseKeptRate,
        invoices_due: b?.due ?? 0,
        disputed_invoices: b?.disputed ?? 0,
        dispute_rate: s.disputeRate,
        recent_days_late_mean: s.recentDaysLateMean,
        prior_days_late_mean: s.priorDaysLateMean,
        trend: s.trend,
        open_balance_minor: b?.open ?? '0',
        overdue_balance_minor: b?.overdue ?? '0',
        max_days_past_due: b?.max_dpd ?? null,
        invoiced_365_minor: b?.invoiced ?? '0',
        currency: c.currency,
      };
    });
    if (!rows.length) return;
    await ctx.em.query(
      `INSERT INTO customer_behaviour (tenant_id, customer_id, as_of, paid_invoices, late_invoices, days_to_pay_mean, days_to_pay_median, days_to_pay_p90, days_late_mean, days_late_median, days_late_p90,
          paid_after_step, promises_resolved, promise_kept_rate, invoices_due, disputed_invoices, dispute_rate, recent_days_late_mean, prior_days_late_mean, trend,
          open_balance_minor, overdue_balance_minor, max_days_past_due, invoiced_365_minor, currency, updated_at)
       SELECT $1, r.customer_id, $2::date, r.paid_invoices, r.late_invoices, r.days_to_pay_mean, r.days_to_pay_median, r.days_to_pay_p90, r.days_late_mean, r.days_late_median, r.days_late_p90,
          r.paid_after_step, r.promises_resolved, r.promise_kept_rate, r.invoices_due, r.disputed_invoices, r.dispute_rate, r.recent_days_late_mean, r.prior_days_late_mean, r.trend,
          r.open_balance_minor::bigint, r.overdue_balance_minor::bigint, r.max_days_past_due, r.invoiced_365_minor::bigint, r.currency, now()
       FROM jsonb_to_recordset($3::jsonb) AS r(customer_id uuid, paid_invoices int, late_invoices int, days_to_pay_mean float8, days_to_pay_median float8, days_to_pay_p90 float8,
          days_late_mean float8, days_late_median float8, days_late_p90 float8, paid_after_step jsonb, promises_resolved int, promise_kept_rate float8, invoices_due int, disputed_invoices int,
          dispute_rate float8, recent_days_late_mean float8, prior_days_late_mean float8, trend text, open_balance_minor text, overdue_balance_minor text, max_days_past_due int, invoiced_365_minor text, currency text)
       ON CONFLICT (tenant_id, customer_id) DO UPDATE SET as_of = EXCLUDED.as_of, paid_invoices = EXCLUDED.paid_invoices, late_invoices = EXCLUDED.late_invoices,
          days_to_pay_mean = EXCLUDED.days_to_pay_mean, days_to_pay_median = EXCLUDED.days_to_pay_median, days_to_pay_p90 = EXCLUDED.days_to_pay_p90,
          days_late_mean = EXCLUDED.days_late_mean, days_late_median = EXCLUDED.days_late_median, days_late_p90 = EXCLUDED.days_late_p90, paid_after_step = EXCLUDED.paid_after_step,
          promises_resolved = EXCLUDED.promises_resolved, promise_kept_rate = EXCLUDED.promise_kept_rate, invoices_due = EXCLUDED.invoices_due, disputed_invoices = EXCLUDED.disputed_invoices,
          dispute_rate = EXCLUDED.dispute_rate, recent_days_late_mean = EXCLUDED.recent_days_late_mean, prior_days_late_mean = EXCLUDED.prior_days_late_mean, trend = EXCLUDED.trend,
          open_balance_minor = EXCLUDED.open_balance_minor, overdue_balance_minor = EXCLUDED.overdue_balance_minor, max_days_past_due = EXCLUDED.max_days_past_due,
          invoiced_365_minor = EXCLUDED.invoiced_365_minor, currency = EXCLUDED.currency, updated_at = now()`,
      [t, asOf, JSON.stringify(rows)],
    );
  }

  async byCustomerIds(ctx: RequestContext, ids: readonly string[]): Promise<Map<string, CustomerBehaviourRow>> {
    if (!ids.length) return new Map();
    const rows: DbRow[] = await ctx.em.query(
      `SELECT customer_id, ${isoDate('as_of')} AS as_of, paid_invoices, late_invoices, days_to_pay_mean, days_to_pay_median, days_to_pay_p90, days_late_mean, days_late_median, days_late_p90,
              paid_after_step, promises_resolved, promise_kept_rate, invoices_due, disputed_invoices, dispute_rate, recent_days_late_mean, prior_days_late_mean, trend,
              open_balance_minor::text, overdue_balance_minor::text, max_days_past_due, invoiced_365_minor::text, currency, updated_at
       FROM customer_behaviour WHERE tenant_id = $1 AND customer_id = ANY($2::uuid[])`,
      [ctx.tenantId, [...ids]],
    );
    return new Map(rows.map((r) => [r.customer_id, fromDb(r)]));
  }

  /** Batches every `paymentBehaviour` field of one GraphQL request into one query. */
  loader(ctx: RequestContext): DataLoader<string, CustomerBehaviourRow | null> {
    return ctx.loaders.get('customerBehaviour', () => new DataLoader<string, CustomerBehaviourRow | null>(async (ids) => {
      const m = await this.byCustomerIds(ctx, ids);
      return ids.map((id) => m.get(id) ?? null);
    }));
  }
}
