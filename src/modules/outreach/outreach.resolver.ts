import { Arg, Args, Authorized, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Role } from '../../platform/auth/roles';
import type { RequestContext } from '../../platform/context';
import { PageArgs } from '../../platform/graphql/connection';
import { Ctx } from '../../platform/graphql/gql-context';
import { pageComplexity } from '../../platform/graphql/limits';
import { Customer } from '../customers/customer.entity';
import type { CustomerService } from '../customers/customer.service';
import {
  MessageMergeField,
  MessageTemplate,
  OutboundMessageConnection,
  OutboundMessageFilter,
  RenderedMessage,
  RenderTemplateInput,
  UpsertMessageTemplateInput,
} from './dto/outreach.types';
import { MESSAGE_MODEL_FIELDS } from './message-model';
import { OutboundMessage } from './outbound-message.entity';
import { MessageChannel } from './outreach.enums';
import type { OutreachService } from './outreach.service';
import type { TemplateService } from './template.service';

@Resolver(() => OutboundMessage)
export class OutreachResolver {
  constructor(
    private readonly templates: TemplateService,
    private readonly outreach: OutreachService,
    private readonly customers: CustomerService,
  ) {}

  @Authorized()
  @Query(() => [MessageTemplate], { description: 'Effective templates: the shipped files merged with the tenant\'s overrides (exact locale when filtered).' })
  messageTemplates(
    @Ctx() ctx: RequestContext,
    @Arg('key', () => String, { nullable: true }) key: string | null,
    @Arg('locale', () => String, { nullable: true }) locale: string | null,
    @Arg('channel', () => MessageChannel, { nullable: true }) channel: MessageChannel | null,
  ): Promise<MessageTemplate[]> {
    return this.templates.list(ctx, { key, locale, channel });
  }

  @Authorized(Role.MANAGER)
  @Mutation(() => MessageTemplate, { description: 'Save the tenant\'s version of a template; it is validated first (BAD_USER_INPUT with field and reason when refused).' })
  upsertMessageTemplate(@Ctx() ctx: RequestContext, @Arg('input', () => UpsertMessageTemplateInput) input: UpsertMessageTemplateInput): Promise<MessageTemplate> {
    return this.templates.upsert(ctx, input);
  }

  @Authorized()
  @Query(() => RenderedMessage, { description: 'Render the effective template with a sample model or against a customer\'s open invoices.' })
  renderTemplate(@Ctx() ctx: RequestContext, @Arg('input', () => RenderTemplateInput) input: RenderTemplateInput): Promise<RenderedMessage> {
    return this.templates.preview(ctx, input);
  }

  @Authorized()
  @Query(() => [MessageMergeField], { description: 'The merge fields templates may use.' })
  messageMergeFields(): MessageMergeField[] {
    return MESSAGE_MODEL_FIELDS.map((f) => ({ path: f.path, type: f.type, description: f.description, optional: !!f.optional }));
  }

  @Authorized()
  @Query(() => OutboundMessageConnection, { complexity: pageComplexity, description: 'Every message sent or kept in the mailbox, newest first.' })
  outboundMessages(
    @Ctx() ctx: RequestContext,
    @Args() page: PageArgs,
    @Arg('filter', () => OutboundMessageFilter, { nullable: true }) filter: OutboundMessageFilter | null,
  ) {
    return this.outreach.list(ctx, { ...page, filter });
  }

  @FieldResolver(() => Customer, { nullable: true })
  customer(@Root() m: OutboundMessage, @Ctx() ctx: RequestContext): Promise<Customer | null> | null {
    return m.customerId ? this.customers.loader(ctx).load(m.customerId) : null;
  }
}
