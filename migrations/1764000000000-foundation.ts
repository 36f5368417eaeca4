import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Tenancy, API keys, users, legal entities, customers, contacts, invoices and lines, audit. */
export class Foundation1764000000000 implements MigrationInterface {
  name = 'Foundation1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE EXTENSION IF NOT EXISTS pgcrypto`);
    await q.query(`
      CREATE TABLE tenants (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name varchar(200) NOT NULL,
        timezone varchar(64) NOT NULL,
        functional_currency char(3) NOT NULL,
        parent_tenant_id uuid REFERENCES tenants(id),
        last_heartbeat_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        name varchar(200) NOT NULL,
        role varchar(16) NOT NULL CHECK (role IN ('VIEWER','COLLECTOR','MANAGER','ADMIN')),
        partner boolean NOT NULL DEFAULT false,
        prefix varchar(32) NOT NULL,
        key_hash char(64) NOT NULL UNIQUE,
        created_by varchar(64),
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        revoked_at timestamptz
      )`);
    await q.query(`CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id)`);
    await q.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        name varchar(200) NOT NULL,
        email varchar(320) NOT NULL,
        role varchar(16) NOT NULL CHECK (role IN ('COLLECTOR','MANAGER','DIRECTOR','ADMIN')),
        active boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, email)
      )`);
    await q.query(`
      CREATE TABLE legal_entities (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        code varchar(64) NOT NULL,
        name varchar(200) NOT NULL,
        currency char(3) NOT NULL,
        country char(2),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, code)
      )`);
    await q.query(`
      CREATE TABLE customers (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        external_id varchar(128) NOT NULL,
        entity_id uuid NOT NULL REFERENCES legal_entities(id),
        name varchar(300) NOT NULL,
        segment varchar(64),
        tier varchar(64),
        country char(2),
        locale varchar(16) NOT NULL DEFAULT 'en',
        currency char(3) NOT NULL,
        owner_user_id uuid REFERENCES users(id),
        credit_limit_minor bigint CHECK (credit_limit_minor >= 0),
        credit_hold boolean NOT NULL DEFAULT false,
        portal_status varchar(16) NOT NULL DEFAULT 'NONE',
        renewal_date date,
        source_hash char(40),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, external_id)
      )`);
    await q.query(`CREATE INDEX customers_tenant_entity_idx ON customers (tenant_id, entity_id)`);
    await q.query(`CREATE INDEX customers_tenant_owner_idx ON customers (tenant_id, owner_user_id)`);
    await q.query(`CREATE INDEX customers_tenant_segment_idx ON customers (tenant_id, segment)`);
    await q.query(`CREATE INDEX customers_tenant_name_idx ON customers (tenant_id, lower(name))`);
    await q.query(`
      CREATE TABLE contacts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        customer_id uuid NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
        name varchar(200) NOT NULL,
        email varchar(320),
        phone varchar(40),
        role varchar(32) NOT NULL DEFAULT 'BILLING',
        is_primary boolean NOT NULL DEFAULT false,
        channel_preference varchar(16) NOT NULL DEFAULT 'EMAIL',
        position int NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX contacts_customer_idx ON contacts (tenant_id, customer_id)`);
    await q.query(`
      CREATE TABLE invoices (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        external_id varchar(128) NOT NULL,
        entity_id uuid NOT NULL REFERENCES legal_entities(id),
        customer_id uuid NOT NULL REFERENCES customers(id),
        number varchar(64) NOT NULL,
        issue_date date NOT NULL,
        terms_kind varchar(16) NOT NULL CHECK (terms_kind IN ('NET','EOM_PLUS','DUE_ON_RECEIPT','EXPLICIT')),
        terms_days int NOT NULL DEFAULT 0 CHECK (terms_days >= 0),
        due_date date NOT NULL CHECK (due_date >= issue_date),
        billing_model varchar(16) NOT NULL DEFAULT 'SERVICES' CHECK (billing_model IN ('SUBSCRIPTION','USAGE','SERVICES')),
        reconciliation_hold boolean NOT NULL DEFAULT false,
        currency char(3) NOT NULL,
        total_minor bigint NOT NULL CHECK (total_minor >= 0),
        open_balance_minor bigint NOT NULL CHECK (open_balance_minor >= 0 AND open_balance_minor <= total_minor),
        status varchar(16) NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN','PAID','VOID','WRITTEN_OFF')),
        po_number varchar(64),
        void_reason varchar(500),
        voided_at timestamptz,
        source_hash char(40),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, external_id)
      )`);
    await q.query(`CREATE INDEX invoices_tenant_due_idx ON invoices (tenant_id, due_date, id)`);
    await q.query(`CREATE INDEX invoices_tenant_open_due_idx ON invoices (tenant_id, due_date, id) WHERE status = 'OPEN'`);
    await q.query(`CREATE INDEX invoices_tenant_customer_idx ON invoices (tenant_id, customer_id)`);
    await q.query(`CREATE INDEX invoices_tenant_entity_due_idx ON invoices (tenant_id, entity_id, due_date)`);
    await q.query(`CREATE INDEX invoices_tenant_number_idx ON invoices (tenant_id, lower(number))`);
    await q.query(`
      CREATE TABLE invoice_lines (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        invoice_id uuid NOT NULL REFERENCES invoices(id) ON DELETE CASCADE,
        line_no int NOT NULL,
        external_id varchar(128),
        description varchar(500) NOT NULL,
        quantity numeric(18,4) NOT NULL DEFAULT 1,
        unit_price_minor bigint NOT NULL,
        amount_minor bigint NOT NULL,
        UNIQUE (invoice_id, line_no)
      )`);
    await q.query(`CREATE INDEX invoice_lines_tenant_invoice_idx ON invoice_lines (tenant_id, invoice_id)`);
    await q.query(`
      CREATE TABLE audit_events (
        id bigserial PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        occurred_at timestamptz NOT NULL DEFAULT now(),
        actor_kind varchar(16) NOT NULL,
        actor_id varchar(64) NOT NULL,
        action varchar(64) NOT NULL,
        subject_type varchar(64) NOT NULL,
        subject_id varchar(128) NOT NULL,
        data jsonb NOT NULL DEFAULT '{}',
        request_id varchar(64)
      )`);
    await q.query(`CREATE INDEX audit_events_subject_idx ON audit_events (tenant_id, subject_type, subject_id, id)`);
    await q.query(`
      CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`
      CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
      FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()`);
    await q.query(`
      CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
      FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['audit_events', 'invoice_lines', 'invoices', 'contacts', 'customers', 'legal_entities', 'users', 'api_keys', 'tenants']) {
      await q.query(`DROP TABLE IF EXISTS ${t} CASCADE`);
    }
    await q.query(`DROP FUNCTION IF EXISTS audit_events_append_only()`);
  }
}
