import { inTransaction, type RequestContext } from '../../platform/context';
import { badInput } from '../../platform/errors';
import { Money } from '../../platform/graphql/money.type';
import { addDays, daysBetween, isIsoDate, type IsoDate } from '../../platform/time/dates';
import { dimensionConditions, openInvoicesSource, rollupSource, SqlParams, tailsAnswer } from './aging-sql';
import type { AgingService, TenantAging } from './aging.service';
import { bucketSql, DEFAULT_BUCKET_EDGES } from './bucket-edges';
import { averageDaysDelinquent, bestPossibleDso, collectionEffectivenessIndex, countbackDso, percentCurrent, standardDso, type MonthOfSales } from './collection-metrics';
import { AgingChangeReason, MetricsGrouping, type CeiResult, type CollectionsMetrics, type DsoResult, type MetricsFilter, type MetricsPoint, type MetricsSeries } from './dto/aging.types';
import type { FxTable } from '../../platform/money/fx-table';

export const DEFAULT_PERIOD_DAYS = 90;
const COUNTBACK_MONTHS = 12;
const MAX_SERIES_DAYS = 400;

interface Receivables {
  total: bigint;
  current: bigint;
}

/** Per-day credit sales of one group in the functional currency, summed over currencies at one day's rates. */
type SalesByCurrency = Map<string, Map<IsoDate, bigint>>;

function checkPeriod(periodDays: number): void {
  if (!Number.isInteger(periodDays) || periodDays < 1 || periodDays > 730) throw badInput('periodDays', 'must be a whole number of days from 1 to 730');
}

/** Calendar months walking back from `asOf` (the first one partial: the days elapsed in it). */
function monthsBack(asOf: IsoDate, n: number): { from: IsoDate; to: IsoDate; days: number }[] {
  const out: { from: IsoDate; to: IsoDate; days: number }[] = [];
  let to = asOf;
  for (let i = 0; i < n; i++) {
    const from = `${to.slice(0, 8)}01`;
    out.push({ from, to, days: daysBetween(from, to) + 1 });
    to = addDays(from, -1);
  }
  return out;
}

/**
 * DSO, CEI, average days delinquent and % current, live from the rollups or as a daily series
 * from the snapshots the rollover job keeps. Amounts are converted into the functional currency
 * at the rates in force on the day each figure is about (see ADR 014 for the rounding rule).
 */
export class MetricsService {
  constructor(private readonly aging: AgingService) {}

  /**
   * Receivables as of a day from the rollups (with the folded tails when they answer for that
   * day, else from the open invoices), by (entity, segment, currency): amounts, counts and the
   * amount x days past due.
   */
  private async receivablesRows(ctx: RequestContext, asOf: IsoDate, t: TenantAging, f: MetricsFilter) {
    const p = new SqlParams(ctx.tenantId, asOf, t.edges);
    const source = tailsAnswer(t.foldedThrough, t.edges, asOf)
      ? rollupSource('$1', f, p, { foldedThroughParam: t.foldedThrough ? p.add(t.foldedThrough) : null, dueDays: true })
      : openInvoicesSource('$1', f, asOf, p, { dueDays: true });
    // amount x max(asOf - due, 0) = amount x (asOf - 1970-01-01) - amount x (due - 1970-01-01) for rows already due
    return (await ctx.em.query(
      `SELECT s.entity_id, s.segment, s.currency, ${bucketSql('s.due_date', '$2', '$3')} AS bucket, sum(s.open_minor)::text AS open,
         sum(CASE WHEN s.due_date >= $2::date THEN 0 ELSE s.open_minor::numeric * ($2::date - DATE '1970-01-01') - s.due_days END)::text AS weighted, sum(s.invoice_count)::int AS n
       FROM (${source}) s GROUP BY s.entity_id, s.segment, s.currency, bucket`,
      p.values,
    )) as { entity_id: string; segment: string | null; currency: string; bucket: number; open: string; weighted: string; n: number }[];
  }

  /** Per-day credit sales in (from, to], by (entity, segment, currency). */
  private async salesRows(ctx: RequestContext, fromExclusive: IsoDate, to: IsoDate, f: MetricsFilter) {
    const p = new SqlParams(ctx.tenantId, fromExclusive, to);
    const where = ['r.tenant_id = $1', 'r.invoice_count <> 0', 'r.issue_date > $2::date', 'r.issue_date <= $3::date', ...dimensionConditions('r', f, p)];
    return (await ctx.em.query(
      `SELECT r.entity_id, r.segment, r.currency, to_char(r.issue_date, 'YYYY-MM-DD') AS day, sum(r.total_minor)::text AS total
       FROM sales_rollups r WHERE ${where.join(' AND ')} GROUP BY r.entity_id, r.segment, r.currency, r.issue_date`,
      p.values,
    )) as { entity_id: string; segment: string | null; currency: string; day: IsoDate; total: string }[];
  }

  /**
   * Stores the aging of `day` (as of that day, with the balances of now) by entity, segment and
   * currency. Run just after the tenant's midnight, for the day that ended; running it again
   * for the same day replaces that day's rows.
   */
  async takeSnapshot(ctx: RequestContext, day: IsoDate): Promise<number> {
    const t = await this.aging.settings(ctx);
    return inTransaction(ctx, async (tx) => {
      const rows = await this.receivablesRows(tx, day, t, {});
      type G = { entity: string; segment: string | null; currency: string; open: bigint; current: bigint; weighted: bigint; n: number; buckets: bigint[] };
      const groups = new Map<string, G>();
      for (const r of rows) {
        const k = JSON.stringify([r.entity_id, r.segment, r.currency]);
        const g = groups.get(k) ?? { entity: r.entity_id, segment: r.segment, currency: r.currency, open: 0n, current: 0n, weighted: 0n, n: 0, buckets: Array(t.edges.length + 2).fill(0n) };
        groups.set(k, g);
        const open = BigInt(r.open);
        g.open += open;
        if (r.bucket === 0) g.current += open;
        g.weighted += BigInt(r.weighted);
        g.n += r.n;
        g.buckets[r.bucket] += open;
      }
      await tx.em.query(`DELETE FROM aging_snapshots WHERE tenant_id = $1 AND snapshot_date = $2`, [ctx.tenantId, day]);
      for (const g of groups.values()) {
        await tx.em.query(
          `INSERT INTO aging_snapshots (tenant_id, snapshot_date, entity_id, segment, currency, open_minor, current_minor, past_due_minor, days_weighted_minor, invoice_count, buckets)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
          [ctx.tenantId, day, g.entity, g.segment, g.currency, g.open.toString(), g.current.toString(), (g.open - g.current).toString(), g.weighted.toString(), g.n, JSON.stringify({ edges: t.edges, amounts: g.buckets.map(String) })],
        );
      }
      return groups.size;
    });
  }

  /**
   * The tenant's day changed (`today` is the new local date): snapshot the day that ended,
   * fold the day's rollup stripes back into one row per key, drop emptied rows, and tell subscribers that every invoice may have changed bucket.
   * Idempotent per day.
   */
  async rollover(ctx: RequestContext, today: IsoDate): Promise<boolean> {
    return inTransaction(ctx, async (tx) => {
      await tx.em.query(`INSERT INTO aging_settings (tenant_id, bucket_edges, updated_by) VALUES ($1, $2::int[], 'system') ON CONFLICT (tenant_id) DO NOTHING`, [ctx.tenantId, [...DEFAULT_BUCKET_EDGES]]);
      const [s] = (await tx.em.query(`SELECT to_char(rolled_over_on, 'YYYY-MM-DD') AS rolled FROM aging_settings WHERE tenant_id = $1 FOR UPDATE`, [ctx.tenantId])) as { rolled: string | null }[];
      if (s.rolled && s.rolled >= today) return false;
      await this.takeSnapshot(tx, addDays(today, -1));
      // Invoices now past the last edge (and the margin) leave the per-due-date rows for their group's folded tail.
      await this.aging.foldTails(tx, today);
      await tx.em.query(`SELECT fold_rollup_stripes($1)`, [ctx.tenantId]);
      await tx.em.query(`DELETE FROM aging_rollups WHERE tenant_id = $1 AND invoice_count = 0 AND open_minor = 0`, [ctx.tenantId]);
      await tx.em.query(`DELETE FROM sales_rollups WHERE tenant_id = $1 AND invoice_count = 0 AND total_minor = 0`, [ctx.tenantId]);
      await tx.em.query(`UPDATE aging_settings SET rolled_over_on = $2 WHERE tenant_id = $1`, [ctx.tenantId, today]);
      await this.aging.announce(tx, AgingChangeReason.DAY_ROLLOVER);
      return true;
    });
  }

  /** Sums each currency first and converts each currency's sum once (the metrics' one rounding per figure and currency). */
  private sum(rows: { currency: string; amount: bigint }[], fx: FxTable, day: IsoDate, missing: Set<string>): bigint {
    const byCurrency = new Map<string, bigint>();
    for (const r of rows) byCurrency.set(r.currency, (byCurrency.get(r.currency) ?? 0n) + r.amount);
    let total = 0n;
    for (const [currency, amount] of byCurrency) total += fx.convert(amount, currency, day, missing) ?? 0n;
    return total;
  }

  private salesFigures(sales: SalesByCurrency, fx: FxTable, asOf: IsoDate, periodDays: number, missing: Set<string>): { period: bigint; months: MonthOfSales[] } {
    const periodFrom = addDays(asOf, -periodDays);
    const months = monthsBack(asOf, COUNTBACK_MONTHS).map((m) => ({ ...m, rows: [] as { currency: string; amount: bigint }[] }));
    const period: { currency: string; amount: bigint }[] = [];
    for (const [currency, byDay] of sales) {
      for (const [day, amount] of byDay) {
        if (day > asOf) continue;
        if (day > periodFrom) period.push({ currency, amount });
        months.find((mm) => day >= mm.from && day <= mm.to)?.rows.push({ currency, amount });
      }
    }
    return { period: this.sum(period, fx, asOf, missing), months: months.map((m) => ({ days: m.days, sales: this.sum(m.rows, fx, asOf, missing) })) };
  }

  async dso(ctx: RequestContext, args: { filter?: MetricsFilter | null; asOf?: IsoDate | null; periodDays?: number | null }): Promise<DsoResult> {
    const t = await this.aging.settings(ctx);
    const asOf = args.asOf ?? this.aging.today(t);
    const periodDays = args.periodDays ?? DEFAULT_PERIOD_DAYS;
    checkPeriod(periodDays);
    const f = args.filter ?? {};
    const [fx, rec, salesRows] = await Promise.all([
      this.aging.fxTable(ctx, t.functionalCurrency),
      this.receivablesRows(ctx, asOf, t, f),
      this.salesRows(ctx, monthsBack(asOf, COUNTBACK_MONTHS).at(-1)!.from < addDays(asOf, -periodDays) ? addDays(monthsBack(asOf, COUNTBACK_MONTHS).at(-1)!.from, -1) : addDays(asOf, -periodDays), asOf, f),
    ]);
    const missing = new Set<string>();
    const r: Receivables = {
      total: this.sum(rec.map((x) => ({ currency: x.currency, amount: BigInt(x.open) })), fx, asOf, missing),
      current: this.sum(rec.filter((x) => x.bucket === 0).map((x) => ({ currency: x.currency, amount: BigInt(x.open) })), fx, asOf, missing),
    };
    const sales: SalesByCurrency = new Map();
    for (const s of salesRows) {
      const byDay = sales.get(s.currency) ?? new Map<IsoDate, bigint>();
      sales.set(s.currency, byDay);
      byDay.set(s.day, (byDay.get(s.day) ?? 0n) + BigInt(s.total));
    }
    const sf = this.salesFigures(sales, fx, asOf, periodDays, missing);
    const fc = t.functionalCurrency;
    return {
      asOf,
      periodDays,
      receivables: Money.of(r.total, fc),
      currentReceivables: Money.of(r.current, fc),
      creditSales: Money.of(sf.period, fc),
      standard: standardDso(r.total, sf.period, periodDays),
      countback: countbackDso(r.total, sf.months),
      bestPossible: bestPossibleDso(r.current, sf.period, periodDays),
      averageDaysDelinquent: averageDaysDelinquent(r.total, r.current, sf.period, periodDays),
      percentCurrent: percentCurrent(r.total, r.current),
      missingFxRates: [...missing].sort(),
    };
  }

  /** Receivables of a snapshot day, or null when none was taken that day. */
  private async snapshotReceivables(ctx: RequestContext, day: IsoDate, f: MetricsFilter, fx: FxTable, missing: Set<string>): Promise<Receivables | null> {
    const p = new SqlParams(ctx.tenantId, day);
    const where = ['r.tenant_id = $1', 'r.snapshot_date = $2::date', ...dimensionConditions('r', f, p)];
    const rows = (await ctx.em.query(`SELECT r.currency, r.open_minor::text AS open, r.current_minor::text AS current FROM aging_snapshots r WHERE ${where.join(' AND ')}`, p.values)) as {
      currency: string;
      open: string;
      current: string;
    }[];
    const [any] = (await ctx.em.query(`SELECT 1 FROM aging_snapshots WHERE tenant_id = $1 AND snapshot_date = $2 LIMIT 1`, [ctx.tenantId, day])) as unknown[];
    if (!any) return null;
    return {
      total: this.sum(rows.map((x) => ({ currency: x.currency, amount: BigInt(x.open) })), fx, day, missing),
      current: this.sum(rows.map((x) => ({ currency: x.currency, amount: BigInt(x.current) })), fx, day, missing),
    };
  }

  async cei(ctx: RequestContext, args: { filter?: MetricsFilter | null; from: IsoDate; to?: IsoDate | null }): Promise<CeiResult> {
    const t = await this.aging.settings(ctx);
    const today = this.aging.today(t);
    const to = args.to ?? today;
    if (!isIsoDate(args.from) || args.from >= to) throw badInput('from', 'must be a day before `to`');
    const f = args.filter ?? {};
    const fx = await this.aging.fxTable(ctx, t.functionalCurrency);
    const missing = new Set<string>();
    const beginning = await this.snapshotReceivables(ctx, args.from, f, fx, missing);
    let ending: Receivables | null = to >= today ? null : await this.snapshotReceivables(ctx, to, f, fx, missing);
    if (!ending) {
      const rec = await this.receivablesRows(ctx, to, t, f);
      ending = {
        total: this.sum(rec.map((x) => ({ currency: x.currency, amount: BigInt(x.open) })), fx, to, missing),
        current: this.sum(rec.filter((x) => x.bucket === 0).map((x) => ({ currency: x.currency, amount: BigInt(x.open) })), fx, to, missing),
      };
    }
    const sales = this.sum((await this.salesRows(ctx, args.from, to, f)).map((s) => ({ currency: s.currency, amount: BigInt(s.total) })), fx, to, missing);
    const fc = t.functionalCurrency;
    return {
      from: args.from,
      to,
      beginningReceivables: beginning ? Money.of(beginning.total, fc) : null,
      creditSales: Money.of(sales, fc),
      endingReceivables: Money.of(ending.total, fc),
      endingCurrentReceivables: Money.of(ending.current, fc),
      cei: beginning ? collectionEffectivenessIndex(beginning.total, sales, ending.total, ending.current) : null,
      missingFxRates: [...missing].sort(),
    };
  }

  /** One point per snapshot day in [from, to], per group. */
  async series(ctx: RequestContext, args: { groupBy: MetricsGrouping; filter?: MetricsFilter | null; from: IsoDate; to: IsoDate; periodDays?: number | null }): Promise<CollectionsMetrics> {
    const periodDays = args.periodDays ?? DEFAULT_PERIOD_DAYS;
    checkPeriod(periodDays);
    if (args.from > args.to) throw badInput('from', 'must not be after `to`');
    if (daysBetween(args.from, args.to) > MAX_SERIES_DAYS) throw badInput('to', `a series spans at most ${MAX_SERIES_DAYS} days`);
    const t = await this.aging.settings(ctx);
    const f = args.filter ?? {};
    const fx = await this.aging.fxTable(ctx, t.functionalCurrency);
    const missing = new Set<string>();
    const byEntity = args.groupBy === MetricsGrouping.ENTITY || args.groupBy === MetricsGrouping.ENTITY_SEGMENT;
    const bySegment = args.groupBy === MetricsGrouping.SEGMENT || args.groupBy === MetricsGrouping.ENTITY_SEGMENT;
    const groupKey = (entity: string, segment: string | null) => JSON.stringify([byEntity ? entity : null, bySegment ? segment : null]);

    const earliest = addDays(args.from, -periodDays);
    const p = new SqlParams(ctx.tenantId, earliest, args.to);
    const where = ['r.tenant_id = $1', 'r.snapshot_date >= $2::date', 'r.snapshot_date <= $3::date', ...dimensionConditions('r', f, p)];
    const snaps = (await ctx.em.query(
      `SELECT to_char(r.snapshot_date, 'YYYY-MM-DD') AS day, r.entity_id, r.segment, r.currency, r.open_minor::text AS open, r.current_minor::text AS current FROM aging_snapshots r WHERE ${where.join(' AND ')}`,
      p.values,
    )) as { day: IsoDate; entity_id: string; segment: string | null; currency: string; open: string; current: string }[];
    const salesFrom = [addDays(monthsBack(args.from, COUNTBACK_MONTHS).at(-1)!.from, -1), earliest].sort()[0];
    const salesRows = await this.salesRows(ctx, salesFrom, args.to, f);

    const snapDays = new Set(snaps.map((s) => s.day));
    type Group = { entityId: string | null; segment: string | null; snaps: Map<IsoDate, { currency: string; open: bigint; current: bigint }[]>; sales: SalesByCurrency };
    const groups = new Map<string, Group>();
    const group = (entity: string, segment: string | null) => {
      const k = groupKey(entity, segment);
      let g = groups.get(k);
      if (!g) {
        g = { entityId: byEntity ? entity : null, segment: bySegment ? segment : null, snaps: new Map(), sales: new Map() };
        groups.set(k, g);
      }
      return g;
    };
    for (const s of snaps) {
      const g = group(s.entity_id, s.segment);
      g.snaps.set(s.day, [...(g.snaps.get(s.day) ?? []), { currency: s.currency, open: BigInt(s.open), current: BigInt(s.current) }]);
    }
    for (const s of salesRows) {
      const g = group(s.entity_id, s.segment);
      const byDay = g.sales.get(s.currency) ?? new Map<IsoDate, bigint>();
      g.sales.set(s.currency, byDay);
      byDay.set(s.day, (byDay.get(s.day) ?? 0n) + BigInt(s.total));
    }
    const codes = new Map(
      ((await ctx.em.query(`SELECT id, code FROM legal_entities WHERE tenant_id = $1`, [ctx.tenantId])) as { id: string; code: string }[]).map((e) => [e.id, e.code]),
    );
    const fc = t.functionalCurrency;
    const series: MetricsSeries[] = [];
    for (const g of groups.values()) {
      const rec = (day: IsoDate): Receivables | null => {
        if (!snapDays.has(day)) return null;
        const rows = g.snaps.get(day) ?? [];
        return {
          total: this.sum(rows.map((r) => ({ currency: r.currency, amount: r.open })), fx, day, missing),
          current: this.sum(rows.map((r) => ({ currency: r.currency, amount: r.current })), fx, day, missing),
        };
      };
      const points: MetricsPoint[] = [];
      for (let day = args.from; day <= args.to; day = addDays(day, 1)) {
        const end = rec(day);
        if (!end) continue;
        const sf = this.salesFigures(g.sales, fx, day, periodDays, missing);
        const begin = rec(addDays(day, -periodDays));
        points.push({
          date: day,
          receivables: Money.of(end.total, fc),
          currentReceivables: Money.of(end.current, fc),
          pastDueReceivables: Money.of(end.total - end.current, fc),
          creditSales: Money.of(sf.period, fc),
          dsoStandard: standardDso(end.total, sf.period, periodDays),
          dsoCountback: countbackDso(end.total, sf.months),
          averageDaysDelinquent: averageDaysDelinquent(end.total, end.current, sf.period, periodDays),
          cei: begin ? collectionEffectivenessIndex(begin.total, sf.period, end.total, end.current) : null,
          percentCurrent: percentCurrent(end.total, end.current),
        });
      }
      if (points.length) series.push({ group: { entityId: g.entityId, entityCode: g.entityId ? (codes.get(g.entityId) ?? null) : null, segment: g.segment }, points });
    }
    series.sort((a, b) => `${a.group.entityCode ?? ''}\u0000${a.group.segment ?? ''}`.localeCompare(`${b.group.entityCode ?? ''}\u0000${b.group.segment ?? ''}`));
    return { currency: fc, periodDays, series, missingFxRates: [...missing].sort() };
  }
}
