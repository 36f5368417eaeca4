import type { EntityManager } from 'typeorm';
import type { Actor } from './auth/roles';
import type { Logger } from './logging/logger';

/** Per-request memo of DataLoaders, so each loader batches across one request only. */
export class Loaders {
  private readonly map = new Map<string, unknown>();
  get<T>(key: string, create: () => T): T {
    let v = this.map.get(key) as T | undefined;
    if (v === undefined) {
      v = create();
      this.map.set(key, v);
    }
    return v;
  }
}

/**
 * What every service method receives first: the tenant, who acts, and the EntityManager to use
 * (inside a transaction when one is open), so that one mutation is one transaction.
 */
export class RequestContext {
  constructor(
    readonly tenantId: string,
    readonly actor: Actor,
    readonly em: EntityManager,
    readonly requestId: string,
    readonly logger: Logger,
    readonly loaders: Loaders = new Loaders(),
  ) {}

  /** Loaders are bound to their EntityManager: a transaction gets its own, never a released one. */
  withManager(em: EntityManager): RequestContext {
    return new RequestContext(this.tenantId, this.actor, em, this.requestId, this.logger, new Loaders());
  }

  get inTransaction(): boolean {
    return !!this.em.queryRunner?.isTransactionActive;
  }
}

/** Runs `fn` in a transaction, joining the caller's transaction when there is one. */
export async function inTransaction<T>(ctx: RequestContext, fn: (tx: RequestContext) => Promise<T>): Promise<T> {
  if (ctx.inTransaction) return fn(ctx);
  return ctx.em.transaction((em) => fn(ctx.withManager(em)));
}
