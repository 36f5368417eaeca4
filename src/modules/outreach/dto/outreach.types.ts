import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { connectionType } from '../../../platform/graphql/connection';
import { OutboundMessage } from '../outbound-message.entity';
import { MessageChannel, TemplateSource } from '../outreach.enums';

@ObjectType({ description: 'A message template as it applies to the tenant: its own override, or the file shipped with Recoup.' })
export class MessageTemplate {
  @Field({ description: 'What dunning steps name in templateKey, e.g. overdue-friendly.' }) key: string;
  @Field({ description: 'BCP 47 locale of this template, e.g. en, de, fr-CA.' }) locale: string;
  @Field(() => MessageChannel) channel: MessageChannel;
  @Field(() => String, { nullable: true, description: 'Handlebars; required for EMAIL and INTERNAL, none for SMS.' }) subject: string | null;
  @Field({ description: 'Handlebars; HTML for EMAIL and INTERNAL (escaped), plain text for SMS and PORTAL.' }) body: string;
  @Field(() => TemplateSource) source: TemplateSource;
  @Field(() => Int, { description: '0 for a shipped file; 1 on the tenant\'s first save, +1 on each later save.' }) version: number;
  @Field(() => Date, { nullable: true }) updatedAt: Date | null;
  @Field(() => String, { nullable: true, description: 'Who saved it last (API key id).' }) updatedBy: string | null;
}

@InputType({ description: 'The tenant\'s version of a template; it wins over the shipped file for this key, locale and channel.' })
export class UpsertMessageTemplateInput {
  @Field() key: string;
  @Field() locale: string;
  @Field(() => MessageChannel) channel: MessageChannel;
  @Field(() => String, { nullable: true }) subject?: string | null;
  @Field() body: string;
}

@InputType()
export class RenderTemplateInput {
  @Field() key: string;
  @Field(() => String, { nullable: true, description: 'Default: the customer\'s locale, else en. Falls back exact → language → en.' }) locale?: string | null;
  @Field(() => MessageChannel) channel: MessageChannel;
  @Field({ defaultValue: true, description: 'Render with a sample model (ignored when customerId is given).' }) sample: boolean;
  @Field(() => ID, { nullable: true, description: 'Render against this customer\'s open invoices.' }) customerId?: string | null;
}

@ObjectType()
export class RenderedMessage {
  @Field(() => String, { nullable: true }) subject: string | null;
  @Field() body: string;
  @Field({ description: 'The locale of the template used, after fallback.' }) locale: string;
  @Field(() => TemplateSource) source: TemplateSource;
  @Field(() => Int) version: number;
}

@ObjectType({ description: 'A merge field templates may use.' })
export class MessageMergeField {
  @Field({ description: 'Dotted path; [] marks a list, e.g. invoices[].amountDue inside {{#each invoices}}.' }) path: string;
  @Field({ description: 'string, number, money (minor units: use {{money x currency}}), date (use {{date x}}), currency, object or list.' }) type: string;
  @Field() description: string;
  @Field({ description: 'May be empty: guard it with {{#if}}.' }) optional: boolean;
}

@InputType()
export class OutboundMessageFilter {
  @Field(() => MessageChannel, { nullable: true }) channel?: MessageChannel | null;
  @Field(() => ID, { nullable: true }) customerId?: string | null;
  @Field(() => ID, { nullable: true }) actionId?: string | null;
  @Field(() => Date, { nullable: true, description: 'Sent at or after this instant.' }) since?: Date | null;
}

export const OutboundMessageConnection = connectionType(OutboundMessage, 'OutboundMessage');
export type OutboundMessageConnection = InstanceType<typeof OutboundMessageConnection>;
