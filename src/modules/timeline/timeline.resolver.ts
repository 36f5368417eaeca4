import { Arg, Args, Authorized, ID, Mutation, Query, Resolver } from 'type-graphql';
import { Role } from '../../platform/auth/roles';
import type { RequestContext } from '../../platform/context';
import { PageArgs } from '../../platform/graphql/connection';
import { Ctx } from '../../platform/graphql/gql-context';
import { pageComplexity } from '../../platform/graphql/limits';
import { SortDirection } from '../../platform/graphql/sort-direction';
import type { TenantService } from '../tenants/tenant.service';
import type { TimelineService } from './timeline.service';
import { AddNoteInput, TimelineConnection, TimelineEntry, TimelineKind } from './timeline.types';

@Resolver(() => TimelineEntry)
export class TimelineResolver {
  constructor(
    private readonly timelines: TimelineService,
    private readonly tenants: TenantService,
  ) {}

  @Authorized()
  @Query(() => TimelineConnection, { complexity: pageComplexity, description: 'Every touch on one customer or one invoice (give exactly one), newest first by default.' })
  timeline(
    @Ctx() ctx: RequestContext,
    @Args() page: PageArgs,
    @Arg('customerId', () => ID, { nullable: true }) customerId: string | null,
    @Arg('invoiceId', () => ID, { nullable: true }) invoiceId: string | null,
    @Arg('kinds', () => [TimelineKind], { nullable: true }) kinds: TimelineKind[] | null,
    @Arg('direction', () => SortDirection, { defaultValue: SortDirection.DESC }) direction: SortDirection,
  ) {
    return this.timelines.timeline(ctx, { customerId, invoiceId, kinds, first: page.first, after: page.after, direction: direction === SortDirection.ASC ? 'ASC' : 'DESC' });
  }

  @Authorized(Role.COLLECTOR)
  @Mutation(() => TimelineEntry, { description: 'Add a note to a customer (and optionally one of its invoices) timeline.' })
  async addNote(@Ctx() ctx: RequestContext, @Arg('input', () => AddNoteInput) input: AddNoteInput): Promise<TimelineEntry> {
    return this.timelines.record(ctx, { kind: 'NOTE', customerId: input.customerId, invoiceId: input.invoiceId, body: input.body, occurredOn: input.asOf ?? (await this.tenants.today(ctx)) });
  }
}
