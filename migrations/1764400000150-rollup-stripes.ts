import type { MigrationInterface, QueryRunner } from 'typeorm';
import { customerTriggerFunction, DIMS, invoicesTriggerFunction } from './1764300000000-aging';

const TABLES = [
  { table: 'aging_rollups', date: 'due_date', amount: 'open_minor' },
  { table: 'sales_rollups', date: 'issue_date', amount: 'total_minor' },
];

/** Folds every stripe of one tenant's rows of one rollup table into stripe 0. */
const fold = ({ table, date, amount }: (typeof TABLES)[number]) => `
    WITH moved AS (DELETE FROM ${table} WHERE tenant_id = p_tenant AND stripe <> 0 RETURNING ${DIMS}, ${date}, ${amount}, invoice_count)
    INSERT INTO ${table} AS r (${DIMS}, ${date}, stripe, ${amount}, invoice_count)
    SELECT ${DIMS}, ${date}, 0, sum(${amount}), sum(invoice_count)::int FROM moved GROUP BY ${DIMS}, ${date} ORDER BY ${DIMS}, ${date}
    ON CONFLICT (${DIMS}, ${date}, stripe) DO UPDATE SET ${amount} = r.${amount} + EXCLUDED.${amount}, invoice_count = r.invoice_count + EXCLUDED.invoice_count;`;

/**
 * Striped aging and sales rollups: transactions changing balances in the same group and due
 * date no longer serialize on its one rollup row (see `merge` in 1764300000000-aging.ts).
 * Readers already sum rollup rows by group; `fold_rollup_stripes(tenant)` folds stripes back
 * into stripe 0 (the daily rollover calls it), so a key has at most 16 rows and usually one.
 */
export class RollupStripes1764400000150 implements MigrationInterface {
  name = 'RollupStripes1764400000150';

  async up(q: QueryRunner): Promise<void> {
    for (const { table, date } of TABLES) {
      await q.query(`ALTER TABLE ${table} ADD COLUMN stripe smallint NOT NULL DEFAULT 0 CHECK (stripe BETWEEN 0 AND 15)`);
      await q.query(`ALTER TABLE ${table} DROP CONSTRAINT ${table}_key`);
      await q.query(`ALTER TABLE ${table} ADD CONSTRAINT ${table}_key UNIQUE NULLS NOT DISTINCT (${DIMS}, ${date}, stripe)`);
    }
    await q.query(invoicesTriggerFunction(true));
    await q.query(customerTriggerFunction(true));
    await q.query(`
      CREATE FUNCTION fold_rollup_stripes(p_tenant uuid) RETURNS void LANGUAGE plpgsql AS $$
      BEGIN
        ${TABLES.map(fold).join('\n')}
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DO $$ DECLARE t uuid; BEGIN FOR t IN SELECT id FROM tenants LOOP PERFORM fold_rollup_stripes(t); END LOOP; END $$`);
    await q.query(`DROP FUNCTION fold_rollup_stripes(uuid)`);
    await q.query(invoicesTriggerFunction(false));
    await q.query(customerTriggerFunction(false));
    for (const { table, date } of TABLES) {
      await q.query(`ALTER TABLE ${table} DROP CONSTRAINT ${table}_key`);
      await q.query(`ALTER TABLE ${table} DROP COLUMN stripe`);
      await q.query(`ALTER TABLE ${table} ADD CONSTRAINT ${table}_key UNIQUE NULLS NOT DISTINCT (${DIMS}, ${date})`);
    }
  }
}
