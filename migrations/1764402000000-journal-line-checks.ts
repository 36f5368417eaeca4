import type { MigrationInterface, QueryRunner } from 'typeorm';
import { balanceCheck, NEW_LINES_BALANCE } from './1764401000000-hot-write-costs';

/**
 * Each line's entry exists, for the line's tenant: one primary-key probe per entry the statement
 * touches. The probe names the id alone (with the tenant in it, an index leading with tenant_id
 * could serve it and read every entry of the tenant), OFFSET 0 keeps it a lookup by key, and the
 * function runs with sequential scans off: its plans are made once per connection, and one made
 * while journal_entries was nearly empty would otherwise scan the whole table per entry for as
 * long as the connection lives.
 */
const ENTRY_CHECK = `
        SELECT n.entry_id INTO bad FROM (SELECT entry_id, tenant_id FROM new_lines GROUP BY entry_id, tenant_id) n
        LEFT JOIN LATERAL (SELECT e.tenant_id FROM journal_entries e WHERE e.id = n.entry_id OFFSET 0) e ON true
        WHERE e.tenant_id IS DISTINCT FROM n.tenant_id LIMIT 1;
        IF bad IS NOT NULL THEN
          RAISE EXCEPTION 'journal line refers to entry %, which its tenant does not have', bad USING ERRCODE = 'foreign_key_violation';
        END IF;`;

/**
 * Journal lines are checked per statement instead of per row. The two foreign keys of
 * journal_lines (to tenants and to journal_entries) ran a lookup per line that also locked the
 * referenced row (FOR KEY SHARE, a WAL record each): a chunk of 250 payments wrote ~550 lines and
 * as many row locks. The statement-level trigger that already balances the new lines now also
 * checks that each line's entry exists with the line's tenant (stronger than the two keys: a
 * line can no longer belong to another tenant's entry), with one probe per entry and no lock.
 * No lock is needed: entries are append-only (UPDATE, DELETE and TRUNCATE are refused), so an
 * entry seen once stays, and its own tenant foreign key keeps the tenant.
 */
export class JournalLineChecks1764402000000 implements MigrationInterface {
  name = 'JournalLineChecks1764402000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(balanceCheck(`${ENTRY_CHECK}
        ${NEW_LINES_BALANCE}`, 'SET enable_seqscan = off'));
    await q.query(`ALTER TABLE journal_lines DROP CONSTRAINT journal_lines_tenant_id_fkey`);
    await q.query(`ALTER TABLE journal_lines DROP CONSTRAINT journal_lines_entry_id_fkey`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE journal_lines ADD CONSTRAINT journal_lines_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants(id)`);
    await q.query(`ALTER TABLE journal_lines ADD CONSTRAINT journal_lines_entry_id_fkey FOREIGN KEY (entry_id) REFERENCES journal_entries(id)`);
    await q.query(balanceCheck(NEW_LINES_BALANCE));
  }
}
