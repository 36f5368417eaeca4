import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { queryReturning } from './returning';

interface PgClient {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

const names = new Map<string, string>();

/** One name per statement text (the driver refuses a name reused for another text on a connection). */
function nameOf(text: string): string {
  let n = names.get(text);
  if (!n) {
    n = `r_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    names.set(text, n);
  }
  return n;
}

/**
 * Runs a statement of a hot path as a named prepared statement on the transaction's connection:
 * PostgreSQL parses and analyses it once per connection and, once a generic plan proves as good
 * as custom ones, stops planning it (the payment application sends ~20 statements per chunk of
 * payments, each costing a parse and a plan otherwise). The text must be fixed (parameters
 * only); rows come back for every kind of statement, RETURNING included. Outside a transaction
 * it falls back to the pooled path. Counted and logged like every other statement.
 */
export async function preparedQuery<T = Record<string, unknown>>(em: EntityManager, text: string, params: unknown[]): Promise<T[]> {
  const qr = em.queryRunner;
  if (!qr?.isTransactionActive) return queryReturning<T>(em, text, params);
  em.connection.logger.logQuery(text, params, qr);
  const client = (await qr.connect()) as PgClient;
  try {
    return (await client.query({ name: nameOf(text), text, values: params })).rows as T[];
  } catch (err) {
    em.connection.logger.logQueryError(err as Error, text, params, qr);
    throw err;
  }
}
