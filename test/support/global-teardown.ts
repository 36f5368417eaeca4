import fs from 'node:fs';
import { Client } from 'pg';

export default async function globalTeardown(): Promise<void> {
  const admin = process.env.RECOUP_TEST_ADMIN_URL;
  const prefix = process.env.RECOUP_TEST_DB_PREFIX;
  if (admin && prefix) {
    const c = new Client({ connectionString: admin });
    await c.connect();
    try {
      const rows = await c.query(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [`${prefix}\\_%`]);
      for (const r of rows.rows) await c.query(`DROP DATABASE IF EXISTS "${r.datname}" WITH (FORCE)`);
    } finally {
      await c.end();
    }
  }
  await globalThis.__RECOUP_EMBEDDED__?.stop();
  if (globalThis.__RECOUP_EMBEDDED_DIR__) fs.rmSync(globalThis.__RECOUP_EMBEDDED_DIR__, { recursive: true, force: true });
}
