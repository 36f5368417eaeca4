import type { DataSource } from 'typeorm';
import { systemActor } from '../../platform/auth/roles';
import { RequestContext } from '../../platform/context';
import type { DomainEvent, PubSub } from '../../platform/events/event-bus';
import type { Logger } from '../../platform/logging/logger';
import { todayIn } from '../../platform/time/dates';
import { ENDPOINTS_CHANGED, type WebhookService } from './webhook.service';

/** Topic names of the domain events this module listens to (emitted with pg_notify after commit). */
const INVOICES_CHANGED = 'invoices.changed';
const ACTIONS_CHANGED = 'actions.changed';
const PAYMENTS_APPLIED = 'payments.applied';

/**
 * Turns committed domain facts into webhook events. Every API and worker process listens, so
 * each fact may arrive several times: the event's dedupe key makes it one event. The key names
 * the fact (invoice X paid on day D, action Y sent), so a payment reversed and an invoice paid
 * again on another day is a new event.
 */
export class WebhookEventSource {
  constructor(
    private readonly webhooks: WebhookService,
    private readonly db: () => DataSource,
    private readonly log: () => Logger,
  ) {}

  private ctx(tenantId: string): RequestContext {
    return new RequestContext(tenantId, systemActor(tenantId, 'webhooks'), this.db().manager, 'webhooks', this.log());
  }

  attach(pubSub: PubSub): void {
    const listen = (topic: string, fn: (e: DomainEvent) => Promise<void>) => {
      void (async () => {
        for await (const e of pubSub.subscribe(topic)) {
          await fn(e).catch((err) => this.log().warn({ err, topic, tenantId: e.tenantId }, 'could not turn a domain event into a webhook event'));
        }
      })();
    };
    listen(INVOICES_CHANGED, (e) => this.invoicesChanged(this.ctx(e.tenantId), (e.payload.ids as string[]) ?? []));
    listen(ACTIONS_CHANGED, (e) => (e.payload.status === 'SENT' ? this.actionsSent(this.ctx(e.tenantId), (e.payload.ids as string[]) ?? []) : Promise.resolve()));
    listen(PAYMENTS_APPLIED, (e) => this.paymentsApplied(this.ctx(e.tenantId), (e.payload.ids as string[]) ?? []));
    listen(ENDPOINTS_CHANGED, async (e) => this.webhooks.forgetWanted(e.tenantId));
  }

  async invoicesChanged(ctx: RequestContext, ids: string[]): Promise<void> {
    if (!ids.length || !(await this.webhooks.wanted(ctx, 'invoice.paid'))) return;
    const paid: { id: string; external_id: string; number: string; customer_id: string; currency: string; total_minor: string; closed_on: string }[] = await ctx.em.query(
      `SELECT id, external_id, number, customer_id, currency, total_minor::text, closed_on::text FROM invoices WHERE tenant_id = $1 AND id = ANY($2::uuid[]) AND status = 'PAID' AND closed_on IS NOT NULL`,
      [ctx.tenantId, ids],
    );
    for (const i of paid) {
      await this.webhooks.publish(ctx, { type: 'invoice.paid', key: `invoice.paid:${i.id}:${i.closed_on}`, data: { invoiceId: i.id, externalId: i.external_id, number: i.number, customerId: i.customer_id, total: { amountMinor: i.total_minor, currency: i.currency }, paidOn: i.closed_on } });
    }
  }

  async actionsSent(ctx: RequestContext, ids: string[]): Promise<void> {
    if (!ids.length) return;
    const [sent, tier] = [await this.webhooks.wanted(ctx, 'action.sent'), await this.webhooks.wanted(ctx, 'tier.changed')];
    if (!sent && !tier) return;
    const rows: { id: string; customer_id: string; invoice_id: string | null; kind: string; step_key: string | null; tier: number | null; action_type: string | null; channels: string[]; policy_version_id: string; scheduled_for: string }[] = await ctx.em.query(
      `SELECT id, customer_id, invoice_id, kind, step_key, tier, action_type, channels, policy_version_id, scheduled_for::text FROM actions WHERE tenant_id = $1 AND id = ANY($2::uuid[]) AND status = 'SENT'`,
      [ctx.tenantId, ids],
    );
    for (const a of rows) {
      if (sent) await this.webhooks.publish(ctx, { type: 'action.sent', key: `action.sent:${a.id}`, data: { actionId: a.id, customerId: a.customer_id, invoiceId: a.invoice_id, kind: a.kind, stepKey: a.step_key, tier: a.tier, actionType: a.action_type, channels: a.channels } });
      if (tier && a.kind === 'TIER_ENTRY' && a.tier !== null) {
        await this.tierChanged(ctx, { customerId: a.customer_id, tier: a.tier, policyVersionId: a.policy_version_id, enteredOn: a.scheduled_for });
      }
    }
  }

  /** tier.changed: a customer entered an escalation tier (its entry actions ran). */
  async tierChanged(ctx: RequestContext, t: { customerId: string; tier: number; policyVersionId: string; enteredOn: string }): Promise<void> {
    await this.webhooks.publish(ctx, { type: 'tier.changed', key: `tier.changed:${t.customerId}:${t.policyVersionId}:${t.tier}:${t.enteredOn}`, data: t });
  }

  async paymentsApplied(ctx: RequestContext, ids: string[]): Promise<void> {
    if (!ids.length || !(await this.webhooks.wanted(ctx, 'payment.unapplied'))) return;
    const rows: { id: string; source: string; external_id: string; customer_id: string | null; currency: string; amount_minor: string; unapplied_minor: string }[] = await ctx.em.query(
      `SELECT id, source, external_id, customer_id, currency, amount_minor::text, unapplied_minor::text FROM payments
       WHERE tenant_id = $1 AND id = ANY($2::uuid[]) AND status IN ('UNAPPLIED','PARTIALLY_APPLIED') AND unapplied_minor > 0`,
      [ctx.tenantId, ids],
    );
    for (const p of rows) {
      await this.webhooks.publish(ctx, { type: 'payment.unapplied', key: `payment.unapplied:${p.id}:${p.unapplied_minor}`, data: { paymentId: p.id, source: p.source, externalId: p.external_id, customerId: p.customer_id, amount: { amountMinor: p.amount_minor, currency: p.currency }, unapplied: { amountMinor: p.unapplied_minor, currency: p.currency } } });
    }
  }

  /** After a dispute opens or closes (DisputeService.onChange names the customers). */
  async disputesChanged(ctx: RequestContext, customerIds: string[]): Promise<void> {
    if (!customerIds.length) return;
    const [opened, resolved] = [await this.webhooks.wanted(ctx, 'dispute.opened'), await this.webhooks.wanted(ctx, 'dispute.resolved')];
    if (!opened && !resolved) return;
    const rows: { id: string; customer_id: string; invoice_id: string; reason_code: string; status: string; opened_at: Date; resolved_at: Date | null; resolution: string | null }[] = await ctx.em.query(
      `SELECT id, customer_id, invoice_id, reason_code, status, opened_at, resolved_at, resolution FROM disputes
       WHERE tenant_id = $1 AND customer_id = ANY($2::uuid[]) AND (opened_at > now() - interval '1 hour' OR resolved_at > now() - interval '1 hour')`,
      [ctx.tenantId, customerIds],
    );
    for (const d of rows) {
      const data = { disputeId: d.id, customerId: d.customer_id, invoiceId: d.invoice_id, reasonCode: d.reason_code, status: d.status };
      if (opened && new Date(d.opened_at).getTime() > Date.now() - 3_600_000) await this.webhooks.publish(ctx, { type: 'dispute.opened', key: `dispute.opened:${d.id}`, data });
      if (resolved && d.resolved_at) await this.webhooks.publish(ctx, { type: 'dispute.resolved', key: `dispute.resolved:${d.id}`, data: { ...data, resolution: d.resolution } });
    }
  }

  /** invoice.overdue: open invoices whose due date passed in the tenant's time zone (catches up three days). */
  async overdue(ctx: RequestContext): Promise<number> {
    if (!(await this.webhooks.wanted(ctx, 'invoice.overdue'))) return 0;
    const [t]: { timezone: string }[] = await ctx.em.query(`SELECT timezone FROM tenants WHERE id = $1`, [ctx.tenantId]);
    const today = todayIn(t.timezone);
    const rows: { id: string; external_id: string; number: string; customer_id: string; currency: string; open_minor: string; due_date: string }[] = await ctx.em.query(
      `SELECT id, external_id, number, customer_id, currency, open_balance_minor::text AS open_minor, due_date::text FROM invoices
       WHERE tenant_id = $1 AND status = 'OPEN' AND open_balance_minor > 0 AND due_date < $2::date AND due_date >= $2::date - 3`,
      [ctx.tenantId, today],
    );
    let n = 0;
    for (const i of rows) {
      if (await this.webhooks.publish(ctx, { type: 'invoice.overdue', key: `invoice.overdue:${i.id}:${i.due_date}`, data: { invoiceId: i.id, externalId: i.external_id, number: i.number, customerId: i.customer_id, dueDate: i.due_date, openBalance: { amountMinor: i.open_minor, currency: i.currency } } })) n++;
    }
    return n;
  }

  /**
   * promise.broken: for the promise-to-pay work (being built): call this where a promise is
   * marked broken, inside that transaction; the outbox row commits with it.
   */
  async promiseBroken(ctx: RequestContext, p: { promiseId: string; customerId: string; invoiceIds: string[]; amountMinor: string; currency: string; promisedOn: string }): Promise<void> {
    await this.webhooks.publish(ctx, { type: 'promise.broken', key: `promise.broken:${p.promiseId}`, data: p });
  }
}
