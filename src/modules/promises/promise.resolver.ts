import { Arg, Args, Authorized, Field, FieldResolver, Float, ID, InputType, Int, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { Role } from '../../platform/auth/roles';
import type { RequestContext } from '../../platform/context';
import { connectionType, PageArgs } from '../../platform/graphql/connection';
import { Ctx } from '../../platform/graphql/gql-context';
import { pageComplexity } from '../../platform/graphql/limits';
import { Money } from '../../platform/graphql/money.type';
import { DateScalar } from '../../platform/graphql/scalars';
import { Contact } from '../customers/contact.entity';
import { Customer } from '../customers/customer.entity';
import type { CustomerService } from '../customers/customer.service';
import { Invoice } from '../invoices/invoice.entity';
import type { InvoiceService } from '../invoices/invoice.service';
import type { TenantService } from '../tenants/tenant.service';
import { PromiseChannel, PromiseStatus, PromiseToPay } from './promise-to-pay.entity';
import type { PromiseService } from './promise.service';

@InputType()
export class CreatePromiseToPayInput {
  @Field(() => [ID], { description: 'Open invoices of one customer, in one currency.' }) invoiceIds: string[];
  @Field({ description: 'Decimal in the invoices\' currency, at most what is open on them.' }) amount: string;
  @Field(() => DateScalar) promisedDate: string;
  @Field(() => ID, { description: 'The customer\'s contact who promised.' }) contactId: string;
  @Field(() => PromiseChannel) channel: PromiseChannel;
  @Field(() => String, { nullable: true }) note?: string | null;
  @Field(() => DateScalar, { nullable: true, description: 'The day it was made; default today in the tenant time zone.' }) asOf?: string | null;
  @Field(() => ID, { nullable: true, description: 'The task being worked: completed with outcome PROMISED in the same transaction.' }) taskId?: string | null;
}

@ObjectType('PromiseReliability', { description: 'How a customer keeps promises to pay.' })
export class PromiseReliabilityType {
  @Field(() => Int) kept: number;
  @Field(() => Int) partiallyKept: number;
  @Field(() => Int) broken: number;
  @Field(() => Int) open: number;
  @Field(() => Float, { nullable: true, description: 'kept / (kept + partially kept + broken), 0 to 1; null before any promise is resolved.' }) keptRate: number | null;
  @Field(() => DateScalar, { nullable: true }) lastBrokenOn: string | null;
}

@ObjectType()
export class PromiseSettings {
  @Field(() => Int, { description: 'Days after the promised date that reminders stay paused before the promise is judged.' }) graceDays: number;
}

export const PromiseToPayConnection = connectionType(PromiseToPay, 'PromiseToPay');

@Resolver(() => PromiseToPay)
export class PromiseResolver {
  constructor(
    private readonly promises: PromiseService,
    private readonly tenants: TenantService,
    private readonly customers: CustomerService,
    private readonly invoiceService: InvoiceService,
  ) {}

  @Authorized(Role.COLLECTOR)
  @Mutation(() => PromiseToPay, { description: 'Record a promise to pay: reminders on the covered invoices pause until the date plus the grace period.' })
  async createPromiseToPay(@Ctx() ctx: RequestContext, @Arg('input', () => CreatePromiseToPayInput) input: CreatePromiseToPayInput): Promise<PromiseToPay> {
    return this.promises.create(ctx, { ...input, asOf: input.asOf ?? (await this.tenants.today(ctx)) });
  }

  @Authorized()
  @Query(() => PromiseToPayConnection, { complexity: pageComplexity, description: 'Promises to pay, newest first.' })
  promisesToPay(
    @Ctx() ctx: RequestContext,
    @Args() page: PageArgs,
    @Arg('customerId', () => ID, { nullable: true }) customerId: string | null,
    @Arg('invoiceId', () => ID, { nullable: true }) invoiceId: string | null,
    @Arg('status', () => [PromiseStatus], { nullable: true }) status: PromiseStatus[] | null,
  ) {
    return this.promises.list(ctx, { ...page, customerId, invoiceId, status });
  }

  @Authorized()
  @Query(() => PromiseSettings)
  async promiseSettings(@Ctx() ctx: RequestContext): Promise<PromiseSettings> {
    return { graceDays: await this.promises.graceDays(ctx) };
  }

  @Authorized(Role.MANAGER)
  @Mutation(() => PromiseSettings, { description: 'Set the grace period given to new promises (0 to 60 days; default 3).' })
  async setPromiseSettings(@Ctx() ctx: RequestContext, @Arg('graceDays', () => Int) graceDays: number): Promise<PromiseSettings> {
    return { graceDays: await this.promises.setGraceDays(ctx, graceDays) };
  }

  @FieldResolver(() => Money)
  amount(@Root() p: PromiseToPay): Money {
    return Money.of(p.amountMinor, p.currency);
  }

  @FieldResolver(() => Money, { nullable: true, description: 'Paid on the covered invoices between the day it was made and the end of grace; set when resolved.' })
  received(@Root() p: PromiseToPay): Money | null {
    return p.receivedMinor === null ? null : Money.of(p.receivedMinor, p.currency);
  }

  @FieldResolver(() => DateScalar, { description: 'Reminders on the covered invoices wait until this day (promised date + grace).' })
  pausedUntil(@Root() p: PromiseToPay): string {
    const d = new Date(`${p.promisedDate}T00:00:00Z`);
    d.setUTCDate(d.getUTCDate() + p.graceDays);
    return d.toISOString().slice(0, 10);
  }

  @FieldResolver(() => Customer)
  customer(@Root() p: PromiseToPay, @Ctx() ctx: RequestContext): Promise<Customer | null> {
    return this.customers.loader(ctx).load(p.customerId);
  }

  @FieldResolver(() => [Invoice])
  async invoices(@Root() p: PromiseToPay, @Ctx() ctx: RequestContext): Promise<Invoice[]> {
    return (await this.invoiceService.loader(ctx).loadMany(p.invoiceIds)).filter((i): i is Invoice => !!i && !(i instanceof Error));
  }

  @FieldResolver(() => Contact, { nullable: true })
  async contact(@Root() p: PromiseToPay, @Ctx() ctx: RequestContext): Promise<Contact | null> {
    if (!p.contactId) return null;
    const contacts = await this.customers.contactsLoader(ctx).load(p.customerId);
    return contacts.find((c) => c.id === p.contactId) ?? null;
  }
}

@Resolver(() => Customer)
export class CustomerPromiseResolver {
  constructor(private readonly promises: PromiseService) {}

  @FieldResolver(() => PromiseReliabilityType, { description: 'Promises to pay kept, partially kept, broken and open.' })
  promiseReliability(@Root() c: Customer, @Ctx() ctx: RequestContext): Promise<PromiseReliabilityType> {
    return this.promises.reliabilityLoader(ctx).load(c.id);
  }
}
