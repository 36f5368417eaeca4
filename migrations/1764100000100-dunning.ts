import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Dunning policies and versions, assignments, pauses, evaluation runs, the action outbox, tasks, disputes, promises. */
export class Dunning1764100000100 implements MigrationInterface {
  name = 'Dunning1764100000100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE customers ADD COLUMN collections_status varchar(32), ADD COLUMN account_flags text[] NOT NULL DEFAULT '{}'`);
    await q.query(`ALTER TABLE invoices ADD COLUMN closed_on date`);
    await q.query(`
      CREATE TABLE dunning_policies (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        name varchar(200) NOT NULL,
        description varchar(2000),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, name)
      )`);
    await q.query(`
      CREATE TABLE dunning_policy_versions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        policy_id uuid NOT NULL REFERENCES dunning_policies(id),
        version int NOT NULL,
        status varchar(16) NOT NULL DEFAULT 'DRAFT' CHECK (status IN ('DRAFT','PUBLISHED','RETIRED')),
        definition jsonb NOT NULL,
        created_by varchar(64) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (policy_id, version)
      )`);
    await q.query(`CREATE UNIQUE INDEX dunning_policy_one_draft ON dunning_policy_versions (policy_id) WHERE status = 'DRAFT'`);
    await q.query(`
      CREATE TABLE dunning_policy_publications (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        policy_id uuid NOT NULL REFERENCES dunning_policies(id),
        version_id uuid NOT NULL REFERENCES dunning_policy_versions(id),
        effective_from date NOT NULL,
        published_by varchar(64) NOT NULL,
        published_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX dunning_publications_policy_idx ON dunning_policy_publications (tenant_id, policy_id, effective_from DESC, published_at DESC)`);
    await q.query(`
      CREATE TABLE policy_assignments (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        policy_id uuid NOT NULL REFERENCES dunning_policies(id),
        scope varchar(16) NOT NULL CHECK (scope IN ('GLOBAL','SEGMENT','TIER','COUNTRY','CUSTOMER')),
        scope_value varchar(128) NOT NULL DEFAULT '',
        created_by varchar(64) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, scope, scope_value)
      )`);
    await q.query(`
      CREATE TABLE dunning_pauses (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        customer_id uuid NOT NULL REFERENCES customers(id),
        kind varchar(16) NOT NULL CHECK (kind IN ('PAUSE','EXCLUSION')),
        reason varchar(500) NOT NULL,
        until date,
        created_by varchar(64) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        ended_at timestamptz,
        ended_by varchar(64)
      )`);
    await q.query(`CREATE UNIQUE INDEX dunning_pauses_one_active ON dunning_pauses (tenant_id, customer_id) WHERE ended_at IS NULL`);
    await q.query(`
      CREATE TABLE customer_escalations (
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        customer_id uuid NOT NULL REFERENCES customers(id),
        policy_version_id uuid NOT NULL REFERENCES dunning_policy_versions(id),
        tier int NOT NULL,
        entered_on date NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, customer_id)
      )`);
    await q.query(`
      CREATE TABLE evaluation_runs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        as_of date NOT NULL,
        trigger varchar(16) NOT NULL CHECK (trigger IN ('DAILY','EVENT','MANUAL')),
        status varchar(16) NOT NULL DEFAULT 'RUNNING' CHECK (status IN ('RUNNING','DONE','FAILED')),
        customers int NOT NULL DEFAULT 0,
        invoices int NOT NULL DEFAULT 0,
        actions_created int NOT NULL DEFAULT 0,
        outcomes jsonb NOT NULL DEFAULT '{}',
        pending_batches int NOT NULL DEFAULT 0,
        error varchar(2000),
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        duration_ms int
      )`);
    await q.query(`CREATE INDEX evaluation_runs_tenant_idx ON evaluation_runs (tenant_id, started_at DESC)`);
    await q.query(`
      CREATE TABLE evaluation_run_batches (
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        run_id uuid NOT NULL REFERENCES evaluation_runs(id),
        batch_no int NOT NULL,
        done_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (run_id, batch_no)
      )`);
    await q.query(`
      CREATE TABLE actions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        idempotency_key varchar(300) NOT NULL,
        customer_id uuid NOT NULL REFERENCES customers(id),
        invoice_id uuid REFERENCES invoices(id),
        policy_version_id uuid NOT NULL REFERENCES dunning_policy_versions(id),
        evaluation_run_id uuid REFERENCES evaluation_runs(id),
        kind varchar(16) NOT NULL CHECK (kind IN ('STEP','TIER_ENTRY')),
        step_key varchar(64),
        step_offset int,
        tier int,
        action_type varchar(32),
        channels text[] NOT NULL DEFAULT '{}',
        template_key varchar(64),
        mode varchar(16) NOT NULL CHECK (mode IN ('AUTO','APPROVAL')),
        status varchar(24) NOT NULL CHECK (status IN ('PLANNED','AWAITING_APPROVAL','SENDING','SENT','CANCELLED','SUPPRESSED','FAILED')),
        reason jsonb NOT NULL,
        amount_due_minor bigint,
        currency char(3),
        scheduled_for date NOT NULL,
        packet jsonb,
        message_override jsonb,
        attempts int NOT NULL DEFAULT 0,
        next_attempt_at timestamptz,
        last_error varchar(2000),
        status_reason varchar(500),
        decided_by varchar(64),
        decided_at timestamptz,
        sent_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, idempotency_key)
      )`);
    await q.query(`CREATE INDEX actions_due_idx ON actions (tenant_id, scheduled_for) WHERE status = 'PLANNED'`);
    await q.query(`CREATE INDEX actions_invoice_idx ON actions (tenant_id, invoice_id)`);
    await q.query(`CREATE INDEX actions_customer_idx ON actions (tenant_id, customer_id, created_at DESC)`);
    await q.query(`
      CREATE TABLE tasks (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        customer_id uuid NOT NULL REFERENCES customers(id),
        invoice_id uuid REFERENCES invoices(id),
        owner_user_id uuid REFERENCES users(id),
        reason_code varchar(48) NOT NULL,
        next_action varchar(500) NOT NULL,
        priority int NOT NULL DEFAULT 0,
        due_date date,
        status varchar(16) NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN','DONE','CANCELLED')),
        source_action_id uuid REFERENCES actions(id),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX tasks_source_action_idx ON tasks (tenant_id, source_action_id) WHERE source_action_id IS NOT NULL`);
    await q.query(`CREATE INDEX tasks_owner_idx ON tasks (tenant_id, owner_user_id, status)`);
    await q.query(`
      CREATE TABLE disputes (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        customer_id uuid NOT NULL REFERENCES customers(id),
        invoice_id uuid NOT NULL REFERENCES invoices(id),
        line_ids uuid[] NOT NULL DEFAULT '{}',
        reason_code varchar(24) NOT NULL CHECK (reason_code IN ('PRICING','QUANTITY','NOT_RECEIVED','DUPLICATE','TAX','SERVICE','OTHER')),
        amount_minor bigint NOT NULL CHECK (amount_minor >= 0),
        currency char(3) NOT NULL,
        detail varchar(4000),
        status varchar(24) NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN','AWAITING_CUSTOMER','UNDER_REVIEW','RESOLVED')),
        resolution varchar(24),
        opened_by varchar(64) NOT NULL,
        opened_at timestamptz NOT NULL DEFAULT now(),
        resolved_at timestamptz
      )`);
    await q.query(`CREATE INDEX disputes_invoice_idx ON disputes (tenant_id, invoice_id)`);
    await q.query(`CREATE INDEX disputes_customer_idx ON disputes (tenant_id, customer_id)`);
    await q.query(`
      CREATE TABLE promises_to_pay (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        customer_id uuid NOT NULL REFERENCES customers(id),
        invoice_ids uuid[] NOT NULL,
        amount_minor bigint NOT NULL CHECK (amount_minor > 0),
        currency char(3) NOT NULL,
        promised_date date NOT NULL,
        grace_days int NOT NULL DEFAULT 3,
        status varchar(16) NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN','KEPT','PARTIALLY_KEPT','BROKEN')),
        created_by varchar(64) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        resolved_at timestamptz
      )`);
    await q.query(`CREATE INDEX promises_customer_idx ON promises_to_pay (tenant_id, customer_id, status)`);
    await q.query(`
      CREATE TABLE connector_calls (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        connector varchar(32) NOT NULL,
        operation varchar(64) NOT NULL,
        idempotency_key varchar(300) NOT NULL,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, connector, idempotency_key)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['connector_calls', 'promises_to_pay', 'disputes', 'tasks', 'actions', 'evaluation_run_batches', 'evaluation_runs', 'customer_escalations', 'dunning_pauses', 'policy_assignments', 'dunning_policy_publications', 'dunning_policy_versions', 'dunning_policies']) {
      await q.query(`DROP TABLE IF EXISTS ${t} CASCADE`);
    }
    await q.query(`ALTER TABLE invoices DROP COLUMN IF EXISTS closed_on`);
    await q.query(`ALTER TABLE customers DROP COLUMN IF EXISTS collections_status, DROP COLUMN IF EXISTS account_flags`);
  }
}
