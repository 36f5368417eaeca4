import type { EntityManager } from 'typeorm';
import { inTransaction, type RequestContext } from '../../platform/context';
import { badInput, notFound } from '../../platform/errors';
import { isCurrency } from '../../platform/money/money';
import { isTimeZone, todayIn, type IsoDate } from '../../platform/time/dates';
import type { AuditService } from '../audit/audit.service';
import { Tenant } from './tenant.entity';
import { TenantErrors } from './tenants.errors';

export interface TenantFields {
  name: string;
  timezone: string;
  functionalCurrency: string;
}

export class TenantService {
  constructor(private readonly audit: AuditService) {}

  validate(input: Partial<TenantFields>): void {
    if (input.name !== undefined && input.name.trim().length === 0) throw badInput('name', 'must not be empty');
    if (input.timezone !== undefined && !isTimeZone(input.timezone)) {
      throw badInput('timezone', `"${input.timezone}" is not an IANA time zone such as Europe/Paris`, TenantErrors.INVALID_TIMEZONE);
    }
    if (input.functionalCurrency !== undefined && !isCurrency(input.functionalCurrency)) {
      throw badInput('functionalCurrency', `"${input.functionalCurrency}" is not an ISO 4217 currency code`, TenantErrors.UNKNOWN_CURRENCY);
    }
  }

  /** Creates a tenant; `parentTenantId` is the partner tenant that owns it. */
  async create(em: EntityManager, input: TenantFields, parentTenantId: string | null): Promise<Tenant> {
    this.validate(input);
    const repo = em.getRepository(Tenant);
    return repo.save(repo.create({ ...input, name: input.name.trim(), parentTenantId }));
  }

  async get(ctx: RequestContext, id = ctx.tenantId): Promise<Tenant> {
    const t = await ctx.em.getRepository(Tenant).findOneBy({ id });
    if (!t) throw notFound('Tenant', id);
    return t;
  }

  /** The caller's tenant, memoised for the request. */
  current(ctx: RequestContext): Promise<Tenant> {
    return ctx.loaders.get('currentTenant', () => this.get(ctx));
  }

  /** Today's calendar date in the tenant's time zone: the default `asOf` of every computation. */
  async today(ctx: RequestContext, now: Date = new Date()): Promise<IsoDate> {
    return todayIn((await this.current(ctx)).timezone, now);
  }

  /** Settings of the caller's own tenant. */
  async update(ctx: RequestContext, input: Partial<TenantFields>): Promise<Tenant> {
    this.validate(input);
    return inTransaction(ctx, async (tx) => {
      const t = await this.get(tx);
      const changes = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined && v !== null));
      Object.assign(t, changes);
      const saved = await tx.em.getRepository(Tenant).save(t);
      await this.audit.record(tx, { action: 'tenant.updated', subjectType: 'Tenant', subjectId: t.id, data: changes });
      return saved;
    });
  }

  async isChildOf(em: EntityManager, tenantId: string, parentId: string): Promise<boolean> {
    return (await em.getRepository(Tenant).countBy({ id: tenantId, parentTenantId: parentId })) > 0;
  }

  async count(em: EntityManager): Promise<number> {
    return em.getRepository(Tenant).count();
  }

  async allIds(em: EntityManager): Promise<string[]> {
    return (await em.getRepository(Tenant).find({ select: { id: true }, order: { createdAt: 'ASC' } })).map((t) => t.id);
  }

  /** Nightly liveness mark; idempotent. */
  async heartbeat(em: EntityManager, tenantId: string, at: Date): Promise<void> {
    await em.getRepository(Tenant).update({ id: tenantId }, { lastHeartbeatAt: at });
  }
}
