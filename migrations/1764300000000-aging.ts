import type { MigrationInterface, QueryRunner } from 'typeorm';

const DIMS = 'tenant_id, entity_id, segment, owner_user_id, currency, billing_model';

/**
 * The rollup statement for one source of signed invoice rows (`sign`, invoice columns, and the
 * customer's segment and owner). Keys are merged in sorted order so that two writers touching
 * the same keys lock them in the same order (no deadlock between rollup rows).
 */
function merge(source: string): string {
  return `
    INSERT INTO aging_rollups AS r (${DIMS}, due_date, open_minor, invoice_count)
    SELECT ${DIMS}, due_date, sum(sign * open_balance_minor), sum(sign)::int
    FROM (${source}) d
    WHERE status = 'OPEN' AND open_balance_minor > 0
    GROUP BY ${DIMS}, due_date
    HAVING sum(sign * open_balance_minor) <> 0 OR sum(sign) <> 0
    ORDER BY ${DIMS}, due_date
    ON CONFLICT (${DIMS}, due_date) DO UPDATE SET open_minor = r.open_minor + EXCLUDED.open_minor, invoice_count = r.invoice_count + EXCLUDED.invoice_count;
    INSERT INTO sales_rollups AS r (${DIMS}, issue_date, total_minor, invoice_count)
    SELECT ${DIMS}, issue_date, sum(sign * total_minor), sum(sign)::int
    FROM (${source}) d
    WHERE status <> 'VOID'
    GROUP BY ${DIMS}, issue_date
    HAVING sum(sign * total_minor) <> 0 OR sum(sign) <> 0
    ORDER BY ${DIMS}, issue_date
    ON CONFLICT (${DIMS}, issue_date) DO UPDATE SET total_minor = r.total_minor + EXCLUDED.total_minor, invoice_count = r.invoice_count + EXCLUDED.invoice_count;`;
}

const invoiceCols = 'i.tenant_id, i.entity_id, i.currency, i.billing_model, i.due_date, i.issue_date, i.status, i.open_balance_minor, i.total_minor';
const fromRows = (table: string, sign: number) =>
  `SELECT ${sign} AS sign, ${invoiceCols}, c.segment, c.owner_user_id FROM ${table} i JOIN customers c ON c.id = i.customer_id`;

/**
 * Aging rollups (open balance by entity, segment, owner, currency, billing model and due date)
 * and sales rollups (invoiced totals by issue date), kept by triggers in the transaction that
 * changes an invoice or a customer's segment or owner; tenant aging settings, FX rates, and the
 * daily snapshots behind the metrics series. See docs/decisions/014-aging-rollups.md.
 */
export class Aging1764300000000 implements MigrationInterface {
  name = 'Aging1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE aging_rollups (
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        entity_id uuid NOT NULL,
        segment varchar(64),
        owner_user_id uuid,
        currency char(3) NOT NULL,
        billing_model varchar(16) NOT NULL,
        due_date date NOT NULL,
        open_minor bigint NOT NULL,
        invoice_count int NOT NULL,
        CONSTRAINT aging_rollups_key UNIQUE NULLS NOT DISTINCT (tenant_id, entity_id, segment, owner_user_id, currency, billing_model, due_date)
      )`);
    await q.query(`
      CREATE TABLE sales_rollups (
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        entity_id uuid NOT NULL,
        segment varchar(64),
        owner_user_id uuid,
        currency char(3) NOT NULL,
        billing_model varchar(16) NOT NULL,
        issue_date date NOT NULL,
        total_minor bigint NOT NULL,
        invoice_count int NOT NULL,
        CONSTRAINT sales_rollups_key UNIQUE NULLS NOT DISTINCT (tenant_id, entity_id, segment, owner_user_id, currency, billing_model, issue_date)
      )`);
    await q.query(`CREATE INDEX sales_rollups_issue_idx ON sales_rollups (tenant_id, issue_date)`);

    await q.query(`
      CREATE FUNCTION aging_rollups_from_invoices() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          ${merge(fromRows('new_rows', 1))}
        ELSIF TG_OP = 'UPDATE' THEN
          ${merge(`${fromRows('new_rows', 1)} UNION ALL ${fromRows('old_rows', -1)}`)}
        ELSE
          ${merge(fromRows('old_rows', -1))}
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER invoices_aging_insert AFTER INSERT ON invoices REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION aging_rollups_from_invoices()`);
    await q.query(`CREATE TRIGGER invoices_aging_update AFTER UPDATE ON invoices REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION aging_rollups_from_invoices()`);
    await q.query(`CREATE TRIGGER invoices_aging_delete AFTER DELETE ON invoices REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION aging_rollups_from_invoices()`);

    // A customer's new segment or owner moves its invoices between rollup keys.
    const moved = `SELECT x.sign, ${invoiceCols}, x.segment, x.owner_user_id FROM invoices i
      CROSS JOIN (VALUES (1, NEW.segment, NEW.owner_user_id), (-1, OLD.segment, OLD.owner_user_id)) x(sign, segment, owner_user_id)
      WHERE i.tenant_id = NEW.tenant_id AND i.customer_id = NEW.id`;
    await q.query(`
      CREATE FUNCTION aging_rollups_from_customer() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        ${merge(moved)}
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER customers_aging_update AFTER UPDATE OF segment, owner_user_id ON customers FOR EACH ROW
      WHEN (OLD.segment IS DISTINCT FROM NEW.segment OR OLD.owner_user_id IS DISTINCT FROM NEW.owner_user_id)
      EXECUTE FUNCTION aging_rollups_from_customer()`);

    // Whatever is already in the book.
    await q.query(merge(fromRows('invoices', 1)));

    await q.query(`
      CREATE TABLE aging_settings (
        tenant_id uuid PRIMARY KEY REFERENCES tenants(id),
        bucket_edges int[] NOT NULL,
        rolled_over_on date,
        updated_by varchar(64) NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE fx_rates (
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        currency char(3) NOT NULL,
        effective_on date NOT NULL,
        rate numeric(24,12) NOT NULL CHECK (rate > 0),
        updated_by varchar(64) NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, currency, effective_on)
      )`);
    await q.query(`
      CREATE TABLE aging_snapshots (
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        snapshot_date date NOT NULL,
        entity_id uuid NOT NULL,
        segment varchar(64),
        currency char(3) NOT NULL,
        open_minor bigint NOT NULL,
        current_minor bigint NOT NULL,
        past_due_minor bigint NOT NULL,
        days_weighted_minor numeric NOT NULL,
        invoice_count int NOT NULL,
        buckets jsonb NOT NULL,
        taken_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT aging_snapshots_key UNIQUE NULLS NOT DISTINCT (tenant_id, snapshot_date, entity_id, segment, currency)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER IF EXISTS customers_aging_update ON customers`);
    for (const t of ['insert', 'update', 'delete']) await q.query(`DROP TRIGGER IF EXISTS invoices_aging_${t} ON invoices`);
    await q.query(`DROP FUNCTION IF EXISTS aging_rollups_from_customer()`);
    await q.query(`DROP FUNCTION IF EXISTS aging_rollups_from_invoices()`);
    for (const t of ['aging_snapshots', 'fx_rates', 'aging_settings', 'sales_rollups', 'aging_rollups']) await q.query(`DROP TABLE IF EXISTS ${t}`);
  }
}
