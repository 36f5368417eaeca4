import { Client } from 'pg';

/** The database server the tests use: the one in DATABASE_URL, or an embedded one. */
export function adminUrl(): string {
  const url = process.env.RECOUP_TEST_ADMIN_URL;
  if (!url) throw new Error('RECOUP_TEST_ADMIN_URL is not set: run tests through jest (globalSetup)');
  return url;
}

export function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

export async function adminQuery<T = unknown>(sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new Client({ connectionString: adminUrl() });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows as T[];
  } finally {
    await c.end();
  }
}

/** A fresh database cloned from the migrated template, one per test file. */
export async function createTestDatabase(): Promise<string> {
  const template = process.env.RECOUP_TEST_TEMPLATE_DB!;
  const name = `${process.env.RECOUP_TEST_DB_PREFIX}_${process.pid}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;
  await adminQuery(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
  return withDatabase(adminUrl(), name);
}

export async function dropTestDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
}
