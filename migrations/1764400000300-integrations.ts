import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Integrations: connections (credentials encrypted at rest), a cursor per connection and
 * stream, sync runs with counts and errors, the write-back outbox (one row per idempotency
 * key, reconciled with the target before a retry), file and bank-statement import logs, and
 * outbound webhooks (endpoints with an encrypted signing secret, events deduplicated by key,
 * one delivery row per endpoint and event, replays as new rows).
 */
export class Integrations1764400000300 implements MigrationInterface {
  name = 'Integrations1764400000300';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE integration_connections (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        kind varchar(32) NOT NULL,
        name varchar(200) NOT NULL,
        config jsonb NOT NULL DEFAULT '{}',
        credentials_enc text,
        active boolean NOT NULL DEFAULT true,
        last_sync_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT integration_connections_name_key UNIQUE (tenant_id, name)
      )`);
    await q.query(`
      CREATE TABLE sync_cursors (
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        connection_id uuid NOT NULL REFERENCES integration_connections(id) ON DELETE CASCADE,
        stream varchar(32) NOT NULL,
        cursor text,
        done boolean NOT NULL DEFAULT false,
        pages int NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (connection_id, stream)
      )`);
    await q.query(`
      CREATE TABLE sync_runs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        connection_id uuid NOT NULL REFERENCES integration_connections(id) ON DELETE CASCADE,
        trigger varchar(16) NOT NULL,
        status varchar(16) NOT NULL,
        attempts int NOT NULL DEFAULT 0,
        pages int NOT NULL DEFAULT 0,
        counts jsonb NOT NULL DEFAULT '{}',
        errors jsonb NOT NULL DEFAULT '[]',
        next_retry_at timestamptz,
        started_at timestamptz,
        finished_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX sync_runs_connection_idx ON sync_runs (tenant_id, connection_id, created_at DESC)`);
    // At most one queued or running sync per connection.
    await q.query(`CREATE UNIQUE INDEX sync_runs_one_active ON sync_runs (connection_id) WHERE status IN ('QUEUED','RUNNING','RETRYING')`);
    await q.query(`
      CREATE TABLE writeback_outbox (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        connection_id uuid NOT NULL REFERENCES integration_connections(id) ON DELETE CASCADE,
        operation varchar(32) NOT NULL,
        idempotency_key varchar(300) NOT NULL,
        payload jsonb NOT NULL,
        status varchar(16) NOT NULL DEFAULT 'PENDING',
        attempts int NOT NULL DEFAULT 0,
        outcome_unknown boolean NOT NULL DEFAULT false,
        reconciled boolean NOT NULL DEFAULT false,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        applied_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT writeback_outbox_key UNIQUE (tenant_id, connection_id, idempotency_key)
      )`);
    await q.query(`
      CREATE TABLE file_imports (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        kind varchar(32) NOT NULL,
        format varchar(16) NOT NULL,
        mode varchar(16) NOT NULL,
        dry_run boolean NOT NULL,
        committed boolean NOT NULL,
        total_rows int NOT NULL,
        imported_rows int NOT NULL,
        failed_rows int NOT NULL,
        summary jsonb NOT NULL DEFAULT '{}',
        created_by varchar(64) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX file_imports_tenant_idx ON file_imports (tenant_id, created_at DESC)`);
    await q.query(`
      CREATE TABLE webhook_endpoints (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        url varchar(2000) NOT NULL,
        description varchar(500),
        event_types text[] NOT NULL,
        secret_enc text NOT NULL,
        secret_hint varchar(16) NOT NULL,
        active boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE webhook_events (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        type varchar(64) NOT NULL,
        dedupe_key varchar(300) NOT NULL,
        payload jsonb NOT NULL,
        occurred_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT webhook_events_dedupe UNIQUE (tenant_id, dedupe_key)
      )`);
    await q.query(`
      CREATE TABLE webhook_deliveries (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        endpoint_id uuid NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
        event_id uuid NOT NULL REFERENCES webhook_events(id),
        replay_of uuid REFERENCES webhook_deliveries(id),
        status varchar(16) NOT NULL DEFAULT 'PENDING',
        attempts int NOT NULL DEFAULT 0,
        last_status_code int,
        last_error text,
        next_attempt_at timestamptz,
        delivered_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX webhook_deliveries_once ON webhook_deliveries (endpoint_id, event_id) WHERE replay_of IS NULL`);
    await q.query(`CREATE INDEX webhook_deliveries_tenant_idx ON webhook_deliveries (tenant_id, created_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['webhook_deliveries', 'webhook_events', 'webhook_endpoints', 'file_imports', 'writeback_outbox', 'sync_runs', 'sync_cursors', 'integration_connections']) {
      await q.query(`DROP TABLE IF EXISTS ${t} CASCADE`);
    }
  }
}
