import DataLoader from 'dataloader';
import { byIdLoader, childrenLoader } from '../../platform/db/loaders';
import { In, type SelectQueryBuilder } from 'typeorm';
import { inTransaction, type RequestContext } from '../../platform/context';
import { chunks, sourceHash, unnestSource, type BulkColumn } from '../../platform/db/bulk';
import { keysetPage } from '../../platform/db/keyset';
import { badInput, notFound, type FieldProblem } from '../../platform/errors';
import { emitEvent } from '../../platform/events/event-bus';
import type { Connection } from '../../platform/graphql/connection';
import { addDays } from '../../platform/time/dates';
import type { AuditService } from '../audit/audit.service';
import { Customer } from '../customers/customer.entity';
import { escapeLike, MAX_BULK, type CustomerService, type UpsertOutcome, type WrittenRow } from '../customers/customer.service';
import type { LegalEntityService } from '../legal-entities/legal-entity.service';
import type { TenantService } from '../tenants/tenant.service';
import { InvoiceOrderField, type InvoiceFilter, type UpsertInvoiceInput } from './dto/invoice.inputs';
import { Invoice, InvoiceStatus } from './invoice.entity';
import { InvoiceLine } from './invoice-line.entity';
import { InvoiceErrors, validateInvoice, type InvoiceLineRow, type InvoiceRow } from './invoice.validation';

export const INVOICES_CHANGED = 'invoices.changed';
export enum InvoiceChangeKind {
  CREATED = 'CREATED',
  UPDATED = 'UPDATED',
  VOIDED = 'VOIDED',
}
export interface InvoicesChangedPayload extends Record<string, unknown> {
  change: InvoiceChangeKind;
  ids: string[];
}

type Resolved = InvoiceRow & { openBalanceMinor: bigint; status: InvoiceStatus; sourceHash: string };

const invoiceColumns: BulkColumn<Resolved>[] = [
  { name: 'external_id', type: 'text', value: (r) => r.externalId },
  { name: 'entity_id', type: 'uuid', value: (r) => r.entityId },
  { name: 'customer_id', type: 'uuid', value: (r) => r.customerId },
  { name: 'number', type: 'text', value: (r) => r.number },
  { name: 'issue_date', type: 'date', value: (r) => r.issueDate },
  { name: 'terms_kind', type: 'text', value: (r) => r.termsKind },
  { name: 'terms_days', type: 'int', value: (r) => r.termsDays },
  { name: 'due_date', type: 'date', value: (r) => r.dueDate },
  { name: 'billing_model', type: 'text', value: (r) => r.billingModel },
  { name: 'reconciliation_hold', type: 'boolean', value: (r) => r.reconciliationHold },
  { name: 'currency', type: 'text', value: (r) => r.currency },
  { name: 'total_minor', type: 'bigint', value: (r) => r.totalMinor },
  { name: 'open_balance_minor', type: 'bigint', value: (r) => r.openBalanceMinor },
  { name: 'status', type: 'text', value: (r) => r.status },
  { name: 'po_number', type: 'text', value: (r) => r.poNumber },
  { name: 'source_hash', type: 'text', value: (r) => r.sourceHash },
];
const lineColumns: BulkColumn<InvoiceLineRow & { invoiceId: string }>[] = [
  { name: 'invoice_id', type: 'uuid', value: (r) => r.invoiceId },
  { name: 'line_no', type: 'int', value: (r) => r.lineNo },
  { name: 'external_id', type: 'text', value: (r) => r.externalId },
  { name: 'description', type: 'text', value: (r) => r.description },
  { name: 'quantity', type: 'numeric', value: (r) => r.quantity },
  { name: 'unit_price_minor', type: 'bigint', value: (r) => r.unitPriceMinor },
  { name: 'amount_minor', type: 'bigint', value: (r) => r.amountMinor },
];

export interface WriteResult {
  written: Map<string, WrittenRow>;
  rejected: Map<string, FieldProblem[]>;
}

export class InvoiceService {
  /** Called after invoices of these customers changed and committed (set by the composition root). */
  onCustomersChanged: (ctx: RequestContext, customerIds: string[]) => void = () => undefined;

  constructor(
    private readonly tenants: TenantService,
    private readonly customers: CustomerService,
    private readonly entities: LegalEntityService,
    private readonly audit: AuditService,
  ) {}

  async upsert(ctx: RequestContext, inputs: UpsertInvoiceInput[]): Promise<UpsertOutcome<Invoice>[]> {
    if (inputs.length > MAX_BULK) throw badInput('input', `at most ${MAX_BULK} invoices per call, got ${inputs.length}`, 'TOO_MANY_ITEMS');
    const customerExt = [...new Set(inputs.map((i) => i.customerExternalId))];
    const codes = [...new Set(inputs.map((i) => i.entityCode).filter((c): c is string => !!c))];
    const [customers, entities] = await Promise.all([
      ctx.em.getRepository(Customer).find({ select: { id: true, externalId: true, entityId: true }, where: { tenantId: ctx.tenantId, externalId: In(customerExt) } }),
      codes.length ? this.entities.byCodes(ctx, codes) : [],
    ]);
    const lookups = {
      customerByExternalId: new Map(customers.map((c) => [c.externalId, { id: c.id, entityId: c.entityId }])),
      entityIdByCode: new Map(entities.map((e) => [e.code, e.id])),
    };
    const seen = new Set<string>();
    const outcomes: UpsertOutcome<Invoice>[] = [];
    const valid: { index: number; row: InvoiceRow }[] = [];
    inputs.forEach((input, index) => {
      const { row, problems } = validateInvoice(input, lookups);
      if (row && seen.has(row.externalId)) problems.add('externalId', InvoiceErrors.DUPLICATE_IN_BATCH, 'appears earlier in this call');
      outcomes.push({ index, externalId: input.externalId, record: null, errors: problems.list });
      if (row && problems.ok) {
        seen.add(row.externalId);
        valid.push({ index, row });
      }
    });
    if (valid.length === 0) return outcomes;
    const { written, rejected } = await inTransaction(ctx, (tx) => this.write(tx, valid.map((v) => v.row)));
    const changedCustomers = valid.filter((v) => written.get(v.row.externalId)?.changed).map((v) => v.row.customerId);
    if (!ctx.inTransaction) this.onCustomersChanged(ctx, changedCustomers);
    const ids = [...written.values()].map((w) => w.id);
    const byId = new Map((await ctx.em.getRepository(Invoice).findBy({ tenantId: ctx.tenantId, id: In(ids) })).map((i) => [i.id, i]));
    for (const v of valid) {
      const o = outcomes[v.index];
      const w = written.get(v.row.externalId);
      if (w) Object.assign(o, { record: byId.get(w.id) ?? null, created: w.created, changed: w.changed });
      else o.errors = rejected.get(v.row.externalId) ?? [];
    }
    return outcomes;
  }

  /**
   * Writes validated rows in the caller's transaction. Rows that the stored state refuses
   * (a voided invoice, a total below what was already paid) come back in `rejected`.
   */
  async write(ctx: RequestContext, rows: InvoiceRow[], opts: { audit?: boolean } = {}): Promise<WriteResult> {
    const written = new Map<string, WrittenRow>();
    const rejected = new Map<string, FieldProblem[]>();
    await ctx.em.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`invoices:${ctx.tenantId}`]);
    for (const batch of chunks(rows, MAX_BULK)) {
      const existing: { id: string; external_id: string; status: InvoiceStatus; total_minor: string; open_balance_minor: string; currency: string; source_hash: string | null }[] = await ctx.em.query(
        `SELECT id, external_id, status, total_minor, open_balance_minor, currency, source_hash FROM invoices
         WHERE tenant_id = $1 AND external_id = ANY($2::text[]) FOR UPDATE`,
        [ctx.tenantId, batch.map((r) => r.externalId)],
      );
      const byExt = new Map(existing.map((e) => [e.external_id, e]));
      const inserts: Resolved[] = [];
      const updates: (Resolved & { id: string })[] = [];
      for (const row of batch) {
        const old = byExt.get(row.externalId);
        const hash = sourceHash(row);
        if (!old) {
          const open = row.openBalanceMinor ?? row.totalMinor;
          inserts.push({ ...row, openBalanceMinor: open, status: open === 0n ? InvoiceStatus.PAID : InvoiceStatus.OPEN, sourceHash: hash });
          continue;
        }
        if (old.source_hash === hash) {
          // The source sent exactly what it sent last time: nothing to write, audit or announce.
          written.set(row.externalId, { id: old.id, created: false, changed: false });
          continue;
        }
        const paid = BigInt(old.total_minor) - BigInt(old.open_balance_minor);
        const open = row.openBalanceMinor ?? row.totalMinor - paid;
        const problems: FieldProblem[] = [];
        if (old.status === InvoiceStatus.VOID) problems.push({ field: 'externalId', code: InvoiceErrors.INVOICE_VOID, message: 'this invoice was voided and cannot change' });
        if (open < 0n) problems.push({ field: 'total', code: InvoiceErrors.TOTAL_BELOW_PAID, message: `total is below the ${paid} minor units already paid` });
        if (old.currency !== row.currency && paid > 0n) {
          problems.push({ field: 'currency', code: InvoiceErrors.CURRENCY_CHANGE_AFTER_PAYMENT, message: 'cannot change the currency of a partly paid invoice' });
        }
        if (problems.length) {
          rejected.set(row.externalId, problems);
          continue;
        }
        const status = old.status === InvoiceStatus.WRITTEN_OFF ? old.status : open === 0n ? InvoiceStatus.PAID : InvoiceStatus.OPEN;
        updates.push({ ...row, id: old.id, openBalanceMinor: open, status, sourceHash: hash });
      }
      if (inserts.length) {
        const src = unnestSource(invoiceColumns, inserts, 2);
        const ins: { id: string; external_id: string }[] = await ctx.em.query(
          `INSERT INTO invoices (tenant_id, ${src.names}) SELECT $1, ${src.names} FROM ${src.sql} RETURNING id, external_id`,
          [ctx.tenantId, ...src.params],
        );
        ins.forEach((r) => written.set(r.external_id, { id: r.id, created: true, changed: true }));
      }
      if (updates.length) {
        const src = unnestSource(invoiceColumns, updates, 2);
        const set = invoiceColumns.filter((c) => c.name !== 'external_id').map((c) => `${c.name} = v.${c.name}`).join(', ');
        await ctx.em.query(`UPDATE invoices i SET ${set}, updated_at = now() FROM ${src.sql} WHERE i.tenant_id = $1 AND i.external_id = v.external_id`, [
          ctx.tenantId,
          ...src.params,
        ]);
        updates.forEach((r) => written.set(r.externalId, { id: r.id, created: false, changed: true }));
      }
      const withLines = [...inserts, ...updates].filter((r) => r.lines !== null);
      if (withLines.length) {
        const ids = withLines.map((r) => written.get(r.externalId)!.id);
        await ctx.em.query('DELETE FROM invoice_lines WHERE tenant_id = $1 AND invoice_id = ANY($2::uuid[])', [ctx.tenantId, ids]);
        const lines = withLines.flatMap((r) => r.lines!.map((l) => ({ ...l, invoiceId: written.get(r.externalId)!.id })));
        for (const lb of chunks(lines, 5000)) {
          const src = unnestSource(lineColumns, lb, 2);
          await ctx.em.query(`INSERT INTO invoice_lines (tenant_id, ${src.names}) SELECT $1, ${src.names} FROM ${src.sql}`, [ctx.tenantId, ...src.params]);
        }
      }
      const touched = [...inserts, ...updates];
      if (opts.audit !== false) {
        await this.audit.record(
          ctx,
          ...touched.map((r) => {
            const w = written.get(r.externalId)!;
            return { action: w.created ? 'invoice.created' : 'invoice.updated', subjectType: 'Invoice', subjectId: w.id, data: { externalId: r.externalId, number: r.number, total: r.totalMinor.toString(), currency: r.currency } };
          }),
        );
      }
      await this.announce(ctx, InvoiceChangeKind.CREATED, inserts.map((r) => written.get(r.externalId)!.id));
      await this.announce(ctx, InvoiceChangeKind.UPDATED, updates.map((r) => r.id));
    }
    return { written, rejected };
  }

  private async announce(ctx: RequestContext, change: InvoiceChangeKind, ids: string[]): Promise<void> {
    // ~180 uuids fit in one NOTIFY payload.
    for (const part of chunks(ids, 180)) {
      await emitEvent(ctx.em, { type: INVOICES_CHANGED, tenantId: ctx.tenantId, payload: { change, ids: part } satisfies InvoicesChangedPayload });
    }
  }

  async void(ctx: RequestContext, id: string, reason: string): Promise<Invoice> {
    if (!reason.trim()) throw badInput('reason', 'say why the invoice is voided');
    return inTransaction(ctx, async (tx) => {
      const repo = tx.em.getRepository(Invoice);
      const inv = await repo.createQueryBuilder('i').setLock('pessimistic_write').where('i.tenant_id = :t AND i.id = :id', { t: ctx.tenantId, id }).getOne();
      if (!inv) throw notFound('Invoice', id, 'id');
      if (inv.status === InvoiceStatus.VOID) throw badInput('id', 'this invoice is already void', 'ALREADY_VOID');
      if (inv.openBalanceMinor !== inv.totalMinor) throw badInput('id', 'this invoice has payments applied; reverse them before voiding', 'HAS_PAYMENTS');
      inv.status = InvoiceStatus.VOID;
      inv.openBalanceMinor = 0n;
      inv.voidReason = reason.trim();
      inv.voidedAt = new Date();
      await repo.save(inv);
      await this.audit.record(tx, { action: 'invoice.voided', subjectType: 'Invoice', subjectId: id, data: { reason: inv.voidReason, total: inv.totalMinor.toString() } });
      await this.announce(tx, InvoiceChangeKind.VOIDED, [id]);
      return inv;
    }).then((inv) => {
      this.onCustomersChanged(ctx, [inv.customerId]);
      return inv;
    });
  }

  async get(ctx: RequestContext, id: string): Promise<Invoice | null> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
    return ctx.em.getRepository(Invoice).findOneBy({ tenantId: ctx.tenantId, id });
  }

  async list(ctx: RequestContext, args: { first: number; after?: string | null; filter?: InvoiceFilter | null; orderBy: InvoiceOrderField; direction: 'ASC' | 'DESC'; asOf?: string | null }): Promise<Connection<Invoice>> {
    const asOf = args.asOf ?? (await this.tenants.today(ctx));
    const qb = ctx.em.getRepository(Invoice).createQueryBuilder('i').where('i.tenant_id = :tenantId', { tenantId: ctx.tenantId });
    this.applyFilter(ctx, qb, args.filter ?? {}, asOf);
    const sort = {
      [InvoiceOrderField.DUE_DATE]: { expr: 'i.due_date', type: 'date', key: (i: Invoice) => i.dueDate },
      [InvoiceOrderField.ISSUE_DATE]: { expr: 'i.issue_date', type: 'date', key: (i: Invoice) => i.issueDate },
      [InvoiceOrderField.NUMBER]: { expr: 'i.number', type: 'text', key: (i: Invoice) => i.number },
      [InvoiceOrderField.TOTAL]: { expr: 'i.total_minor', type: 'bigint', key: (i: Invoice) => i.totalMinor.toString() },
      [InvoiceOrderField.OPEN_BALANCE]: { expr: 'i.open_balance_minor', type: 'bigint', key: (i: Invoice) => i.openBalanceMinor.toString() },
      [InvoiceOrderField.CREATED_AT]: { expr: 'i.created_at', type: 'timestamptz', key: (i: Invoice) => i.createdAt.toISOString() },
    }[args.orderBy];
    const conn = await keysetPage(qb, {
      sortExpr: sort.expr,
      sortType: sort.type,
      direction: args.direction,
      idExpr: 'i.id',
      first: args.first,
      after: args.after,
      cursorOf: (i) => ({ k: sort.key(i), id: i.id }),
    });
    conn.nodes.forEach((n) => (n.listAsOf = asOf));
    return conn;
  }

  private applyFilter(ctx: RequestContext, qb: SelectQueryBuilder<Invoice>, f: InvoiceFilter, asOf: string): void {
    if (f.status?.length) qb.andWhere('i.status IN (:...status)', { status: f.status });
    if (f.entityIds?.length) qb.andWhere('i.entity_id IN (:...entityIds)', { entityIds: f.entityIds });
    if (f.customerIds?.length) qb.andWhere('i.customer_id IN (:...customerIds)', { customerIds: f.customerIds });
    if (f.currencies?.length) qb.andWhere('i.currency IN (:...currencies)', { currencies: f.currencies });
    if (f.billingModels?.length) qb.andWhere('i.billing_model IN (:...billingModels)', { billingModels: f.billingModels });
    if (f.segments?.length || f.ownerIds?.length) {
      const sub = this.customers.filterSubquery(ctx, { segments: f.segments, ownerIds: f.ownerIds });
      qb.andWhere(`i.customer_id IN (${sub.getQuery()})`).setParameters(sub.getParameters());
    }
    if (f.overdue === true) qb.andWhere(`i.status = 'OPEN' AND i.open_balance_minor > 0 AND i.due_date < CAST(:asOf AS date)`, { asOf });
    if (f.overdue === false) qb.andWhere(`NOT (i.status = 'OPEN' AND i.open_balance_minor > 0 AND i.due_date < CAST(:asOf AS date))`, { asOf });
    if (f.dueDate?.from) qb.andWhere('i.due_date >= CAST(:dueFrom AS date)', { dueFrom: f.dueDate.from });
    if (f.dueDate?.to) qb.andWhere('i.due_date <= CAST(:dueTo AS date)', { dueTo: f.dueDate.to });
    // days past due >= min  <=>  due_date <= asOf - min
    if (f.daysPastDue?.min !== undefined && f.daysPastDue.min !== null) qb.andWhere('i.due_date <= CAST(:dpdMinDate AS date)', { dpdMinDate: addDays(asOf, -f.daysPastDue.min) });
    if (f.daysPastDue?.max !== undefined && f.daysPastDue.max !== null) qb.andWhere('i.due_date >= CAST(:dpdMaxDate AS date)', { dpdMaxDate: addDays(asOf, -f.daysPastDue.max) });
    if (f.search?.trim()) {
      const s = `%${escapeLike(f.search.trim())}%`;
      qb.andWhere(`(i.number ILIKE :search OR i.customer_id IN (SELECT sc.id FROM customers sc WHERE sc.tenant_id = :tenantId AND sc.name ILIKE :search))`, { search: s });
    }
  }

  loader(ctx: RequestContext): DataLoader<string, Invoice | null> {
    return byIdLoader(ctx, Invoice, 'invoiceById');
  }

  linesLoader(ctx: RequestContext): DataLoader<string, InvoiceLine[]> {
    return childrenLoader(ctx, InvoiceLine, 'linesByInvoice', 'invoiceId', { lineNo: 'ASC' });
  }

  /** Open balance per currency for each customer, one query per page of customers. */
  openBalancesLoader(ctx: RequestContext): DataLoader<string, { currency: string; minor: bigint }[]> {
    return ctx.loaders.get('openBalancesByCustomer', () => new DataLoader(async (ids: readonly string[]) => {
      const rows: { customer_id: string; currency: string; open: string }[] = await ctx.em.query(
        `SELECT customer_id, currency, SUM(open_balance_minor)::text AS open FROM invoices
         WHERE tenant_id = $1 AND customer_id = ANY($2::uuid[]) AND status = 'OPEN' GROUP BY customer_id, currency ORDER BY currency`,
        [ctx.tenantId, [...ids]],
      );
      return ids.map((id) => rows.filter((r) => r.customer_id === id).map((r) => ({ currency: r.currency, minor: BigInt(r.open) })));
    }));
  }
}
