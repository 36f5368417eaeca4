import type { MigrationInterface, QueryRunner } from 'typeorm';

const DISPUTE_STATUSES = `'SUGGESTED','OPEN','AWAITING_CUSTOMER','UNDER_REVIEW','RESOLVED','DISMISSED'`;
const APPROVAL_KINDS = `'WRITE_OFF','CREDIT_HOLD','CREDIT_HOLD_RELEASE','CREDIT_MEMO','POLICY_PUBLISH','MANUAL_OVERRIDE'`;

/**
 * Disputes with routing, SLAs, nudges and resolutions; approval rules, kinds and expiry; the
 * per-tenant hash chain over audit events, sealed asynchronously (docs/decisions/015-audit-hash-chain.md).
 */
export class DisputesApprovalsAudit1764400000100 implements MigrationInterface {
  name = 'DisputesApprovalsAudit1764400000100';

  async up(q: QueryRunner): Promise<void> {
    // Disputes: suggested ones (from inbound replies) wait for a person; dismissed ones never paused anything.
    await q.query(`ALTER TABLE disputes DROP CONSTRAINT IF EXISTS disputes_status_check`);
    await q.query(`ALTER TABLE disputes ADD CONSTRAINT disputes_status_check CHECK (status IN (${DISPUTE_STATUSES}))`);
    await q.query(`
      ALTER TABLE disputes
        ADD COLUMN owner_user_id uuid REFERENCES users(id),
        ADD COLUMN raised_on date,
        ADD COLUMN sla_due_on date,
        ADD COLUMN nudge_due_on date,
        ADD COLUMN nudged_at timestamptz,
        ADD COLUMN source varchar(24) NOT NULL DEFAULT 'MANUAL' CHECK (source IN ('MANUAL','INBOUND','SHORT_PAY')),
        ADD COLUMN resolution_note varchar(1000),
        ADD COLUMN resolved_by varchar(64),
        ADD COLUMN credit_memo_id uuid,
        ADD COLUMN approval_request_id uuid,
        ADD COLUMN confirmed_by varchar(64),
        ADD COLUMN confirmed_at timestamptz,
        ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now()`);
    await q.query(`UPDATE disputes SET raised_on = opened_at::date WHERE raised_on IS NULL`);
    await q.query(`ALTER TABLE disputes ALTER COLUMN raised_on SET NOT NULL, ALTER COLUMN raised_on SET DEFAULT CURRENT_DATE`);
    await q.query(`CREATE INDEX disputes_list_idx ON disputes (tenant_id, opened_at DESC, id DESC)`);
    await q.query(`CREATE INDEX disputes_nudge_idx ON disputes (tenant_id, customer_id, nudge_due_on) WHERE nudged_at IS NULL AND status IN ('OPEN','AWAITING_CUSTOMER')`);
    await q.query(`
      CREATE TABLE dispute_settings (
        tenant_id uuid PRIMARY KEY REFERENCES tenants(id),
        nudge_after_days int NOT NULL DEFAULT 7 CHECK (nudge_after_days BETWEEN 1 AND 365),
        routing jsonb NOT NULL DEFAULT '{}',
        sla_days jsonb NOT NULL DEFAULT '{}',
        updated_by varchar(64) NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);

    // The outbox carries dispute nudges too: they belong to no policy version.
    await q.query(`ALTER TABLE actions ALTER COLUMN policy_version_id DROP NOT NULL`);
    await q.query(`ALTER TABLE actions DROP CONSTRAINT IF EXISTS actions_kind_check`);
    await q.query(`ALTER TABLE actions ADD CONSTRAINT actions_kind_check CHECK (kind IN ('STEP','TIER_ENTRY','DISPUTE_NUDGE'))`);
    await q.query(`ALTER TABLE actions ADD CONSTRAINT actions_policy_version_required CHECK (kind = 'DISPUTE_NUDGE' OR policy_version_id IS NOT NULL)`);

    // Approvals: kinds, expiry, the rule that applied, and tenant rules.
    await q.query(`ALTER TABLE approval_requests DROP CONSTRAINT IF EXISTS approval_requests_status_check`);
    await q.query(`ALTER TABLE approval_requests ADD CONSTRAINT approval_requests_status_check CHECK (status IN ('PENDING','APPROVED','REJECTED','EXPIRED'))`);
    await q.query(`ALTER TABLE approval_requests ADD CONSTRAINT approval_requests_kind_check CHECK (kind IN (${APPROVAL_KINDS}))`);
    await q.query(`
      ALTER TABLE approval_requests
        ADD COLUMN required_role varchar(16) NOT NULL DEFAULT 'MANAGER' CHECK (required_role IN ('MANAGER','ADMIN')),
        ADD COLUMN expires_at timestamptz,
        ADD COLUMN rule jsonb,
        ADD COLUMN decided_by_kind varchar(16) CHECK (decided_by_kind IN ('api_key','system','rule'))`);
    await q.query(`CREATE INDEX approval_requests_expiry_idx ON approval_requests (tenant_id, expires_at) WHERE status = 'PENDING'`);
    await q.query(`CREATE INDEX approval_requests_list_idx ON approval_requests (tenant_id, requested_at DESC, id DESC)`);
    await q.query(`CREATE UNIQUE INDEX approval_requests_one_per_action ON approval_requests (tenant_id, kind, (payload->>'actionId')) WHERE payload ? 'actionId'`);
    await q.query(`
      CREATE TABLE approval_rules (
        tenant_id uuid PRIMARY KEY REFERENCES tenants(id),
        rules jsonb NOT NULL,
        updated_by varchar(64) NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);

    // Audit: the inserting transaction id orders sealing (every transaction below the oldest
    // running one has finished, so the set of events below that horizon is final).
    await q.query(`ALTER TABLE audit_events ADD COLUMN txid bigint NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE audit_events ALTER COLUMN txid SET DEFAULT (pg_current_xact_id()::text::bigint)`);
    await q.query(`CREATE INDEX audit_events_seal_idx ON audit_events (tenant_id, txid, id)`);
    await q.query(`CREATE INDEX audit_events_tenant_idx ON audit_events (tenant_id, id DESC)`);
    await q.query(`CREATE INDEX audit_events_actor_idx ON audit_events (tenant_id, actor_id, id DESC)`);
    await q.query(`CREATE INDEX audit_events_action_idx ON audit_events (tenant_id, action, id DESC)`);
    await q.query(`
      CREATE TABLE audit_chain (
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        seq bigint NOT NULL,
        event_id bigint NOT NULL UNIQUE REFERENCES audit_events(id),
        prev_hash char(64) NOT NULL,
        hash char(64) NOT NULL,
        sealed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, seq)
      )`);
    await q.query(`
      CREATE FUNCTION audit_chain_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_chain is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`CREATE TRIGGER audit_chain_no_update BEFORE UPDATE OR DELETE ON audit_chain FOR EACH ROW EXECUTE FUNCTION audit_chain_append_only()`);
    await q.query(`CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON audit_chain FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_append_only()`);
    // The sealer's bookmark: a cache of the chain's head, never trusted by verification.
    await q.query(`
      CREATE TABLE audit_chain_heads (
        tenant_id uuid PRIMARY KEY REFERENCES tenants(id),
        seq bigint NOT NULL,
        hash char(64) NOT NULL,
        sealed_below_txid bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS audit_chain_heads`);
    await q.query(`DROP TABLE IF EXISTS audit_chain`);
    await q.query(`DROP FUNCTION IF EXISTS audit_chain_append_only()`);
    for (const i of ['audit_events_seal_idx', 'audit_events_tenant_idx', 'audit_events_actor_idx', 'audit_events_action_idx']) await q.query(`DROP INDEX IF EXISTS ${i}`);
    await q.query(`ALTER TABLE audit_events DROP COLUMN IF EXISTS txid`);
    await q.query(`DROP TABLE IF EXISTS approval_rules`);
    await q.query(`DROP TABLE IF EXISTS dispute_settings`);
  }
}
