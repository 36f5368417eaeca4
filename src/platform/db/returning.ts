import type { EntityManager } from 'typeorm';

/**
 * Runs an UPDATE or DELETE ... RETURNING and gives its rows. TypeORM's postgres driver answers
 * such statements with `[rows, affectedCount]` (and plain SELECTs/INSERTs with the rows alone);
 * every caller reading RETURNING rows goes through here rather than guessing the shape.
 */
export async function queryReturning<T>(em: EntityManager, sql: string, params: unknown[]): Promise<T[]> {
  const r: unknown = await em.query(sql, params);
  if (Array.isArray(r) && r.length === 2 && Array.isArray(r[0]) && typeof r[1] === 'number') return r[0] as T[];
  return r as T[];
}
