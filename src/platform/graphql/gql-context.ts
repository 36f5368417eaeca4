import { createParameterDecorator } from 'type-graphql';
import type { EntityManager } from 'typeorm';
import type { Actor } from '../auth/roles';
import { Loaders, RequestContext } from '../context';
import { unauthenticated } from '../errors';
import type { Logger } from '../logging/logger';
import type { PubSub } from '../events/event-bus';

export interface GqlContext {
  requestId: string;
  logger: Logger;
  actor: Actor | null;
  /** Present when the caller is authenticated. */
  ctx: RequestContext | null;
  /** Where subscriptions listen for domain events. */
  pubSub: PubSub;
}

export function buildGqlContext(actor: Actor | null, em: EntityManager, requestId: string, logger: Logger, pubSub: PubSub): GqlContext {
  const log = actor ? logger.child({ tenantId: actor.tenantId, actor: actor.id }) : logger;
  return {
    requestId,
    logger: log,
    actor,
    ctx: actor ? new RequestContext(actor.tenantId, actor, em, requestId, log, new Loaders()) : null,
    pubSub,
  };
}

/** Injects the caller's RequestContext into a resolver argument (the caller must be authenticated). */
export function Ctx(): ReturnType<typeof createParameterDecorator> {
  return createParameterDecorator<GqlContext>(({ context }) => {
    if (!context.ctx) throw unauthenticated('Send a valid API key as "Authorization: Bearer <key>"');
    return context.ctx;
  });
}
