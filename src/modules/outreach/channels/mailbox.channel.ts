import { MessageTransport } from '../outreach.enums';
import type { OutboundChannel, SendResult } from './outbound-channel';

/** No provider configured: the message stays in the outbox (outbound_messages), readable through the API. */
export class MailboxChannel implements OutboundChannel {
  async send(): Promise<SendResult> {
    return { transport: MessageTransport.MAILBOX, providerMessageId: null };
  }
}
