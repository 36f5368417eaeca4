import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { decodeCursor, toConnection, type Connection, type Cursor } from '../graphql/connection';

export type SortDirection = 'ASC' | 'DESC';

export interface KeysetOptions<T> {
  /** SQL expression of the sort key (must be NOT NULL), e.g. `i.due_date`. */
  sortExpr: string;
  /** SQL cast for the cursor value, e.g. `date`, `bigint`, `text`, `timestamptz`. */
  sortType: string;
  direction: SortDirection;
  /** SQL expression of the unique tiebreaker, e.g. `i.id`. */
  idExpr: string;
  first: number;
  after?: string | null;
  cursorOf(row: T): Cursor;
}

/**
 * Keyset (seek) pagination: `WHERE (sort, id) > (:k, :id) ORDER BY sort, id LIMIT first + 1`.
 * Pages cost the same at any depth, unlike OFFSET. `totalCount` is computed only when asked.
 */
export async function keysetPage<T extends ObjectLiteral>(qb: SelectQueryBuilder<T>, opts: KeysetOptions<T>): Promise<Connection<T>> {
  const countQb = qb.clone();
  const page = qb.clone();
  if (opts.after) {
    const c = decodeCursor(opts.after);
    const op = opts.direction === 'ASC' ? '>' : '<';
    page.andWhere(`(${opts.sortExpr}, ${opts.idExpr}) ${op} (CAST(:ksK AS ${opts.sortType}), CAST(:ksId AS uuid))`, { ksK: c.k, ksId: c.id });
  }
  page.orderBy(opts.sortExpr, opts.direction).addOrderBy(opts.idExpr, opts.direction).limit(opts.first + 1);
  const rows = await page.getMany();
  const conn = toConnection(rows, opts.first, 0, opts.cursorOf, !!opts.after);
  let count: Promise<number> | undefined;
  Object.defineProperty(conn, 'totalCount', { enumerable: true, get: () => (count ??= countQb.getCount()) });
  return conn;
}
