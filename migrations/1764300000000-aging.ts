import type { MigrationInterface, QueryRunner } from 'typeorm';

export const DIMS = 'tenant_id, entity_id, segment, owner_user_id, currency, billing_model';
/** First keys of the advisory locks that claim a rollup row's stripe 0 (second key: a hash of the row key). */
const STRIPE_LOCK_CLASS = { aging_rollups: 51_008, sales_rollups: 51_009 };

/**
 * The rollup statement for one source of signed invoice rows (`sign`, invoice columns, and the
 * customer's segment and owner). Keys are merged in sorted order so that two writers touching
 * the same keys lock them in the same order (no deadlock between rollup rows).
 *
 * Striped (migration 1764400000150): every invoice of a group and due date shares one rollup
 * row, so without stripes every transaction changing a balance in that group (a month-end batch
 * of payments, say) queues behind the one before it until it commits. Each key goes to stripe 0
 * when this transaction can claim it (an advisory transaction lock taken without waiting;
 * re-entrant, so a transaction keeps its stripe), else to a stripe of its own connection
 * (1..15): concurrent writers of one key no longer wait for each other, and an uncontended book
 * keeps one row per key. Readers sum over stripes; `fold_rollup_stripes` folds them back.
 * The claim is on one of 255 slots per table (a hash of the key), not on the key itself, so a
 * transaction touching thousands of keys (a bulk import) holds at most 255 advisory locks per
 * table; two keys sharing a slot only cost an extra stripe row, never a wrong total.
 */
export function merge(source: string, striped = false): string {
  return `
    ${mergeInto('aging_rollups', source, striped)}
    ${mergeInto('sales_rollups', source, striped)}`;
}

/** What each rollup sums from the signed invoice rows: its date, its amount, and which rows count. */
export const ROLLUPS = {
  aging_rollups: { date: 'due_date', amount: 'open_minor', from: 'open_balance_minor', where: `status = 'OPEN' AND open_balance_minor > 0` },
  sales_rollups: { date: 'issue_date', amount: 'total_minor', from: 'total_minor', where: `status <> 'VOID'` },
} as const;

/** The rollup statement of one table for a source of signed invoice rows (see `merge`). */
export function mergeInto(table: keyof typeof ROLLUPS, source: string, striped = false): string {
  const { date, amount, from, where } = ROLLUPS[table];
  const stripe = striped
    ? `CASE WHEN pg_try_advisory_xact_lock(${STRIPE_LOCK_CLASS[table]}, hashtext(concat_ws('|', ${DIMS}, ${date})) % 128) THEN 0 ELSE 1 + pg_backend_pid() % 15 END`
    : null;
  const aggregated = `SELECT ${DIMS}, ${date}, sum(sign * ${from}) AS ${amount}, sum(sign)::int AS invoice_count
      FROM (${source}) d
      WHERE ${where}
      GROUP BY ${DIMS}, ${date}
      HAVING sum(sign * ${from}) <> 0 OR sum(sign) <> 0
      ORDER BY ${DIMS}, ${date}`;
  return stripe
    ? `INSERT INTO ${table} AS r (${DIMS}, ${date}, stripe, ${amount}, invoice_count)
    SELECT ${DIMS}, ${date}, ${stripe}, ${amount}, invoice_count FROM (${aggregated}) k
    ON CONFLICT (${DIMS}, ${date}, stripe) DO UPDATE SET ${amount} = r.${amount} + EXCLUDED.${amount}, invoice_count = r.invoice_count + EXCLUDED.invoice_count;`
    : `INSERT INTO ${table} AS r (${DIMS}, ${date}, ${amount}, invoice_count)
    ${aggregated}
    ON CONFLICT (${DIMS}, ${date}) DO UPDATE SET ${amount} = r.${amount} + EXCLUDED.${amount}, invoice_count = r.invoice_count + EXCLUDED.invoice_count;`;
}

export const invoiceCols = 'i.tenant_id, i.entity_id, i.currency, i.billing_model, i.due_date, i.issue_date, i.status, i.open_balance_minor, i.total_minor';
export const fromRows = (table: string, sign: number) =>
  `SELECT ${sign} AS sign, ${invoiceCols}, c.segment, c.owner_user_id FROM ${table} i JOIN customers c ON c.id = i.customer_id`;

/** The trigger function over invoices' transition tables (`onUpdate`: the statements for an UPDATE, if not every row old and new). */
export const invoicesTriggerFunction = (striped: boolean, onUpdate = merge(`${fromRows('new_rows', 1)} UNION ALL ${fromRows('old_rows', -1)}`, striped)) => `
      CREATE OR REPLACE FUNCTION aging_rollups_from_invoices() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          ${merge(fromRows('new_rows', 1), striped)}
        ELSIF TG_OP = 'UPDATE' THEN
          ${onUpdate}
        ELSE
          ${merge(fromRows('old_rows', -1), striped)}
        END IF;
        RETURN NULL;
      END $$`;

/** A customer's new segment or owner moves its invoices between rollup keys. */
export const customerTriggerFunction = (striped: boolean) => `
      CREATE OR REPLACE FUNCTION aging_rollups_from_customer() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        ${merge(
          `SELECT x.sign, ${invoiceCols}, x.segment, x.owner_user_id FROM invoices i
      CROSS JOIN (VALUES (1, NEW.segment, NEW.owner_user_id), (-1, OLD.segment, OLD.owner_user_id)) x(sign, segment, owner_user_id)
      WHERE i.tenant_id = NEW.tenant_id AND i.customer_id = NEW.id`,
          striped,
        )}
        RETURN NULL;
      END $$`;

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

    await q.query(invoicesTriggerFunction(false));
    await q.query(`CREATE TRIGGER invoices_aging_insert AFTER INSERT ON invoices REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION aging_rollups_from_invoices()`);
    await q.query(`CREATE TRIGGER invoices_aging_update AFTER UPDATE ON invoices REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION aging_rollups_from_invoices()`);
    await q.query(`CREATE TRIGGER invoices_aging_delete AFTER DELETE ON invoices REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION aging_rollups_from_invoices()`);

    await q.query(customerTriggerFunction(false));
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
