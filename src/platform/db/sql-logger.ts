import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger as TypeOrmLogger, QueryRunner } from 'typeorm';
import type { Logger } from '../logging/logger';

/** Counts the SQL statements sent inside `countQueries(fn)`; used by tests to prove no N+1. */
const counters = new AsyncLocalStorage<{ count: number; statements: string[] }>();
let globalCounter: { count: number; statements: string[] } | undefined;

export async function countQueries<T>(fn: () => Promise<T>): Promise<{ result: T; count: number; statements: string[] }> {
  const c = { count: 0, statements: [] as string[] };
  const result = await counters.run(c, fn);
  return { result, count: c.count, statements: c.statements };
}

/** Counts every statement until `stop()` (for statements issued by an HTTP request in another async context). */
export function startGlobalQueryCount(): { stop(): { count: number; statements: string[] } } {
  const c = { count: 0, statements: [] as string[] };
  globalCounter = c;
  return {
    stop: () => {
      globalCounter = undefined;
      return c;
    },
  };
}

export class SqlLogger implements TypeOrmLogger {
  constructor(private readonly logger: Logger) {}

  logQuery(query: string, parameters?: unknown[], _qr?: QueryRunner): void {
    const c = counters.getStore();
    if (c) {
      c.count++;
      c.statements.push(query);
    }
    if (globalCounter) {
      globalCounter.count++;
      globalCounter.statements.push(query);
    }
    if (this.logger.isLevelEnabled('trace')) this.logger.trace({ sql: query, parameters }, 'sql');
  }
  logQueryError(error: string | Error, query: string, parameters?: unknown[]): void {
    this.logger.debug({ err: error, sql: query, parameters }, 'sql error');
  }
  logQuerySlow(time: number, query: string): void {
    this.logger.warn({ ms: time, sql: query }, 'slow sql');
  }
  logSchemaBuild(message: string): void {
    this.logger.debug(message);
  }
  logMigration(message: string): void {
    this.logger.info({ component: 'migrations' }, message);
  }
  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.logger.warn(String(message));
    else this.logger.debug(String(message));
  }
}
