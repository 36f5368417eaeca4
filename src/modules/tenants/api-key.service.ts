import { IsNull, type EntityManager } from 'typeorm';
import { Role, roleAtLeast, type Actor } from '../../platform/auth/roles';
import { inTransaction, type RequestContext } from '../../platform/context';
import { badInput, forbidden, notFound } from '../../platform/errors';
import type { AuditService } from '../audit/audit.service';
import { ApiKey } from './api-key.entity';
import { generateApiKey, hashApiKey, keyPrefix } from './api-key.secret';
import { TenantErrors } from './tenants.errors';
import type { TenantService } from './tenant.service';

export interface CreateApiKeyFields {
  name: string;
  role: Role;
  partner?: boolean;
  /** Another tenant: only a partner key, for a tenant it created. */
  tenantId?: string | null;
}

export class ApiKeyService {
  constructor(
    private readonly tenants: TenantService,
    private readonly audit: AuditService,
  ) {}

  /** Resolves a bearer token to its actor, or null when unknown or revoked. */
  async authenticate(em: EntityManager, token: string): Promise<Actor | null> {
    if (token.length < 24 || token.length > 200) return null;
    const key = await em.getRepository(ApiKey).findOneBy({ keyHash: hashApiKey(token), revokedAt: IsNull() });
    if (!key) return null;
    // Touch last-used at most once a minute; never block the request on it.
    void em
      .query(`UPDATE api_keys SET last_used_at = now() WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`, [key.id])
      .catch(() => undefined);
    return { kind: 'api_key', id: key.id, tenantId: key.tenantId, role: key.role, partner: key.partner, name: key.name };
  }

  /** Stores a key and returns it with its secret, which is never retrievable again. */
  async insert(em: EntityManager, tenantId: string, fields: { name: string; role: Role; partner: boolean; createdBy: string | null }, secret = generateApiKey()) {
    const repo = em.getRepository(ApiKey);
    const key = await repo.save(
      repo.create({ tenantId, name: fields.name, role: fields.role, partner: fields.partner, prefix: keyPrefix(secret), keyHash: hashApiKey(secret), createdBy: fields.createdBy }),
    );
    return { key, secret };
  }

  async create(ctx: RequestContext, input: CreateApiKeyFields) {
    const name = input.name.trim();
    if (!name) throw badInput('name', 'must not be empty');
    const targetTenant = input.tenantId ?? ctx.tenantId;
    if (targetTenant !== ctx.tenantId) {
      if (!ctx.actor.partner) throw forbidden('Only a partner key can mint keys for another tenant');
      if (!(await this.tenants.isChildOf(ctx.em, targetTenant, ctx.tenantId))) {
        throw badInput('tenantId', 'is not a tenant created by this partner', TenantErrors.NOT_YOUR_TENANT);
      }
    } else if (!roleAtLeast(ctx.actor.role, input.role)) {
      throw badInput('role', `cannot mint a ${input.role} key with a ${ctx.actor.role} key`, TenantErrors.ROLE_ABOVE_YOURS);
    }
    if (input.partner && !ctx.actor.partner) throw forbidden('Only a partner key can mint partner keys');
    return inTransaction(ctx, async (tx) => {
      const created = await this.insert(tx.em, targetTenant, { name, role: input.role, partner: !!input.partner, createdBy: ctx.actor.id });
      await this.audit.record(tx, { action: 'api_key.created', subjectType: 'ApiKey', subjectId: created.key.id, data: { name, role: input.role, partner: !!input.partner, tenantId: targetTenant } });
      return created;
    });
  }

  async revoke(ctx: RequestContext, id: string): Promise<ApiKey> {
    return inTransaction(ctx, async (tx) => {
      const repo = tx.em.getRepository(ApiKey);
      const key = await repo.findOneBy({ id, tenantId: ctx.tenantId });
      if (!key) throw notFound('API key', id, 'id');
      if (key.revokedAt) throw badInput('id', 'this key is already revoked', TenantErrors.KEY_ALREADY_REVOKED);
      key.revokedAt = new Date();
      await repo.save(key);
      await this.audit.record(tx, { action: 'api_key.revoked', subjectType: 'ApiKey', subjectId: id, data: { name: key.name } });
      return key;
    });
  }

  async list(ctx: RequestContext, includeRevoked: boolean): Promise<ApiKey[]> {
    return ctx.em.getRepository(ApiKey).find({
      where: includeRevoked ? { tenantId: ctx.tenantId } : { tenantId: ctx.tenantId, revokedAt: IsNull() },
      order: { createdAt: 'ASC' },
    });
  }

  /** The keys among `ids` that still hold at least `role` in the caller's tenant (live subscriptions re-check on every event). */
  async stillAllowed(ctx: RequestContext, ids: string[], role: Role): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows: { id: string; role: Role }[] = await ctx.em.query(`SELECT id, role FROM api_keys WHERE tenant_id = $1 AND id = ANY($2::uuid[]) AND revoked_at IS NULL`, [ctx.tenantId, ids]);
    return new Set(rows.filter((r) => roleAtLeast(r.role, role)).map((r) => r.id));
  }

  async get(ctx: RequestContext, id: string): Promise<ApiKey | null> {
    return ctx.em.getRepository(ApiKey).findOneBy({ id, tenantId: ctx.tenantId });
  }
}
