import { Arg, Args, Authorized, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Role } from '../../platform/auth/roles';
import type { RequestContext } from '../../platform/context';
import { PageArgs } from '../../platform/graphql/connection';
import { pageComplexity } from '../../platform/graphql/limits';
import { Ctx } from '../../platform/graphql/gql-context';
import { Money } from '../../platform/graphql/money.type';
import { SortDirection } from '../../platform/graphql/sort-direction';
import { LegalEntity } from '../legal-entities/legal-entity.entity';
import type { LegalEntityService } from '../legal-entities/legal-entity.service';
import { User } from '../tenants/user.entity';
import type { UserService } from '../tenants/user.service';
import { Contact } from './contact.entity';
import { Customer } from './customer.entity';
import type { CustomerService } from './customer.service';
import { CustomerConnection, CustomerFilter, CustomerOrderField, UpsertCustomerInput, UpsertCustomersPayload } from './dto/customer.inputs';

@Resolver(() => Customer)
export class CustomerResolver {
  constructor(
    private readonly customerService: CustomerService,
    private readonly entities: LegalEntityService,
    private readonly users: UserService,
  ) {}

  @Authorized()
  @Query(() => CustomerConnection, { complexity: pageComplexity })
  customers(
    @Ctx() ctx: RequestContext,
    @Args() page: PageArgs,
    @Arg('filter', () => CustomerFilter, { nullable: true }) filter: CustomerFilter | null,
    @Arg('orderBy', () => CustomerOrderField, { defaultValue: CustomerOrderField.NAME }) orderBy: CustomerOrderField,
    @Arg('direction', () => SortDirection, { defaultValue: SortDirection.ASC }) direction: SortDirection,
  ) {
    return this.customerService.list(ctx, { ...page, filter, orderBy, direction });
  }

  @Authorized()
  @Query(() => Customer, { nullable: true })
  customer(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<Customer | null> {
    return this.customerService.get(ctx, id);
  }

  @Authorized(Role.MANAGER)
  @Mutation(() => UpsertCustomersPayload, { description: 'Create or update up to 1,000 customers by externalId; each item succeeds or fails on its own.' })
  async upsertCustomers(@Ctx() ctx: RequestContext, @Arg('input', () => [UpsertCustomerInput]) input: UpsertCustomerInput[]): Promise<UpsertCustomersPayload> {
    const outcomes = await this.customerService.upsert(ctx, input);
    const results = outcomes.map((o) => ({ index: o.index, externalId: o.externalId, customer: o.record, created: o.created, changed: o.changed, errors: o.errors }));
    const failed = results.filter((r) => r.errors.length > 0).length;
    return { results, failed, succeeded: results.length - failed };
  }

  @FieldResolver(() => LegalEntity)
  async entity(@Root() c: Customer, @Ctx() ctx: RequestContext): Promise<LegalEntity | null> {
    return this.entities.loader(ctx).load(c.entityId);
  }

  @FieldResolver(() => User, { nullable: true, description: 'The collector who owns the account.' })
  async owner(@Root() c: Customer, @Ctx() ctx: RequestContext): Promise<User | null> {
    if (!c.ownerUserId) return null;
    return this.users.loader(ctx).load(c.ownerUserId);
  }

  @FieldResolver(() => [Contact])
  contacts(@Root() c: Customer, @Ctx() ctx: RequestContext): Promise<Contact[]> {
    return this.customerService.contactsLoader(ctx).load(c.id);
  }

  @FieldResolver(() => Money, { nullable: true })
  creditLimit(@Root() c: Customer): Money | null {
    return c.creditLimitMinor === null ? null : Money.of(c.creditLimitMinor, c.currency);
  }
}
