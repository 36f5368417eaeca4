import { createHash } from 'node:crypto';

/**
 * Bulk writes as one statement per batch: each column travels as one array parameter and
 * `unnest` turns them back into rows, so 1,000 rows cost one round trip and a fixed number
 * of parameters.
 */
export interface BulkColumn<R> {
  name: string;
  /** PostgreSQL element type, e.g. text, uuid, bigint, date, boolean, int, numeric. */
  type: string;
  value(row: R): unknown;
}

export function unnestSource<R>(columns: BulkColumn<R>[], rows: R[], firstParam = 1): { sql: string; params: unknown[] } {
  const params = columns.map((c) =>
    rows.map((r) => {
      const v = c.value(r);
      return typeof v === 'bigint' ? v.toString() : v;
    }),
  );
  const args = columns.map((c, i) => `$${firstParam + i}::${c.type}[]`).join(', ');
  const names = columns.map((c) => c.name).join(', ');
  return { sql: `unnest(${args}) AS v(${names})`, params };
}

export function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** A stable fingerprint of what a source sent, to tell an unchanged re-delivery from a change. */
export function sourceHash(value: unknown): string {
  return createHash('sha1')
    .update(JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)))
    .digest('hex');
}
