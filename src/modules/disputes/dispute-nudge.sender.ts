import type { RequestContext } from '../../platform/context';
import type { IsoDate } from '../../platform/time/dates';
import type { Action } from '../actions/action.entity';
import { loadRecipient } from '../actions/message-context';
import type { MessageModelBuilder } from '../outreach/message-model.builder';
import { MessageChannel } from '../outreach/outreach.enums';
import type { OutreachService } from '../outreach/outreach.service';
import type { TemplateService } from '../outreach/template.service';
import type { Dispute } from './dispute.entity';

export const DISPUTE_NUDGE_TEMPLATE = 'dispute-nudge';

/**
 * Renders the dispute-nudge template in the customer's language and sends it by email through
 * the outreach outbox (once per action: the outbox is unique per action and channel).
 */
export function disputeNudgeSender(deps: { messageModels: MessageModelBuilder; templates: TemplateService; outreach: OutreachService }) {
  return async (tx: RequestContext, d: Dispute, action: Action, asOf: IsoDate): Promise<{ sent: true } | { suppressed: string }> => {
    const r = await loadRecipient(tx, d.customerId);
    if (!r.contact?.email) return { suppressed: 'no email address for the customer' };
    const [inv] = await tx.em.query(`SELECT open_balance_minor FROM invoices WHERE tenant_id = $1 AND id = $2`, [tx.tenantId, d.invoiceId]);
    const open = BigInt(inv?.open_balance_minor ?? 0);
    const due = open > d.amountMinor ? open - d.amountMinor : 0n;
    const locale = r.customer.locale;
    const model = await deps.messageModels.forCustomer(tx, d.customerId, {
      key: DISPUTE_NUDGE_TEMPLATE,
      locale,
      invoiceIds: [d.invoiceId],
      amountDue: new Map([[d.invoiceId, due]]),
      asOf,
      step: { key: DISPUTE_NUDGE_TEMPLATE, tone: 'NEUTRAL', offsetDays: 0 },
      dispute: { reasonCode: d.reasonCode, openedAt: d.raisedOn },
    });
    const rendered = await deps.templates.render(tx, { key: DISPUTE_NUDGE_TEMPLATE, locale, channel: MessageChannel.EMAIL, model });
    await deps.outreach.send(tx, { actionId: action.id, customerId: d.customerId, channel: MessageChannel.EMAIL, to: [r.contact.email], from: model.sender.email, subject: rendered.subject, body: rendered.body });
    return { sent: true };
  };
}
