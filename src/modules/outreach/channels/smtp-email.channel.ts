import nodemailer from 'nodemailer';
import { MessageTransport } from '../outreach.enums';
import { htmlToText } from '../html-text';
import type { ChannelMessage, OutboundChannel, SendResult } from './outbound-channel';
import { PermanentSendError, RetryableSendError } from './send-errors';

/**
 * Message-ID from the action id (or the outbox id when there is no action), so a receiver that
 * gets the same action twice can tell it is one message.
 */
export function messageIdFor(message: Pick<ChannelMessage, 'actionId' | 'id'>, fromAddress: string): string {
  const domain = /@([^>\s]+)>?\s*$/.exec(fromAddress)?.[1] ?? 'recoup.local';
  return message.actionId ? `<action.${message.actionId}@${domain}>` : `<message.${message.id}@${domain}>`;
}

/** EMAIL and INTERNAL over SMTP (smtp:// with STARTTLS when offered, or smtps://). */
export class SmtpEmailChannel implements OutboundChannel {
  private readonly transport: ReturnType<typeof nodemailer.createTransport>;

  constructor(
    smtpUrl: string,
    private readonly defaultFrom: string,
  ) {
    this.transport = nodemailer.createTransport({ url: smtpUrl, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 });
  }

  async send(message: ChannelMessage): Promise<SendResult> {
    const messageId = messageIdFor(message, this.defaultFrom);
    try {
      const info = await this.transport.sendMail({
        from: message.from,
        to: message.to,
        subject: message.subject ?? '',
        html: message.body,
        text: htmlToText(message.body),
        messageId,
        // RFC 3834: tells mail systems this is automated, so they send no auto-replies back.
        headers: { 'Auto-Submitted': 'auto-generated' },
      });
      return { transport: MessageTransport.SMTP, providerMessageId: (info.messageId as string | undefined) ?? messageId };
    } catch (err) {
      throw classifySmtpError(err);
    }
  }

  close(): void {
    this.transport.close();
  }
}

/** SMTP 5xx replies are final; 4xx replies, timeouts and connection failures are worth a retry. */
export function classifySmtpError(err: unknown): Error {
  const e = err as { responseCode?: number; code?: string; message?: string };
  const text = `SMTP send failed: ${e.message ?? String(err)}`;
  if (typeof e.responseCode === 'number' && e.responseCode >= 500) return new PermanentSendError(text, MessageTransport.SMTP, { status: e.responseCode, code: e.code });
  return new RetryableSendError(text, MessageTransport.SMTP, { status: e.responseCode, code: e.code });
}
