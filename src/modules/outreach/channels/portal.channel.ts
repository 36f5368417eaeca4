import type { RequestContext } from '../../../platform/context';
import { emitEvent } from '../../../platform/events/event-bus';
import { MessageTransport } from '../outreach.enums';
import type { ChannelMessage, OutboundChannel, SendResult } from './outbound-channel';

export const PORTAL_NOTIFICATION = 'portal.notification';

export interface PortalNotificationPayload extends Record<string, unknown> {
  outboundMessageId: string;
  customerId: string | null;
  actionId: string | null;
}

/**
 * Portal notices are the outbox row itself (the portal reads it) plus a `portal.notification`
 * event sent in the sender's transaction, so it is announced only if the row commits.
 */
export class PortalChannel implements OutboundChannel {
  async send(message: ChannelMessage, ctx: RequestContext): Promise<SendResult> {
    const payload: PortalNotificationPayload = { outboundMessageId: message.id, customerId: message.customerId, actionId: message.actionId };
    await emitEvent(ctx.em, { type: PORTAL_NOTIFICATION, tenantId: message.tenantId, payload });
    return { transport: MessageTransport.PORTAL, providerMessageId: null };
  }
}
