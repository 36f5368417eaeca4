import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Outreach: tenants' message template overrides, and the outbox of every message sent. */
export class Outreach1764100000000 implements MigrationInterface {
  name = 'Outreach1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE message_templates (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        key varchar(63) NOT NULL,
        locale varchar(35) NOT NULL,
        channel varchar(16) NOT NULL CHECK (channel IN ('EMAIL','SMS','PORTAL','INTERNAL')),
        subject text,
        body text NOT NULL,
        version int NOT NULL DEFAULT 1 CHECK (version >= 1),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        updated_by varchar(128) NOT NULL,
        UNIQUE (tenant_id, key, locale, channel)
      )`);
    // action_id has no foreign key: actions belong to the engine module, and a message may
    // also be sent without one (tests, manual sends).
    await q.query(`
      CREATE TABLE outbound_messages (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        action_id uuid,
        customer_id uuid REFERENCES customers(id),
        channel varchar(16) NOT NULL CHECK (channel IN ('EMAIL','SMS','PORTAL','INTERNAL')),
        transport varchar(16) NOT NULL CHECK (transport IN ('SMTP','SMS_HTTP','MAILBOX','PORTAL')),
        to_addresses text[] NOT NULL DEFAULT '{}',
        from_address text,
        subject text,
        body text NOT NULL,
        provider_message_id text,
        -- The moment of sending (not of the transaction), to the millisecond so that API cursors are exact.
        created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp())
      )`);
    await q.query(`CREATE INDEX outbound_messages_tenant_created_idx ON outbound_messages (tenant_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX outbound_messages_customer_idx ON outbound_messages (tenant_id, customer_id, created_at DESC) WHERE customer_id IS NOT NULL`);
    // One message per action and channel: a retried or concurrent send of the same action waits
    // for the first one's transaction and then finds its row instead of sending again.
    await q.query(`CREATE UNIQUE INDEX outbound_messages_action_channel_uq ON outbound_messages (tenant_id, action_id, channel) WHERE action_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE outbound_messages`);
    await q.query(`DROP TABLE message_templates`);
  }
}
