import type DataLoader from 'dataloader';
import { byIdLoader, childrenLoader } from '../../platform/db/loaders';
import { In, type SelectQueryBuilder } from 'typeorm';
import { inTransaction, type RequestContext } from '../../platform/context';
import { badInput, type FieldProblem } from '../../platform/errors';
import { chunks, sourceHash, unnestSource, type BulkColumn } from '../../platform/db/bulk';
import { keysetPage } from '../../platform/db/keyset';
import type { Connection } from '../../platform/graphql/connection';
import type { AuditService } from '../audit/audit.service';
import type { LegalEntityService } from '../legal-entities/legal-entity.service';
import type { UserService } from '../tenants/user.service';
import { Contact } from './contact.entity';
import { Customer } from './customer.entity';
import { CustomerOrderField, type CustomerFilter, type UpsertCustomerInput } from './dto/customer.inputs';
import { CustomerErrors, validateCustomer, type ContactRow, type CustomerRow } from './customer.validation';

export const MAX_BULK = 1000;

export interface UpsertOutcome<T> {
  index: number;
  externalId: string;
  record: T | null;
  created?: boolean;
  /** False when the item matched what was already stored: nothing was written. */
  changed?: boolean;
  errors: FieldProblem[];
}

export interface WrittenRow {
  id: string;
  created: boolean;
  changed: boolean;
}

const customerColumns: BulkColumn<CustomerRow>[] = [
  { name: 'external_id', type: 'text', value: (r) => r.externalId },
  { name: 'entity_id', type: 'uuid', value: (r) => r.entityId },
  { name: 'name', type: 'text', value: (r) => r.name },
  { name: 'segment', type: 'text', value: (r) => r.segment },
  { name: 'tier', type: 'text', value: (r) => r.tier },
  { name: 'country', type: 'text', value: (r) => r.country },
  { name: 'locale', type: 'text', value: (r) => r.locale },
  { name: 'currency', type: 'text', value: (r) => r.currency },
  { name: 'owner_user_id', type: 'uuid', value: (r) => r.ownerUserId },
  { name: 'credit_limit_minor', type: 'bigint', value: (r) => r.creditLimitMinor },
  { name: 'credit_hold', type: 'boolean', value: (r) => r.creditHold },
  { name: 'portal_status', type: 'text', value: (r) => r.portalStatus },
  { name: 'renewal_date', type: 'date', value: (r) => r.renewalDate },
  { name: 'source_hash', type: 'text', value: (r) => sourceHash(r) },
];
const contactColumns: BulkColumn<ContactRow & { customerId: string; position: number }>[] = [
  { name: 'customer_id', type: 'uuid', value: (r) => r.customerId },
  { name: 'name', type: 'text', value: (r) => r.name },
  { name: 'email', type: 'text', value: (r) => r.email },
  { name: 'phone', type: 'text', value: (r) => r.phone },
  { name: 'role', type: 'text', value: (r) => r.role },
  { name: 'is_primary', type: 'boolean', value: (r) => r.isPrimary },
  { name: 'channel_preference', type: 'text', value: (r) => r.channelPreference },
  { name: 'position', type: 'int', value: (r) => r.position },
];

export class CustomerService {
  constructor(
    private readonly entities: LegalEntityService,
    private readonly users: UserService,
    private readonly audit: AuditService,
  ) {}

  /** Bulk upsert by externalId: each item all-or-nothing, with its own typed errors. */
  async upsert(ctx: RequestContext, inputs: UpsertCustomerInput[]): Promise<UpsertOutcome<Customer>[]> {
    if (inputs.length > MAX_BULK) throw badInput('input', `at most ${MAX_BULK} customers per call, got ${inputs.length}`, 'TOO_MANY_ITEMS');
    const codes = [...new Set(inputs.map((i) => i.entityCode))];
    const ownerIds = [...new Set(inputs.map((i) => i.ownerId).filter((x): x is string => !!x && /^[0-9a-f-]{36}$/i.test(x)))];
    const [entities, owners] = await Promise.all([this.entities.byCodes(ctx, codes), ownerIds.length ? this.users.byIds(ctx, ownerIds) : []]);
    const lookups = { entityIdByCode: new Map(entities.map((e) => [e.code, e.id])), ownerIds: new Set(owners.map((u) => u.id)) };
    const seen = new Set<string>();
    const outcomes: UpsertOutcome<Customer>[] = [];
    const valid: { index: number; row: CustomerRow }[] = [];
    inputs.forEach((input, index) => {
      const { row, problems } = validateCustomer(input, lookups);
      if (row && seen.has(row.externalId)) problems.add('externalId', CustomerErrors.DUPLICATE_IN_BATCH, 'appears earlier in this call');
      outcomes.push({ index, externalId: input.externalId, record: null, errors: problems.list });
      if (row && problems.ok) {
        seen.add(row.externalId);
        valid.push({ index, row });
      }
    });
    if (valid.length === 0) return outcomes;
    const written = await inTransaction(ctx, (tx) => this.write(tx, valid.map((v) => v.row)));
    const byId = new Map((await ctx.em.getRepository(Customer).findBy({ tenantId: ctx.tenantId, id: In([...written.values()].map((w) => w.id)) })).map((c) => [c.id, c]));
    for (const v of valid) {
      const w = written.get(v.row.externalId)!;
      Object.assign(outcomes[v.index], { record: byId.get(w.id) ?? null, created: w.created, changed: w.changed });
    }
    return outcomes;
  }

  /**
   * Writes validated rows (the seeder and importers call this directly). New customers are
   * inserted; existing ones updated, keeping credit hold, portal status and contacts unless given.
   */
  async write(ctx: RequestContext, rows: CustomerRow[], opts: { audit?: boolean } = {}): Promise<Map<string, WrittenRow>> {
    const result = new Map<string, WrittenRow>();
    await ctx.em.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`customers:${ctx.tenantId}`]);
    for (const batch of chunks(rows, MAX_BULK)) {
      const existing: { id: string; external_id: string; source_hash: string | null }[] = await ctx.em.query(
        'SELECT id, external_id, source_hash FROM customers WHERE tenant_id = $1 AND external_id = ANY($2::text[])',
        [ctx.tenantId, batch.map((r) => r.externalId)],
      );
      const byExt = new Map(existing.map((e) => [e.external_id, e]));
      const existingIds = new Map(existing.map((e) => [e.external_id, e.id]));
      const inserts = batch.filter((r) => !byExt.has(r.externalId));
      const unchanged = batch.filter((r) => byExt.get(r.externalId)?.source_hash === sourceHash(r));
      unchanged.forEach((r) => result.set(r.externalId, { id: existingIds.get(r.externalId)!, created: false, changed: false }));
      const updates = batch.filter((r) => byExt.has(r.externalId) && !unchanged.includes(r));
      if (inserts.length) {
        const src = unnestSource(customerColumns, inserts, 2);
        const ins: { id: string; external_id: string }[] = await ctx.em.query(
          `INSERT INTO customers (tenant_id, ${src.names})
           SELECT $1, ${src.names.replace('credit_hold', 'COALESCE(credit_hold, false)').replace('portal_status', "COALESCE(portal_status, 'NONE')")}
           FROM ${src.sql} RETURNING id, external_id`,
          [ctx.tenantId, ...src.params],
        );
        ins.forEach((r) => result.set(r.external_id, { id: r.id, created: true, changed: true }));
      }
      if (updates.length) {
        const src = unnestSource(customerColumns, updates, 2);
        await ctx.em.query(
          `UPDATE customers c SET entity_id = v.entity_id, name = v.name, segment = v.segment, tier = v.tier, country = v.country,
             locale = v.locale, currency = v.currency, owner_user_id = v.owner_user_id, credit_limit_minor = v.credit_limit_minor,
             renewal_date = v.renewal_date, credit_hold = COALESCE(v.credit_hold, c.credit_hold),
             portal_status = COALESCE(v.portal_status, c.portal_status), source_hash = v.source_hash, updated_at = now()
           FROM ${src.sql} WHERE c.tenant_id = $1 AND c.external_id = v.external_id`,
          [ctx.tenantId, ...src.params],
        );
        updates.forEach((r) => result.set(r.externalId, { id: existingIds.get(r.externalId)!, created: false, changed: true }));
      }
      const withContacts = [...inserts, ...updates].filter((r) => r.contacts !== null);
      if (withContacts.length) {
        const ids = withContacts.map((r) => result.get(r.externalId)!.id);
        await ctx.em.query('DELETE FROM contacts WHERE tenant_id = $1 AND customer_id = ANY($2::uuid[])', [ctx.tenantId, ids]);
        const contacts = withContacts.flatMap((r) => r.contacts!.map((c, position) => ({ ...c, customerId: result.get(r.externalId)!.id, position })));
        for (const cb of chunks(contacts, 2000)) {
          const src = unnestSource(contactColumns, cb, 2);
          await ctx.em.query(`INSERT INTO contacts (tenant_id, ${src.names}) SELECT $1, ${src.names} FROM ${src.sql}`, [ctx.tenantId, ...src.params]);
        }
      }
      if (opts.audit !== false) {
        await this.audit.record(
          ctx,
          ...[...inserts, ...updates].map((r) => {
            const w = result.get(r.externalId)!;
            return { action: w.created ? 'customer.created' : 'customer.updated', subjectType: 'Customer', subjectId: w.id, data: { externalId: r.externalId } };
          }),
        );
      }
    }
    return result;
  }

  async list(ctx: RequestContext, args: { first: number; after?: string | null; filter?: CustomerFilter | null; orderBy?: CustomerOrderField; direction?: 'ASC' | 'DESC' }): Promise<Connection<Customer>> {
    const qb = ctx.em.getRepository(Customer).createQueryBuilder('c').where('c.tenant_id = :tenantId', { tenantId: ctx.tenantId });
    applyCustomerFilter(qb, args.filter ?? {});
    const sort = {
      [CustomerOrderField.NAME]: { expr: 'c.name', type: 'text', key: (c: Customer) => c.name },
      [CustomerOrderField.EXTERNAL_ID]: { expr: 'c.external_id', type: 'text', key: (c: Customer) => c.externalId },
      [CustomerOrderField.CREATED_AT]: { expr: 'c.created_at', type: 'timestamptz', key: (c: Customer) => c.createdAt.toISOString() },
    }[args.orderBy ?? CustomerOrderField.NAME];
    return keysetPage(qb, {
      sortExpr: sort.expr,
      sortType: sort.type,
      direction: args.direction ?? 'ASC',
      idExpr: 'c.id',
      first: args.first,
      after: args.after,
      cursorOf: (c) => ({ k: sort.key(c), id: c.id }),
    });
  }

  async get(ctx: RequestContext, id: string): Promise<Customer | null> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
    return ctx.em.getRepository(Customer).findOneBy({ tenantId: ctx.tenantId, id });
  }

  loader(ctx: RequestContext): DataLoader<string, Customer | null> {
    return byIdLoader(ctx, Customer, 'customerById');
  }

  contactsLoader(ctx: RequestContext): DataLoader<string, Contact[]> {
    return childrenLoader(ctx, Contact, 'contactsByCustomer', 'customerId', { position: 'ASC' });
  }

  /** Customer ids matching a filter, as a subquery for other modules' lists. */
  filterSubquery(ctx: RequestContext, filter: CustomerFilter): SelectQueryBuilder<Customer> {
    const qb = ctx.em.getRepository(Customer).createQueryBuilder('fc').select('fc.id').where('fc.tenant_id = :fcTenant', { fcTenant: ctx.tenantId });
    applyCustomerFilter(qb, filter, 'fc');
    return qb;
  }
}

function applyCustomerFilter(qb: SelectQueryBuilder<Customer>, f: CustomerFilter, a = 'c'): void {
  if (f.entityIds?.length) qb.andWhere(`${a}.entity_id IN (:...${a}EntityIds)`, { [`${a}EntityIds`]: f.entityIds });
  if (f.segments?.length) qb.andWhere(`${a}.segment IN (:...${a}Segments)`, { [`${a}Segments`]: f.segments });
  if (f.tiers?.length) qb.andWhere(`${a}.tier IN (:...${a}Tiers)`, { [`${a}Tiers`]: f.tiers });
  if (f.ownerIds?.length) qb.andWhere(`${a}.owner_user_id IN (:...${a}OwnerIds)`, { [`${a}OwnerIds`]: f.ownerIds });
  if (f.countries?.length) qb.andWhere(`${a}.country IN (:...${a}Countries)`, { [`${a}Countries`]: f.countries });
  if (f.creditHold !== undefined && f.creditHold !== null) qb.andWhere(`${a}.credit_hold = :${a}CreditHold`, { [`${a}CreditHold`]: f.creditHold });
  if (f.search?.trim()) {
    qb.andWhere(`(${a}.name ILIKE :${a}Search OR ${a}.external_id ILIKE :${a}Search)`, { [`${a}Search`]: `%${escapeLike(f.search.trim())}%` });
  }
}

export function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (m) => `\\${m}`);
}
