import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { migrations } from '../../migrations';
import { entities } from '../../src/modules';
import { createDataSource } from '../../src/platform/db/data-source';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/platform/db/embedded-postgres';
import { migrate } from '../../src/platform/db/database';
import { createLogger } from '../../src/platform/logging/logger';
import { withDatabase } from './test-databases';

declare global {
  var __RECOUP_EMBEDDED__: EmbeddedPostgresHandle | undefined;
  var __RECOUP_EMBEDDED_DIR__: string | undefined;
}

/**
 * One database server for the whole run: DATABASE_URL when set (CI against the machine's
 * PostgreSQL), else an embedded PostgreSQL in a temp dir. The schema is migrated once into a
 * template; each test file clones it (CREATE DATABASE ... TEMPLATE), which takes milliseconds.
 */
export default async function globalSetup(): Promise<void> {
  const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'warn', 'test-setup');
  let admin: string;
  let prefix: string;
  if (process.env.DATABASE_URL) {
    admin = process.env.DATABASE_URL;
    prefix = `${new URL(admin).pathname.slice(1) || 'recoup'}_t`;
  } else {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recoup-test-pg-'));
    const port = 20000 + Math.floor(Math.random() * 20000);
    const pg = await startEmbeddedPostgres({ dataDir: dir, port, logger });
    globalThis.__RECOUP_EMBEDDED__ = pg;
    globalThis.__RECOUP_EMBEDDED_DIR__ = dir;
    admin = pg.adminUrl;
    prefix = 'recoup_t';
  }
  const template = `${prefix}_template`;
  const c = new Client({ connectionString: admin });
  await c.connect();
  try {
    const old = await c.query(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [`${prefix}\\_%`]);
    for (const row of old.rows) await c.query(`DROP DATABASE IF EXISTS "${row.datname}" WITH (FORCE)`);
    await c.query(`CREATE DATABASE "${template}"`);
  } finally {
    await c.end();
  }
  const ds = createDataSource({ url: withDatabase(admin, template), entities, migrations, poolSize: 2, logger });
  await ds.initialize();
  await migrate(ds, logger);
  await ds.destroy();

  process.env.RECOUP_TEST_ADMIN_URL = admin;
  process.env.RECOUP_TEST_TEMPLATE_DB = template;
  process.env.RECOUP_TEST_DB_PREFIX = prefix;
}
