import { Arg, Authorized, Int, Query, Resolver } from 'type-graphql';
import type { RequestContext } from '../../platform/context';
import { Ctx } from '../../platform/graphql/gql-context';
import { DateScalar } from '../../platform/graphql/scalars';
import { CeiResult, CollectionsMetrics, DsoResult, MetricsFilter, MetricsGrouping } from './dto/aging.types';
import type { MetricsService } from './metrics.service';

@Resolver()
export class MetricsResolver {
  constructor(private readonly metrics: MetricsService) {}

  @Authorized()
  @Query(() => DsoResult, { description: 'Days sales outstanding by the standard and countback methods, best possible DSO, average days delinquent and % current, live.' })
  dso(
    @Ctx() ctx: RequestContext,
    @Arg('filter', () => MetricsFilter, { nullable: true }) filter: MetricsFilter | null,
    @Arg('asOf', () => DateScalar, { nullable: true }) asOf: string | null,
    @Arg('periodDays', () => Int, { nullable: true, description: 'Default 90.' }) periodDays: number | null,
  ): Promise<DsoResult> {
    return this.metrics.dso(ctx, { filter, asOf, periodDays });
  }

  @Authorized()
  @Query(() => CeiResult, { description: 'Collection effectiveness index from the snapshot of `from` to `to` (default today, live).' })
  cei(
    @Ctx() ctx: RequestContext,
    @Arg('from', () => DateScalar) from: string,
    @Arg('to', () => DateScalar, { nullable: true }) to: string | null,
    @Arg('filter', () => MetricsFilter, { nullable: true }) filter: MetricsFilter | null,
  ): Promise<CeiResult> {
    return this.metrics.cei(ctx, { filter, from, to });
  }

  @Authorized()
  @Query(() => CollectionsMetrics, { description: 'DSO, CEI, average days delinquent and % current per day from the daily snapshots, per entity and/or segment.' })
  collectionsMetrics(
    @Ctx() ctx: RequestContext,
    @Arg('from', () => DateScalar) from: string,
    @Arg('to', () => DateScalar) to: string,
    @Arg('groupBy', () => MetricsGrouping, { defaultValue: MetricsGrouping.NONE }) groupBy: MetricsGrouping,
    @Arg('filter', () => MetricsFilter, { nullable: true }) filter: MetricsFilter | null,
    @Arg('periodDays', () => Int, { nullable: true }) periodDays: number | null,
  ): Promise<CollectionsMetrics> {
    return this.metrics.series(ctx, { groupBy, filter, from, to, periodDays });
  }
}
