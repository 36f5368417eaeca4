import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Advisory lock class of the version stripes (second key: the stripe). */
const VERSION_LOCK_CLASS = 51_010;
const STRIPES = 64;

/** Tables whose committed changes can change an aging report read from the rollups (amounts, groups, names). */
const SOURCES: { table: string; events: ('INSERT' | 'UPDATE' | 'DELETE')[] }[] = [
  { table: 'invoices', events: ['INSERT', 'UPDATE', 'DELETE'] },
  { table: 'customers', events: ['UPDATE', 'DELETE'] },
  { table: 'legal_entities', events: ['UPDATE', 'DELETE'] },
  { table: 'users', events: ['UPDATE', 'DELETE'] },
];

/**
 * A per-tenant version of the aging book, so that an API process can keep the last aggregate of
 * each aging question and answer it again after one cheap read (ADR 014): every statement that
 * changes invoices, customers, entities or users bumps its tenants' version in the same
 * transaction, and a report's rows carry the version read in the same snapshot. Committed
 * versions only grow, so an unchanged sum means nothing the report depends on has changed.
 *
 * The version is a sum over 64 stripes, and a writer bumps only a stripe it holds an advisory
 * lock on (tried without waiting, starting from its connection's): concurrent writers never wait
 * for each other here, and no lock order between stripes can deadlock.
 */
export class AgingVersions1764400000800 implements MigrationInterface {
  name = 'AgingVersions1764400000800';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE aging_versions (
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        stripe smallint NOT NULL CHECK (stripe BETWEEN 0 AND ${STRIPES - 1}),
        version bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (tenant_id, stripe)
      )`);
    await q.query(`
      CREATE FUNCTION bump_aging_version(p_tenants uuid[]) RETURNS void LANGUAGE plpgsql AS $$
      DECLARE
        base int := pg_backend_pid() % ${STRIPES};
        s int := base;
      BEGIN
        IF p_tenants IS NULL OR cardinality(p_tenants) = 0 THEN RETURN; END IF;
        FOR i IN 0..${STRIPES - 1} LOOP
          IF pg_try_advisory_xact_lock(${VERSION_LOCK_CLASS}, (base + i) % ${STRIPES}) THEN
            s := (base + i) % ${STRIPES};
            EXIT;
          END IF;
        END LOOP;
        -- Every stripe claimed by another writer (more than ${STRIPES} at once): share the connection's, waiting if need be.
        INSERT INTO aging_versions AS v (tenant_id, stripe, version)
        SELECT t, s, 1 FROM unnest(p_tenants) AS t ORDER BY t
        ON CONFLICT (tenant_id, stripe) DO UPDATE SET version = v.version + 1;
      END $$`);
    await q.query(`
      CREATE FUNCTION aging_version_from_rows() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM bump_aging_version(ARRAY(SELECT DISTINCT tenant_id FROM changed_rows));
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION aging_version_all_tenants() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM bump_aging_version(ARRAY(SELECT id FROM tenants));
        RETURN NULL;
      END $$`);
    for (const { table, events } of SOURCES) {
      // TRUNCATE has no rows to name the tenants by: every tenant's version moves.
      await q.query(`CREATE TRIGGER ${table}_aging_version_truncate AFTER TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION aging_version_all_tenants()`);
      for (const ev of events) {
        const ref = ev === 'DELETE' ? 'OLD TABLE AS changed_rows' : 'NEW TABLE AS changed_rows';
        await q.query(`CREATE TRIGGER ${table}_aging_version_${ev.toLowerCase()} AFTER ${ev} ON ${table} REFERENCING ${ref} FOR EACH STATEMENT EXECUTE FUNCTION aging_version_from_rows()`);
      }
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const { table, events } of SOURCES) {
      for (const ev of [...events, 'TRUNCATE']) await q.query(`DROP TRIGGER ${table}_aging_version_${ev.toLowerCase()} ON ${table}`);
    }
    await q.query(`DROP FUNCTION aging_version_all_tenants()`);
    await q.query(`DROP FUNCTION aging_version_from_rows()`);
    await q.query(`DROP FUNCTION bump_aging_version(uuid[])`);
    await q.query(`DROP TABLE aging_versions`);
  }
}
