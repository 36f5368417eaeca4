import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Inbound replies: each inbound email stored once per tenant and Message-ID (the raw MIME kept
 * for reprocessing), how it was threaded (In-Reply-To / References to our outbound Message-IDs,
 * the sender's contact address, invoice numbers in the text, or a person), what the classifier
 * found, and the suggestions (disputes, promises to pay) that wait for a person.
 */
export class InboundEmail1764400000600 implements MigrationInterface {
  name = 'InboundEmail1764400000600';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE inbound_messages (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        message_id varchar(998) NOT NULL,
        in_reply_to varchar(998),
        "references" text[] NOT NULL DEFAULT '{}',
        from_address varchar(320),
        from_name varchar(500),
        to_addresses text[] NOT NULL DEFAULT '{}',
        subject varchar(2000),
        text_body text,
        sent_at timestamptz,
        received_on date NOT NULL,
        status varchar(16) NOT NULL CHECK (status IN ('MATCHED','UNMATCHED','ASSIGNED')),
        match_method varchar(16) CHECK (match_method IN ('IN_REPLY_TO','REFERENCES','SENDER','INVOICE_NUMBER','MANUAL')),
        match_note varchar(500),
        customer_id uuid REFERENCES customers(id),
        invoice_ids uuid[] NOT NULL DEFAULT '{}',
        action_id uuid REFERENCES actions(id),
        contact_id uuid REFERENCES contacts(id),
        auto_reply boolean NOT NULL DEFAULT false,
        auto_reply_reason varchar(500),
        classification jsonb NOT NULL DEFAULT '{}',
        interaction_id uuid REFERENCES interactions(id),
        raw_mime bytea NOT NULL,
        raw_sha256 char(64) NOT NULL,
        received_by varchar(64) NOT NULL,
        assigned_by varchar(64),
        assigned_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT inbound_messages_message_id_key UNIQUE (tenant_id, message_id),
        CONSTRAINT inbound_messages_matched_has_customer CHECK (status = 'UNMATCHED' OR customer_id IS NOT NULL)
      )`);
    await q.query(`CREATE INDEX inbound_messages_status_idx ON inbound_messages (tenant_id, status, created_at DESC)`);
    await q.query(`CREATE INDEX inbound_messages_customer_idx ON inbound_messages (tenant_id, customer_id, created_at DESC) WHERE customer_id IS NOT NULL`);
    await q.query(`CREATE INDEX inbound_messages_invoices_idx ON inbound_messages USING gin (invoice_ids)`);
    // Threading by sender: contacts looked up by address, case-insensitively.
    await q.query(`CREATE INDEX IF NOT EXISTS contacts_email_lower_idx ON contacts (tenant_id, lower(email)) WHERE email IS NOT NULL`);
    await q.query(`
      CREATE TABLE inbound_suggestions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        inbound_message_id uuid NOT NULL REFERENCES inbound_messages(id),
        kind varchar(16) NOT NULL CHECK (kind IN ('DISPUTE','PROMISE')),
        status varchar(16) NOT NULL CHECK (status IN ('PENDING','CONFIRMED','DISMISSED')),
        language varchar(8) NOT NULL,
        phrase varchar(200) NOT NULL,
        excerpt varchar(500) NOT NULL,
        reason_code varchar(16),
        promised_date date,
        date_text varchar(100),
        amount_minor bigint CHECK (amount_minor > 0),
        currency char(3),
        invoice_ids uuid[] NOT NULL DEFAULT '{}',
        dispute_id uuid REFERENCES disputes(id),
        promise_id uuid REFERENCES promises_to_pay(id),
        task_id uuid REFERENCES tasks(id),
        decided_by varchar(64),
        decided_at timestamptz,
        note varchar(2000),
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT inbound_suggestions_one_per_kind UNIQUE (inbound_message_id, kind)
      )`);
    await q.query(`CREATE INDEX inbound_suggestions_pending_idx ON inbound_suggestions (tenant_id, status) WHERE status = 'PENDING'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS inbound_suggestions`);
    await q.query(`DROP TABLE IF EXISTS inbound_messages`);
    await q.query(`DROP INDEX IF EXISTS contacts_email_lower_idx`);
  }
}
