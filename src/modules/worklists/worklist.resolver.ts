import { flatMapEvents } from '../../platform/events/flat-map';
import { Arg, Args, Authorized, FieldResolver, ID, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { Role } from '../../platform/auth/roles';
import type { RequestContext } from '../../platform/context';
import { forbidden } from '../../platform/errors';
import type { DomainEvent } from '../../platform/events/event-bus';
import { PageArgs } from '../../platform/graphql/connection';
import { Ctx, type GqlContext } from '../../platform/graphql/gql-context';
import { pageComplexity } from '../../platform/graphql/limits';
import { DateScalar } from '../../platform/graphql/scalars';
import { Task } from '../actions/task.entity';
import { Customer } from '../customers/customer.entity';
import type { CustomerService } from '../customers/customer.service';
import { Invoice } from '../invoices/invoice.entity';
import type { InvoiceService } from '../invoices/invoice.service';
import type { ApiKeyService } from '../tenants/api-key.service';
import type { TenantService } from '../tenants/tenant.service';
import { User } from '../tenants/user.entity';
import type { UserService } from '../tenants/user.service';
import { WORKLIST_CHANGED, type TaskService, type WorklistChangedPayload } from './task.service';
import type { WorklistRulesService } from './worklist-rules.service';
import type { WorklistService } from './worklist.service';
import { CompleteTaskInput, SetWorklistRulesInput, WorklistChange, WorklistConnection, WorklistRules } from './worklist.types';

/** The subscription source runs outside any resolver instance: the resolver built by the composition root registers the key service here. */
let keyService: ApiKeyService | null = null;

@Resolver(() => Task)
export class WorklistResolver {
  constructor(
    private readonly taskService: TaskService,
    private readonly worklists: WorklistService,
    private readonly rules: WorklistRulesService,
    private readonly tenants: TenantService,
    private readonly customers: CustomerService,
    private readonly invoices: InvoiceService,
    private readonly users: UserService,
    apiKeys: ApiKeyService,
  ) {
    keyService = apiKeys;
  }

  @Authorized()
  @Query(() => WorklistConnection, { complexity: pageComplexity, description: "A collector's open tasks (all open tasks without collectorId), ranked by the tenant's scoring rule as of a day, each with its score term by term." })
  async worklist(
    @Ctx() ctx: RequestContext,
    @Args() page: PageArgs,
    @Arg('collectorId', () => ID, { nullable: true }) collectorId: string | null,
    @Arg('asOf', () => DateScalar, { nullable: true, description: 'Default today in the tenant time zone.' }) asOf: string | null,
  ) {
    return this.worklists.rank(ctx, { collectorId: collectorId ?? null, asOf: asOf ?? (await this.tenants.today(ctx)), first: page.first, after: page.after });
  }

  @Authorized()
  @Query(() => [Task], { description: 'Tasks for people, newest first (at most 500): call steps, escalations, failed sends, broken promises, unapplied cash, approvals.' })
  tasks(
    @Ctx() ctx: RequestContext,
    @Arg('customerId', () => ID, { nullable: true }) customerId: string | null,
    @Arg('status', () => String, { nullable: true, description: 'OPEN, SNOOZED, DONE or CANCELLED' }) status: string | null,
    @Arg('ownerUserId', () => ID, { nullable: true }) ownerUserId: string | null,
    @Arg('invoiceId', () => ID, { nullable: true }) invoiceId: string | null,
    @Arg('reasonCode', () => String, { nullable: true }) reasonCode: string | null,
  ): Promise<Task[]> {
    return this.taskService.list(ctx, { customerId, status, ownerUserId, invoiceId, reasonCode });
  }

  @Authorized()
  @Query(() => WorklistRules, { description: 'How tasks are scored and assigned in this tenant (defaults until set).' })
  worklistRules(@Ctx() ctx: RequestContext) {
    return this.rules.get(ctx);
  }

  @Authorized(Role.MANAGER)
  @Mutation(() => WorklistRules, { description: 'Replace the scoring weights and assignment rules.' })
  setWorklistRules(@Ctx() ctx: RequestContext, @Arg('input', () => SetWorklistRulesInput) input: SetWorklistRulesInput) {
    return this.rules.set(ctx, input);
  }

  @Authorized(Role.MANAGER)
  @Mutation(() => Task, { description: 'Reassign an open or snoozed task.' })
  assignTask(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string, @Arg('userId', () => ID) userId: string, @Arg('reason', () => String, { nullable: true }) reason: string | null): Promise<Task> {
    return this.taskService.assign(ctx, id, userId, reason);
  }

  @Authorized(Role.COLLECTOR)
  @Mutation(() => Task, { description: 'Close a task with what came of it.' })
  async completeTask(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string, @Arg('input', () => CompleteTaskInput) input: CompleteTaskInput): Promise<Task> {
    return this.taskService.complete(ctx, id, input, input.asOf ?? (await this.tenants.today(ctx)));
  }

  @Authorized(Role.COLLECTOR)
  @Mutation(() => Task, { description: 'Hide a task from the worklist until a day (at most 90 days ahead).' })
  async snoozeTask(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string, @Arg('until', () => DateScalar) until: string, @Arg('asOf', () => DateScalar, { nullable: true }) asOf: string | null): Promise<Task> {
    return this.taskService.snooze(ctx, id, until, asOf ?? (await this.tenants.today(ctx)));
  }

  @Authorized()
  @Subscription(() => WorklistChange, {
    description: "A collector's worklist changed (all worklists without collectorId), after it commits. The key is re-checked at every event: a revoked key ends the subscription.",
    subscribe: ({ args, context }) => {
      const gql = context as GqlContext;
      const actor = gql.actor!;
      const ctx = gql.ctx!;
      const want = (args as { collectorId?: string | null }).collectorId ?? null;
      const apiKeys = keyService;
      const source = gql.pubSub.subscribe(WORKLIST_CHANGED);
      return flatMapEvents(source, async (ev): Promise<WorklistChange[]> => {
        const e = ev as DomainEvent;
        if (e.tenantId !== actor.tenantId) return [];
        const changes = (e.payload as unknown as WorklistChangedPayload).changes.filter((c) => want === null || c.collectorId === want);
        if (!changes.length) return [];
        if (actor.kind === 'api_key' && apiKeys && !(await apiKeys.stillAllowed(ctx, [actor.id], Role.VIEWER)).has(actor.id)) throw forbidden('This API key was revoked');
        return changes;
      });
    },
  })
  worklistChanged(@Root() change: WorklistChange, @Arg('collectorId', () => ID, { nullable: true }) _collectorId: string | null): WorklistChange {
    return change;
  }

  @FieldResolver(() => Customer, { nullable: true })
  customer(@Root() t: Task, @Ctx() ctx: RequestContext): Promise<Customer | null> {
    return t.customerId ? this.customers.loader(ctx).load(t.customerId) : Promise.resolve(null);
  }

  @FieldResolver(() => Invoice, { nullable: true })
  invoice(@Root() t: Task, @Ctx() ctx: RequestContext): Promise<Invoice | null> {
    return t.invoiceId ? this.invoices.loader(ctx).load(t.invoiceId) : Promise.resolve(null);
  }

  @FieldResolver(() => User, { nullable: true })
  owner(@Root() t: Task, @Ctx() ctx: RequestContext): Promise<User | null> {
    return t.ownerUserId ? this.users.loader(ctx).load(t.ownerUserId) : Promise.resolve(null);
  }
}
