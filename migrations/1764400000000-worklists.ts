import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Worklists (task lifecycle: snooze, outcome, source of each task; tenant scoring and assignment
 * rules), promises to pay (contact, channel, the day made, what was received), interactions
 * (notes, portal visits, replies) for the timeline.
 */
export class Worklists1764400000000 implements MigrationInterface {
  name = 'Worklists1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE tasks DROP CONSTRAINT IF EXISTS tasks_status_check`);
    await q.query(`ALTER TABLE tasks ADD CONSTRAINT tasks_status_check CHECK (status IN ('OPEN','SNOOZED','DONE','CANCELLED'))`);
    // Unapplied cash may not be tied to a customer yet; its task is still someone's work.
    await q.query(`ALTER TABLE tasks ALTER COLUMN customer_id DROP NOT NULL`);
    await q.query(`
      ALTER TABLE tasks
        ADD COLUMN source_kind varchar(24),
        ADD COLUMN source_id uuid,
        ADD COLUMN snoozed_until date,
        ADD COLUMN outcome varchar(24) CHECK (outcome IN ('REACHED','VOICEMAIL','PROMISED','DISPUTED','WRONG_CONTACT','PAID')),
        ADD COLUMN outcome_note varchar(2000),
        ADD COLUMN completed_on date,
        ADD COLUMN completed_at timestamptz,
        ADD COLUMN completed_by varchar(64),
        ADD COLUMN assignment_rule varchar(24),
        ADD COLUMN assigned_by varchar(64),
        ADD CONSTRAINT tasks_snooze_has_date CHECK (status <> 'SNOOZED' OR snoozed_until IS NOT NULL)`);
    await q.query(`UPDATE tasks SET source_kind = 'ACTION', source_id = source_action_id WHERE source_action_id IS NOT NULL`);
    // One task per thing that caused it (a broken promise, an unapplied payment, an approval request).
    await q.query(`CREATE UNIQUE INDEX tasks_source_idx ON tasks (tenant_id, source_kind, source_id) WHERE source_id IS NOT NULL`);
    await q.query(`CREATE INDEX tasks_open_idx ON tasks (tenant_id, status, owner_user_id) WHERE status IN ('OPEN','SNOOZED')`);
    await q.query(`CREATE INDEX tasks_customer_idx ON tasks (tenant_id, customer_id, completed_at DESC)`);

    await q.query(`
      CREATE TABLE worklist_rules (
        tenant_id uuid PRIMARY KEY REFERENCES tenants(id),
        rules jsonb NOT NULL,
        round_robin_seq bigint NOT NULL DEFAULT 0,
        updated_by varchar(64) NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      ALTER TABLE promises_to_pay
        ADD COLUMN contact_id uuid REFERENCES contacts(id),
        ADD COLUMN channel varchar(16) CHECK (channel IN ('CALL','EMAIL','SMS','PORTAL','LETTER','IN_PERSON')),
        ADD COLUMN made_on date,
        ADD COLUMN note varchar(2000),
        ADD COLUMN received_minor bigint CHECK (received_minor >= 0),
        ADD COLUMN resolved_on date`);
    await q.query(`CREATE INDEX promises_open_due_idx ON promises_to_pay (tenant_id, (promised_date + grace_days)) WHERE status = 'OPEN'`);
    await q.query(`CREATE INDEX promises_invoices_idx ON promises_to_pay USING gin (invoice_ids)`);
    await q.query(`
      CREATE TABLE promise_settings (
        tenant_id uuid PRIMARY KEY REFERENCES tenants(id),
        grace_days int NOT NULL CHECK (grace_days BETWEEN 0 AND 60),
        updated_by varchar(64) NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE interactions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        customer_id uuid NOT NULL REFERENCES customers(id),
        invoice_id uuid REFERENCES invoices(id),
        kind varchar(16) NOT NULL CHECK (kind IN ('NOTE','PORTAL_VISIT','REPLY')),
        body varchar(4000),
        occurred_on date NOT NULL,
        created_by varchar(64) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp())
      )`);
    await q.query(`CREATE INDEX interactions_customer_idx ON interactions (tenant_id, customer_id, created_at DESC)`);
    await q.query(`CREATE INDEX interactions_invoice_idx ON interactions (tenant_id, invoice_id) WHERE invoice_id IS NOT NULL`);
    await q.query(`CREATE INDEX IF NOT EXISTS payment_allocations_customer_idx ON payment_allocations (tenant_id, customer_id, created_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS payment_allocations_customer_idx`);
    await q.query(`DROP TABLE IF EXISTS interactions`);
    await q.query(`DROP TABLE IF EXISTS promise_settings`);
    await q.query(`DROP INDEX IF EXISTS promises_invoices_idx`);
    await q.query(`DROP INDEX IF EXISTS promises_open_due_idx`);
    await q.query(`ALTER TABLE promises_to_pay DROP COLUMN IF EXISTS contact_id, DROP COLUMN IF EXISTS channel, DROP COLUMN IF EXISTS made_on, DROP COLUMN IF EXISTS note, DROP COLUMN IF EXISTS received_minor, DROP COLUMN IF EXISTS resolved_on`);
    await q.query(`DROP TABLE IF EXISTS worklist_rules`);
    await q.query(`DROP INDEX IF EXISTS tasks_customer_idx`);
    await q.query(`DROP INDEX IF EXISTS tasks_open_idx`);
    await q.query(`DROP INDEX IF EXISTS tasks_source_idx`);
    await q.query(`UPDATE tasks SET status = 'OPEN' WHERE status = 'SNOOZED'`);
    await q.query(`ALTER TABLE tasks DROP CONSTRAINT IF EXISTS tasks_snooze_has_date`);
    await q.query(
      `ALTER TABLE tasks DROP COLUMN IF EXISTS source_kind, DROP COLUMN IF EXISTS source_id, DROP COLUMN IF EXISTS snoozed_until, DROP COLUMN IF EXISTS outcome, DROP COLUMN IF EXISTS outcome_note,
         DROP COLUMN IF EXISTS completed_on, DROP COLUMN IF EXISTS completed_at, DROP COLUMN IF EXISTS completed_by, DROP COLUMN IF EXISTS assignment_rule, DROP COLUMN IF EXISTS assigned_by`,
    );
    await q.query(`ALTER TABLE tasks DROP CONSTRAINT IF EXISTS tasks_status_check`);
    await q.query(`ALTER TABLE tasks ADD CONSTRAINT tasks_status_check CHECK (status IN ('OPEN','DONE','CANCELLED'))`);
  }
}
