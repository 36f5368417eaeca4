import { Arg, Args, Authorized, Field, FieldResolver, ID, InputType, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { Role } from '../../platform/auth/roles';
import type { RequestContext } from '../../platform/context';
import { connectionType, PageArgs } from '../../platform/graphql/connection';
import { Ctx } from '../../platform/graphql/gql-context';
import { Money } from '../../platform/graphql/money.type';
import { DateScalar } from '../../platform/graphql/scalars';
import { JournalEntry, JournalKind, JournalLine, LedgerAccount } from './journal.entity';
import type { LedgerService } from './ledger.service';

export const JournalEntryConnection = connectionType(JournalEntry, 'JournalEntry');

@InputType()
export class JournalEntryFilter {
  @Field(() => ID, { nullable: true, description: 'The payment, memo or approval the entry posts.' }) sourceId?: string | null;
  @Field(() => JournalKind, { nullable: true }) kind?: JournalKind | null;
  @Field(() => LedgerAccount, { nullable: true }) account?: LedgerAccount | null;
  @Field(() => ID, { nullable: true }) invoiceId?: string | null;
  @Field(() => DateScalar, { nullable: true }) from?: string | null;
  @Field(() => DateScalar, { nullable: true }) to?: string | null;
}

@ObjectType()
export class TrialBalanceLine {
  @Field(() => LedgerAccount) account: LedgerAccount;
  @Field(() => Money) debit: Money;
  @Field(() => Money) credit: Money;
  @Field(() => Money, { description: 'Debit minus credit.' }) balance: Money;
}

@ObjectType({ description: 'Debits and credits per account and currency up to a day; debits equal credits in each currency.' })
export class TrialBalance {
  @Field(() => DateScalar) asOf: string;
  @Field(() => [TrialBalanceLine]) lines: TrialBalanceLine[];
  @Field({ description: 'True when total debits equal total credits in every currency.' }) balanced: boolean;
}

@Resolver(() => JournalEntry)
export class LedgerResolver {
  constructor(private readonly ledger: LedgerService) {}

  @Authorized(Role.VIEWER)
  @Query(() => JournalEntryConnection, { description: 'Journal entries, newest first.' })
  journalEntries(@Ctx() ctx: RequestContext, @Args() page: PageArgs, @Arg('filter', () => JournalEntryFilter, { nullable: true }) filter: JournalEntryFilter | null) {
    return this.ledger.list(ctx, { ...page, filter });
  }

  @Authorized(Role.VIEWER)
  @Query(() => TrialBalance)
  async trialBalance(@Ctx() ctx: RequestContext, @Arg('asOf', () => DateScalar) asOf: string): Promise<TrialBalance> {
    const rows = await this.ledger.trialBalance(ctx, asOf);
    const net = new Map<string, bigint>();
    for (const r of rows) net.set(r.currency, (net.get(r.currency) ?? 0n) + r.debitMinor - r.creditMinor);
    return {
      asOf,
      balanced: [...net.values()].every((v) => v === 0n),
      lines: rows.map((r) => ({ account: r.account, debit: Money.of(r.debitMinor, r.currency), credit: Money.of(r.creditMinor, r.currency), balance: Money.of(r.debitMinor - r.creditMinor, r.currency) })),
    };
  }

  @FieldResolver(() => [JournalLine])
  async lines(@Ctx() ctx: RequestContext, @Root() e: JournalEntry): Promise<JournalLine[]> {
    const lines = await this.ledger.linesLoader(ctx).load(e.id);
    return lines.map((l) => Object.assign(l, { currency: e.currency }));
  }
}

@Resolver(() => JournalLine)
export class JournalLineResolver {
  @FieldResolver(() => Money)
  debit(@Root() l: JournalLine): Money {
    return Money.of(l.debitMinor, l.currency ?? 'USD');
  }

  @FieldResolver(() => Money)
  credit(@Root() l: JournalLine): Money {
    return Money.of(l.creditMinor, l.currency ?? 'USD');
  }
}
