import { Arg, Args, Authorized, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { Role } from '../../platform/auth/roles';
import type { RequestContext } from '../../platform/context';
import { PageArgs } from '../../platform/graphql/connection';
import { Ctx, type GqlContext } from '../../platform/graphql/gql-context';
import { pageComplexity } from '../../platform/graphql/limits';
import { DateScalar } from '../../platform/graphql/scalars';
import { AgingFeeds } from './aging-feed';
import type { AgingService } from './aging.service';
import {
  AgingCellInput,
  AgingChange,
  AgingCurrencyMode,
  AgingDimension,
  AgingFilter,
  AgingInvoiceConnection,
  AgingReport,
  AgingSettings,
  FxRate,
  FxRateInput,
} from './dto/aging.types';

interface AgingChangedArgs {
  groupBy: AgingDimension[];
  filter: AgingFilter | null;
  currencyMode: AgingCurrencyMode;
}

@Resolver()
export class AgingResolver {
  constructor(private readonly agingService: AgingService) {}

  @Authorized()
  @Query(() => AgingReport, { description: 'Open receivables by bucket for any cut, as of a day (default today in the tenant\'s zone).' })
  aging(
    @Ctx() ctx: RequestContext,
    @Arg('groupBy', () => [AgingDimension], { defaultValue: [] }) groupBy: AgingDimension[],
    @Arg('filter', () => AgingFilter, { nullable: true }) filter: AgingFilter | null,
    @Arg('asOf', () => DateScalar, { nullable: true }) asOf: string | null,
    @Arg('currencyMode', () => AgingCurrencyMode, { defaultValue: AgingCurrencyMode.ORIGINAL }) currencyMode: AgingCurrencyMode,
  ): Promise<AgingReport> {
    return this.agingService.report(ctx, { groupBy, filter, asOf, currencyMode });
  }

  @Authorized()
  @Query(() => AgingInvoiceConnection, { complexity: pageComplexity, description: 'The invoices behind an aging cell (or a whole row when bucket is null), with their collections history.' })
  agingInvoices(
    @Ctx() ctx: RequestContext,
    @Arg('cell', () => AgingCellInput) cell: AgingCellInput,
    @Arg('filter', () => AgingFilter, { nullable: true }) filter: AgingFilter | null,
    @Arg('asOf', () => DateScalar, { nullable: true }) asOf: string | null,
    @Args() page: PageArgs,
  ) {
    return this.agingService.drillDown(ctx, { cell, filter, asOf, first: page.first, after: page.after });
  }

  @Authorized()
  @Query(() => AgingSettings)
  agingSettings(@Ctx() ctx: RequestContext): Promise<AgingSettings> {
    return this.agingService.bucketSettings(ctx);
  }

  @Authorized(Role.MANAGER)
  @Mutation(() => AgingSettings, { description: 'Sets the tenant\'s bucket edges: [30, 60, 90] gives current, 1-30, 31-60, 61-90, 90+.' })
  setAgingBuckets(@Ctx() ctx: RequestContext, @Arg('edges', () => [Int]) edges: number[]): Promise<AgingSettings> {
    return this.agingService.setBuckets(ctx, edges);
  }

  @Authorized()
  @Query(() => [FxRate])
  fxRates(@Ctx() ctx: RequestContext): Promise<FxRate[]> {
    return this.agingService.fxRates(ctx);
  }

  @Authorized(Role.MANAGER)
  @Mutation(() => [FxRate], { description: 'Stores rates into the functional currency, each from a day on (the latest on or before a day applies).' })
  setFxRates(@Ctx() ctx: RequestContext, @Arg('rates', () => [FxRateInput]) rates: FxRateInput[]): Promise<FxRate[]> {
    return this.agingService.setFxRates(ctx, rates);
  }

  @Authorized()
  @Subscription(() => AgingChange, {
    description: 'The aging report now (INITIAL), then again after every committed change that moves it (invoices, payments, disputes, write-offs, day rollover), at most four times a second.',
    subscribe: ({ args, context }) => {
      const gql = context as GqlContext;
      const a = args as AgingChangedArgs;
      return AgingFeeds.of(gql.pubSub).subscribe(gql, { groupBy: a.groupBy, filter: a.filter, currencyMode: a.currencyMode });
    },
  })
  // The arguments are read once, by `subscribe`; this runs per event and per subscriber, so it
  // does not validate them again (the argument types carry no validators anyway).
  agingChanged(
    @Root() change: AgingChange,
    @Arg('groupBy', () => [AgingDimension], { defaultValue: [], validate: false }) _groupBy: AgingDimension[],
    @Arg('filter', () => AgingFilter, { nullable: true, validate: false }) _filter: AgingFilter | null,
    @Arg('currencyMode', () => AgingCurrencyMode, { defaultValue: AgingCurrencyMode.ORIGINAL, validate: false }) _currencyMode: AgingCurrencyMode,
  ): AgingChange {
    return change;
  }
}
