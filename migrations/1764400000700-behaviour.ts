import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Payment behaviour, segmentation, recommendations and backtests: one row of statistics per
 * customer (recomputed by a daily job and on demand), the tenant's ordered segmentation rules,
 * each customer's segment assignment with its reason (or a manual override with its expiry),
 * recommendations with their evidence, and backtest runs with their progress and results.
 */
export class Behaviour1764400000700 implements MigrationInterface {
  name = 'Behaviour1764400000700';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE customer_behaviour (
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        customer_id uuid NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
        as_of date NOT NULL,
        paid_invoices int NOT NULL,
        late_invoices int NOT NULL,
        days_to_pay_mean double precision,
        days_to_pay_median double precision,
        days_to_pay_p90 double precision,
        days_late_mean double precision,
        days_late_median double precision,
        days_late_p90 double precision,
        paid_after_step jsonb NOT NULL DEFAULT '[]',
        promises_resolved int NOT NULL DEFAULT 0,
        promise_kept_rate double precision,
        invoices_due int NOT NULL DEFAULT 0,
        disputed_invoices int NOT NULL DEFAULT 0,
        dispute_rate double precision,
        recent_days_late_mean double precision,
        prior_days_late_mean double precision,
        trend varchar(24) NOT NULL,
        open_balance_minor bigint NOT NULL DEFAULT 0,
        overdue_balance_minor bigint NOT NULL DEFAULT 0,
        max_days_past_due int,
        invoiced_365_minor bigint NOT NULL DEFAULT 0,
        currency char(3) NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, customer_id)
      )`);
    await q.query(`
      CREATE TABLE segmentation_rule_sets (
        tenant_id uuid PRIMARY KEY REFERENCES tenants(id),
        rules jsonb NOT NULL,
        updated_by varchar(64) NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE customer_segments (
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        customer_id uuid NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
        segment varchar(64),
        source varchar(16) NOT NULL CHECK (source IN ('RULE','OVERRIDE','NONE')),
        rule_name varchar(120),
        reason jsonb NOT NULL,
        base_segment varchar(64),
        assigned_on date NOT NULL,
        override_until date,
        override_reason varchar(1000),
        overridden_by varchar(64),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, customer_id)
      )`);
    await q.query(`
      CREATE TABLE recommendations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        key varchar(300) NOT NULL,
        kind varchar(24) NOT NULL CHECK (kind IN ('START_AT_STEP','PERSONAL_OUTREACH','STEP_TIMING')),
        customer_id uuid REFERENCES customers(id) ON DELETE CASCADE,
        policy_id uuid REFERENCES dunning_policies(id),
        title varchar(500) NOT NULL,
        evidence jsonb NOT NULL,
        proposal jsonb NOT NULL,
        status varchar(16) NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN','APPLIED','STALE')),
        generated_on date NOT NULL,
        applied_policy_id uuid REFERENCES dunning_policies(id),
        applied_version_id uuid REFERENCES dunning_policy_versions(id),
        applied_by varchar(64),
        applied_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, key)
      )`);
    await q.query(`CREATE INDEX recommendations_list_idx ON recommendations (tenant_id, status, created_at DESC)`);
    await q.query(`
      CREATE TABLE backtest_runs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        policy_id uuid NOT NULL REFERENCES dunning_policies(id),
        version_id uuid REFERENCES dunning_policy_versions(id),
        definition jsonb,
        from_date date NOT NULL,
        to_date date NOT NULL CHECK (to_date >= from_date),
        status varchar(16) NOT NULL CHECK (status IN ('QUEUED','RUNNING','DONE','FAILED')),
        percent_done double precision NOT NULL DEFAULT 0,
        customers_total int,
        customers_done int NOT NULL DEFAULT 0,
        model jsonb,
        result jsonb,
        error varchar(2000),
        created_by varchar(64) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz
      )`);
    await q.query(`CREATE INDEX backtest_runs_list_idx ON backtest_runs (tenant_id, created_at DESC, id)`);
    // The behaviour refresh looks up the last reminder sent before each payment.
    await q.query(`CREATE INDEX IF NOT EXISTS actions_step_sent_idx ON actions (tenant_id, invoice_id, scheduled_for) WHERE kind = 'STEP' AND status = 'SENT'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS actions_step_sent_idx`);
    await q.query(`DROP TABLE IF EXISTS backtest_runs`);
    await q.query(`DROP TABLE IF EXISTS recommendations`);
    await q.query(`DROP TABLE IF EXISTS customer_segments`);
    await q.query(`DROP TABLE IF EXISTS segmentation_rule_sets`);
    await q.query(`DROP TABLE IF EXISTS customer_behaviour`);
  }
}
