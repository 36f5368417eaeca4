import type { RequestContext } from '../../platform/context';
import { formatMinor } from '../../platform/money/money';
import { daysBetween, type IsoDate } from '../../platform/time/dates';
import type { Decision } from './engine.types';
import type { PacketBuilder } from './evaluation.service';
import type { LoadedCustomer } from './snapshot-loader';

/** Renders the draft message a person will approve or edit (outreach, set by the composition root). */
export type DraftRenderer = (ctx: RequestContext, input: { customerId: string; templateKey: string; invoiceId: string; amountDueMinor: bigint; asOf: IsoDate; step: { key: string; tone: string; offsetDays: number } }) => Promise<{ subject: string | null; body: string } | null>;

/**
 * Everything a person needs to decide on an action without opening five screens: the draft
 * message, the invoices, prior outreach, payment status, promise and dispute history, the next
 * owner and why this waits for a person.
 */
export function approvalPacketBuilder(renderDraft: DraftRenderer): PacketBuilder {
  return async (ctx: RequestContext, items: { customer: LoadedCustomer; decision: Decision }[], asOf: IsoDate) => {
    if (!items.length) return [];
    // Prior outreach of every customer in the batch in one query: the ten latest actions each.
    const ids = [...new Set(items.map((i) => i.customer.id))];
    const rows: { customer_id: string; step_key: string | null; tier: number | null; channels: string[]; status: string; sent_at: Date | null }[] = await ctx.em.query(
      `SELECT customer_id, step_key, tier, channels, status, sent_at FROM (
         SELECT customer_id, step_key, tier, channels, status, sent_at, created_at, row_number() OVER (PARTITION BY customer_id ORDER BY created_at DESC) AS n
         FROM actions WHERE tenant_id = $1 AND customer_id = ANY($2::uuid[]) AND status IN ('SENT','AWAITING_APPROVAL','PLANNED')) x
       WHERE n <= 10 ORDER BY customer_id, created_at DESC`,
      [ctx.tenantId, ids],
    );
    const prior = new Map<string, typeof rows>();
    rows.forEach((r) => prior.set(r.customer_id, [...(prior.get(r.customer_id) ?? []), r]));
    const out: Record<string, unknown>[] = [];
    for (const { customer: c, decision: d } of items) {
      const exception =
        d.mode !== 'APPROVAL'
          ? null
          : d.kind === 'TIER_ENTRY'
            ? `tier ${d.tier} action ${d.action.type} requires approval`
            : c.pause?.kind === 'EXCLUSION'
              ? `account excluded from automation: ${c.pause.reason}`
              : 'routedToPerson' in d.reason.facts
                ? `account routed to a person (${String(d.reason.facts.routedToPerson)})`
                : `step ${d.step.key} is prepared for approval`;
      const draft =
        d.kind === 'STEP' && d.channels.some((ch) => ch === 'EMAIL' || ch === 'PORTAL')
          ? await renderDraft(ctx, { customerId: c.id, templateKey: d.step.templateKey, invoiceId: d.invoiceId, amountDueMinor: d.amountDueMinor, asOf, step: { key: d.step.key, tone: d.step.tone, offsetDays: d.step.offsetDays } })
          : null;
      out.push({
        exceptionReason: exception,
        nextOwner: c.ownerUserId,
        draft,
        invoices: c.invoices.map((i) => ({
          id: i.id,
          number: i.number,
          dueDate: i.dueDate,
          daysPastDue: daysBetween(i.dueDate, asOf),
          total: formatMinor(i.totalMinor, i.currency),
          openBalance: formatMinor(i.openBalanceMinor, i.currency),
          currency: i.currency,
          partlyPaid: i.openBalanceMinor < i.totalMinor,
          disputed: i.disputes.length > 0,
          promiseUntil: i.promiseUntil,
        })),
        priorOutreach: (prior.get(c.id) ?? []).map((p) => ({ step: p.step_key, tier: p.tier, channels: p.channels, status: p.status, sentAt: p.sent_at })),
        history: c.history,
      });
    }
    return out;
  };
}
