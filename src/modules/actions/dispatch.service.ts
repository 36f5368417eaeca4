import { inTransaction, type RequestContext } from '../../platform/context';
import { emitEvent } from '../../platform/events/event-bus';
import type { IsoDate } from '../../platform/time/dates';
import type { AuditService } from '../audit/audit.service';
import { recheckInvoice } from '../engine/engine';
import { loadSnapshots } from '../engine/snapshot-loader';
import { Action, ActionStatus } from './action.entity';
import { loadRecipient } from './message-context';
import type { Messenger } from './messenger';
import type { TierActionDef, TierActionExecutor } from './tier-action-executor';

export const MAX_SEND_ATTEMPTS = 5;
/** Backoff after the n-th failed attempt: 1 min, 5 min, 30 min, 2 h. */
const BACKOFF_MS = [60_000, 300_000, 1_800_000, 7_200_000];

export const ACTIONS_CHANGED = 'actions.changed';

export interface DispatchSummary {
  sent: number;
  suppressed: number;
  failed: number;
  retrying: number;
}

/** Sends an action of a kind the engine does not plan (e.g. a dispute nudge) inside the dispatch transaction. */
export type ActionKindSender = (tx: RequestContext, action: Action, asOf: IsoDate) => Promise<{ sent: true } | { suppressed: string }>;

export interface DispatchDeps {
  /** The outreach message model of a customer for these invoices and amounts due. */
  buildModel(ctx: RequestContext, customerId: string, opts: { key: string; locale: string; invoiceIds: string[]; amountDue: ReadonlyMap<string, bigint>; asOf: IsoDate; step: { key: string; tone: string; offsetDays: number } }): Promise<{ sender: { email: string } }>;
}

/**
 * Sends due actions. Each action is sent in its own transaction that locks the action and its
 * invoice, re-checks suppression on fresh state and records the send: a payment that commits
 * first makes the action SUPPRESSED; one that commits later waits for this send to finish.
 */
export class DispatchService {
  /** Senders for the outbox's other kinds, registered by their modules (set by the composition root). */
  readonly kindSenders = new Map<string, ActionKindSender>();
  /** Records each send outcome in the audit trail (set by the composition root). */
  audit: AuditService | null = null;

  constructor(
    private readonly messenger: Messenger,
    private readonly tiers: TierActionExecutor,
    private readonly deps: DispatchDeps,
  ) {}

  /** Sends everything due, batch after batch, until none is left or the time budget is spent. */
  async dispatchDue(ctx: RequestContext, asOf: IsoDate, opts: { batch?: number; budgetMs?: number } = {}): Promise<DispatchSummary> {
    const summary: DispatchSummary = { sent: 0, suppressed: 0, failed: 0, retrying: 0 };
    const deadline = Date.now() + (opts.budgetMs ?? 240_000);
    const seen = new Set<string>();
    while (Date.now() < deadline) {
      const due: { id: string }[] = await ctx.em.query(
        `SELECT id FROM actions WHERE tenant_id = $1 AND status = 'PLANNED' AND scheduled_for <= $2 AND (next_attempt_at IS NULL OR next_attempt_at <= now())
         ORDER BY scheduled_for, created_at LIMIT $3`,
        [ctx.tenantId, asOf, opts.batch ?? 500],
      );
      const fresh = due.filter((d) => !seen.has(d.id));
      if (fresh.length === 0) break;
      for (const { id } of fresh) {
        seen.add(id);
        const outcome = await this.dispatchOne(ctx, id, asOf);
        if (outcome === ActionStatus.SENT) summary.sent++;
        else if (outcome === ActionStatus.SUPPRESSED) summary.suppressed++;
        else if (outcome === ActionStatus.FAILED) summary.failed++;
        else if (outcome === ActionStatus.PLANNED) summary.retrying++;
      }
    }
    return summary;
  }

  /** Returns the action's status afterwards, or null when another worker holds it. */
  async dispatchOne(ctx: RequestContext, actionId: string, asOf: IsoDate): Promise<ActionStatus | null> {
    try {
      return await inTransaction(ctx, (tx) => this.sendInTransaction(tx, actionId, asOf));
    } catch (err) {
      return this.recordFailure(ctx, actionId, err);
    }
  }

  private async sendInTransaction(tx: RequestContext, actionId: string, asOf: IsoDate): Promise<ActionStatus | null> {
    const action = await tx.em
      .getRepository(Action)
      .createQueryBuilder('a')
      .setLock('pessimistic_write')
      .setOnLocked('skip_locked')
      .where('a.tenant_id = :t AND a.id = :id AND a.status = :s', { t: tx.tenantId, id: actionId, s: ActionStatus.PLANNED })
      .getOne();
    if (!action) return null;
    if (action.kind === 'TIER_ENTRY') {
      const def = (action.packet?.action ?? {}) as TierActionDef;
      const r = await this.tiers.execute(tx, action, { type: def.type, params: def.params ?? {}, hooks: def.hooks ?? { before: [], after: [] } }, asOf);
      if ('awaiting' in r) return this.finish(tx, action, ActionStatus.AWAITING_APPROVAL, r.awaiting);
      return 'vetoed' in r ? this.finish(tx, action, ActionStatus.SUPPRESSED, r.vetoed) : this.finish(tx, action, ActionStatus.SENT, null);
    }
    const sender = this.kindSenders.get(action.kind);
    if (sender) {
      const r = await sender(tx, action, asOf);
      return 'suppressed' in r ? this.finish(tx, action, ActionStatus.SUPPRESSED, r.suppressed) : this.finish(tx, action, ActionStatus.SENT, null);
    }
    // Lock the invoice: a payment applying to it waits for this transaction, or came first.
    await tx.em.query('SELECT id FROM invoices WHERE tenant_id = $1 AND id = $2 FOR SHARE', [tx.tenantId, action.invoiceId]);
    const [snap] = await loadSnapshots(tx, [action.customerId], asOf, []);
    const check = snap ? recheckInvoice({ ...snap, currentTier: 0, existingKeys: new Set() }, action.invoiceId!, asOf) : null;
    if (!check || 'suppressed' in check) {
      const why = check && 'suppressed' in check ? `${check.suppressed.code}: ${check.suppressed.reason.rule}` : 'customer not found';
      return this.finish(tx, action, ActionStatus.SUPPRESSED, why);
    }
    const r = await loadRecipient(tx, action.customerId);
    const step = (action.packet?.step ?? {}) as { tone?: string; notify?: { owner?: boolean; manager?: boolean; addresses?: string[] } | null; accountFlag?: string | null };
    const inv = check.invoice;
    const locale = r.customer.locale;
    const model = await this.deps.buildModel(tx, action.customerId, {
      key: action.templateKey ?? '',
      locale,
      invoiceIds: [inv.id],
      amountDue: new Map([[inv.id, check.amountDueMinor]]),
      asOf,
      step: { key: action.stepKey ?? '', tone: step.tone ?? 'NEUTRAL', offsetDays: Number((action.reason.facts as { daysPastDue?: number }).daysPastDue ?? 0) },
    });
    const internalTo = new Set<string>(step.notify?.addresses ?? []);
    if ((action.channels.includes('INTERNAL') || step.notify?.owner) && r.owner) internalTo.add(r.owner.email);
    if (step.notify?.manager || (action.channels.includes('INTERNAL') && !r.owner)) (await this.managerEmails(tx)).forEach((e) => internalTo.add(e));
    for (const ch of action.channels) {
      if (ch === 'CALL_TASK') {
        await this.tiers.createTask(tx, action, `Call ${r.contact?.name ?? r.customer.name} about invoice ${inv.number}`, 1, asOf, 'CALL_STEP');
        continue;
      }
      if (ch === 'INTERNAL') continue; // one internal message below, to everyone who should know
      const channel = ch as 'EMAIL' | 'SMS' | 'PORTAL';
      const to = channel === 'SMS' ? (r.contact?.phone ? [r.contact.phone] : []) : channel === 'EMAIL' ? (r.contact?.email ? [r.contact.email] : []) : [];
      if (channel !== 'PORTAL' && to.length === 0) {
        await this.tiers.createTask(tx, action, `No ${channel === 'SMS' ? 'phone number' : 'email address'} for ${r.customer.name}: reach them about invoice ${inv.number}`, 1, asOf, 'MISSING_CONTACT');
        continue;
      }
      const rendered = await this.messenger.render(tx, { key: action.templateKey!, locale, channel, model });
      const override = channel === 'EMAIL' ? action.messageOverride : null;
      await this.messenger.send(tx, { actionId: action.id, customerId: action.customerId, channel, to, from: model.sender.email, subject: override?.subject ?? rendered.subject, body: override?.body ?? rendered.body });
    }
    if (internalTo.size) {
      const rendered = await this.messenger.render(tx, { key: 'internal-escalation', locale, channel: 'INTERNAL', model });
      await this.messenger.send(tx, { actionId: action.id, customerId: action.customerId, channel: 'INTERNAL', to: [...internalTo], subject: rendered.subject, body: rendered.body });
    }
    if (step.accountFlag) {
      await tx.em.query(`UPDATE customers SET account_flags = array_append(account_flags, $3), updated_at = now() WHERE tenant_id = $1 AND id = $2 AND NOT ($3 = ANY(account_flags))`, [
        tx.tenantId,
        action.customerId,
        step.accountFlag,
      ]);
    }
    return this.finish(tx, action, ActionStatus.SENT, null);
  }

  private async managerEmails(tx: RequestContext): Promise<string[]> {
    const rows: { email: string }[] = await tx.em.query(`SELECT email FROM users WHERE tenant_id = $1 AND active AND role IN ('MANAGER','DIRECTOR') ORDER BY email`, [tx.tenantId]);
    return rows.map((r) => r.email);
  }

  private async finish(tx: RequestContext, action: Action, status: ActionStatus, why: string | null): Promise<ActionStatus> {
    await tx.em.query(
      `UPDATE actions SET status = $3::varchar, status_reason = $4, sent_at = CASE WHEN $3::varchar = 'SENT' THEN now() ELSE sent_at END, attempts = attempts + 1, updated_at = now() WHERE tenant_id = $1 AND id = $2`,
      [tx.tenantId, action.id, status, why],
    );
    await emitEvent(tx.em, { type: ACTIONS_CHANGED, tenantId: tx.tenantId, payload: { ids: [action.id], status } });
    await this.audit?.record(tx, {
      action: `action.${status.toLowerCase()}`,
      subjectType: action.invoiceId ? 'Invoice' : 'Customer',
      subjectId: action.invoiceId ?? action.customerId,
      before: { status: action.status },
      after: { status },
      reason: why,
      data: { actionId: action.id, kind: action.kind, stepKey: action.stepKey, tier: action.tier, actionType: action.actionType, channels: action.channels, rule: action.reason.rule },
    });
    return status;
  }

  /** The send failed and its transaction rolled back: retry with backoff, or give up to a person. */
  private async recordFailure(ctx: RequestContext, actionId: string, err: unknown): Promise<ActionStatus> {
    const message = (err instanceof Error ? err.message : String(err)).slice(0, 2000);
    ctx.logger.warn({ err, actionId }, 'action send failed');
    return inTransaction(ctx, async (tx) => {
      const [row] = await tx.em.query(`SELECT attempts FROM actions WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, [tx.tenantId, actionId]);
      const attempts = (row?.attempts ?? 0) + 1;
      const retry = this.messenger.isRetryable(err) && attempts < MAX_SEND_ATTEMPTS;
      await tx.em.query(
        `UPDATE actions SET attempts = $3, last_error = $4, status = $5, next_attempt_at = $6, updated_at = now() WHERE tenant_id = $1 AND id = $2`,
        [tx.tenantId, actionId, attempts, message, retry ? ActionStatus.PLANNED : ActionStatus.FAILED, retry ? new Date(Date.now() + BACKOFF_MS[Math.min(attempts - 1, BACKOFF_MS.length - 1)]) : null],
      );
      if (!retry) {
        const action = await tx.em.getRepository(Action).findOneByOrFail({ tenantId: tx.tenantId, id: actionId });
        await this.audit?.record(tx, { action: 'action.failed', subjectType: action.invoiceId ? 'Invoice' : 'Customer', subjectId: action.invoiceId ?? action.customerId, reason: message.slice(0, 500), data: { actionId, attempts } });
        await this.tiers.createTask(tx, action, `Sending failed after ${attempts} attempt(s): ${message.slice(0, 200)}. Reach the customer another way.`, 2, null, 'SEND_FAILED');
      }
      return retry ? ActionStatus.PLANNED : ActionStatus.FAILED;
    });
  }
}
