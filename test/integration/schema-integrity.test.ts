import fs from 'node:fs';
import { createApp, type App } from '../../src/app';
import { loadConfig } from '../../src/platform/config/config';
import { createLogger } from '../../src/platform/logging/logger';
import { printAppSchema, SCHEMA_FILE } from '../../src/schema-file';
import { createTestDatabase, dropTestDatabase } from '../support/test-databases';

/** The database schema, the entities and the GraphQL schema agree with what is checked in. */
describe('schema integrity', () => {
  let app: App;
  let url: string;

  beforeAll(async () => {
    url = await createTestDatabase();
    app = await createApp(loadConfig({ ...process.env, DATABASE_URL: url, LOG_LEVEL: 'silent', RUN_WORKERS: 'false', QUEUE_PREFIX: 'schema-integrity' }), createLogger('silent'));
  });
  afterAll(async () => {
    await app?.stop();
    await dropTestDatabase(url);
  });

  it('every table but tenants carries tenant_id (NOT NULL)', async () => {
    const tables: { table_name: string }[] = await app.dataSource.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name NOT IN ('schema_migrations', 'tenants')`,
    );
    expect(tables.length).toBeGreaterThanOrEqual(8);
    const withTenant: { table_name: string }[] = await app.dataSource.query(
      `SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'tenant_id' AND is_nullable = 'NO'`,
    );
    const have = new Set(withTenant.map((r) => r.table_name));
    expect(tables.map((t) => t.table_name).filter((t) => !have.has(t))).toEqual([]);
  });

  it('every entity column exists in the migrated database with the same nullability', async () => {
    // Migrations own constraints and indexes; entities must only map real columns faithfully.
    const cols: { table_name: string; column_name: string; is_nullable: string; data_type: string }[] = await app.dataSource.query(
      `SELECT table_name, column_name, is_nullable, data_type FROM information_schema.columns WHERE table_schema = 'public'`,
    );
    const db = new Map(cols.map((c) => [`${c.table_name}.${c.column_name}`, c]));
    const problems: string[] = [];
    for (const meta of app.dataSource.entityMetadatas) {
      for (const col of meta.columns) {
        const found = db.get(`${meta.tableName}.${col.databaseName}`);
        if (!found) problems.push(`${meta.tableName}.${col.databaseName} missing`);
        else if ((found.is_nullable === 'YES') !== col.isNullable && !col.isGenerated) {
          problems.push(`${meta.tableName}.${col.databaseName}: entity nullable=${col.isNullable}, database ${found.is_nullable}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('applying migrations again changes nothing', async () => {
    expect(await app.dataSource.showMigrations()).toBe(false);
  });

  it('schema/schema.graphql is the schema the code builds (run `npm run schema` when this fails)', async () => {
    expect(fs.readFileSync(SCHEMA_FILE, 'utf8')).toBe(await printAppSchema());
  });
});
