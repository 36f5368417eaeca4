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

/** What an element may look like to go into a literal unquoted; anything else is quoted. */
const BARE = /^[0-9A-Za-z:+._-]+$/;
const NEEDS_ESCAPE = /["\\]/g;

/**
 * An array parameter as a ready PostgreSQL array literal (`{a,"b c",NULL}`): the driver would
 * otherwise escape every element of every column on its way out, which a chunk of payments pays
 * tens of thousands of times. Elements that look plain (ids, numbers, ISO dates, codes) go bare;
 * any other string is quoted with `"` and `\` escaped, as the array input syntax wants (so "null",
 * "", "a, b" and "{x}" stay one text element each). A value that is not a string, number, bigint
 * or boolean (a Date, an object) leaves the array to the driver's own conversion.
 */
export function arrayParam(values: readonly unknown[]): unknown {
  const parts: string[] = new Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) parts[i] = 'NULL';
    else if (typeof v === 'string') parts[i] = BARE.test(v) && !(v.length === 4 && v.toLowerCase() === 'null') ? v : `"${v.replace(NEEDS_ESCAPE, '\\$&')}"`;
    else if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') parts[i] = String(v);
    else return values.map((x) => (typeof x === 'bigint' ? x.toString() : x));
  }
  return `{${parts.join(',')}}`;
}

/** The rows as `unnest(...) AS v(names)` with one array parameter per column from `firstParam` on; `names` lists the columns for the INSERT around it. */
export function unnestSource<R>(columns: BulkColumn<R>[], rows: R[], firstParam = 1): { sql: string; params: unknown[]; names: string } {
  const params = columns.map((c) => arrayParam(rows.map((r) => c.value(r))));
  const args = columns.map((c, i) => `$${firstParam + i}::${c.type}[]`).join(', ');
  const names = columns.map((c) => c.name).join(', ');
  return { sql: `unnest(${args}) AS v(${names})`, params, names };
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
