import type { EntityManager } from 'typeorm';
import { Role, systemActor } from '../../platform/auth/roles';
import { RequestContext, inTransaction } from '../../platform/context';
import type { Logger } from '../../platform/logging/logger';
import type { AuditService } from '../audit/audit.service';
import type { ApiKeyService } from './api-key.service';
import type { TenantFields, TenantService } from './tenant.service';

/** Creating tenants with their first keys: by a partner, or on an empty database at first start. */
export class TenantOnboarding {
  constructor(
    private readonly tenants: TenantService,
    private readonly keys: ApiKeyService,
    private readonly audit: AuditService,
  ) {}

  async createTenant(ctx: RequestContext, input: TenantFields) {
    return inTransaction(ctx, async (tx) => {
      const tenant = await this.tenants.create(tx.em, input, ctx.tenantId);
      const { key, secret } = await this.keys.insert(tx.em, tenant.id, { name: 'Initial admin key', role: Role.ADMIN, partner: false, createdBy: ctx.actor.id });
      await this.audit.record(tx, { action: 'tenant.created', subjectType: 'Tenant', subjectId: tenant.id, data: { ...input } });
      return { tenant, key, secret };
    });
  }

  /**
   * On an empty database: the first tenant and an ADMIN + partner key, either the operator's
   * BOOTSTRAP_API_KEY or a generated one (returned so it can be printed once).
   */
  async bootstrap(em: EntityManager, logger: Logger, bootstrapKey: string | undefined): Promise<{ tenantId: string; secret: string; generated: boolean } | null> {
    return em.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(727001)');
      if ((await this.tenants.count(tx)) > 0) return null;
      const tenant = await this.tenants.create(tx, { name: 'Demo Company', timezone: 'America/New_York', functionalCurrency: 'USD' }, null);
      const { key, secret } = await this.keys.insert(tx, tenant.id, { name: 'Bootstrap admin key', role: Role.ADMIN, partner: true, createdBy: 'bootstrap' }, bootstrapKey);
      const ctx = new RequestContext(tenant.id, systemActor(tenant.id, 'bootstrap'), tx, 'bootstrap', logger);
      await this.audit.record(ctx, { action: 'tenant.bootstrapped', subjectType: 'Tenant', subjectId: tenant.id, data: { apiKeyId: key.id } });
      return { tenantId: tenant.id, secret, generated: !bootstrapKey };
    });
  }
}
