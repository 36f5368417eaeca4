import DataLoader from 'dataloader';
import { randomUUID } from 'node:crypto';
import { In } from 'typeorm';
import { inTransaction, type RequestContext } from '../../platform/context';
import { unnestSource, type BulkColumn } from '../../platform/db/bulk';
import { keysetPage } from '../../platform/db/keyset';
import { badInput, Problems, type FieldProblem } from '../../platform/errors';
import type { Connection } from '../../platform/graphql/connection';
import { isCurrency, parseDecimal } from '../../platform/money/money';
import { isIsoDate } from '../../platform/time/dates';
import type { AuditService } from '../audit/audit.service';
import { MAX_BULK } from '../customers/customer.service';
import type { DisputeReason } from '../disputes/dispute.entity';
import { JournalKind, LedgerAccount } from '../ledger/journal.entity';
import type { LedgerService } from '../ledger/ledger.service';
import type { TenantService } from '../tenants/tenant.service';
import { Allocation } from './allocation.entity';
import type { PaymentApplicationService } from './payment-application.service';
import { Payment, PaymentMethod, PaymentStatus } from './payment.entity';
import { PaymentErrors } from './payment.errors';
import { PaymentSuggestion } from './payment-suggestion.entity';

export interface RecordPaymentInput {
  source: string;
  externalId: string;
  method: PaymentMethod;
  amount: string;
  currency: string;
  receivedOn?: string | null;
  customerId?: string | null;
  customerExternalId?: string | null;
  entityCode?: string | null;
  payerName?: string | null;
  payerAccount?: string | null;
  remittanceText?: string | null;
  references?: string[] | null;
  shortPayReason?: string | null;
  deductionCode?: DisputeReason | null;
}

export interface RecordOutcome {
  index: number;
  externalId: string;
  paymentId: string | null;
  created: boolean;
  errors: FieldProblem[];
}

interface NewPayment {
  id: string;
  entityId: string | null;
  source: string;
  externalId: string;
  method: PaymentMethod;
  currency: string;
  amountMinor: bigint;
  receivedOn: string;
  customerId: string | null;
  payerName: string | null;
  payerAccount: string | null;
  remittanceText: string | null;
  refs: string[];
  shortPayReason: string | null;
  deductionCode: string | null;
}

const columns: BulkColumn<NewPayment>[] = [
  { name: 'id', type: 'uuid', value: (r) => r.id },
  { name: 'entity_id', type: 'uuid', value: (r) => r.entityId },
  { name: 'source', type: 'text', value: (r) => r.source },
  { name: 'external_id', type: 'text', value: (r) => r.externalId },
  { name: 'method', type: 'text', value: (r) => r.method },
  { name: 'currency', type: 'text', value: (r) => r.currency },
  { name: 'amount_minor', type: 'bigint', value: (r) => r.amountMinor },
  { name: 'unapplied_minor', type: 'bigint', value: (r) => r.amountMinor },
  { name: 'received_on', type: 'date', value: (r) => r.receivedOn },
  { name: 'customer_id', type: 'uuid', value: (r) => r.customerId },
  { name: 'payer_name', type: 'text', value: (r) => r.payerName },
  { name: 'payer_account', type: 'text', value: (r) => r.payerAccount },
  { name: 'remittance_text', type: 'text', value: (r) => r.remittanceText },
  // text[] per row travels as one JSON string and is split back in SQL.
  { name: 'refs', type: 'text', value: (r) => JSON.stringify(r.refs) },
  { name: 'short_pay_reason', type: 'text', value: (r) => r.shortPayReason },
  { name: 'deduction_code', type: 'text', value: (r) => r.deductionCode },
];

export interface PaymentFilter {
  status?: PaymentStatus[] | null;
  customerId?: string | null;
  method?: PaymentMethod | null;
  source?: string | null;
}

const isUuid = (s: string) => /^[0-9a-f-]{36}$/i.test(s);

/** Intake and reading of payments; application lives in PaymentApplicationService. */
export class PaymentService {
  /** Called after new payments commit when they are not applied at once (the composition root enqueues the job). */
  onRecorded: (ctx: RequestContext, paymentIds: string[]) => void = () => undefined;

  constructor(
    private readonly tenants: TenantService,
    private readonly audit: AuditService,
    private readonly ledger: LedgerService,
    private readonly application: PaymentApplicationService,
  ) {}

  /**
   * Records up to 1,000 bank lines, idempotent by (source, externalId): a line delivered again
   * changes nothing. Each item is written whole or not at all; the cash posts at once.
   */
  async record(ctx: RequestContext, inputs: RecordPaymentInput[], opts: { applyNow: boolean }): Promise<RecordOutcome[]> {
    if (inputs.length > MAX_BULK) throw badInput('input', `at most ${MAX_BULK} payments per call, got ${inputs.length}`, PaymentErrors.TOO_MANY_ITEMS);
    const today = await this.tenants.today(ctx);
    const extIds = [...new Set(inputs.map((i) => i.customerExternalId).filter((x): x is string => !!x))];
    const ids = [...new Set(inputs.map((i) => i.customerId).filter((x): x is string => !!x && isUuid(x)))];
    const codes = [...new Set(inputs.map((i) => i.entityCode).filter((x): x is string => !!x))];
    const custRows: { id: string; external_id: string; entity_id: string }[] =
      extIds.length || ids.length ? await ctx.em.query(`SELECT id, external_id, entity_id FROM customers WHERE tenant_id = $1 AND (external_id = ANY($2::text[]) OR id = ANY($3::uuid[]))`, [ctx.tenantId, extIds, ids]) : [];
    const entRows: { id: string; code: string }[] = codes.length ? await ctx.em.query(`SELECT id, code FROM legal_entities WHERE tenant_id = $1 AND code = ANY($2::text[])`, [ctx.tenantId, codes]) : [];
    const byExt = new Map(custRows.map((c) => [c.external_id, c]));
    const byId = new Map(custRows.map((c) => [c.id, c]));
    const entByCode = new Map(entRows.map((e) => [e.code, e.id]));

    const outcomes: RecordOutcome[] = [];
    const valid: { index: number; row: NewPayment }[] = [];
    const seen = new Set<string>();
    inputs.forEach((input, index) => {
      const p = new Problems();
      const str = (field: string, v: string | null | undefined, max: number, required = false) => {
        const s = v?.trim() ?? '';
        if (!s && required) p.add(field, PaymentErrors.REQUIRED, 'is required');
        if (s.length > max) p.add(field, PaymentErrors.REQUIRED, `at most ${max} characters`);
        return s || null;
      };
      const source = str('source', input.source, 64, true);
      const externalId = str('externalId', input.externalId, 200, true);
      const currency = input.currency?.trim().toUpperCase() ?? '';
      let amountMinor = 0n;
      if (!isCurrency(currency)) p.add('currency', PaymentErrors.UNKNOWN_CURRENCY, `"${input.currency}" is not an ISO 4217 currency`);
      else {
        const r = parseDecimal(input.amount ?? '', currency);
        if (!r.ok) p.add('amount', PaymentErrors.INVALID_AMOUNT, r.message);
        else if (r.minor <= 0n) p.add('amount', PaymentErrors.NON_POSITIVE_AMOUNT, 'must be greater than zero');
        else amountMinor = r.minor;
      }
      const receivedOn = input.receivedOn ?? today;
      if (!isIsoDate(receivedOn)) p.add('receivedOn', PaymentErrors.INVALID_DATE, 'must be a date YYYY-MM-DD');
      let customer: { id: string; entity_id: string } | undefined;
      if (input.customerId) {
        customer = byId.get(input.customerId);
        if (!customer) p.add('customerId', PaymentErrors.UNKNOWN_CUSTOMER, `no customer ${input.customerId}`);
      } else if (input.customerExternalId) {
        customer = byExt.get(input.customerExternalId);
        if (!customer) p.add('customerExternalId', PaymentErrors.UNKNOWN_CUSTOMER, `no customer with externalId ${input.customerExternalId}`);
      }
      let entityId: string | null = customer?.entity_id ?? null;
      if (input.entityCode) {
        entityId = entByCode.get(input.entityCode) ?? null;
        if (!entityId) p.add('entityCode', PaymentErrors.UNKNOWN_ENTITY, `no legal entity with code ${input.entityCode}`);
      }
      const refs = (input.references ?? []).map((r) => r.trim()).filter(Boolean);
      if (refs.length > 100) p.add('references', PaymentErrors.INVALID_AMOUNT, 'at most 100 references');
      if (input.deductionCode && !input.shortPayReason?.trim()) p.add('shortPayReason', PaymentErrors.REASON_REQUIRED, 'a deduction code needs the reason the payer gave');
      const payerName = str('payerName', input.payerName, 300);
      const payerAccount = str('payerAccount', input.payerAccount, 100);
      const remittanceText = str('remittanceText', input.remittanceText, 4000);
      const shortPayReason = str('shortPayReason', input.shortPayReason, 500);
      const key = `${source}\u0000${externalId}`;
      if (p.ok && seen.has(key)) p.add('externalId', PaymentErrors.DUPLICATE_IN_BATCH, 'appears earlier in this call');
      outcomes.push({ index, externalId: input.externalId, paymentId: null, created: false, errors: p.list });
      if (!p.ok) return;
      seen.add(key);
      valid.push({
        index,
        row: {
          id: randomUUID(),
          entityId,
          source: source!,
          externalId: externalId!,
          method: input.method,
          currency,
          amountMinor,
          receivedOn,
          customerId: customer?.id ?? null,
          payerName,
          payerAccount,
          remittanceText,
          refs,
          shortPayReason,
          deductionCode: input.deductionCode ?? null,
        },
      });
    });
    if (!valid.length) return outcomes;

    const created = await inTransaction(ctx, async (tx) => {
      const names = columns.map((c) => c.name);
      const src = unnestSource(columns, valid.map((v) => v.row), 3);
      const inserted: { id: string }[] = await tx.em.query(
        `INSERT INTO payments (tenant_id, created_by, ${names.map((n) => (n === 'refs' ? 'remittance_refs' : n)).join(', ')})
         SELECT $1, $2, ${names.map((n) => (n === 'refs' ? `ARRAY(SELECT jsonb_array_elements_text(v.refs::jsonb))` : `v.${n}`)).join(', ')} FROM ${src.sql}
         ON CONFLICT (tenant_id, source, external_id) DO NOTHING RETURNING id`,
        [ctx.tenantId, ctx.actor.id, ...src.params],
      );
      const isNew = new Set(inserted.map((r) => r.id));
      const fresh = valid.filter((v) => isNew.has(v.row.id)).map((v) => v.row);
      await this.ledger.post(
        tx,
        fresh.map((r) => ({
          kind: JournalKind.PAYMENT_RECEIVED,
          sourceType: 'Payment',
          sourceId: r.id,
          currency: r.currency,
          postedOn: r.receivedOn,
          memo: `${r.method} ${r.source}:${r.externalId}`.slice(0, 500),
          lines: [
            { account: LedgerAccount.CASH, debitMinor: r.amountMinor, customerId: r.customerId },
            { account: LedgerAccount.UNAPPLIED_CASH, creditMinor: r.amountMinor, customerId: r.customerId },
          ],
        })),
      );
      await this.audit.record(tx, ...fresh.map((r) => ({ action: 'payment.recorded', subjectType: 'Payment', subjectId: r.id, data: { source: r.source, externalId: r.externalId, method: r.method, amountMinor: r.amountMinor.toString(), currency: r.currency } })));
      return isNew;
    });
    // Re-deliveries: the stored payment stands; a different amount or currency is refused, not merged.
    const redelivered = valid.filter((v) => !created.has(v.row.id));
    if (redelivered.length) {
      const stored: { id: string; source: string; external_id: string; amount_minor: string; currency: string }[] = await ctx.em.query(
        `SELECT id, source, external_id, amount_minor, currency FROM payments p JOIN unnest($2::text[], $3::text[]) AS v(s, e) ON p.source = v.s AND p.external_id = v.e WHERE p.tenant_id = $1`,
        [ctx.tenantId, redelivered.map((v) => v.row.source), redelivered.map((v) => v.row.externalId)],
      );
      const byKey = new Map(stored.map((s) => [`${s.source}\u0000${s.external_id}`, s]));
      for (const v of redelivered) {
        const s = byKey.get(`${v.row.source}\u0000${v.row.externalId}`);
        const o = outcomes[v.index];
        if (s && (BigInt(s.amount_minor) !== v.row.amountMinor || s.currency !== v.row.currency)) {
          o.errors = [{ field: 'externalId', code: PaymentErrors.CHANGED_REDELIVERY, message: `payment ${v.row.source}/${v.row.externalId} was recorded with ${s.currency} ${s.amount_minor} minor units; reverse it to correct it` }];
        } else o.paymentId = s?.id ?? null;
      }
    }
    const newIds: string[] = [];
    for (const v of valid) {
      if (!created.has(v.row.id)) continue;
      Object.assign(outcomes[v.index], { paymentId: v.row.id, created: true });
      newIds.push(v.row.id);
    }
    if (newIds.length && !ctx.inTransaction) {
      if (opts.applyNow) await this.application.apply(ctx, newIds);
      else this.onRecorded(ctx, newIds);
    }
    return outcomes;
  }

  async get(ctx: RequestContext, id: string): Promise<Payment | null> {
    if (!isUuid(id)) return null;
    return ctx.em.getRepository(Payment).findOneBy({ tenantId: ctx.tenantId, id });
  }

  list(ctx: RequestContext, args: { first: number; after?: string | null; filter?: PaymentFilter | null; unappliedOnly?: boolean }): Promise<Connection<Payment>> {
    const f = args.filter ?? {};
    const qb = ctx.em.getRepository(Payment).createQueryBuilder('p').where('p.tenant_id = :t', { t: ctx.tenantId });
    if (args.unappliedOnly) qb.andWhere(`p.status IN ('UNAPPLIED','PARTIALLY_APPLIED') AND p.unapplied_minor > 0`);
    if (f.status?.length) qb.andWhere('p.status IN (:...status)', { status: f.status });
    if (f.customerId) qb.andWhere('p.customer_id = :customerId', { customerId: f.customerId });
    if (f.method) qb.andWhere('p.method = :method', { method: f.method });
    if (f.source) qb.andWhere('p.source = :source', { source: f.source });
    return keysetPage(qb, { sortExpr: 'p.created_at', sortType: 'timestamptz', direction: 'DESC', idExpr: 'p.id', first: args.first, after: args.after, cursorOf: (p) => ({ k: p.createdAt.toISOString(), id: p.id }) });
  }

  allocationsLoader(ctx: RequestContext): DataLoader<string, Allocation[]> {
    return ctx.loaders.get('allocationsByPayment', () => new DataLoader<string, Allocation[]>(async (ids) => {
      const rows = await ctx.em.getRepository(Allocation).find({ where: { tenantId: ctx.tenantId, paymentId: In([...ids]) }, order: { createdAt: 'ASC', id: 'ASC' } });
      const by = new Map<string, Allocation[]>();
      for (const r of rows) by.set(r.paymentId!, [...(by.get(r.paymentId!) ?? []), r]);
      return ids.map((id) => by.get(id) ?? []);
    }));
  }

  suggestionsLoader(ctx: RequestContext): DataLoader<string, PaymentSuggestion[]> {
    return ctx.loaders.get('suggestionsByPayment', () => new DataLoader<string, PaymentSuggestion[]>(async (ids) => {
      const rows = await ctx.em.getRepository(PaymentSuggestion).find({ where: { tenantId: ctx.tenantId, paymentId: In([...ids]) }, order: { rank: 'ASC' } });
      const by = new Map<string, PaymentSuggestion[]>();
      for (const r of rows) by.set(r.paymentId, [...(by.get(r.paymentId) ?? []), r]);
      return ids.map((id) => by.get(id) ?? []);
    }));
  }

  /** What a customer may still use: unapplied cash of their payments and open credit memos, per currency. */
  async customerCredit(ctx: RequestContext, customerId: string): Promise<{ currency: string; unappliedMinor: bigint; creditMemoMinor: bigint }[]> {
    if (!isUuid(customerId)) return [];
    const rows: { currency: string; u: string; m: string }[] = await ctx.em.query(
      `SELECT currency, sum(u)::text AS u, sum(m)::text AS m FROM (
         SELECT currency, unapplied_minor AS u, 0 AS m FROM payments WHERE tenant_id = $1 AND customer_id = $2 AND status IN ('UNAPPLIED','PARTIALLY_APPLIED')
         UNION ALL SELECT currency, 0, open_minor FROM ar_documents WHERE tenant_id = $1 AND customer_id = $2 AND kind = 'CREDIT_MEMO' AND open_minor > 0) x
       GROUP BY currency ORDER BY currency`,
      [ctx.tenantId, customerId],
    );
    return rows.map((r) => ({ currency: r.currency, unappliedMinor: BigInt(r.u), creditMemoMinor: BigInt(r.m) }));
  }
}
