import type DataLoader from 'dataloader';
import { byIdLoader } from '../../platform/db/loaders';
import { In } from 'typeorm';
import { inTransaction, type RequestContext } from '../../platform/context';
import { badInput, notFound } from '../../platform/errors';
import type { AuditService } from '../audit/audit.service';
import { User, UserRole } from './user.entity';
import { TenantErrors } from './tenants.errors';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export class UserService {
  constructor(private readonly audit: AuditService) {}

  async create(ctx: RequestContext, input: { name: string; email: string; role: UserRole }): Promise<User> {
    const email = input.email.trim().toLowerCase();
    if (!input.name.trim()) throw badInput('name', 'must not be empty');
    if (!EMAIL.test(email)) throw badInput('email', `"${input.email}" is not an email address`);
    return inTransaction(ctx, async (tx) => {
      const repo = tx.em.getRepository(User);
      if (await repo.existsBy({ tenantId: ctx.tenantId, email })) {
        throw badInput('email', `a user with email ${email} already exists`, TenantErrors.DUPLICATE_EMAIL);
      }
      const user = await repo.save(repo.create({ tenantId: ctx.tenantId, name: input.name.trim(), email, role: input.role }));
      await this.audit.record(tx, { action: 'user.created', subjectType: 'User', subjectId: user.id, data: { email, role: input.role } });
      return user;
    });
  }

  async list(ctx: RequestContext): Promise<User[]> {
    return ctx.em.getRepository(User).find({ where: { tenantId: ctx.tenantId }, order: { name: 'ASC' } });
  }

  async byIds(ctx: RequestContext, ids: readonly string[]): Promise<User[]> {
    return ctx.em.getRepository(User).findBy({ tenantId: ctx.tenantId, id: In([...ids]) });
  }

  loader(ctx: RequestContext): DataLoader<string, User | null> {
    return byIdLoader(ctx, User, 'userById');
  }


  async require(ctx: RequestContext, id: string, field: string): Promise<User> {
    const u = await ctx.em.getRepository(User).findOneBy({ tenantId: ctx.tenantId, id });
    if (!u) throw notFound('User', id, field);
    return u;
  }
}
