import { Arg, Args, Authorized, Field, FieldResolver, ID, InputType, Mutation, Query, Resolver, Root } from 'type-graphql';
import { IsUUID } from 'class-validator';
import { Role } from '../../platform/auth/roles';
import type { RequestContext } from '../../platform/context';
import { connectionType, PageArgs } from '../../platform/graphql/connection';
import { Ctx } from '../../platform/graphql/gql-context';
import { pageComplexity } from '../../platform/graphql/limits';
import { Money } from '../../platform/graphql/money.type';
import { DateScalar } from '../../platform/graphql/scalars';
import { Customer } from '../customers/customer.entity';
import type { CustomerService } from '../customers/customer.service';
import { Invoice } from '../invoices/invoice.entity';
import type { InvoiceService } from '../invoices/invoice.service';
import { Action, ActionKind, ActionStatus } from './action.entity';
import type { ActionService } from './action.service';

@InputType()
export class ActionFilterInput {
  @Field(() => [ActionStatus], { nullable: true }) status?: ActionStatus[] | null;
  @Field(() => ActionKind, { nullable: true }) kind?: ActionKind | null;
  @Field(() => String, { nullable: true, description: 'EMAIL, SMS, PORTAL, CALL_TASK or INTERNAL' }) channel?: string | null;
  @Field(() => ID, { nullable: true }) @IsUUID('all') customerId?: string | null;
  @Field(() => ID, { nullable: true }) @IsUUID('all') invoiceId?: string | null;
  @Field(() => DateScalar, { nullable: true }) scheduledFrom?: string | null;
  @Field(() => DateScalar, { nullable: true }) scheduledTo?: string | null;
}

@InputType()
export class ApproveActionInput {
  @Field(() => String, { nullable: true, description: 'Edited subject to send instead.' }) subject?: string | null;
  @Field(() => String, { nullable: true, description: 'Edited body to send instead.' }) body?: string | null;
}

export const ActionConnection = connectionType(Action, 'Action');

@Resolver(() => Action)
export class ActionResolver {
  constructor(
    private readonly actionService: ActionService,
    private readonly customers: CustomerService,
    private readonly invoices: InvoiceService,
  ) {}

  @Authorized()
  @Query(() => ActionConnection, { complexity: pageComplexity, description: 'The outbox: newest first, each with the rule and facts that caused it.' })
  actions(@Ctx() ctx: RequestContext, @Args() page: PageArgs, @Arg('filter', () => ActionFilterInput, { nullable: true }) filter: ActionFilterInput | null) {
    return this.actionService.list(ctx, { ...page, filter });
  }

  @Authorized()
  @Query(() => Action, { nullable: true })
  action(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<Action | null> {
    return this.actionService.get(ctx, id);
  }

  @Authorized(Role.MANAGER)
  @Mutation(() => Action, { description: 'Let a prepared action go out, optionally with an edited message.' })
  approveAction(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string, @Arg('input', () => ApproveActionInput, { nullable: true }) input: ApproveActionInput | null): Promise<Action> {
    return this.actionService.approve(ctx, id, input);
  }

  @Authorized(Role.MANAGER)
  @Mutation(() => Action)
  rejectAction(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string, @Arg('reason') reason: string): Promise<Action> {
    return this.actionService.reject(ctx, id, reason);
  }

  @FieldResolver(() => Customer)
  customer(@Root() a: Action, @Ctx() ctx: RequestContext): Promise<Customer | null> {
    return this.customers.loader(ctx).load(a.customerId);
  }

  @FieldResolver(() => Invoice, { nullable: true })
  invoice(@Root() a: Action, @Ctx() ctx: RequestContext): Promise<Invoice | null> {
    return a.invoiceId ? this.invoices.loader(ctx).load(a.invoiceId) : Promise.resolve(null);
  }

  @FieldResolver(() => Money, { nullable: true, description: 'What the reminder asks for: the open amount outside disputes.' })
  amountDue(@Root() a: Action): Money | null {
    return a.amountDueMinor === null || !a.currency ? null : Money.of(a.amountDueMinor, a.currency);
  }
}
