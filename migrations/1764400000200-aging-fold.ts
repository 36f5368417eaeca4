import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Folded aging tails: the daily rollover moves the rollup rows of invoices due long enough ago
 * to be in the last bucket whatever the day asked (see docs/decisions/014-aging-rollups.md)
 * into one row per group, keeping the sum of amount x due day for the metrics' weighted days.
 * `aging_settings.folded_through` is the last due date folded; triggers are unchanged.
 */
export class AgingFold1764400000200 implements MigrationInterface {
  name = 'AgingFold1764400000200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE aging_rollup_tails (
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        entity_id uuid NOT NULL,
        segment varchar(64),
        owner_user_id uuid,
        currency char(3) NOT NULL,
        billing_model varchar(16) NOT NULL,
        open_minor bigint NOT NULL,
        invoice_count int NOT NULL,
        -- sum of open_minor x (due_date - 1970-01-01), so amount x days past due stays exact
        open_due_days numeric NOT NULL,
        CONSTRAINT aging_rollup_tails_key UNIQUE NULLS NOT DISTINCT (tenant_id, entity_id, segment, owner_user_id, currency, billing_model)
      )`);
    await q.query(`ALTER TABLE aging_settings ADD COLUMN folded_through date`);
  }

  async down(q: QueryRunner): Promise<void> {
    // Put the folded amounts back per due date cannot be done from the tails: rebuild those rows from the invoices.
    await q.query(`
      DELETE FROM aging_rollups r USING aging_settings s WHERE s.tenant_id = r.tenant_id AND s.folded_through IS NOT NULL AND r.due_date <= s.folded_through`);
    await q.query(`
      INSERT INTO aging_rollups AS r (tenant_id, entity_id, segment, owner_user_id, currency, billing_model, due_date, open_minor, invoice_count)
      SELECT i.tenant_id, i.entity_id, c.segment, c.owner_user_id, i.currency, i.billing_model, i.due_date, sum(i.open_balance_minor), count(*)::int
      FROM invoices i JOIN customers c ON c.id = i.customer_id JOIN aging_settings s ON s.tenant_id = i.tenant_id
      WHERE s.folded_through IS NOT NULL AND i.due_date <= s.folded_through AND i.status = 'OPEN' AND i.open_balance_minor > 0
      GROUP BY 1, 2, 3, 4, 5, 6, 7`);
    await q.query(`DROP TABLE IF EXISTS aging_rollup_tails`);
    await q.query(`ALTER TABLE aging_settings DROP COLUMN IF EXISTS folded_through`);
  }
}
