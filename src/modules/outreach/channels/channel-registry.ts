import { MessageChannel } from '../outreach.enums';
import { HttpSmsChannel } from './http-sms.channel';
import { MailboxChannel } from './mailbox.channel';
import type { OutboundChannel } from './outbound-channel';
import { PortalChannel } from './portal.channel';
import { SmtpEmailChannel } from './smtp-email.channel';

/** The configuration keys outreach reads (see src/platform/config/config.ts). */
export interface OutreachSettings {
  SMTP_URL?: string;
  SMS_PROVIDER_URL?: string;
  SMS_PROVIDER_TOKEN?: string;
  EMAIL_FROM: string;
}

/** Which transport serves each channel; tests and integrations register their own. */
export class ChannelRegistry {
  private readonly channels = new Map<MessageChannel, OutboundChannel>();

  register(channel: MessageChannel, impl: OutboundChannel): this {
    this.channels.set(channel, impl);
    return this;
  }

  get(channel: MessageChannel): OutboundChannel {
    const impl = this.channels.get(channel);
    if (!impl) throw new Error(`no outbound channel registered for ${channel}`);
    return impl;
  }
}

/** SMTP when SMTP_URL is set, the SMS provider when SMS_PROVIDER_URL is set; the mailbox otherwise. */
export function createChannelRegistry(settings: OutreachSettings): ChannelRegistry {
  const mailbox = new MailboxChannel();
  const email = settings.SMTP_URL ? new SmtpEmailChannel(settings.SMTP_URL, settings.EMAIL_FROM) : mailbox;
  return new ChannelRegistry()
    .register(MessageChannel.EMAIL, email)
    .register(MessageChannel.INTERNAL, email)
    .register(MessageChannel.SMS, settings.SMS_PROVIDER_URL ? new HttpSmsChannel(settings.SMS_PROVIDER_URL, settings.SMS_PROVIDER_TOKEN) : mailbox)
    .register(MessageChannel.PORTAL, new PortalChannel());
}
