/** TypeORM answers UPDATE … RETURNING with [rows, count] on PostgreSQL, INSERT … RETURNING with rows. */
export function returned<T>(res: unknown): T[] {
  return (Array.isArray(res) && Array.isArray(res[0]) ? res[0] : res) as T[];
}
