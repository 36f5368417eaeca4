import DataLoader from 'dataloader';
import { inTransaction, type RequestContext } from '../../platform/context';
import { announceAgingChange } from '../aging/aging-events';
import { AgingChangeReason } from '../aging/dto/aging.types';
import { keysetPage } from '../../platform/db/keyset';
import { badInput, notFound } from '../../platform/errors';
import type { Connection } from '../../platform/graphql/connection';
import { formatMinor, parseDecimal } from '../../platform/money/money';
import { addDays, isIsoDate, type IsoDate } from '../../platform/time/dates';
import type { AuditService } from '../audit/audit.service';
import type { TaskService } from '../worklists/task.service';
import { TaskOutcome } from '../worklists/worklist.types';
import { PromiseErrors } from './promise.errors';
import { PromiseChannel, PromiseStatus, PromiseToPay } from './promise-to-pay.entity';

export const DEFAULT_GRACE_DAYS = 3;
/** How far ahead a promise may be dated. */
export const MAX_PROMISE_DAYS = 180;
const MAX_INVOICES = 100;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface CreatePromiseInput {
  invoiceIds: string[];
  /** Decimal in the invoices' currency. */
  amount: string;
  promisedDate: IsoDate;
  contactId: string;
  channel: PromiseChannel;
  note?: string | null;
  /** The day it was made (default today in the tenant time zone): replays use it. */
  asOf: IsoDate;
  /** A task being worked when the promise was made: completed with outcome PROMISED in the same transaction. */
  taskId?: string | null;
}

export interface PromiseReliability {
  kept: number;
  partiallyKept: number;
  broken: number;
  open: number;
  /** kept / (kept + partially kept + broken); null before any promise is resolved. */
  keptRate: number | null;
  lastBrokenOn: IsoDate | null;
}

export interface ResolveOutcome {
  kept: number;
  partiallyKept: number;
  broken: number;
}

/**
 * Promises to pay: recorded with amount, date, invoices, contact and channel; while open the
 * engine holds reminders on the covered invoices until the date plus the grace period (see
 * snapshot-loader). `resolveDue` settles them as of a day: KEPT when the covered invoices
 * received at least the amount between the day it was made and the end of grace (as soon as
 * that is true), else on the first day after grace PARTIALLY_KEPT or BROKEN — which raises a
 * task and counts toward escalation (`history.brokenPromises` in the engine).
 */
export class PromiseService {
  /** Called after promises are made or broken, with the customers to re-evaluate (set by the composition root). */
  onChange: (ctx: RequestContext, customerIds: string[]) => void = () => undefined;
  /** Run in the transaction that marks a promise BROKEN (e.g. the promise.broken webhook; set by the composition root). */
  readonly onBroken: ((tx: RequestContext, p: { promiseId: string; customerId: string; invoiceIds: string[]; amountMinor: string; currency: string; promisedOn: string }) => Promise<void>)[] = [];

  constructor(
    private readonly tasks: TaskService,
    private readonly audit: AuditService,
  ) {}

  async graceDays(ctx: RequestContext): Promise<number> {
    const [row] = await ctx.em.query(`SELECT grace_days FROM promise_settings WHERE tenant_id = $1`, [ctx.tenantId]);
    return row ? Number(row.grace_days) : DEFAULT_GRACE_DAYS;
  }

  async setGraceDays(ctx: RequestContext, graceDays: number): Promise<number> {
    if (!Number.isInteger(graceDays) || graceDays < 0 || graceDays > 60) throw badInput('graceDays', 'must be a whole number of days, 0 to 60', PromiseErrors.INVALID_GRACE);
    return inTransaction(ctx, async (tx) => {
      const before = await this.graceDays(tx);
      await tx.em.query(
        `INSERT INTO promise_settings (tenant_id, grace_days, updated_by) VALUES ($1, $2, $3)
         ON CONFLICT (tenant_id) DO UPDATE SET grace_days = EXCLUDED.grace_days, updated_by = EXCLUDED.updated_by, updated_at = now()`,
        [ctx.tenantId, graceDays, ctx.actor.id.slice(0, 64)],
      );
      await this.audit.record(tx, { action: 'promise_settings.set', subjectType: 'Tenant', subjectId: ctx.tenantId, before: { graceDays: before }, after: { graceDays } });
      return graceDays;
    });
  }

  async create(ctx: RequestContext, input: CreatePromiseInput): Promise<PromiseToPay> {
    const ids = input.invoiceIds ?? [];
    if (ids.length === 0) throw badInput('invoiceIds', 'name at least one invoice', PromiseErrors.REQUIRED);
    if (ids.length > MAX_INVOICES) throw badInput('invoiceIds', `at most ${MAX_INVOICES} invoices`, PromiseErrors.REQUIRED);
    if (new Set(ids).size !== ids.length) throw badInput('invoiceIds', 'each invoice may appear once', PromiseErrors.UNKNOWN_INVOICE);
    const malformed = ids.findIndex((id) => !UUID.test(id));
    if (malformed >= 0) throw badInput(`invoiceIds.${malformed}`, `${ids[malformed]} is not an invoice id`, PromiseErrors.UNKNOWN_INVOICE);
    if (!input.amount?.trim()) throw badInput('amount', 'is required', PromiseErrors.REQUIRED);
    if (!input.promisedDate || !isIsoDate(input.promisedDate)) throw badInput('promisedDate', 'is required (YYYY-MM-DD)', PromiseErrors.REQUIRED);
    if (input.promisedDate < input.asOf) throw badInput('promisedDate', `must be ${input.asOf} or later`, PromiseErrors.DATE_IN_PAST);
    if (input.promisedDate > addDays(input.asOf, MAX_PROMISE_DAYS)) throw badInput('promisedDate', `must be within ${MAX_PROMISE_DAYS} days`, PromiseErrors.DATE_TOO_FAR);
    if (!input.contactId || !UUID.test(input.contactId)) throw badInput('contactId', 'name the contact who promised', PromiseErrors.UNKNOWN_CONTACT);
    if (!Object.values(PromiseChannel).includes(input.channel)) throw badInput('channel', `unknown channel ${String(input.channel)}`, PromiseErrors.REQUIRED);
    const note = input.note?.trim() || null;
    if (note && note.length > 2000) throw badInput('note', 'at most 2,000 characters', PromiseErrors.NOTE_TOO_LONG);

    const promise = await inTransaction(ctx, async (tx) => {
      // Locked so that two collectors cannot promise the same invoice at once.
      const invoices: { id: string; customer_id: string; number: string; status: string; currency: string; open_balance_minor: string }[] = await tx.em.query(
        `SELECT id, customer_id, number, status, currency, open_balance_minor FROM invoices WHERE tenant_id = $1 AND id = ANY($2::uuid[]) ORDER BY id FOR UPDATE`,
        [ctx.tenantId, ids],
      );
      const byId = new Map(invoices.map((i) => [i.id, i]));
      const missing = ids.findIndex((id) => !byId.has(id));
      if (missing >= 0) throw notFound('Invoice', ids[missing], `invoiceIds.${missing}`);
      const first = byId.get(ids[0])!;
      ids.forEach((id, n) => {
        const inv = byId.get(id)!;
        if (inv.customer_id !== first.customer_id) throw badInput(`invoiceIds.${n}`, `${inv.number} belongs to another customer`, PromiseErrors.OTHER_CUSTOMER);
        if (inv.status !== 'OPEN' || BigInt(inv.open_balance_minor) <= 0n) throw badInput(`invoiceIds.${n}`, `${inv.number} is ${inv.status === 'OPEN' ? 'fully paid' : inv.status}`, PromiseErrors.INVOICE_NOT_OPEN);
        if (inv.currency !== first.currency) throw badInput(`invoiceIds.${n}`, `${inv.number} is in ${inv.currency}, the others in ${first.currency}`, PromiseErrors.CURRENCY_MISMATCH);
      });
      const parsed = parseDecimal(input.amount, first.currency);
      if (!parsed.ok) throw badInput('amount', parsed.message, PromiseErrors.INVALID_AMOUNT);
      if (parsed.minor <= 0n) throw badInput('amount', 'must be positive', PromiseErrors.INVALID_AMOUNT);
      const open = invoices.reduce((s, i) => s + BigInt(i.open_balance_minor), 0n);
      if (parsed.minor > open) throw badInput('amount', `exceeds the ${formatMinor(open, first.currency)} ${first.currency} open on these invoices`, PromiseErrors.EXCEEDS_BALANCE);
      const [contact] = await tx.em.query(`SELECT id FROM contacts WHERE tenant_id = $1 AND id = $2 AND customer_id = $3`, [ctx.tenantId, input.contactId, first.customer_id]);
      if (!contact) throw badInput('contactId', "not a contact of this invoice's customer", PromiseErrors.UNKNOWN_CONTACT);
      const [taken] = await tx.em.query(`SELECT invoice_ids FROM promises_to_pay WHERE tenant_id = $1 AND status = 'OPEN' AND invoice_ids && $2::uuid[] LIMIT 1`, [ctx.tenantId, ids]);
      if (taken) {
        const n = ids.findIndex((id) => (taken.invoice_ids as string[]).includes(id));
        throw badInput(`invoiceIds.${n}`, `${byId.get(ids[n])!.number} is already covered by an open promise`, PromiseErrors.ALREADY_PROMISED);
      }
      const graceDays = await this.graceDays(tx);
      const repo = tx.em.getRepository(PromiseToPay);
      const saved = await repo.save(
        repo.create({
          tenantId: ctx.tenantId,
          customerId: first.customer_id,
          invoiceIds: ids,
          amountMinor: parsed.minor,
          currency: first.currency,
          promisedDate: input.promisedDate,
          graceDays,
          status: PromiseStatus.OPEN,
          contactId: input.contactId,
          channel: input.channel,
          madeOn: input.asOf,
          note,
          receivedMinor: null,
          resolvedOn: null,
          createdBy: ctx.actor.id.slice(0, 64),
          createdAt: new Date(),
          resolvedAt: null,
        }),
      );
      await announceAgingChange(tx.em, ctx.tenantId, AgingChangeReason.PROMISES);
      await this.audit.record(tx, {
        action: 'promise_to_pay.created',
        subjectType: 'PromiseToPay',
        subjectId: saved.id,
        after: { customerId: first.customer_id, invoiceIds: ids, amountMinor: parsed.minor.toString(), currency: first.currency, promisedDate: input.promisedDate, graceDays, channel: input.channel, contactId: input.contactId },
      });
      if (input.taskId) await this.tasks.complete(tx, input.taskId, { outcome: TaskOutcome.PROMISED, note: note ?? `Promised ${formatMinor(parsed.minor, first.currency)} ${first.currency} by ${input.promisedDate}` }, input.asOf).catch((err) => {
        // The task id is part of this input: name it as such.
        if (err?.extensions?.field === 'id') err.extensions.field = 'taskId';
        throw err;
      });
      return saved;
    });
    this.onChange(ctx, [promise.customerId]);
    return promise;
  }

  /**
   * Settles open promises as of `asOf` (the daily evaluation calls this before evaluating, so
   * a promise broken today already counts toward escalation today). Idempotent.
   */
  async resolveDue(ctx: RequestContext, asOf: IsoDate, customerIds?: string[]): Promise<ResolveOutcome> {
    const out: ResolveOutcome = { kept: 0, partiallyKept: 0, broken: 0 };
    const candidates: { id: string }[] = await ctx.em.query(
      `SELECT id FROM promises_to_pay WHERE tenant_id = $1 AND status = 'OPEN' AND COALESCE(made_on, created_at::date) <= $2::date ${customerIds ? 'AND customer_id = ANY($3::uuid[])' : ''} ORDER BY promised_date, id`,
      customerIds ? [ctx.tenantId, asOf, customerIds] : [ctx.tenantId, asOf],
    );
    for (const { id } of candidates) {
      const status = await inTransaction(ctx, async (tx) => {
        const [p] = await tx.em.query(
          `SELECT id, customer_id, invoice_ids, amount_minor, currency, to_char(promised_date, 'YYYY-MM-DD') AS promised_date, grace_days,
                  to_char(COALESCE(made_on, created_at::date), 'YYYY-MM-DD') AS made_on, contact_id
           FROM promises_to_pay WHERE tenant_id = $1 AND id = $2 AND status = 'OPEN' FOR UPDATE SKIP LOCKED`,
          [ctx.tenantId, id],
        );
        if (!p) return null;
        const until = addDays(p.promised_date, p.grace_days);
        const windowEnd = asOf < until ? asOf : until;
        const [{ received }] = await tx.em.query(
          `SELECT COALESCE(sum(a.amount_minor), 0)::text AS received FROM payment_allocations a JOIN payments pay ON pay.tenant_id = a.tenant_id AND pay.id = a.payment_id
           WHERE a.tenant_id = $1 AND a.invoice_id = ANY($2::uuid[]) AND a.reversed_at IS NULL AND a.currency = $3 AND pay.received_on BETWEEN $4::date AND $5::date`,
          [ctx.tenantId, p.invoice_ids, p.currency, p.made_on, windowEnd],
        );
        const receivedMinor = BigInt(received);
        const amount = BigInt(p.amount_minor);
        let next: PromiseStatus | null = null;
        if (receivedMinor >= amount) next = PromiseStatus.KEPT;
        else if (asOf > until) next = receivedMinor > 0n ? PromiseStatus.PARTIALLY_KEPT : PromiseStatus.BROKEN;
        if (!next) return null;
        await tx.em.query(`UPDATE promises_to_pay SET status = $3, received_minor = $4, resolved_on = $5, resolved_at = now() WHERE tenant_id = $1 AND id = $2`, [ctx.tenantId, id, next, receivedMinor.toString(), asOf]);
        await announceAgingChange(tx.em, ctx.tenantId, AgingChangeReason.PROMISES);
        await this.audit.record(tx, {
          action: `promise_to_pay.${next.toLowerCase()}`,
          subjectType: 'PromiseToPay',
          subjectId: id,
          before: { status: PromiseStatus.OPEN },
          after: { status: next, receivedMinor: receivedMinor.toString(), amountMinor: amount.toString(), until },
          actor: { kind: 'rule', id: 'promise-outcome' },
        });
        if (next !== PromiseStatus.KEPT) {
          const numbers: { number: string }[] = await tx.em.query(`SELECT number FROM invoices WHERE tenant_id = $1 AND id = ANY($2::uuid[]) ORDER BY number`, [ctx.tenantId, p.invoice_ids]);
          const [contact] = p.contact_id ? await tx.em.query(`SELECT name FROM contacts WHERE tenant_id = $1 AND id = $2`, [ctx.tenantId, p.contact_id]) : [];
          const money = (m: bigint) => `${formatMinor(m, p.currency)} ${p.currency}`;
          await this.tasks.create(tx, {
            customerId: p.customer_id,
            invoiceId: p.invoice_ids.length === 1 ? p.invoice_ids[0] : null,
            reasonCode: next === PromiseStatus.BROKEN ? 'BROKEN_PROMISE' : 'PARTIAL_PROMISE',
            nextAction: `Call ${contact?.name ?? 'the customer'}: promised ${money(amount)} by ${p.promised_date} for ${numbers.map((n) => n.number).join(', ')}; received ${money(receivedMinor)}`.slice(0, 500),
            dueDate: addDays(asOf, 1),
            priority: 2,
            source: { kind: 'PROMISE', id },
          });
        }
        if (next === PromiseStatus.BROKEN) {
          for (const hook of this.onBroken) await hook(tx, { promiseId: id, customerId: p.customer_id, invoiceIds: p.invoice_ids, amountMinor: amount.toString(), currency: p.currency, promisedOn: p.promised_date });
        }
        return next;
      });
      if (!status) continue;
      if (status === PromiseStatus.KEPT) out.kept++;
      else if (status === PromiseStatus.PARTIALLY_KEPT) out.partiallyKept++;
      else out.broken++;
    }
    return out;
  }

  list(ctx: RequestContext, args: { first: number; after?: string | null; customerId?: string | null; invoiceId?: string | null; status?: PromiseStatus[] | null }): Promise<Connection<PromiseToPay>> {
    const qb = ctx.em.getRepository(PromiseToPay).createQueryBuilder('p').where('p.tenant_id = :t', { t: ctx.tenantId });
    if (args.customerId) qb.andWhere(UUID.test(args.customerId) ? 'p.customer_id = :c' : '1 = 0', { c: args.customerId });
    if (args.invoiceId) qb.andWhere(UUID.test(args.invoiceId) ? 'CAST(:i AS uuid) = ANY(p.invoice_ids)' : '1 = 0', { i: args.invoiceId });
    if (args.status?.length) qb.andWhere('p.status IN (:...s)', { s: args.status });
    return keysetPage(qb, { sortExpr: 'p.created_at', sortType: 'timestamptz', direction: 'DESC', idExpr: 'p.id', first: args.first, after: args.after, cursorOf: (p) => ({ k: p.createdAt.toISOString(), id: p.id }) });
  }

  /** Per-request loader of each customer's promise record: one grouped query per page of customers. */
  reliabilityLoader(ctx: RequestContext): DataLoader<string, PromiseReliability> {
    return ctx.loaders.get('promiseReliability', () =>
      new DataLoader<string, PromiseReliability>(async (ids) => {
        const valid = ids.filter((id) => UUID.test(id));
        const rows: { customer_id: string; kept: number; partial: number; broken: number; open: number; last_broken: string | null }[] = valid.length
          ? await ctx.em.query(
              `SELECT customer_id, count(*) FILTER (WHERE status = 'KEPT')::int AS kept, count(*) FILTER (WHERE status = 'PARTIALLY_KEPT')::int AS partial,
                      count(*) FILTER (WHERE status = 'BROKEN')::int AS broken, count(*) FILTER (WHERE status = 'OPEN')::int AS open,
                      to_char(max(resolved_on) FILTER (WHERE status = 'BROKEN'), 'YYYY-MM-DD') AS last_broken
               FROM promises_to_pay WHERE tenant_id = $1 AND customer_id = ANY($2::uuid[]) GROUP BY customer_id`,
              [ctx.tenantId, valid],
            )
          : [];
        const by = new Map(rows.map((r) => [r.customer_id, r]));
        return ids.map((id) => {
          const r = by.get(id);
          const resolved = r ? r.kept + r.partial + r.broken : 0;
          return { kept: r?.kept ?? 0, partiallyKept: r?.partial ?? 0, broken: r?.broken ?? 0, open: r?.open ?? 0, keptRate: resolved ? Math.round((r!.kept / resolved) * 10000) / 10000 : null, lastBrokenOn: r?.last_broken ?? null };
        });
      }),
    );
  }
}
