import 'reflect-metadata';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { createApp, type App } from '../../src/app';
import { bootstrapTenant } from '../../src/bootstrap';
import { loadConfig } from '../../src/platform/config/config';
import { createLogger } from '../../src/platform/logging/logger';
import { createTestDatabase, dropTestDatabase } from './test-databases';

export const BOOTSTRAP_KEY = 'test-bootstrap-key-0123456789abcdef';

export interface GqlResult<T> {
  data?: T | null;
  errors?: { message: string; path?: string[]; extensions?: { code?: string; field?: string; reason?: string } & Record<string, unknown> }[];
  status: number;
}

export interface TestApp {
  app: App;
  url: string;
  databaseUrl: string;
  adminKey: string;
  gql<T, V extends Record<string, unknown>>(doc: TypedDocumentNode<T, V> | string, variables?: V, key?: string | null): Promise<GqlResult<T>>;
  stop(): Promise<void>;
}

/**
 * Boots the real app (API over HTTP, workers when asked) on its own fresh database, with the
 * queue on Redis when REDIS_URL is set, else on PostgreSQL: the same as production.
 */
export async function startTestApp(opts: { runWorkers?: boolean; env?: Record<string, string> } = {}): Promise<TestApp> {
  const databaseUrl = await createTestDatabase();
  const t = await startAppOn(databaseUrl, opts);
  return {
    ...t,
    async stop() {
      await t.app.stop();
      await dropTestDatabase(databaseUrl);
    },
  };
}

/**
 * The real app on an existing test database, with the queue prefix `startTestApp` gives that
 * database: a second process, or a restart after a kill. `stop` leaves the database in place.
 */
export async function startAppOn(databaseUrl: string, opts: { runWorkers?: boolean; env?: Record<string, string> } = {}): Promise<TestApp> {
  const config = loadConfig({
    ...process.env,
    DATABASE_URL: databaseUrl,
    PORT: '0',
    HOST: '127.0.0.1',
    SEED_DEMO: 'false',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    BOOTSTRAP_API_KEY: BOOTSTRAP_KEY,
    RUN_WORKERS: opts.runWorkers ? 'true' : 'false',
    QUEUE_PREFIX: `${process.env.QUEUE_PREFIX ?? 'recoup-test'}-${new URL(databaseUrl).pathname.slice(1)}`,
    DB_POOL_SIZE: '5',
    ...opts.env,
  });
  const app = await createApp(config, createLogger(config.LOG_LEVEL));
  await bootstrapTenant(app);
  const http = await app.listen(0);
  const url = `http://127.0.0.1:${http.port}/graphql`;
  return {
    app,
    url,
    databaseUrl,
    adminKey: BOOTSTRAP_KEY,
    async gql(doc, variables, key = BOOTSTRAP_KEY) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
        body: JSON.stringify({ query: typeof doc === 'string' ? doc : print(doc), variables }),
      });
      const body = (await res.json()) as Omit<GqlResult<never>, 'status'>;
      return { ...body, status: res.status } as never;
    },
    async stop() {
      await app.stop();
    },
  };
}

/** Fails with the GraphQL errors when there are any; returns data otherwise. */
export function dataOf<T>(r: GqlResult<T>): T {
  if (r.errors?.length || !r.data) throw new Error(`GraphQL errors: ${JSON.stringify(r.errors)}`);
  return r.data;
}
