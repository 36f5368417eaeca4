import { badInput } from '../../platform/errors';
import { daysBetween, type IsoDate } from '../../platform/time/dates';
import type { AgingFilter } from './dto/aging.types';
import { AgingDimension, DunningStatus } from './dto/aging.types';

/** Positional parameters for hand-written SQL. */
export class SqlParams {
  readonly values: unknown[] = [];
  constructor(...initial: unknown[]) {
    this.values.push(...initial);
  }
  add(v: unknown): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}

export const PAYMENT_METHODS = ['ACH', 'WIRE', 'CHECK', 'CARD', 'PORTAL', 'BATCH_SETTLEMENT'];

/** Column of each dimension in both sources (the rollup table and the invoices + customers join). */
export const DIMENSION_COLUMN: Record<AgingDimension, string> = {
  [AgingDimension.ENTITY]: 'entity_id',
  [AgingDimension.SEGMENT]: 'segment',
  [AgingDimension.COLLECTOR]: 'owner_user_id',
  [AgingDimension.CUSTOMER]: 'customer_id',
  [AgingDimension.CURRENCY]: 'currency',
  [AgingDimension.BILLING_MODEL]: 'billing_model',
};

/** Key letters of a row key, per column. */
export const KEY_LETTER: Record<string, string> = { entity_id: 'e', segment: 's', owner_user_id: 'o', customer_id: 'c', currency: 'cur', billing_model: 'b' };

const uuidList = (field: string, ids: string[]) => {
  if (ids.some((id) => !/^[0-9a-f-]{36}$/i.test(id))) throw badInput(field, 'contains a value that is not an id', 'INVALID_ID');
  return ids;
};

/** Whether a filter can be answered from the rollups alone (dimensions they carry). */
export function rollupCanAnswer(groupBy: AgingDimension[], f: AgingFilter): boolean {
  return !groupBy.includes(AgingDimension.CUSTOMER) && !f.customerIds?.length && !f.dunningStatuses?.length && !f.escalationTiers?.length && !f.paymentMethods?.length;
}

/** Conditions on the dimension columns, for either source (`a` is its alias). */
export function dimensionConditions(a: string, f: AgingFilter, p: SqlParams): string[] {
  const where: string[] = [];
  if (f.entityIds?.length) where.push(`${a}.entity_id = ANY(${p.add(uuidList('filter.entityIds', f.entityIds))}::uuid[])`);
  if (f.segments?.length) {
    const named = f.segments.filter((s) => s !== '');
    const parts = [`${a}.segment = ANY(${p.add(named)}::text[])`];
    if (named.length < f.segments.length) parts.push(`${a}.segment IS NULL`);
    where.push(`(${parts.join(' OR ')})`);
  }
  if (f.collectorIds?.length) where.push(`${a}.owner_user_id = ANY(${p.add(uuidList('filter.collectorIds', f.collectorIds))}::uuid[])`);
  if (f.customerIds?.length) where.push(`${a}.customer_id = ANY(${p.add(uuidList('filter.customerIds', f.customerIds))}::uuid[])`);
  if (f.currencies?.length) where.push(`${a}.currency = ANY(${p.add(f.currencies)}::text[])`);
  if (f.billingModels?.length) where.push(`${a}.billing_model = ANY(${p.add(f.billingModels)}::text[])`);
  return where;
}

/**
 * Conditions on the collections state of an invoice (alias `i`) read from the dunning tables:
 * pauses, disputes, promises to pay, escalations and the action outbox; and on payment methods.
 */
export function stateConditions(f: AgingFilter, asOf: string, p: SqlParams): string[] {
  const where: string[] = [];
  let asOfParam: string | null = null;
  const paused = () =>
    `EXISTS (SELECT 1 FROM dunning_pauses dp WHERE dp.tenant_id = i.tenant_id AND dp.customer_id = i.customer_id AND dp.ended_at IS NULL AND (dp.until IS NULL OR dp.until >= ${(asOfParam ??= p.add(asOf))}::date))`;
  const disputed = `EXISTS (SELECT 1 FROM disputes ds WHERE ds.tenant_id = i.tenant_id AND ds.invoice_id = i.id AND ds.status IN ('OPEN','AWAITING_CUSTOMER','UNDER_REVIEW'))`;
  const promised = `EXISTS (SELECT 1 FROM promises_to_pay pp WHERE pp.tenant_id = i.tenant_id AND pp.customer_id = i.customer_id AND pp.status = 'OPEN' AND i.id = ANY(pp.invoice_ids))`;
  const escalated = `EXISTS (SELECT 1 FROM customer_escalations ce WHERE ce.tenant_id = i.tenant_id AND ce.customer_id = i.customer_id)`;
  const stepped = `EXISTS (SELECT 1 FROM actions ac WHERE ac.tenant_id = i.tenant_id AND ac.invoice_id = i.id AND ac.kind = 'STEP' AND ac.status IN ('PLANNED','AWAITING_APPROVAL','SENDING','SENT'))`;
  if (f.dunningStatuses?.length) {
    const any = f.dunningStatuses.map((s) => {
      switch (s) {
        case DunningStatus.PAUSED:
          return paused();
        case DunningStatus.DISPUTED:
          return disputed;
        case DunningStatus.PROMISED:
          return promised;
        case DunningStatus.ESCALATED:
          return escalated;
        case DunningStatus.IN_SEQUENCE:
          return `(${stepped} AND NOT ${paused()} AND NOT ${disputed} AND NOT ${promised})`;
      }
    });
    where.push(`(${any.join(' OR ')})`);
  }
  if (f.escalationTiers?.length) {
    where.push(`EXISTS (SELECT 1 FROM customer_escalations ct WHERE ct.tenant_id = i.tenant_id AND ct.customer_id = i.customer_id AND ct.tier = ANY(${p.add(f.escalationTiers)}::int[]))`);
  }
  if (f.paymentMethods?.length) {
    const bad = f.paymentMethods.find((m) => !PAYMENT_METHODS.includes(m));
    if (bad) throw badInput('filter.paymentMethods', `${bad} is not one of ${PAYMENT_METHODS.join(', ')}`, 'UNKNOWN_PAYMENT_METHOD');
    where.push(`EXISTS (SELECT 1 FROM payment_allocations pa JOIN payments py ON py.id = pa.payment_id
      WHERE pa.tenant_id = i.tenant_id AND pa.invoice_id = i.id AND pa.reversed_at IS NULL AND py.method = ANY(${p.add(f.paymentMethods)}::text[]))`);
  }
  return where;
}

/** Open invoices with the customer's segment and owner, in the shape of the rollup rows. */
export function openInvoicesSource(tenantParam: string, f: AgingFilter, asOf: string, p: SqlParams, o: { dueDays?: boolean } = {}): string {
  const where = [`i.tenant_id = ${tenantParam}`, `i.status = 'OPEN'`, `i.open_balance_minor > 0`];
  const dims = dimensionConditions('x', f, p).map((c) => c.replace(/\bx\.(segment|owner_user_id)\b/g, 'c.$1').replace(/\bx\./g, 'i.'));
  where.push(...dims, ...stateConditions(f, asOf, p));
  return `SELECT i.id, i.entity_id, c.segment, c.owner_user_id, i.customer_id, i.currency, i.billing_model, i.due_date, i.open_balance_minor AS open_minor, 1 AS invoice_count${o.dueDays ? `, i.open_balance_minor::numeric * (i.due_date - DATE '1970-01-01') AS due_days` : ''}
    FROM invoices i JOIN customers c ON c.id = i.customer_id WHERE ${where.join(' AND ')}`;
}

/** Rollup rows that still hold something (a row written after a fold may carry a balance change with no count change). */
const LIVE = (a: string) => `(${a}.invoice_count <> 0 OR ${a}.open_minor <> 0)`;

export interface RollupSourceOptions {
  /**
   * The tenant's `folded_through` (see foldTails): the folded tails stand for invoices due on or
   * before it, all in the last bucket for the day asked (callers check `tailsAnswer`).
   */
  foldedThroughParam?: string | null;
  /** Also a `due_days` column: sum of open_minor x (due_date - 1970-01-01), for weighted days past due. */
  dueDays?: boolean;
}

/**
 * The rollups as rows of (dimensions, due date, open_minor, invoice_count): the per-due-date rows
 * the triggers keep, plus one folded row per group for what the daily job folded (given the
 * last folded due date as its due date: any date that old falls in the last bucket).
 */
export function rollupSource(tenantParam: string, f: AgingFilter, p: SqlParams, o: RollupSourceOptions = {}): string {
  const where = [`r.tenant_id = ${tenantParam}`, LIVE('r'), ...dimensionConditions('r', f, p)];
  const cols = 'r.entity_id, r.segment, r.owner_user_id, NULL::uuid AS customer_id, r.currency, r.billing_model';
  const perDay = `SELECT ${cols}, r.due_date, r.open_minor, r.invoice_count${o.dueDays ? `, r.open_minor::numeric * (r.due_date - DATE '1970-01-01') AS due_days` : ''}
    FROM aging_rollups r WHERE ${where.join(' AND ')}`;
  if (!o.foldedThroughParam) return perDay;
  const tailWhere = [`r.tenant_id = ${tenantParam}`, LIVE('r'), ...dimensionConditions('r', f, p)];
  return `${perDay}
    UNION ALL
    SELECT ${cols}, ${o.foldedThroughParam}::date AS due_date, r.open_minor, r.invoice_count${o.dueDays ? ', r.open_due_days AS due_days' : ''}
    FROM aging_rollup_tails r WHERE ${tailWhere.join(' AND ')}`;
}

/**
 * Whether the folded tails can answer as of `asOf`: every invoice due on or before
 * `foldedThrough` must be past the last edge that day. Days before a fold (replays) and edges
 * widened past it read the open invoices instead.
 */
export function tailsAnswer(foldedThrough: IsoDate | null, edges: readonly number[], asOf: IsoDate): boolean {
  return foldedThrough === null || daysBetween(foldedThrough, asOf) > edges[edges.length - 1];
}
