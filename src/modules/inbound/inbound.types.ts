import { Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { connectionType } from '../../platform/graphql/connection';
import { Money } from '../../platform/graphql/money.type';
import { DateScalar } from '../../platform/graphql/scalars';
import { DisputeReason } from '../disputes/dispute.entity';

export enum InboundMessageStatus {
  /** Threaded to a customer by the rules. */
  MATCHED = 'MATCHED',
  /** No rule found the customer: waits in the queue for a person (`assignInboundMessage`). */
  UNMATCHED = 'UNMATCHED',
  /** A person assigned it to a customer. */
  ASSIGNED = 'ASSIGNED',
}
registerEnumType(InboundMessageStatus, { name: 'InboundMessageStatus', description: 'MATCHED by the threading rules, UNMATCHED (the queue), or ASSIGNED by a person.' });

export enum InboundMatchMethod {
  IN_REPLY_TO = 'IN_REPLY_TO',
  REFERENCES = 'REFERENCES',
  SENDER = 'SENDER',
  INVOICE_NUMBER = 'INVOICE_NUMBER',
  MANUAL = 'MANUAL',
}
registerEnumType(InboundMatchMethod, {
  name: 'InboundMatchMethod',
  description: 'How the reply was threaded: In-Reply-To or References naming one of our outbound Message-IDs, the sender matching a contact email, invoice numbers in the subject or body, or a person.',
});

export enum InboundSuggestionKind {
  DISPUTE = 'DISPUTE',
  PROMISE = 'PROMISE',
}
registerEnumType(InboundSuggestionKind, { name: 'InboundSuggestionKind' });

export enum InboundSuggestionStatus {
  PENDING = 'PENDING',
  CONFIRMED = 'CONFIRMED',
  DISMISSED = 'DISMISSED',
}
registerEnumType(InboundSuggestionStatus, { name: 'InboundSuggestionStatus' });

@ObjectType({ description: 'What the classifier found in a reply, waiting for a person: a likely dispute or a likely promise to pay.' })
export class InboundSuggestion {
  @Field(() => ID) id: string;
  @Field(() => ID) inboundMessageId: string;
  @Field(() => InboundSuggestionKind) kind: InboundSuggestionKind;
  @Field(() => InboundSuggestionStatus) status: InboundSuggestionStatus;
  @Field({ description: 'Language of the phrase list that matched (en, de, fr).' }) language: string;
  @Field({ description: 'The phrase of the list that matched.' }) phrase: string;
  @Field({ description: 'The sentence of the reply it was found in.' }) excerpt: string;
  @Field(() => DisputeReason, { nullable: true, description: 'DISPUTE: the reason code the phrase suggests.' }) reasonCode: DisputeReason | null;
  @Field(() => DateScalar, { nullable: true, description: 'PROMISE: the promised day read from the reply (relative dates count from the message date).' }) promisedDate: string | null;
  @Field(() => String, { nullable: true, description: 'PROMISE: the words the date was read from.' }) dateText: string | null;
  @Field(() => Money, { nullable: true, description: 'PROMISE: an amount written next to the promise.' }) amount: Money | null;
  @Field(() => [ID], { description: 'The invoices it is about (the threaded invoices).' }) invoiceIds: string[];
  @Field(() => ID, { nullable: true, description: 'DISPUTE: the SUGGESTED dispute (confirmDispute / dismissDispute work on it too).' }) disputeId: string | null;
  @Field(() => ID, { nullable: true, description: 'PROMISE: the promise created when confirmed.' }) promiseId: string | null;
  @Field(() => ID, { nullable: true, description: 'The worklist task that asks a person to decide.' }) taskId: string | null;
  @Field(() => String, { nullable: true }) decidedBy: string | null;
  @Field(() => Date, { nullable: true }) decidedAt: Date | null;
  @Field(() => String, { nullable: true, description: 'Why it was dismissed.' }) note: string | null;
  @Field() createdAt: Date;
}

@ObjectType({ description: 'One inbound email (a reply to our reminders, or any mail to the inbound address), stored once per Message-ID.' })
export class InboundMessage {
  @Field(() => ID) id: string;
  @Field({ description: 'The Message-ID header (derived from the content when the message had none).' }) messageId: string;
  @Field(() => String, { nullable: true }) inReplyTo: string | null;
  @Field(() => [String]) references: string[];
  @Field(() => String, { nullable: true }) fromAddress: string | null;
  @Field(() => String, { nullable: true }) fromName: string | null;
  @Field(() => [String]) to: string[];
  @Field(() => String, { nullable: true }) subject: string | null;
  @Field({ description: 'The plain text of the message (the first 100,000 characters).' }) text: string;
  @Field(() => Date, { nullable: true, description: 'The Date header.' }) sentAt: Date | null;
  @Field(() => DateScalar, { description: 'The business day it belongs to (the Date header, else arrival, in the tenant time zone).' }) receivedOn: string;
  @Field(() => InboundMessageStatus) status: InboundMessageStatus;
  @Field(() => InboundMatchMethod, { nullable: true }) matchMethod: InboundMatchMethod | null;
  @Field(() => String, { nullable: true, description: 'Why it matched or did not (e.g. "sender matches 2 customers").' }) matchNote: string | null;
  @Field(() => ID, { nullable: true }) customerId: string | null;
  @Field(() => String, { nullable: true }) customerName: string | null;
  @Field(() => [ID]) invoiceIds: string[];
  @Field(() => [String]) invoiceNumbers: string[];
  @Field(() => ID, { nullable: true, description: 'The dunning action whose message this replies to.' }) actionId: string | null;
  @Field(() => ID, { nullable: true, description: 'The customer contact the sender address belongs to.' }) contactId: string | null;
  @Field({ description: 'An automatic reply (out of office, bounce): stored and on the timeline, never classified.' }) autoReply: boolean;
  @Field(() => String, { nullable: true }) autoReplyReason: string | null;
  @Field(() => [InboundSuggestion]) suggestions: InboundSuggestion[];
  @Field(() => ID, { nullable: true, description: 'The REPLY_RECEIVED timeline entry (interaction) it made.' }) timelineEntryId: string | null;
  @Field() createdAt: Date;
}

export const InboundMessageConnection = connectionType(InboundMessage, 'InboundMessage');

@InputType()
export class InboundMessageFilter {
  @Field(() => [InboundMessageStatus], { nullable: true }) status?: InboundMessageStatus[] | null;
  @Field(() => ID, { nullable: true }) customerId?: string | null;
  @Field(() => ID, { nullable: true }) invoiceId?: string | null;
  @Field(() => Boolean, { nullable: true, description: 'Only messages with (true) or without (false) a PENDING suggestion.' }) hasPendingSuggestions?: boolean | null;
  @Field(() => Boolean, { nullable: true }) autoReply?: boolean | null;
}

@InputType({ description: 'Corrections a person may make when confirming; what is not given comes from the suggestion.' })
export class ConfirmInboundSuggestionInput {
  @Field(() => DateScalar, { nullable: true, description: 'PROMISE: the promised day (required when none was read from the reply).' }) promisedDate?: string | null;
  @Field(() => String, { nullable: true, description: 'PROMISE: the amount (default: the amount read from the reply, else what is open on the invoices). DISPUTE: the disputed amount.' }) amount?: string | null;
  @Field(() => ID, { nullable: true, description: 'PROMISE: who promised (default: the contact the sender address belongs to).' }) contactId?: string | null;
  @Field(() => [ID], { nullable: true, description: 'PROMISE: the invoices covered (default: the threaded open invoices).' }) invoiceIds?: string[] | null;
  @Field(() => DisputeReason, { nullable: true, description: 'DISPUTE: a corrected reason code.' }) reasonCode?: DisputeReason | null;
  @Field(() => String, { nullable: true, description: 'DISPUTE: detail (default: the excerpt of the reply).' }) detail?: string | null;
  @Field(() => ID, { nullable: true, description: 'DISPUTE without a threaded invoice: the invoice disputed.' }) invoiceId?: string | null;
  @Field(() => DateScalar, { nullable: true, description: 'PROMISE: the day the promise was made (default: the day of the reply).' }) asOf?: string | null;
}
