import { Arg, Args, Authorized, Query, Resolver } from 'type-graphql';
import { Role } from '../../platform/auth/roles';
import type { RequestContext } from '../../platform/context';
import { PageArgs } from '../../platform/graphql/connection';
import { Ctx } from '../../platform/graphql/gql-context';
import { pageComplexity } from '../../platform/graphql/limits';
import type { AuditChainService } from './audit-chain.service';
import { listAuditEvents } from './audit.service';
import { AuditChainVerification, AuditEventConnection, AuditEventFilter, AuditEventNode } from './dto/audit.types';

@Resolver(() => AuditEventNode)
export class AuditResolver {
  constructor(private readonly chain: AuditChainService) {}

  @Authorized(Role.MANAGER)
  @Query(() => AuditEventConnection, { complexity: pageComplexity, description: 'The audit trail, newest first: who did what to what, when and why.' })
  auditEvents(@Ctx() ctx: RequestContext, @Args() page: PageArgs, @Arg('filter', () => AuditEventFilter, { nullable: true }) filter: AuditEventFilter | null) {
    return listAuditEvents(ctx, { ...page, filter });
  }

  @Authorized(Role.MANAGER)
  @Query(() => AuditChainVerification, { description: 'Seals what is pending, then recomputes the tenant\'s hash chain (optionally over events in [from, to]) and names the first broken link.' })
  verifyAuditChain(@Ctx() ctx: RequestContext, @Arg('from', () => Date, { nullable: true }) from: Date | null, @Arg('to', () => Date, { nullable: true }) to: Date | null): Promise<AuditChainVerification> {
    return this.chain.verify(ctx, { from, to });
  }
}
