import { AGING_VERSION_SQL, AgingAggregateCache } from './aging-cache';
import { inTransaction, type RequestContext } from '../../platform/context';
import { badInput } from '../../platform/errors';
import { decodeCursor, toConnection, type Connection } from '../../platform/graphql/connection';
import { Money } from '../../platform/graphql/money.type';
import { isCurrency } from '../../platform/money/money';
import { addDays, daysBetween, isIsoDate, todayIn, type IsoDate } from '../../platform/time/dates';
import type { AuditService } from '../audit/audit.service';
import type { BillingModel } from '../invoices/invoice.entity';
import type { InvoiceService } from '../invoices/invoice.service';
import { announceAgingChange } from './aging-events';
import { DIMENSION_COLUMN, KEY_LETTER, openInvoicesSource, rollupCanAnswer, rollupSource, SqlParams, tailsAnswer } from './aging-sql';
import { bucketDefinitions, bucketIndex, bucketSql, DEFAULT_BUCKET_EDGES, dueDateRange, edgesProblem } from './bucket-edges';
import {
  AgingChangeReason,
  AgingCurrencyMode,
  AgingDimension,
  type AgingCellInput,
  type AgingFilter,
  type AgingInvoice,
  type AgingReport,
  type AgingRow,
  type AgingSettings,
  type CollectionsHistory,
  type FxRate,
  type FxRateInput,
} from './dto/aging.types';
import { formatRate, parseRate } from '../../platform/money/fx-conversion';
import { FxTable } from '../../platform/money/fx-table';

export { AGING_CHANGED, type AgingChangedPayload } from './aging-events';

const ROLLUP_DIMS = 'tenant_id, entity_id, segment, owner_user_id, currency, billing_model';

export interface TenantAging {
  timezone: string;
  functionalCurrency: string;
  edges: number[];
  /** Last due date folded into `aging_rollup_tails` by the daily job, or null. */
  foldedThrough: IsoDate | null;
}

/** Days kept per due date beyond the last edge, so the past week replays from the rollups too. */
export const FOLD_MARGIN_DAYS = 7;

/**
 * The tenant's aging settings as one text value, so a query can carry the settings it was
 * planned with and find out, in the same statement (same snapshot), whether they still hold.
 */
const SETTINGS_SQL = `SELECT t.timezone, t.functional_currency, s.bucket_edges, to_char(s.folded_through, 'YYYY-MM-DD') AS folded_through,
    concat_ws('|', t.timezone, t.functional_currency, coalesce(s.bucket_edges::text, ''), coalesce(to_char(s.folded_through, 'YYYY-MM-DD'), '')) AS signature
  FROM tenants t LEFT JOIN aging_settings s ON s.tenant_id = t.id WHERE t.id = $1`;
const SIGNATURE_SQL = (tenantParam: string) => `(SELECT concat_ws('|', t.timezone, t.functional_currency, coalesce(s.bucket_edges::text, ''), coalesce(to_char(s.folded_through, 'YYYY-MM-DD'), ''))
  FROM tenants t LEFT JOIN aging_settings s ON s.tenant_id = t.id WHERE t.id = ${tenantParam})`;

export interface AgingArgs {
  groupBy: AgingDimension[];
  filter?: AgingFilter | null;
  asOf?: IsoDate | null;
  currencyMode?: AgingCurrencyMode;
}

interface AggRow {
  entity_id?: string | null;
  segment?: string | null;
  owner_user_id?: string | null;
  customer_id?: string | null;
  currency: string;
  billing_model?: string | null;
  bucket: number;
  open: string;
  n: number;
  entity_code?: string | null;
  entity_name?: string | null;
  collector_name?: string | null;
  customer_name?: string | null;
  /** The settings signature, read in the same statement. */
  settings: string;
  /** The tenant's aging version, read in the same statement. */
  version: string;
}

const ORDER: AgingDimension[] = [AgingDimension.ENTITY, AgingDimension.SEGMENT, AgingDimension.COLLECTOR, AgingDimension.CUSTOMER, AgingDimension.CURRENCY, AgingDimension.BILLING_MODEL];

const encodeKey = (k: Record<string, string | null>) => Buffer.from(JSON.stringify(k)).toString('base64url');
function decodeKey(s: string): Record<string, string | null> {
  try {
    const k = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as unknown;
    if (k && typeof k === 'object' && !Array.isArray(k) && Object.keys(k).every((l) => Object.values(KEY_LETTER).includes(l))) return k as Record<string, string | null>;
  } catch {
    /* fall through */
  }
  throw badInput('cell.rowKey', 'is not a row key returned by aging', 'INVALID_ROW_KEY');
}

/**
 * Aging by any cut, answered from the rollups that the invoice triggers keep (see
 * docs/decisions/014-aging-rollups.md): buckets are computed at query time from due dates,
 * so a new day needs no rewrite. Cuts the rollups do not carry (customer, dunning state,
 * payment method) read the open invoices of the matching customers through their indexes.
 */
export class AgingService {
  /** The clock behind "today" in each tenant's zone; tests move it. */
  clock: () => Date = () => new Date();

  constructor(
    private readonly invoices: InvoiceService,
    private readonly audit: AuditService,
  ) {}

  /**
   * The last settings read per tenant in this process, with their signature. Only a starting
   * point: a report checks them in its own statement and starts over when they changed.
   */
  private readonly lastSettings = new Map<string, { t: TenantAging; signature: string }>();

  /** Rollup aggregates by question, answered again while the tenant's aging version holds. */
  private readonly aggregates = new AgingAggregateCache<AggRow>();

  async settings(ctx: RequestContext): Promise<TenantAging> {
    return (await this.readSettings(ctx)).t;
  }

  private async readSettings(ctx: RequestContext): Promise<{ t: TenantAging; signature: string }> {
    const [row] = (await ctx.em.query(SETTINGS_SQL, [ctx.tenantId])) as { timezone: string; functional_currency: string; bucket_edges: number[] | null; folded_through: string | null; signature: string }[];
    const read = {
      t: { timezone: row.timezone, functionalCurrency: row.functional_currency, edges: row.bucket_edges ?? [...DEFAULT_BUCKET_EDGES], foldedThrough: row.folded_through },
      signature: row.signature,
    };
    this.lastSettings.set(ctx.tenantId, read);
    return read;
  }

  today(t: TenantAging): IsoDate {
    return todayIn(t.timezone, this.clock());
  }

  async bucketSettings(ctx: RequestContext): Promise<AgingSettings> {
    const s = await this.settings(ctx);
    return { bucketEdges: s.edges, buckets: bucketDefinitions(s.edges) };
  }

  async setBuckets(ctx: RequestContext, edges: number[]): Promise<AgingSettings> {
    const problem = edgesProblem(edges);
    if (problem) throw badInput('edges', problem, 'INVALID_BUCKET_EDGES');
    await inTransaction(ctx, async (tx) => {
      await tx.em.query(
        `INSERT INTO aging_settings (tenant_id, bucket_edges, updated_by) VALUES ($1, $2::int[], $3)
         ON CONFLICT (tenant_id) DO UPDATE SET bucket_edges = EXCLUDED.bucket_edges, updated_by = EXCLUDED.updated_by, updated_at = now()`,
        [ctx.tenantId, edges, ctx.actor.id],
      );
      const [{ folded_through: folded, timezone }] = (await tx.em.query(
        `SELECT to_char(s.folded_through, 'YYYY-MM-DD') AS folded_through, t.timezone FROM aging_settings s JOIN tenants t ON t.id = s.tenant_id WHERE s.tenant_id = $1`,
        [ctx.tenantId],
      )) as { folded_through: IsoDate | null; timezone: string }[];
      const today = todayIn(timezone, this.clock());
      if (folded && !tailsAnswer(folded, edges, addDays(today, -FOLD_MARGIN_DAYS))) {
        await this.unfoldTails(tx, folded);
        await this.foldTails(tx, today);
      }
      await this.audit.record(tx, { action: 'aging.buckets_set', subjectType: 'Tenant', subjectId: ctx.tenantId, data: { edges } });
      await this.announce(tx, AgingChangeReason.SETTINGS);
    });
    return { bucketEdges: edges, buckets: bucketDefinitions(edges) };
  }

  /**
   * Folds the rollup rows of invoices due on or before today - last edge - 1 - FOLD_MARGIN_DAYS
   * into one row per group (`aging_rollup_tails`): whatever day at or after that margin is asked,
   * they are in the last bucket, so the report reads one row per group for them instead of one
   * per group and due date. The daily rollover calls it in its transaction. Rows the triggers
   * write later for those old due dates (a payment on an old invoice) stay per due date until
   * the next fold; readers add both.
   */
  async foldTails(ctx: RequestContext, today: IsoDate): Promise<{ foldedThrough: IsoDate; groups: number }> {
    return inTransaction(ctx, async (tx) => {
      await tx.em.query(`INSERT INTO aging_settings (tenant_id, bucket_edges, updated_by) VALUES ($1, $2::int[], 'system') ON CONFLICT (tenant_id) DO NOTHING`, [ctx.tenantId, [...DEFAULT_BUCKET_EDGES]]);
      const [s] = (await tx.em.query(`SELECT bucket_edges, to_char(folded_through, 'YYYY-MM-DD') AS folded_through FROM aging_settings WHERE tenant_id = $1 FOR UPDATE`, [ctx.tenantId])) as {
        bucket_edges: number[];
        folded_through: IsoDate | null;
      }[];
      let through = addDays(today, -(s.bucket_edges[s.bucket_edges.length - 1] + 1 + FOLD_MARGIN_DAYS));
      if (s.folded_through && s.folded_through > through) through = s.folded_through;
      // Lock in key order first, the order the triggers lock in, then move.
      await tx.em.query(
        `SELECT count(*) FROM (SELECT 1 FROM aging_rollups WHERE tenant_id = $1 AND due_date <= $2::date ORDER BY ${ROLLUP_DIMS}, due_date FOR UPDATE) l`,
        [ctx.tenantId, through],
      );
      const folded = (await tx.em.query(
        `WITH moved AS (DELETE FROM aging_rollups WHERE tenant_id = $1 AND due_date <= $2::date RETURNING ${ROLLUP_DIMS}, due_date, open_minor, invoice_count)
         INSERT INTO aging_rollup_tails AS t (${ROLLUP_DIMS}, open_minor, invoice_count, open_due_days)
         SELECT ${ROLLUP_DIMS}, sum(open_minor), sum(invoice_count)::int, sum(open_minor::numeric * (due_date - DATE '1970-01-01')) FROM moved
         GROUP BY ${ROLLUP_DIMS} ORDER BY ${ROLLUP_DIMS}
         ON CONFLICT ON CONSTRAINT aging_rollup_tails_key DO UPDATE SET open_minor = t.open_minor + EXCLUDED.open_minor,
           invoice_count = t.invoice_count + EXCLUDED.invoice_count, open_due_days = t.open_due_days + EXCLUDED.open_due_days
         RETURNING 1`,
        [ctx.tenantId, through],
      )) as unknown[];
      await tx.em.query(`DELETE FROM aging_rollup_tails WHERE tenant_id = $1 AND open_minor = 0 AND invoice_count = 0 AND open_due_days = 0`, [ctx.tenantId]);
      await tx.em.query(`UPDATE aging_settings SET folded_through = $2 WHERE tenant_id = $1`, [ctx.tenantId, through]);
      return { foldedThrough: through, groups: folded.length };
    });
  }

  /**
   * Puts the folded tails back per due date, rebuilt from the open invoices due by then (edges
   * widened past the fold need them). Safe beside writers: a trigger's change to a row deleted
   * here waits for this transaction and then lands on the rebuilt row, and the rebuild reads
   * only committed invoices.
   */
  private async unfoldTails(tx: RequestContext, foldedThrough: IsoDate): Promise<void> {
    await tx.em.query(`DELETE FROM aging_rollup_tails WHERE tenant_id = $1`, [tx.tenantId]);
    await tx.em.query(`DELETE FROM aging_rollups WHERE tenant_id = $1 AND due_date <= $2::date`, [tx.tenantId, foldedThrough]);
    await tx.em.query(
      `INSERT INTO aging_rollups AS r (${ROLLUP_DIMS}, due_date, open_minor, invoice_count)
       SELECT i.tenant_id, i.entity_id, c.segment, c.owner_user_id, i.currency, i.billing_model, i.due_date, sum(i.open_balance_minor), count(*)::int
       FROM invoices i JOIN customers c ON c.id = i.customer_id
       WHERE i.tenant_id = $1 AND i.status = 'OPEN' AND i.open_balance_minor > 0 AND i.due_date <= $2::date
       GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 1, 2, 3, 4, 5, 6, 7
       ON CONFLICT ON CONSTRAINT aging_rollups_key DO UPDATE SET open_minor = r.open_minor + EXCLUDED.open_minor, invoice_count = r.invoice_count + EXCLUDED.invoice_count`,
      [tx.tenantId, foldedThrough],
    );
    await tx.em.query(`UPDATE aging_settings SET folded_through = NULL WHERE tenant_id = $1`, [tx.tenantId]);
  }

  /** Tells every subscriber (in every API process, after commit) that aging figures may have moved. */
  async announce(ctx: RequestContext, reason: AgingChangeReason): Promise<void> {
    await announceAgingChange(ctx.em, ctx.tenantId, reason);
  }

  async fxTable(ctx: RequestContext, functionalCurrency?: string): Promise<FxTable> {
    const fc = functionalCurrency ?? (await this.settings(ctx)).functionalCurrency;
    const rows = (await ctx.em.query(`SELECT currency, to_char(effective_on, 'YYYY-MM-DD') AS effective_on, rate::text AS rate FROM fx_rates WHERE tenant_id = $1`, [ctx.tenantId])) as {
      currency: string;
      effective_on: string;
      rate: string;
    }[];
    return new FxTable(fc, rows.map((r) => ({ currency: r.currency, effectiveOn: r.effective_on, rate: parseRate(r.rate)! })));
  }

  async fxRates(ctx: RequestContext): Promise<FxRate[]> {
    const s = await this.settings(ctx);
    const rows = (await ctx.em.query(`SELECT currency, to_char(effective_on, 'YYYY-MM-DD') AS effective_on, rate::text AS rate FROM fx_rates WHERE tenant_id = $1 ORDER BY currency, effective_on DESC`, [
      ctx.tenantId,
    ])) as { currency: string; effective_on: string; rate: string }[];
    return rows.map((r) => ({ currency: r.currency, functionalCurrency: s.functionalCurrency, rate: formatRate(parseRate(r.rate)!), effectiveOn: r.effective_on }));
  }

  async setFxRates(ctx: RequestContext, input: FxRateInput[]): Promise<FxRate[]> {
    const s = await this.settings(ctx);
    const today = this.today(s);
    if (input.length === 0 || input.length > 500) throw badInput('rates', 'give 1 to 500 rates');
    const rows = input.map((r, i) => {
      const currency = r.currency.trim().toUpperCase();
      if (!isCurrency(currency)) throw badInput(`rates.${i}.currency`, `${r.currency} is not an ISO 4217 currency`, 'UNKNOWN_CURRENCY');
      if (currency === s.functionalCurrency) throw badInput(`rates.${i}.currency`, `${currency} is the functional currency`, 'FUNCTIONAL_CURRENCY');
      const rate = parseRate(r.rate);
      if (rate === null) throw badInput(`rates.${i}.rate`, `"${r.rate}" is not a positive decimal with at most 12 places`, 'INVALID_RATE');
      const effectiveOn = r.effectiveOn ?? today;
      if (!isIsoDate(effectiveOn)) throw badInput(`rates.${i}.effectiveOn`, 'is not a YYYY-MM-DD date');
      return { currency, rate: formatRate(rate), effectiveOn };
    });
    await inTransaction(ctx, async (tx) => {
      for (const r of rows) {
        await tx.em.query(
          `INSERT INTO fx_rates (tenant_id, currency, effective_on, rate, updated_by) VALUES ($1, $2, $3, $4::numeric, $5)
           ON CONFLICT (tenant_id, currency, effective_on) DO UPDATE SET rate = EXCLUDED.rate, updated_by = EXCLUDED.updated_by, updated_at = now()`,
          [ctx.tenantId, r.currency, r.effectiveOn, r.rate, ctx.actor.id],
        );
      }
      await this.audit.record(tx, { action: 'fx_rates.set', subjectType: 'Tenant', subjectId: ctx.tenantId, data: { rates: rows } });
      await this.announce(tx, AgingChangeReason.FX_RATES);
    });
    return rows.map((r) => ({ ...r, functionalCurrency: s.functionalCurrency }));
  }

  /**
   * One statement in the usual case: the aggregate is planned with the settings last read for the
   * tenant and returns the current settings' signature beside its rows; when they differ (edges,
   * zone, fold or functional currency changed meanwhile) it runs again with the new ones.
   */
  async report(ctx: RequestContext, args: AgingArgs): Promise<AgingReport> {
    let known = this.lastSettings.get(ctx.tenantId) ?? (await this.readSettings(ctx));
    for (let attempt = 0; ; attempt++) {
      const { rows, asOf } = await this.aggregate(ctx, args, known);
      const current = rows.length ? rows[0].settings : (await this.readSettings(ctx)).signature;
      if (current === known.signature || attempt > 0) {
        const t = known.t;
        const mode = args.currencyMode ?? AgingCurrencyMode.ORIGINAL;
        const groupBy = ORDER.filter((d) => args.groupBy.includes(d));
        return this.assemble(rows, { asOf, mode, groupBy, tenant: t, fx: mode === AgingCurrencyMode.FUNCTIONAL ? await this.fxTable(ctx, t.functionalCurrency) : null });
      }
      known = await this.readSettings(ctx);
    }
  }

  private async aggregate(ctx: RequestContext, args: AgingArgs, known: { t: TenantAging; signature: string }): Promise<{ rows: AggRow[]; asOf: IsoDate }> {
    const t = known.t;
    const asOf = args.asOf ?? this.today(t);
    const groupBy = ORDER.filter((d) => args.groupBy.includes(d));
    const f = args.filter ?? {};
    const fromRollups = rollupCanAnswer(groupBy, f) && tailsAnswer(t.foldedThrough, t.edges, asOf);
    // Only committed state is kept: inside a transaction the version may include its own changes.
    const cacheKey = fromRollups && !ctx.inTransaction ? JSON.stringify([ctx.tenantId, asOf, groupBy, f]) : null;
    const kept = cacheKey ? this.aggregates.get(cacheKey) : undefined;
    if (kept) {
      const [now] = (await ctx.em.query(`SELECT ${AGING_VERSION_SQL('$1')} AS version, ${SIGNATURE_SQL('$1')} AS settings`, [ctx.tenantId])) as { version: string; settings: string }[];
      if (now.version === kept.version && now.settings === kept.signature && kept.signature === known.signature) return { rows: kept.rows, asOf };
    }
    const p = new SqlParams(ctx.tenantId, asOf, t.edges);
    const source = fromRollups
      ? rollupSource('$1', f, p, { foldedThroughParam: t.foldedThrough ? p.add(t.foldedThrough) : null })
      : openInvoicesSource('$1', f, asOf, p);
    const cols = [...new Set([...groupBy.map((d) => DIMENSION_COLUMN[d]), 'currency'])];
    const agg = `SELECT ${cols.map((c) => `s.${c}`).join(', ')}, ${bucketSql('s.due_date', '$2', '$3')} AS bucket, sum(s.open_minor)::text AS open, sum(s.invoice_count)::int AS n
      FROM (${source}) s GROUP BY ${cols.map((c) => `s.${c}`).join(', ')}, bucket`;
    const names: string[] = [];
    const joins: string[] = [];
    if (cols.includes('entity_id')) {
      names.push('e.code AS entity_code', 'e.name AS entity_name');
      joins.push('LEFT JOIN legal_entities e ON e.id = g.entity_id');
    }
    if (cols.includes('owner_user_id')) {
      names.push('u.name AS collector_name');
      joins.push('LEFT JOIN users u ON u.id = g.owner_user_id');
    }
    if (cols.includes('customer_id')) {
      names.push('cu.name AS customer_name');
      joins.push('LEFT JOIN customers cu ON cu.id = g.customer_id');
    }
    const sql = `SELECT g.*${names.map((n) => `, ${n}`).join('')}, ${SIGNATURE_SQL('$1')} AS settings, ${AGING_VERSION_SQL('$1')} AS version FROM (${agg}) g ${joins.join(' ')}`;
    const rows = (await ctx.em.query(sql, p.values)) as AggRow[];
    // Kept only when computed with the settings it says it was (otherwise the caller starts over).
    if (cacheKey && rows.length && rows[0].settings === known.signature) this.aggregates.set(cacheKey, { version: rows[0].version, signature: rows[0].settings, rows });
    return { rows, asOf };
  }

  private assemble(rows: AggRow[], o: { asOf: IsoDate; mode: AgingCurrencyMode; groupBy: AgingDimension[]; tenant: TenantAging; fx: FxTable | null }): AgingReport {
    const buckets = bucketDefinitions(o.tenant.edges);
    const functional = o.mode === AgingCurrencyMode.FUNCTIONAL;
    const missing = new Set<string>();
    type Acc = { key: string; group: AgingRow['group']; currency: string; amounts: bigint[]; counts: number[] };
    const byKey = new Map<string, Acc>();
    const totals = new Map<string, Acc>();
    const groupCols = o.groupBy.map((d) => DIMENSION_COLUMN[d]);
    // Maps are keyed by the key's JSON; the base64url row key is made once per row of the report.
    const add = (map: Map<string, Acc>, keyObj: Record<string, string | null>, group: () => AgingRow['group'], currency: string, bucket: number, amount: bigint, n: number) => {
      const raw = JSON.stringify(keyObj);
      let acc = map.get(raw);
      if (!acc) {
        acc = { key: encodeKey(keyObj), group: group(), currency, amounts: buckets.map(() => 0n), counts: buckets.map(() => 0) };
        map.set(raw, acc);
      }
      acc.amounts[bucket] += amount;
      acc.counts[bucket] += n;
    };
    for (const r of rows) {
      const amount = functional ? o.fx!.convert(BigInt(r.open), r.currency, o.asOf, missing) : BigInt(r.open);
      if (amount === null) continue;
      const currency = functional ? o.tenant.functionalCurrency : r.currency;
      const keyObj: Record<string, string | null> = {};
      for (const c of groupCols) keyObj[KEY_LETTER[c]] = (r as unknown as Record<string, string | null>)[c] ?? null;
      if (!functional) keyObj.cur = r.currency;
      const group = () => ({
        entityId: r.entity_id ?? null,
        entityCode: r.entity_code ?? null,
        entityName: r.entity_name ?? null,
        segment: r.segment ?? null,
        collectorId: r.owner_user_id ?? null,
        collectorName: r.collector_name ?? null,
        customerId: r.customer_id ?? null,
        customerName: r.customer_name ?? null,
        currency: groupCols.includes('currency') ? r.currency : null,
        billingModel: (r.billing_model ?? null) as BillingModel | null,
      });
      add(byKey, keyObj, group, currency, r.bucket, amount, r.n);
      add(totals, functional ? {} : { cur: r.currency }, emptyGroup, currency, r.bucket, amount, r.n);
    }
    const toRow = (a: Acc): AgingRow => ({
      key: a.key,
      group: a.group,
      currency: a.currency,
      cells: buckets.map((b) => ({ bucket: b.index, amount: Money.of(a.amounts[b.index], a.currency), invoiceCount: a.counts[b.index] })),
      total: Money.of(
        a.amounts.reduce((x, y) => x + y, 0n),
        a.currency,
      ),
      invoiceCount: a.counts.reduce((x, y) => x + y, 0),
    });
    const sortKey = (a: Acc) => [a.group.entityCode, a.group.segment, a.group.collectorName, a.group.customerName, a.group.currency, a.group.billingModel, a.currency].map((v) => v ?? '\uffff').join('\u0000');
    const list = [...byKey.values()]
      .map((a) => ({ a, k: sortKey(a) }))
      .sort((x, y) => (x.k < y.k ? -1 : x.k > y.k ? 1 : 0))
      .map((x) => x.a);
    const totalRows = [...totals.values()].sort((a, b) => (a.currency < b.currency ? -1 : 1));
    if (functional && totalRows.length === 0) totalRows.push({ key: encodeKey({}), group: emptyGroup(), currency: o.tenant.functionalCurrency, amounts: buckets.map(() => 0n), counts: buckets.map(() => 0) });
    return {
      asOf: o.asOf,
      groupBy: o.groupBy,
      currencyMode: o.mode,
      functionalCurrency: o.tenant.functionalCurrency,
      buckets,
      rows: list.map(toRow),
      totals: totalRows.map(toRow),
      missingFxRates: [...missing].sort(),
    };
  }

  /** The invoices behind a cell (or a whole row), oldest due first, with their collections history. */
  async drillDown(ctx: RequestContext, args: { cell: AgingCellInput; filter?: AgingFilter | null; asOf?: IsoDate | null; first: number; after?: string | null }): Promise<Connection<AgingInvoice>> {
    const t = await this.settings(ctx);
    const asOf = args.asOf ?? this.today(t);
    const key = decodeKey(args.cell.rowKey);
    const buckets = bucketDefinitions(t.edges);
    const p = new SqlParams(ctx.tenantId);
    const source = openInvoicesSource('$1', args.filter ?? {}, asOf, p);
    const where: string[] = [];
    for (const [col, letter] of Object.entries(KEY_LETTER)) {
      if (!(letter in key)) continue;
      const v = key[letter];
      const type = col.endsWith('_id') ? 'uuid' : 'text';
      if (type === 'uuid' && v !== null && !/^[0-9a-f-]{36}$/i.test(v)) throw badInput('cell.rowKey', 'is not a row key returned by aging', 'INVALID_ROW_KEY');
      where.push(v === null ? `s.${col} IS NULL` : `s.${col} = ${p.add(v)}::${type}`);
    }
    if (args.cell.bucket !== null && args.cell.bucket !== undefined) {
      const def = buckets[args.cell.bucket];
      if (!def) throw badInput('cell.bucket', `there are ${buckets.length} buckets (0 to ${buckets.length - 1})`, 'UNKNOWN_BUCKET');
      const range = dueDateRange(def, asOf);
      if (range.from) where.push(`s.due_date >= ${p.add(range.from)}::date`);
      if (range.to) where.push(`s.due_date <= ${p.add(range.to)}::date`);
    }
    const countWhere = [...where];
    const countValues = [...p.values];
    if (args.after) {
      const c = decodeCursor(args.after);
      where.push(`(s.due_date, s.id) > (${p.add(c.k)}::date, ${p.add(c.id)}::uuid)`);
    }
    const rows = (await ctx.em.query(
      `SELECT s.id, to_char(s.due_date, 'YYYY-MM-DD') AS due_date FROM (${source}) s ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY s.due_date, s.id LIMIT ${p.add(args.first + 1)}`,
      p.values,
    )) as { id: string; due_date: string }[];
    const ids = rows.slice(0, args.first).map((r) => r.id);
    const [invoices, history] = await Promise.all([Promise.all(ids.map((id) => this.invoices.loader(ctx).load(id))), this.history(ctx, ids, asOf)]);
    const nodes: AgingInvoice[] = [];
    for (const inv of invoices) {
      if (!inv) continue;
      inv.listAsOf = asOf;
      const dpd = daysBetween(inv.dueDate, asOf);
      nodes.push({ invoice: inv, daysPastDue: dpd, bucket: bucketIndex(dpd, t.edges), collections: history.get(inv.id)! });
    }
    const conn = toConnection(nodes, args.first, 0, (n) => ({ k: n.invoice.dueDate, id: n.invoice.id }), !!args.after);
    conn.pageInfo.hasNextPage = rows.length > args.first;
    let count: Promise<number> | undefined;
    Object.defineProperty(conn, 'totalCount', {
      enumerable: true,
      get: () =>
        (count ??= ctx.em
          .query(`SELECT count(*)::int AS n FROM (${source}) s ${countWhere.length ? `WHERE ${countWhere.join(' AND ')}` : ''}`, countValues)
          .then((r: { n: number }[]) => r[0].n)),
    });
    return conn;
  }

  /** Steps sent (from the action outbox), the customer's current tier and last portal payment, per invoice. */
  private async history(ctx: RequestContext, invoiceIds: string[], asOf: string): Promise<Map<string, CollectionsHistory>> {
    const out = new Map<string, CollectionsHistory>(invoiceIds.map((id) => [id, { stepsExecuted: [], currentTier: null, tierEnteredOn: null, lastPortalInteractionAt: null }]));
    if (invoiceIds.length === 0) return out;
    const [steps, tiers, portal] = await Promise.all([
      ctx.em.query(
        `SELECT invoice_id, step_key, channels, sent_at, to_char(scheduled_for, 'YYYY-MM-DD') AS scheduled_for FROM actions
         WHERE tenant_id = $1 AND invoice_id = ANY($2::uuid[]) AND kind = 'STEP' AND status = 'SENT' ORDER BY sent_at, created_at`,
        [ctx.tenantId, invoiceIds],
      ) as Promise<{ invoice_id: string; step_key: string; channels: string[]; sent_at: Date | null; scheduled_for: string }[]>,
      ctx.em.query(
        `SELECT i.id AS invoice_id, ce.tier, to_char(ce.entered_on, 'YYYY-MM-DD') AS entered_on FROM invoices i
         JOIN customer_escalations ce ON ce.tenant_id = i.tenant_id AND ce.customer_id = i.customer_id WHERE i.tenant_id = $1 AND i.id = ANY($2::uuid[])`,
        [ctx.tenantId, invoiceIds],
      ) as Promise<{ invoice_id: string; tier: number; entered_on: string }[]>,
      // A payment through the portal is the customer's portal interaction Recoup records (when it was recorded; received by asOf).
      ctx.em.query(
        `SELECT i.id AS invoice_id, max(p.created_at) AS at FROM invoices i
         JOIN payments p ON p.tenant_id = i.tenant_id AND p.customer_id = i.customer_id AND p.method = 'PORTAL' AND p.received_on <= $3::date
         WHERE i.tenant_id = $1 AND i.id = ANY($2::uuid[]) GROUP BY i.id`,
        [ctx.tenantId, invoiceIds, asOf],
      ) as Promise<{ invoice_id: string; at: Date }[]>,
    ]);
    for (const s of steps) out.get(s.invoice_id)!.stepsExecuted.push({ stepKey: s.step_key, channels: s.channels, sentAt: s.sent_at, scheduledFor: s.scheduled_for });
    for (const tr of tiers) Object.assign(out.get(tr.invoice_id)!, { currentTier: tr.tier, tierEnteredOn: tr.entered_on });
    for (const p of portal) out.get(p.invoice_id)!.lastPortalInteractionAt = p.at;
    return out;
  }
}

function emptyGroup(): AgingRow['group'] {
  return { entityId: null, entityCode: null, entityName: null, segment: null, collectorId: null, collectorName: null, customerId: null, customerName: null, currency: null, billingModel: null };
}

