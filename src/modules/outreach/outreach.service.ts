import { inTransaction, type RequestContext } from '../../platform/context';
import { badInput, notFound } from '../../platform/errors';
import { keysetPage } from '../../platform/db/keyset';
import type { Connection } from '../../platform/graphql/connection';
import type { CustomerService } from '../customers/customer.service';
import type { ChannelRegistry } from './channels/channel-registry';
import { MessageChannel, MessageTransport, SUBJECT_CHANNELS, SUBJECT_REQUIRED_CHANNELS } from './outreach.enums';
import { OutreachErrors } from './outreach.errors';
import { OutboundMessage } from './outbound-message.entity';

export { ChannelRegistry, createChannelRegistry, type OutreachSettings } from './channels/channel-registry';
export type { ChannelMessage, OutboundChannel, SendResult } from './channels/outbound-channel';
export { PermanentSendError, RetryableSendError, SendError } from './channels/send-errors';
export { MessageChannel, MessageTransport, TemplateSource } from './outreach.enums';
export type { MessageModel } from './message-model';
export { MESSAGE_MODEL_FIELDS } from './message-model';
export { MessageModelBuilder } from './message-model.builder';
export { TemplateService, type EffectiveTemplate, type RenderedMessage, type ResolvedTemplate } from './template.service';

export interface SendInput {
  /** The dunning action this message carries out: gives the Message-ID, and one message per action and channel. */
  actionId?: string | null;
  customerId?: string | null;
  channel: MessageChannel;
  /** Email addresses (EMAIL, INTERNAL), one E.164 number (SMS), or none (PORTAL). */
  to: string[];
  /** Default: EMAIL_FROM for email channels. */
  from?: string | null;
  subject?: string | null;
  body: string;
}

export interface SendOutcome {
  transport: MessageTransport;
  providerMessageId: string | null;
  outboundMessageId: string;
  /** True when this action already had a message on this channel: nothing was sent again. */
  duplicate: boolean;
}

export interface OutboundMessageFilter {
  channel?: MessageChannel | null;
  customerId?: string | null;
  actionId?: string | null;
  since?: Date | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EMAIL = /^[^\s@<>()",;]+@[^\s@<>()",;]+\.[^\s@<>()",;]+$/;
const E164 = /^\+[1-9]\d{6,14}$/;

/** `Name <a@b.c>` or `a@b.c` → the address; null when it is not one. */
function emailAddress(value: string): string | null {
  const m = /<([^<>]+)>\s*$/.exec(value);
  const addr = (m ? m[1] : value).trim();
  return EMAIL.test(addr) ? addr : null;
}

/**
 * Sends one rendered message on its channel and records it in outbound_messages, in the
 * caller's transaction (ctx.em): the row is written first, then the channel sends, so a send
 * that fails throws and the caller's rollback leaves no row, and a second send of the same
 * action waits for the first one's transaction and then finds its row instead of resending.
 */
export class OutreachService {
  constructor(
    private readonly channels: ChannelRegistry,
    private readonly customers: CustomerService,
    private readonly emailFrom: string,
  ) {}

  async send(ctx: RequestContext, input: SendInput): Promise<SendOutcome> {
    const msg = this.check(input);
    if (msg.customerId && !(await this.customers.get(ctx, msg.customerId))) throw notFound('Customer', msg.customerId, 'customerId');
    return inTransaction(ctx, async (tx) => {
      const inserted: { id: string }[] = await tx.em.query(
        `INSERT INTO outbound_messages (tenant_id, action_id, customer_id, channel, transport, to_addresses, from_address, subject, body)
         VALUES ($1, $2, $3, $4, 'MAILBOX', $5::text[], $6, $7, $8)
         ON CONFLICT (tenant_id, action_id, channel) WHERE action_id IS NOT NULL DO NOTHING
         RETURNING id`,
        [tx.tenantId, msg.actionId, msg.customerId, msg.channel, msg.to, msg.from, msg.subject, msg.body],
      );
      if (inserted.length === 0) {
        const [prior]: { id: string; transport: MessageTransport; provider_message_id: string | null }[] = await tx.em.query(
          'SELECT id, transport, provider_message_id FROM outbound_messages WHERE tenant_id = $1 AND action_id = $2 AND channel = $3',
          [tx.tenantId, msg.actionId, msg.channel],
        );
        tx.logger.info({ outboundMessageId: prior.id, actionId: msg.actionId, channel: msg.channel }, 'message already sent for this action; not sent again');
        return { transport: prior.transport, providerMessageId: prior.provider_message_id, outboundMessageId: prior.id, duplicate: true };
      }
      const id = inserted[0].id;
      const result = await this.channels.get(msg.channel).send({ ...msg, id, tenantId: tx.tenantId, from: msg.from ?? '' }, tx);
      await tx.em.query('UPDATE outbound_messages SET transport = $3, provider_message_id = $4 WHERE tenant_id = $1 AND id = $2', [tx.tenantId, id, result.transport, result.providerMessageId]);
      tx.logger.info({ outboundMessageId: id, actionId: msg.actionId, channel: msg.channel, transport: result.transport }, 'message sent');
      return { transport: result.transport, providerMessageId: result.providerMessageId, outboundMessageId: id, duplicate: false };
    });
  }

  /** The outbox, newest first. */
  async list(ctx: RequestContext, args: { first: number; after?: string | null; filter?: OutboundMessageFilter | null }): Promise<Connection<OutboundMessage>> {
    const f = args.filter ?? {};
    const qb = ctx.em.getRepository(OutboundMessage).createQueryBuilder('m').where('m.tenant_id = :tenantId', { tenantId: ctx.tenantId });
    if (f.channel) qb.andWhere('m.channel = :channel', { channel: f.channel });
    if (f.customerId) qb.andWhere('m.customer_id = CAST(:customerId AS uuid)', { customerId: this.uuid(f.customerId, 'filter.customerId') });
    if (f.actionId) qb.andWhere('m.action_id = CAST(:actionId AS uuid)', { actionId: this.uuid(f.actionId, 'filter.actionId') });
    if (f.since) qb.andWhere('m.created_at >= :since', { since: f.since });
    return keysetPage(qb, {
      sortExpr: 'm.created_at',
      sortType: 'timestamptz',
      direction: 'DESC',
      idExpr: 'm.id',
      first: args.first,
      after: args.after,
      // created_at is stored to the millisecond (see the migration), so the JS Date is exact.
      cursorOf: (m) => ({ k: m.createdAt.toISOString(), id: m.id }),
    });
  }

  private check(input: SendInput): CheckedSend {
    const channel = input.channel;
    if (!Object.values(MessageChannel).includes(channel)) throw badInput('channel', `unknown channel ${String(channel)}`);
    const actionId = input.actionId ? this.uuid(input.actionId, 'actionId') : null;
    const customerId = input.customerId ? this.uuid(input.customerId, 'customerId') : null;
    if (!input.body?.trim()) throw badInput('body', 'must not be empty', OutreachErrors.BODY_REQUIRED);
    const subject = SUBJECT_CHANNELS.has(channel) && input.subject?.trim() ? input.subject.trim() : null;
    if (!subject && SUBJECT_REQUIRED_CHANNELS.has(channel)) throw badInput('subject', `a ${channel} message needs a subject`, OutreachErrors.SUBJECT_REQUIRED);
    const to = (input.to ?? []).map((t) => t.trim()).filter(Boolean);
    let from: string | null = input.from?.trim() || null;
    if (channel === MessageChannel.EMAIL || channel === MessageChannel.INTERNAL) {
      if (to.length === 0) throw badInput('to', 'needs at least one email address', OutreachErrors.NO_RECIPIENT);
      to.forEach((t, i) => {
        if (!emailAddress(t)) throw badInput(`to.${i}`, `"${t}" is not an email address`, OutreachErrors.INVALID_RECIPIENT);
      });
      from ??= this.emailFrom;
      if (!emailAddress(from)) throw badInput('from', `"${from}" is not an email address`, OutreachErrors.INVALID_RECIPIENT);
    } else if (channel === MessageChannel.SMS) {
      if (to.length !== 1) throw badInput('to', `an SMS goes to exactly one number, got ${to.length}`, to.length ? OutreachErrors.INVALID_RECIPIENT : OutreachErrors.NO_RECIPIENT);
      if (!E164.test(to[0])) throw badInput('to.0', `"${to[0]}" is not an E.164 phone number such as +14155550100`, OutreachErrors.INVALID_RECIPIENT);
    } else if (channel === MessageChannel.PORTAL && !customerId) {
      throw badInput('customerId', 'a portal notice belongs to a customer', OutreachErrors.CUSTOMER_REQUIRED);
    }
    return { actionId, customerId, channel, to, from, subject, body: input.body };
  }

  private uuid(value: string, field: string): string {
    if (!UUID.test(value)) throw badInput(field, `"${value}" is not a UUID`);
    return value.toLowerCase();
  }
}

interface CheckedSend {
  actionId: string | null;
  customerId: string | null;
  channel: MessageChannel;
  to: string[];
  from: string | null;
  subject: string | null;
  body: string;
}
