import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Which customers each payer name has paid for, one row per (name, customer), learned when a
 * payment's customer becomes known. Payer history (a hint when an unknown payer's name paid for
 * one to three customers before) read it from the payments themselves: a name that pays often
 * (a processor, a parent company) made every application chunk scan all of its payments, more
 * with every day of payments. Here a name costs at most four index rows per lookup.
 */
export class PayerNames1764400000900 implements MigrationInterface {
  name = 'PayerNames1764400000900';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE payer_names (
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        name text NOT NULL,
        customer_id uuid NOT NULL REFERENCES customers(id),
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, name, customer_id)
      )`);
    await q.query(`
      INSERT INTO payer_names (tenant_id, name, customer_id)
      SELECT DISTINCT tenant_id, lower(btrim(payer_name)), customer_id FROM payments
      WHERE customer_id IS NOT NULL AND payer_name IS NOT NULL AND btrim(payer_name) <> ''`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE payer_names`);
  }
}
