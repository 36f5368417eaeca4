import { Arg, Authorized, Field, Float, ID, InputType, Int, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Role } from '../../platform/auth/roles';
import type { RequestContext } from '../../platform/context';
import { Ctx } from '../../platform/graphql/gql-context';
import { Money } from '../../platform/graphql/money.type';
import { DateScalar } from '../../platform/graphql/scalars';
import type { ArmResult, BacktestResult as Result, BacktestRunRow, BacktestService, CurrencyAmount } from './backtest.service';

@InputType()
export class BacktestDunningPolicyInput {
  @Field(() => ID) policyId: string;
  @Field(() => ID, { nullable: true, description: 'A version to backtest; default: the newest (usually the draft).' }) versionId?: string | null;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'An unsaved definition to backtest instead.' }) definition?: Record<string, unknown> | null;
  @Field(() => DateScalar) from: string;
  @Field(() => DateScalar) to: string;
  @Field({ defaultValue: false, description: 'Always run as a background job (books over 20,000 invoices always do).' }) background: boolean;
}

@ObjectType()
export class CurrencyDays {
  @Field() currency: string;
  @Field(() => Float, { nullable: true }) days: number | null;
}

@ObjectType()
export class KeyValue {
  @Field() key: string;
  @Field(() => Float) value: number;
}

@ObjectType()
export class BacktestWeek {
  @Field(() => Int) week: number;
  @Field(() => DateScalar) weekStart: string;
  @Field(() => [Money], { description: 'Expected cash collected that week (rounded to minor units).' }) cash: Money[];
  @Field(() => Float, { description: 'Expected touches sent that week.' }) touches: number;
}

@ObjectType()
export class BacktestArmPolicy {
  @Field(() => ID) policyId: string;
  @Field(() => ID) versionId: string;
  @Field(() => Int) version: number;
  @Field(() => Int) customers: number;
}

@ObjectType({ description: 'One side of a backtest: the candidate, or the policies live at the window start.' })
export class BacktestArm {
  @Field() label: string;
  @Field(() => [BacktestArmPolicy]) policies: BacktestArmPolicy[];
  @Field(() => [Money]) cashCollected: Money[];
  @Field(() => [BacktestWeek]) cashByWeek: BacktestWeek[];
  @Field(() => [CurrencyDays], { description: 'Average expected receivable / average daily sales over the window.' }) dso: CurrencyDays[];
  @Field(() => Float, { description: 'Expected reminders sent (a reminder to an invoice paid with probability p counts 1-p).' }) touches: number;
  @Field(() => [KeyValue]) touchesByStep: KeyValue[];
  @Field(() => [KeyValue]) touchesByKind: KeyValue[];
  @Field(() => [KeyValue], { description: 'Expected tier entries, by tier.' }) escalations: KeyValue[];
  @Field(() => Int) invoiceDays: number;
}

@ObjectType({ description: 'The fitted response, per segment and touch kind: P(paid on the day of the touch or within k days after) and the delay.' })
export class ResponseModelRow {
  @Field() segment: string;
  @Field() kind: string;
  @Field(() => Int) touches: number;
  @Field(() => Float) within1: number;
  @Field(() => Float) within3: number;
  @Field(() => Float) within5: number;
  @Field(() => Float) within7: number;
  @Field(() => Float) withinHorizon: number;
  @Field(() => Float, { nullable: true }) meanDelay: number | null;
  @Field(() => Float, { nullable: true }) medianDelay: number | null;
}

@ObjectType()
export class BacktestResult {
  @Field(() => Int) customers: number;
  @Field(() => Int) invoices: number;
  @Field(() => Int, { description: 'Invoice-days replayed, both arms.' }) invoiceDays: number;
  @Field(() => [Money], { description: 'Invoiced in the window (the DSO denominator).' }) sales: Money[];
  @Field(() => BacktestArm) candidate: BacktestArm;
  @Field(() => BacktestArm) current: BacktestArm;
  @Field(() => [Money], { description: 'What these customers actually paid in the window, to judge the model against.' }) actualCash: Money[];
  @Field(() => [Money], { description: 'Candidate minus current.' }) cashDelta: Money[];
  @Field(() => [CurrencyDays]) dsoDelta: CurrencyDays[];
  @Field(() => Float) touchesDelta: number;
  @Field(() => [ResponseModelRow]) model: ResponseModelRow[];
  @Field(() => Int, { description: 'Invoices the model was fitted on.' }) modelInvoices: number;
  @Field(() => Int) elapsedMs: number;
}

@ObjectType({ description: 'A backtest: queued, running (with progress) or done with its results, kept for comparison.' })
export class BacktestRun {
  @Field(() => ID) id: string;
  @Field(() => ID) policyId: string;
  @Field(() => ID, { nullable: true }) versionId: string | null;
  @Field(() => DateScalar) from: string;
  @Field(() => DateScalar) to: string;
  @Field() status: string;
  @Field(() => Float) percentDone: number;
  @Field(() => Int, { nullable: true }) customersTotal: number | null;
  @Field(() => Int) customersDone: number;
  @Field(() => String, { nullable: true }) error: string | null;
  @Field(() => BacktestResult, { nullable: true }) result: BacktestResult | null;
  @Field() createdAt: Date;
  @Field(() => Date, { nullable: true }) startedAt: Date | null;
  @Field(() => Date, { nullable: true }) finishedAt: Date | null;
}

const money = (xs: CurrencyAmount[]) => xs.map((x) => Money.of(x.amountMinor, x.currency));
const kv = (m: Record<string, number>) => Object.entries(m).map(([key, value]) => ({ key, value }));
const arm = (a: ArmResult): BacktestArm => ({
  label: a.label,
  policies: a.policies,
  cashCollected: money(a.cash),
  cashByWeek: a.cashByWeek.map((w) => ({ week: w.week, weekStart: w.weekStart, cash: money(w.cash), touches: w.touches })),
  dso: a.dso,
  touches: a.touches,
  touchesByStep: kv(a.touchesByStep),
  touchesByKind: kv(a.touchesByKind),
  escalations: kv(a.escalations),
  invoiceDays: a.invoiceDays,
});
const result = (r: Result): BacktestResult => ({
  customers: r.customers,
  invoices: r.invoices,
  invoiceDays: r.invoiceDays,
  sales: money(r.sales),
  candidate: arm(r.candidate),
  current: arm(r.current),
  actualCash: money(r.actualCash),
  cashDelta: money(r.delta.cash),
  dsoDelta: r.delta.dso,
  touchesDelta: r.delta.touches,
  model: r.model,
  modelInvoices: r.modelInvoices,
  elapsedMs: r.elapsedMs,
});
const toRun = (r: BacktestRunRow): BacktestRun => ({ ...r, result: r.result ? result(r.result) : null });

@Resolver()
export class BacktestResolver {
  constructor(private readonly backtests: BacktestService) {}

  @Authorized(Role.MANAGER)
  @Mutation(() => BacktestRun, {
    description: 'Replays the engine day by day over the history with the candidate policy and with the current ones, under a response model fitted from history. Small books return DONE; large ones QUEUED (poll backtestRun).',
  })
  async backtestDunningPolicy(@Ctx() ctx: RequestContext, @Arg('input', () => BacktestDunningPolicyInput) input: BacktestDunningPolicyInput): Promise<BacktestRun> {
    return toRun(await this.backtests.request(ctx, input));
  }

  @Authorized()
  @Query(() => BacktestRun, { nullable: true })
  async backtestRun(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<BacktestRun | null> {
    const r = await this.backtests.get(ctx, id);
    return r ? toRun(r) : null;
  }

  @Authorized()
  @Query(() => [BacktestRun], { description: 'Newest first; each keeps its inputs and results, so runs compare side by side.' })
  async backtestRuns(@Ctx() ctx: RequestContext, @Arg('policyId', () => ID, { nullable: true }) policyId: string | null, @Arg('limit', () => Int, { defaultValue: 20 }) limit: number): Promise<BacktestRun[]> {
    return (await this.backtests.list(ctx, { policyId, limit })).map(toRun);
  }
}
