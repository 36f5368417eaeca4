import type { MigrationInterface, QueryRunner } from 'typeorm';

const ACCOUNTS = ['AR', 'CASH', 'UNAPPLIED_CASH', 'CUSTOMER_CREDIT', 'WRITE_OFF_EXPENSE', 'DISCOUNTS', 'SALES_RETURNS', 'ADJUSTMENTS', 'REVENUE'];
const accountCheck = (accounts: string[]) => `ALTER TABLE journal_lines ADD CONSTRAINT journal_lines_account_check CHECK (account IN (${accounts.map((a) => `'${a}'`).join(', ')}))`;

/**
 * Cross-currency allocation (ADR 013): a payment or credit memo placed on an invoice in another
 * currency at a rate. An allocation keeps both sides: `amount_minor` and `currency` stay what the
 * invoice lost, in the invoice currency (what aging, promises and the timeline read), and
 * `source_amount_minor` is what the payment or memo gave up, in its own currency (`source_currency`); `rate` (units of
 * the invoice currency per unit of the source currency) is set only when the two differ. The
 * ledger keeps every entry in one currency and bridges the two with a CURRENCY_EXCHANGE account.
 */
export class CrossCurrencyAllocations1764403000000 implements MigrationInterface {
  name = 'CrossCurrencyAllocations1764403000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE payment_allocations ADD COLUMN source_amount_minor bigint, ADD COLUMN source_currency char(3), ADD COLUMN rate numeric(24,12) CHECK (rate > 0)`);
    await q.query(`UPDATE payment_allocations SET source_amount_minor = amount_minor, source_currency = currency`);
    await q.query(`ALTER TABLE payment_allocations ALTER COLUMN source_amount_minor SET NOT NULL, ALTER COLUMN source_currency SET NOT NULL, ADD CONSTRAINT payment_allocations_source_amount_check CHECK (source_amount_minor > 0),
      ADD CONSTRAINT payment_allocations_rate_needed_check CHECK ((rate IS NULL) = (source_currency = currency))`);
    await q.query(`ALTER TABLE journal_lines DROP CONSTRAINT journal_lines_account_check`);
    await q.query(accountCheck([...ACCOUNTS, 'CURRENCY_EXCHANGE']));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE journal_lines DROP CONSTRAINT journal_lines_account_check`);
    await q.query(accountCheck(ACCOUNTS));
    await q.query(`ALTER TABLE payment_allocations DROP COLUMN rate, DROP COLUMN source_currency, DROP COLUMN source_amount_minor`);
  }
}
