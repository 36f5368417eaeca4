import { registerEnumType } from 'type-graphql';

/** Where a message goes. INTERNAL is for the AR team itself (owners, managers), sent by email. */
export enum MessageChannel {
  EMAIL = 'EMAIL',
  SMS = 'SMS',
  PORTAL = 'PORTAL',
  INTERNAL = 'INTERNAL',
}
registerEnumType(MessageChannel, { name: 'MessageChannel', description: 'The channel a message template is written for and a message is sent on.' });

/** How a message actually left (or stayed): what the outbox row records. */
export enum MessageTransport {
  SMTP = 'SMTP',
  SMS_HTTP = 'SMS_HTTP',
  MAILBOX = 'MAILBOX',
  PORTAL = 'PORTAL',
}
registerEnumType(MessageTransport, {
  name: 'MessageTransport',
  description: 'SMTP and SMS_HTTP: handed to a provider; MAILBOX: kept in the outbox only (no provider configured); PORTAL: published to the customer portal.',
});

export enum TemplateSource {
  FILE = 'FILE',
  TENANT = 'TENANT',
}
registerEnumType(TemplateSource, { name: 'TemplateSource', description: 'FILE: the default shipped with Recoup; TENANT: the tenant\'s own override.' });

/** Channels whose bodies are HTML (escaped by Handlebars); the others are plain text. */
export const HTML_CHANNELS: ReadonlySet<MessageChannel> = new Set([MessageChannel.EMAIL, MessageChannel.INTERNAL]);
/** Channels that carry a subject line (email subject, portal notification title). */
export const SUBJECT_CHANNELS: ReadonlySet<MessageChannel> = new Set([MessageChannel.EMAIL, MessageChannel.INTERNAL, MessageChannel.PORTAL]);
/** Channels where a message without a subject cannot be sent. */
export const SUBJECT_REQUIRED_CHANNELS: ReadonlySet<MessageChannel> = new Set([MessageChannel.EMAIL, MessageChannel.INTERNAL]);

export const CHANNEL_FILE_SUFFIX: Record<MessageChannel, string> = {
  [MessageChannel.EMAIL]: 'email',
  [MessageChannel.SMS]: 'sms',
  [MessageChannel.PORTAL]: 'portal',
  [MessageChannel.INTERNAL]: 'internal',
};
