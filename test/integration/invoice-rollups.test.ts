import { createApp, type App } from '../../src/app';
import { loadConfig } from '../../src/platform/config/config';
import { createLogger } from '../../src/platform/logging/logger';
import { arrayParam } from '../../src/platform/db/bulk';
import {
  createTestDatabase,
  dropTestDatabase,
} from '../support/test-databases';

/**
 * The database-level guarantees the payment path leans on, whoever writes: aging and sales
 * rollups equal a recomputation from the invoices after every kind of invoice update (the
 * update trigger only feeds a rollup the rows whose columns it depends on), and the journal
 * refuses a statement that leaves an entry unbalanced.
 */
describe('invoice rollups and journal balance, in SQL', () => {
  let app: App;
  let url: string;
  let t: string;
  const q = <T = Record<string, unknown>>(
    sql: string,
    params: unknown[] = [],
  ): Promise<T[]> => app.dataSource.query(sql, params);

  beforeAll(async () => {
    url = await createTestDatabase();
    app = await createApp(
      loadConfig({
        ...process.env,
        DATABASE_URL: url,
        LOG_LEVEL: 'silent',
        RUN_WORKERS: 'false',
        QUEUE_PREFIX: 'invoice-rollups',
      }),
      createLogger('silent'),
    );
    [{ id: t }] = await q<{ id: string }>(
      `INSERT INTO tenants (name, timezone, functional_currency) VALUES ('Rollups', 'UTC', 'USD') RETURNING id`,
    );
    const [{ id: e }] = await q<{ id: string }>(
      `INSERT INTO legal_entities (tenant_id, code, name, currency, country) VALUES ($1, 'US01', 'E', 'USD', 'US') RETURNING id`,
      [t],
    );
    await q(
      `INSERT INTO customers (tenant_id, external_id, entity_id, name, currency, segment) SELECT $1, 'C' || g, $2, 'Customer ' || g, 'USD', CASE WHEN g % 2 = 0 THEN 'SMB' ELSE 'ENT' END FROM generate_series(1, 4) g`,
      [t, e],
    );
    await q(
      `INSERT INTO invoices (tenant_id, external_id, entity_id, customer_id, number, issue_date, terms_kind, terms_days, due_date, currency, total_minor, open_balance_minor, status)
       SELECT $1, 'I' || g, $2, c.id, 'INV-' || g, DATE '2026-10-01' + (g % 3), 'NET', 30, DATE '2026-10-31' + (g % 4), 'USD', 10000 * g, 10000 * g, 'OPEN'
       FROM generate_series(1, 24) g JOIN customers c ON c.tenant_id = $1 AND c.external_id = 'C' || (1 + g % 4)`,
      [t, e],
    );
  });
  afterAll(async () => {
    await app?.stop();
    await dropTestDatabase(url);
  });

  const mismatches = async () => {
    const aging = await q(
      `WITH kept AS (SELECT entity_id, segment, owner_user_id, currency, billing_model, due_date AS d, sum(open_minor)::bigint AS amount, sum(invoice_count)::int AS n FROM aging_rollups WHERE tenant_id = $1 GROUP BY 1,2,3,4,5,6 HAVING sum(open_minor) <> 0 OR sum(invoice_count) <> 0),
            truth AS (SELECT i.entity_id, c.segment, c.owner_user_id, i.currency, i.billing_model, i.due_date AS d, sum(i.open_balance_minor)::bigint AS amount, count(*)::int AS n
                      FROM invoices i JOIN customers c ON c.id = i.customer_id WHERE i.tenant_id = $1 AND i.status = 'OPEN' AND i.open_balance_minor > 0 GROUP BY 1,2,3,4,5,6)
       SELECT * FROM ((TABLE kept EXCEPT TABLE truth) UNION ALL (TABLE truth EXCEPT TABLE kept)) x`,
      [t],
    );
    const sales = await q(
      `WITH kept AS (SELECT entity_id, segment, owner_user_id, currency, billing_model, issue_date AS d, sum(total_minor)::bigint AS amount, sum(invoice_count)::int AS n FROM sales_rollups WHERE tenant_id = $1 GROUP BY 1,2,3,4,5,6 HAVING sum(total_minor) <> 0 OR sum(invoice_count) <> 0),
            truth AS (SELECT i.entity_id, c.segment, c.owner_user_id, i.currency, i.billing_model, i.issue_date AS d, sum(i.total_minor)::bigint AS amount, count(*)::int AS n
                      FROM invoices i JOIN customers c ON c.id = i.customer_id WHERE i.tenant_id = $1 AND i.status <> 'VOID' GROUP BY 1,2,3,4,5,6)
       SELECT * FROM ((TABLE kept EXCEPT TABLE truth) UNION ALL (TABLE truth EXCEPT TABLE kept)) x`,
      [t],
    );
    return { aging, sales };
  };

  it('rollups equal a recomputation after each kind of invoice update', async () => {
    const changes = [
      // payments: partial, then closing (balance and status, nothing the sales rollup reads)
      `UPDATE invoices SET open_balance_minor = open_balance_minor - 5000 WHERE tenant_id = $1 AND external_id IN ('I1','I2','I3')`,
      `UPDATE invoices SET open_balance_minor = 0, status = 'PAID', closed_on = '2026-11-20' WHERE tenant_id = $1 AND external_id IN ('I1','I4','I5')`,
      // a total corrected, an issue date moved, a due date moved, an invoice voided, one moved to another customer
      `UPDATE invoices SET total_minor = total_minor + 700, open_balance_minor = open_balance_minor + 700 WHERE tenant_id = $1 AND external_id = 'I6'`,
      `UPDATE invoices SET issue_date = '2026-09-15' WHERE tenant_id = $1 AND external_id IN ('I7','I8')`,
      `UPDATE invoices SET due_date = '2026-12-15' WHERE tenant_id = $1 AND external_id = 'I9'`,
      `UPDATE invoices SET status = 'VOID', open_balance_minor = 0 WHERE tenant_id = $1 AND external_id = 'I10'`,
      `UPDATE invoices SET customer_id = (SELECT id FROM customers WHERE tenant_id = $1 AND external_id = 'C1') WHERE tenant_id = $1 AND external_id = 'I11'`,
      // a reversal reopening, an update that changes nothing the rollups read, and a mixed statement
      `UPDATE invoices SET open_balance_minor = total_minor, status = 'OPEN', closed_on = NULL WHERE tenant_id = $1 AND external_id = 'I4'`,
      `UPDATE invoices SET updated_at = now() WHERE tenant_id = $1`,
    ];
    for (const sql of changes) {
      await q(sql, [t]);
      expect(await mismatches()).toEqual({ aging: [], sales: [] });
    }
    await q(
      `UPDATE invoices SET open_balance_minor = CASE WHEN external_id = 'I12' THEN 0 ELSE open_balance_minor * 2 END, status = CASE WHEN external_id = 'I12' THEN 'PAID' ELSE status END,
         total_minor = CASE WHEN external_id = 'I12' THEN total_minor ELSE total_minor * 2 END
       WHERE tenant_id = $1 AND external_id IN ('I12','I13','I14')`,
      [t],
    );
    expect(await mismatches()).toEqual({ aging: [], sales: [] });
    const [{ n }] = await q<{ n: number }>(
      `SELECT count(*)::int AS n FROM sales_rollups WHERE tenant_id = $1`,
      [t],
    );
    expect(n).toBeGreaterThan(0);
  });

  it('refuses a statement that leaves a journal entry unbalanced, and accepts a balanced one', async () => {
    const entry = async () => {
      const [{ id }] = await q<{ id: string }>(
        `INSERT INTO journal_entries (tenant_id, posted_on, kind, source_type, source_id, currency, created_by) VALUES ($1, '2026-11-20', 'ADJUSTMENT', 'Test', gen_random_uuid(), 'USD', 'test') RETURNING id`,
        [t],
      );
      return id;
    };
    const lines = (id: string, rows: [string, number, number][]) =>
      q(
        `INSERT INTO journal_lines (tenant_id, entry_id, account, debit_minor, credit_minor) SELECT $1, $2, a, d, c FROM unnest($3::text[], $4::bigint[], $5::bigint[]) AS v(a, d, c)`,
        [
          t,
          id,
          rows.map((r) => r[0]),
          rows.map((r) => r[1]),
          rows.map((r) => r[2]),
        ],
      );
    const ok = await entry();
    await lines(ok, [
      ['AR', 500, 0],
      ['CASH', 0, 500],
    ]);
    await expect(
      lines(await entry(), [
        ['AR', 500, 0],
        ['CASH', 0, 400],
      ]),
    ).rejects.toThrow(/does not balance/);
    // A line added to a balanced entry on its own unbalances it.
    await expect(lines(ok, [['AR', 10, 0]])).rejects.toThrow(
      /does not balance/,
    );
    // A balanced pair added to it keeps it balanced.
    await lines(ok, [
      ['AR', 10, 0],
      ['CASH', 0, 10],
    ]);
    const [{ dr, cr }] = await q<{ dr: string; cr: string }>(
      `SELECT sum(debit_minor)::text AS dr, sum(credit_minor)::text AS cr FROM journal_lines WHERE entry_id = $1`,
      [ok],
    );
    expect([dr, cr]).toEqual(['510', '510']);
  });

  it('refuses lines whose entry does not exist or belongs to another tenant, and writes nothing', async () => {
    const [{ id: other }] = await q<{ id: string }>(
      `INSERT INTO tenants (name, timezone, functional_currency) VALUES ('Other', 'UTC', 'USD') RETURNING id`,
    );
    const [{ id: theirs }] = await q<{ id: string }>(
      `INSERT INTO journal_entries (tenant_id, posted_on, kind, source_type, source_id, currency, created_by) VALUES ($1, '2026-11-20', 'ADJUSTMENT', 'Test', gen_random_uuid(), 'USD', 'test') RETURNING id`,
      [other],
    );
    const pair = (tenant: string, entry: string) =>
      q(
        `INSERT INTO journal_lines (tenant_id, entry_id, account, debit_minor, credit_minor) VALUES ($1, $2, 'AR', 700, 0), ($1, $2, 'CASH', 0, 700)`,
        [tenant, entry],
      );
    const count = async () => (await q<{ n: number }>(`SELECT count(*)::int AS n FROM journal_lines`))[0].n;
    const before = await count();
    await expect(pair(t, '00000000-0000-4000-8000-000000000001')).rejects.toThrow(/which its tenant does not have/);
    await expect(pair(t, theirs)).rejects.toThrow(/which its tenant does not have/);
    expect(await count()).toBe(before);
    // The entry's own tenant may post to it.
    await pair(other, theirs);
    expect(await count()).toBe(before + 2);
  });

  it('reads back every array parameter the bulk writes send exactly as it was given', async () => {
    const texts = ['USD', 'null', 'NULL', '', ' padded ', 'a, b', '{x}', 'back\\slash', 'say "hi"', 'é ü', 'tab\tnew\nline', null];
    const [r] = await q<{ t: (string | null)[]; n: string[]; u: string[] }>(`SELECT $1::text[] AS t, $2::bigint[]::text[] AS n, $3::uuid[]::text[] AS u`, [
      arrayParam(texts),
      arrayParam([1n, -2n, 9007199254740993n]),
      arrayParam([t]),
    ]);
    expect(r.t).toEqual(texts);
    expect(r.n).toEqual(['1', '-2', '9007199254740993']);
    expect(r.u).toEqual([t]);
  });
});
