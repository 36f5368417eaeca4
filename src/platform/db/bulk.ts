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

/** Element types whose values (ids, numbers, ISO dates, booleans) need no quoting in an array literal. */
const PLAIN = new Set(['uuid', 'bigint', 'int', 'integer', 'smallint', 'date', 'boolean']);
/** What an element may look like to go into a literal unquoted; anything else takes the driver's escaping. */
const BARE = /^[0-9A-Za-z:+._-]+$/;

/**
 * One column as an array parameter. Columns of plain types travel as a ready array literal
 * (`{a,b,NULL}`): the driver would otherwise escape every element of every column on its way
 * out, which a chunk of payments pays tens of thousands of times. A value that does not look
 * plain (a Date, a string with a comma, "null") sends the column the escaped way instead.
 */
function columnParam<R>(c: BulkColumn<R>, rows: R[]): unknown {
  const values = rows.map((r) => {
    const v = c.value(r);
    return typeof v === 'bigint' ? v.toString() : v;
  });
  if (!PLAIN.has(c.type)) return values;
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i) out += ',';
    if (v === null || v === undefined) out += 'NULL';
    else if ((typeof v === 'string' && BARE.test(v) && v.toLowerCase() !== 'null') || typeof v === 'number' || typeof v === 'boolean') out += String(v);
    else return values;
  }
  return `${out}}`;
}

export function unnestSource<R>(columns: BulkColumn<R>[], rows: R[], firstParam = 1): { sql: string; params: unknown[] } {
  const params = columns.map((c) => columnParam(c, rows));
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
