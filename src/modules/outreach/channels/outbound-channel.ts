import type { RequestContext } from '../../../platform/context';
import type { MessageChannel, MessageTransport } from '../outreach.enums';

/** A message ready to leave: rendered, addressed, and already given its outbox id. */
export interface ChannelMessage {
  /** The outbound_messages row id. */
  id: string;
  tenantId: string;
  actionId: string | null;
  customerId: string | null;
  channel: MessageChannel;
  to: string[];
  from: string;
  subject: string | null;
  /** HTML for EMAIL and INTERNAL, plain text for SMS and PORTAL. */
  body: string;
}

export interface SendResult {
  transport: MessageTransport;
  providerMessageId: string | null;
}

/**
 * One way out (SMTP, an SMS provider, the portal, the mailbox). `ctx` is the sender's
 * transaction, for transports that write or publish in it (the portal). A failure throws
 * RetryableSendError or PermanentSendError so the caller knows whether to try again.
 */
export interface OutboundChannel {
  send(message: ChannelMessage, ctx: RequestContext): Promise<SendResult>;
}
