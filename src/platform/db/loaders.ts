import DataLoader from 'dataloader';
import { In, type EntityTarget, type FindOptionsOrder, type FindOptionsWhere, type ObjectLiteral } from 'typeorm';
import type { RequestContext } from '../context';

/** Per-request loader of a tenant's rows by id: one `WHERE id IN (...)` per tick. */
export function byIdLoader<T extends ObjectLiteral & { id: string; tenantId: string }>(ctx: RequestContext, entity: EntityTarget<T>, key: string): DataLoader<string, T | null> {
  return ctx.loaders.get(key, () =>
    new DataLoader<string, T | null>(async (ids) => {
      const rows = await ctx.em.getRepository(entity).findBy({ tenantId: ctx.tenantId, id: In([...ids]) } as FindOptionsWhere<T>);
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
  );
}

/** Per-request loader of a tenant's child rows grouped by a parent column (lines of invoices, contacts of customers). */
export function childrenLoader<T extends ObjectLiteral & { tenantId: string }, K extends keyof T & string>(
  ctx: RequestContext,
  entity: EntityTarget<T>,
  key: string,
  parent: K,
  order: FindOptionsOrder<T>,
): DataLoader<string, T[]> {
  return ctx.loaders.get(key, () =>
    new DataLoader<string, T[]>(async (ids) => {
      const rows = await ctx.em.getRepository(entity).find({ where: { tenantId: ctx.tenantId, [parent]: In([...ids]) } as FindOptionsWhere<T>, order });
      const by = new Map<string, T[]>();
      for (const r of rows) by.set(r[parent] as string, [...(by.get(r[parent] as string) ?? []), r]);
      return ids.map((id) => by.get(id) ?? []);
    }),
  );
}
