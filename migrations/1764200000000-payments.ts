import type { MigrationInterface, QueryRunner } from 'typeorm';

const ACCOUNTS = `'AR','CASH','UNAPPLIED_CASH','CUSTOMER_CREDIT','WRITE_OFF_EXPENSE','DISCOUNTS','SALES_RETURNS','ADJUSTMENTS','REVENUE'`;
const RULES = `'BY_REFERENCE','EXACT_AMOUNT','OLDEST_FIRST','PROPORTIONAL','CUSTOM','MANUAL','SUGGESTION','CREDIT_MEMO'`;

/**
 * Payments, allocations, the unapplied-cash queue, memos and adjustments, minimal approval
 * requests, application rules, and the double-entry ledger whose lines must balance per entry.
 */
export class Payments1764200000000 implements MigrationInterface {
  name = 'Payments1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE payments (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        entity_id uuid REFERENCES legal_entities(id),
        source varchar(64) NOT NULL,
        external_id varchar(200) NOT NULL,
        method varchar(24) NOT NULL CHECK (method IN ('ACH','WIRE','CHECK','CARD','PORTAL','BATCH_SETTLEMENT')),
        currency char(3) NOT NULL,
        amount_minor bigint NOT NULL CHECK (amount_minor > 0),
        applied_minor bigint NOT NULL DEFAULT 0,
        unapplied_minor bigint NOT NULL,
        reversed_minor bigint NOT NULL DEFAULT 0,
        received_on date NOT NULL,
        customer_id uuid REFERENCES customers(id),
        payer_name varchar(300),
        payer_account varchar(100),
        remittance_text varchar(4000),
        remittance_refs text[] NOT NULL DEFAULT '{}',
        short_pay_reason varchar(500),
        deduction_code varchar(24),
        status varchar(24) NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING','UNAPPLIED','PARTIALLY_APPLIED','APPLIED','REVERSED')),
        attempts int NOT NULL DEFAULT 0,
        next_attempt_at timestamptz,
        applied_at timestamptz,
        reversal_reason varchar(24),
        reversal_note varchar(1000),
        reversed_at timestamptz,
        reversed_by varchar(64),
        created_by varchar(64) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, source, external_id),
        CONSTRAINT payments_conservation CHECK (applied_minor >= 0 AND unapplied_minor >= 0 AND reversed_minor >= 0 AND applied_minor + unapplied_minor + reversed_minor = amount_minor)
      )`);
    await q.query(`CREATE INDEX payments_list_idx ON payments (tenant_id, created_at DESC, id)`);
    await q.query(`CREATE INDEX payments_queue_idx ON payments (tenant_id, status, next_attempt_at) WHERE status IN ('PENDING','UNAPPLIED','PARTIALLY_APPLIED')`);
    await q.query(`CREATE INDEX payments_customer_idx ON payments (tenant_id, customer_id)`);
    await q.query(`CREATE INDEX payments_payer_name_idx ON payments (tenant_id, lower(payer_name)) WHERE customer_id IS NOT NULL AND payer_name IS NOT NULL`);
    await q.query(`CREATE INDEX payments_payer_account_idx ON payments (tenant_id, payer_account) WHERE payer_account IS NOT NULL`);

    await q.query(`
      CREATE TABLE payer_accounts (
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        account varchar(100) NOT NULL,
        customer_id uuid NOT NULL REFERENCES customers(id),
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, account)
      )`);

    await q.query(`
      CREATE TABLE ar_documents (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        kind varchar(16) NOT NULL CHECK (kind IN ('CREDIT_MEMO','DEBIT_MEMO','ADJUSTMENT','WRITE_OFF')),
        number varchar(100) NOT NULL,
        customer_id uuid NOT NULL REFERENCES customers(id),
        invoice_id uuid REFERENCES invoices(id),
        currency char(3) NOT NULL,
        amount_minor bigint NOT NULL CHECK (amount_minor <> 0),
        open_minor bigint NOT NULL DEFAULT 0 CHECK (open_minor >= 0),
        account varchar(32) CHECK (account IN (${ACCOUNTS})),
        reason varchar(1000) NOT NULL,
        created_by varchar(64) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, kind, number)
      )`);
    await q.query(`CREATE INDEX ar_documents_customer_idx ON ar_documents (tenant_id, customer_id, created_at DESC)`);

    await q.query(`
      CREATE TABLE payment_allocations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        payment_id uuid REFERENCES payments(id),
        credit_memo_id uuid REFERENCES ar_documents(id),
        invoice_id uuid NOT NULL REFERENCES invoices(id),
        customer_id uuid NOT NULL REFERENCES customers(id),
        amount_minor bigint NOT NULL CHECK (amount_minor > 0),
        currency char(3) NOT NULL,
        rule varchar(24) NOT NULL CHECK (rule IN (${RULES})),
        created_by varchar(64) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        reversed_at timestamptz,
        CHECK ((payment_id IS NULL) <> (credit_memo_id IS NULL))
      )`);
    await q.query(`CREATE INDEX payment_allocations_payment_idx ON payment_allocations (tenant_id, payment_id)`);
    await q.query(`CREATE INDEX payment_allocations_invoice_idx ON payment_allocations (tenant_id, invoice_id)`);

    await q.query(`
      CREATE TABLE payment_suggestions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        payment_id uuid NOT NULL REFERENCES payments(id),
        rank int NOT NULL,
        invoice_ids uuid[] NOT NULL,
        amount_minor bigint NOT NULL CHECK (amount_minor > 0),
        score int NOT NULL CHECK (score BETWEEN 0 AND 100),
        reason varchar(32) NOT NULL,
        detail varchar(500) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX payment_suggestions_payment_idx ON payment_suggestions (tenant_id, payment_id, rank)`);

    await q.query(`
      CREATE TABLE payment_application_rules (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        entity_id uuid REFERENCES legal_entities(id),
        strategies jsonb NOT NULL,
        before_hooks text[] NOT NULL DEFAULT '{}',
        after_hooks text[] NOT NULL DEFAULT '{}',
        updated_by varchar(64) NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX payment_rules_scope_idx ON payment_application_rules (tenant_id, COALESCE(entity_id, '00000000-0000-0000-0000-000000000000'::uuid))`);

    await q.query(`
      CREATE TABLE approval_requests (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        kind varchar(32) NOT NULL,
        subject_type varchar(32) NOT NULL,
        subject_id uuid NOT NULL,
        amount_minor bigint,
        currency char(3),
        payload jsonb NOT NULL DEFAULT '{}',
        reason varchar(1000) NOT NULL,
        status varchar(16) NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING','APPROVED','REJECTED')),
        requested_by varchar(64) NOT NULL,
        requested_at timestamptz NOT NULL DEFAULT now(),
        decided_by varchar(64),
        decided_at timestamptz,
        decision_note varchar(1000),
        CONSTRAINT approval_requester_never_decides CHECK (decided_by IS NULL OR decided_by <> requested_by)
      )`);
    await q.query(`CREATE INDEX approval_requests_status_idx ON approval_requests (tenant_id, status, requested_at DESC)`);

    await q.query(`
      CREATE TABLE journal_entries (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        entry_no bigint GENERATED ALWAYS AS IDENTITY,
        posted_on date NOT NULL,
        kind varchar(32) NOT NULL,
        source_type varchar(32) NOT NULL,
        source_id uuid NOT NULL,
        currency char(3) NOT NULL,
        memo varchar(500),
        created_by varchar(64) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX journal_entries_list_idx ON journal_entries (tenant_id, posted_on DESC, entry_no DESC)`);
    await q.query(`CREATE INDEX journal_entries_source_idx ON journal_entries (tenant_id, source_type, source_id)`);
    await q.query(`
      CREATE TABLE journal_lines (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        entry_id uuid NOT NULL REFERENCES journal_entries(id),
        account varchar(32) NOT NULL CHECK (account IN (${ACCOUNTS})),
        debit_minor bigint NOT NULL DEFAULT 0,
        credit_minor bigint NOT NULL DEFAULT 0,
        customer_id uuid,
        invoice_id uuid,
        CHECK (debit_minor >= 0 AND credit_minor >= 0 AND (debit_minor > 0) <> (credit_minor > 0))
      )`);
    await q.query(`CREATE INDEX journal_lines_entry_idx ON journal_lines (entry_id)`);
    await q.query(`CREATE INDEX journal_lines_account_idx ON journal_lines (tenant_id, account)`);
    // An entry is written whole in one INSERT; the statement fails unless every entry it touches balances.
    await q.query(`
      CREATE FUNCTION journal_lines_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE bad uuid;
      BEGIN
        -- An array (not a subquery) so that the lookup uses the entry index, whatever the table's size.
        SELECT l.entry_id INTO bad FROM journal_lines l
        WHERE l.entry_id = ANY (ARRAY(SELECT DISTINCT entry_id FROM new_lines))
        GROUP BY l.entry_id HAVING sum(l.debit_minor) <> sum(l.credit_minor) OR count(*) < 2 LIMIT 1;
        IF bad IS NOT NULL THEN
          RAISE EXCEPTION 'journal entry % does not balance (debits must equal credits)', bad USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER journal_lines_balance_check AFTER INSERT ON journal_lines REFERENCING NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION journal_lines_balanced()`);
    await q.query(`
      CREATE FUNCTION journal_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION '% is append-only: % refused (post a reversing entry instead)', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    for (const t of ['journal_entries', 'journal_lines']) {
      await q.query(`CREATE TRIGGER ${t}_no_update BEFORE UPDATE OR DELETE ON ${t} FOR EACH ROW EXECUTE FUNCTION journal_append_only()`);
      await q.query(`CREATE TRIGGER ${t}_no_truncate BEFORE TRUNCATE ON ${t} FOR EACH STATEMENT EXECUTE FUNCTION journal_append_only()`);
    }
    // Remittance references like "1042" find "INV-1042" across the tenant when the payer is unknown.
    await q.query(`CREATE INDEX invoices_number_digits_idx ON invoices (tenant_id, (ltrim(regexp_replace(number, '[^0-9]', '', 'g'), '0'))) WHERE status = 'OPEN'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS invoices_number_digits_idx`);
    for (const t of ['journal_lines', 'journal_entries', 'approval_requests', 'payment_application_rules', 'payment_suggestions', 'payment_allocations', 'ar_documents', 'payer_accounts', 'payments']) {
      await q.query(`DROP TABLE IF EXISTS ${t}`);
    }
    await q.query(`DROP FUNCTION IF EXISTS journal_lines_balanced()`);
    await q.query(`DROP FUNCTION IF EXISTS journal_append_only()`);
  }
}
