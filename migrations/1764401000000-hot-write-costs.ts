import type { MigrationInterface, QueryRunner } from 'typeorm';
import { invoiceCols, invoicesTriggerFunction, mergeInto } from './1764300000000-aging';

/** The invoice columns each rollup depends on (with the customer's segment and owner, through customer_id). */
const AGING_COLS = ['tenant_id', 'entity_id', 'customer_id', 'currency', 'billing_model', 'due_date', 'status', 'open_balance_minor'];
const SALES_COLS = ['tenant_id', 'entity_id', 'customer_id', 'currency', 'billing_model', 'issue_date', `status = 'VOID'`, 'total_minor'];

const tuple = (alias: string, cols: string[]) => `(${cols.map((c) => `(${alias}.${c})`).join(', ')})`;

/**
 * Signed rows of the updated invoices whose `cols` changed, old (-1) and new (+1). The customer
 * is read per row through its key (OFFSET 0 keeps the lookup from turning into a join over
 * every customer in the database).
 */
const changedRows = (cols: string[]) => {
  const side = (sign: number, mine: string, other: string) => `SELECT ${sign} AS sign, ${invoiceCols}, c.segment, c.owner_user_id
      FROM ${mine} i JOIN ${other} o ON o.id = i.id
      CROSS JOIN LATERAL (SELECT segment, owner_user_id FROM customers WHERE id = i.customer_id OFFSET 0) c
      WHERE ${tuple('i', cols)} IS DISTINCT FROM ${tuple('o', cols)}`;
  return `${side(1, 'new_rows', 'old_rows')} UNION ALL ${side(-1, 'old_rows', 'new_rows')}`;
};

/** The journal's statement-level check: `source` sets `bad` to an entry that does not balance; `settings` are the function's SET clauses. */
export const balanceCheck = (source: string, settings = '') => `
      CREATE OR REPLACE FUNCTION journal_lines_balanced() RETURNS trigger LANGUAGE plpgsql ${settings} AS $$
      DECLARE bad uuid;
      BEGIN
        ${source}
        IF bad IS NOT NULL THEN
          RAISE EXCEPTION 'journal entry % does not balance (debits must equal credits)', bad USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
      END $$`;

/** An entry the statement's new lines leave unbalanced (fewer than two lines, or debits other than credits). */
export const NEW_LINES_BALANCE = `SELECT entry_id INTO bad FROM new_lines
        GROUP BY entry_id HAVING sum(debit_minor) <> sum(credit_minor) OR count(*) < 2 LIMIT 1;`;

/**
 * Write costs of the hottest statements, behaviour unchanged:
 * - An UPDATE of invoices feeds each rollup only the rows whose columns that rollup depends on
 *   changed. A payment changes balances and statuses, not totals or issue dates: the sales
 *   rollups no longer aggregate every paid invoice twice to find that nothing moved.
 * - The journal balance check sums the lines the statement inserted, not the table's: lines are
 *   append-only and each statement must balance every entry it touches, so an entry balances
 *   after the statement exactly when it balanced before and the new lines balance among
 *   themselves (a statement adding lines to an entry still needs two or more of them).
 * - Two indexes of payments no statement reads since payer identification moved to its own
 *   tables (payer_accounts, payer_names) are dropped: every intake and every application
 *   updated them for nothing.
 */
export class HotWriteCosts1764401000000 implements MigrationInterface {
  name = 'HotWriteCosts1764401000000';

  async up(q: QueryRunner): Promise<void> {
    const onUpdate = [mergeInto('aging_rollups', changedRows(AGING_COLS), true), mergeInto('sales_rollups', changedRows(SALES_COLS), true)].join('\n');
    await q.query(invoicesTriggerFunction(true, onUpdate));
    await q.query(balanceCheck(NEW_LINES_BALANCE));
    await q.query(`DROP INDEX IF EXISTS payments_payer_name_idx`);
    await q.query(`DROP INDEX IF EXISTS payments_payer_account_idx`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX payments_payer_name_idx ON payments (tenant_id, lower(payer_name)) WHERE customer_id IS NOT NULL AND payer_name IS NOT NULL`);
    await q.query(`CREATE INDEX payments_payer_account_idx ON payments (tenant_id, payer_account) WHERE payer_account IS NOT NULL`);
    await q.query(invoicesTriggerFunction(true));
    await q.query(
      balanceCheck(`SELECT l.entry_id INTO bad FROM journal_lines l
        WHERE l.entry_id = ANY (ARRAY(SELECT DISTINCT entry_id FROM new_lines))
        GROUP BY l.entry_id HAVING sum(l.debit_minor) <> sum(l.credit_minor) OR count(*) < 2 LIMIT 1;`),
    );
  }
}
