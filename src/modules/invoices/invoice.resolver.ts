import { Arg, Args, Authorized, Field, FieldResolver, ID, Int, Mutation, ObjectType, Query, Resolver, Root, Subscription, registerEnumType } from 'type-graphql';
import { Role } from '../../platform/auth/roles';
import type { RequestContext } from '../../platform/context';
import type { DomainEvent } from '../../platform/events/event-bus';
import { flatMapEvents } from '../../platform/events/flat-map';
import { PageArgs } from '../../platform/graphql/connection';
import { pageComplexity } from '../../platform/graphql/limits';
import { Ctx, type GqlContext } from '../../platform/graphql/gql-context';
import { Money } from '../../platform/graphql/money.type';
import { DateScalar } from '../../platform/graphql/scalars';
import { SortDirection } from '../../platform/graphql/sort-direction';
import { Customer } from '../customers/customer.entity';
import type { CustomerService } from '../customers/customer.service';
import { LegalEntity } from '../legal-entities/legal-entity.entity';
import type { LegalEntityService } from '../legal-entities/legal-entity.service';
import type { TenantService } from '../tenants/tenant.service';
import { agingBucket, AgingBucket, daysPastDue } from './aging-bucket';
import { InvoiceConnection, InvoiceFilter, InvoiceOrderField, UpsertInvoiceInput, UpsertInvoicesPayload } from './dto/invoice.inputs';
import { Invoice, InvoiceStatus } from './invoice.entity';
import { InvoiceLine } from './invoice-line.entity';
import { InvoiceChangeKind, INVOICES_CHANGED, type InvoiceService, type InvoicesChangedPayload } from './invoice.service';
import { describeTerms, PaymentTermsKind } from './payment-terms';

registerEnumType(InvoiceChangeKind, { name: 'InvoiceChangeKind' });

@ObjectType()
export class PaymentTerms {
  @Field(() => PaymentTermsKind) kind: PaymentTermsKind;
  @Field(() => Int) days: number;
  @Field({ description: 'e.g. "Net 30".' }) label: string;
}

@ObjectType()
export class InvoiceChange {
  @Field(() => InvoiceChangeKind) change: InvoiceChangeKind;
  @Field(() => ID) invoiceId: string;
  @Field(() => Invoice, { nullable: true }) invoice: Invoice | null;
}

interface InvoiceChangeEvent {
  tenantId: string;
  change: InvoiceChangeKind;
  invoiceId: string;
}

/** The asOf of a field: its own argument, else the list's, else today in the tenant's zone. */
async function asOfFor(inv: Invoice, arg: string | null | undefined, tenants: TenantService, ctx: RequestContext): Promise<string> {
  return arg ?? inv.listAsOf ?? (await tenants.today(ctx));
}

@Resolver(() => Invoice)
export class InvoiceResolver {
  constructor(
    private readonly invoiceService: InvoiceService,
    private readonly customers: CustomerService,
    private readonly entities: LegalEntityService,
    private readonly tenants: TenantService,
  ) {}

  @Authorized()
  @Query(() => InvoiceConnection, { complexity: pageComplexity })
  invoices(
    @Ctx() ctx: RequestContext,
    @Args() page: PageArgs,
    @Arg('filter', () => InvoiceFilter, { nullable: true }) filter: InvoiceFilter | null,
    @Arg('orderBy', () => InvoiceOrderField, { defaultValue: InvoiceOrderField.DUE_DATE }) orderBy: InvoiceOrderField,
    @Arg('direction', () => SortDirection, { defaultValue: SortDirection.ASC }) direction: SortDirection,
    @Arg('asOf', () => DateScalar, { nullable: true, description: 'The day for overdue and days-past-due filters; default today in the tenant\'s time zone.' }) asOf: string | null,
  ) {
    return this.invoiceService.list(ctx, { ...page, filter, orderBy, direction, asOf });
  }

  @Authorized()
  @Query(() => Invoice, { nullable: true })
  invoice(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<Invoice | null> {
    return this.invoiceService.get(ctx, id);
  }

  @Authorized(Role.MANAGER)
  @Mutation(() => UpsertInvoicesPayload, { description: 'Create or update up to 1,000 invoices by externalId; each item succeeds or fails on its own.' })
  async upsertInvoices(@Ctx() ctx: RequestContext, @Arg('input', () => [UpsertInvoiceInput]) input: UpsertInvoiceInput[]): Promise<UpsertInvoicesPayload> {
    const outcomes = await this.invoiceService.upsert(ctx, input);
    const results = outcomes.map((o) => ({ index: o.index, externalId: o.externalId, invoice: o.record, created: o.created, changed: o.changed, errors: o.errors }));
    const failed = results.filter((r) => r.errors.length > 0).length;
    return { results, failed, succeeded: results.length - failed };
  }

  @Authorized(Role.MANAGER)
  @Mutation(() => Invoice, { description: 'Void an unpaid invoice: it leaves collections and aging.' })
  voidInvoice(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string, @Arg('reason') reason: string): Promise<Invoice> {
    return this.invoiceService.void(ctx, id, reason);
  }

  @Authorized()
  @Subscription(() => InvoiceChange, {
    description: 'Every invoice created, updated or voided in the caller\'s tenant, after it commits.',
    subscribe: ({ context }) => {
      const { actor, pubSub } = context as GqlContext;
      const tenantId = actor!.tenantId;
      return flatMapEvents(pubSub.subscribe(INVOICES_CHANGED), (e: DomainEvent) => {
        if (e.tenantId !== tenantId) return [];
        const p = e.payload as InvoicesChangedPayload;
        return p.ids.map((invoiceId): InvoiceChangeEvent => ({ tenantId, change: p.change, invoiceId }));
      });
    },
  })
  async invoiceChanged(@Root() event: InvoiceChangeEvent, @Ctx() ctx: RequestContext): Promise<InvoiceChange> {
    // Loaded fresh per event: a connection lives long, so no per-connection cache.
    return { change: event.change, invoiceId: event.invoiceId, invoice: await this.invoiceService.get(ctx, event.invoiceId) };
  }

  @FieldResolver(() => Customer)
  customer(@Root() inv: Invoice, @Ctx() ctx: RequestContext): Promise<Customer | null> {
    return this.customers.loader(ctx).load(inv.customerId);
  }

  @FieldResolver(() => LegalEntity)
  entity(@Root() inv: Invoice, @Ctx() ctx: RequestContext): Promise<LegalEntity | null> {
    return this.entities.loader(ctx).load(inv.entityId);
  }

  @FieldResolver(() => [InvoiceLine])
  lines(@Root() inv: Invoice, @Ctx() ctx: RequestContext): Promise<InvoiceLine[]> {
    return this.invoiceService.linesLoader(ctx).load(inv.id);
  }

  @FieldResolver(() => Money)
  total(@Root() inv: Invoice): Money {
    return Money.of(inv.totalMinor, inv.currency);
  }

  @FieldResolver(() => Money, { description: 'What is still owed.' })
  openBalance(@Root() inv: Invoice): Money {
    return Money.of(inv.openBalanceMinor, inv.currency);
  }

  @FieldResolver(() => PaymentTerms)
  terms(@Root() inv: Invoice): PaymentTerms {
    return { kind: inv.termsKind, days: inv.termsDays, label: describeTerms({ kind: inv.termsKind, days: inv.termsDays }) };
  }

  @FieldResolver(() => Int, { description: 'Calendar days past the due date in the tenant\'s time zone (negative: days until due).' })
  async daysPastDue(@Root() inv: Invoice, @Ctx() ctx: RequestContext, @Arg('asOf', () => DateScalar, { nullable: true }) asOf: string | null): Promise<number> {
    return daysPastDue(inv.dueDate, await asOfFor(inv, asOf, this.tenants, ctx));
  }

  @FieldResolver(() => AgingBucket, { nullable: true, description: 'Null when nothing is owed (paid, void, written off).' })
  async agingBucket(@Root() inv: Invoice, @Ctx() ctx: RequestContext, @Arg('asOf', () => DateScalar, { nullable: true }) asOf: string | null): Promise<AgingBucket | null> {
    if (inv.status !== InvoiceStatus.OPEN || inv.openBalanceMinor === 0n) return null;
    return agingBucket(daysPastDue(inv.dueDate, await asOfFor(inv, asOf, this.tenants, ctx)));
  }
}

@Resolver(() => Customer)
export class CustomerBalanceResolver {
  constructor(private readonly invoiceService: InvoiceService) {}

  @FieldResolver(() => [Money], { description: 'Open balance of the customer\'s open invoices, one amount per currency.' })
  async openBalances(@Root() c: Customer, @Ctx() ctx: RequestContext): Promise<Money[]> {
    return (await this.invoiceService.openBalancesLoader(ctx).load(c.id)).map((b) => Money.of(b.minor, b.currency));
  }
}
