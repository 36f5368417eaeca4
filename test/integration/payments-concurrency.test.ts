import { Client } from 'pg';
import { systemActor } from '../../src/platform/auth/roles';
import { RequestContext } from '../../src/platform/context';
import { createLogger } from '../../src/platform/logging/logger';
import {
  AssignDunningPolicyDocument,
  CreateDunningPolicyDocument,
  PublishDunningPolicyDocument,
  RecordPaymentsDocument,
  RunEvaluationDocument,
  UpsertCustomersDocument,
  UpsertEntitiesDocument,
  UpsertInvoicesDocument,
  type RecordPaymentInput,
} from '../generated/graphql';
import { dataOf, startTestApp, type TestApp } from '../support/test-app';
import { typicalPolicy } from '../support/policies';

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Workers, locks and the ledger's database-level guarantees. */
describe('payments: concurrency, jobs and the ledger constraint', () => {
  let t: TestApp;
  let ctx: RequestContext;
  let tenantId: string;
  const pay = (p: Partial<RecordPaymentInput> & { externalId: string; amount: string }): RecordPaymentInput => ({ source: 'bank', method: 'ACH', currency: 'USD', ...p });
  const q = <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => t.app.dataSource.query(sql, params) as Promise<T[]>;

  beforeAll(async () => {
    t = await startTestApp();
    [{ id: tenantId }] = await q<{ id: string }>(`SELECT id FROM tenants LIMIT 1`);
    ctx = new RequestContext(tenantId, systemActor(tenantId, 'worker-test'), t.app.dataSource.manager, 'worker-test', createLogger('silent'));
    dataOf(await t.gql(UpsertEntitiesDocument, { input: [{ code: 'US01', name: 'Acme Inc.', currency: 'USD', country: 'US' }] }));
    dataOf(await t.gql(UpsertCustomersDocument, { input: ['K-1', 'K-2', 'K-3'].map((e) => ({ externalId: e, name: `Cust ${e}`, entityCode: 'US01', currency: 'USD', contacts: [{ name: 'AP', email: `ap@${e}.example` }] })) }));
    const policy = dataOf(await t.gql(CreateDunningPolicyDocument, { input: { name: 'Standard', definition: typicalPolicy } })).createDunningPolicy;
    dataOf(await t.gql(PublishDunningPolicyDocument, { policyId: policy.policy!.id, effectiveFrom: '2025-01-01' }));
    dataOf(await t.gql(AssignDunningPolicyDocument, { policyId: policy.policy!.id, scope: 'GLOBAL' }));
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('the same payment handled by two workers at once is applied once', async () => {
    dataOf(await t.gql(UpsertInvoicesDocument, { input: [{ externalId: 'J-4002', number: 'J-4002', customerExternalId: 'K-1', issueDate: '2026-03-01', currency: 'USD', total: '300.00', terms: { kind: 'NET', days: 30 } }] }));
    // Recorded inside a transaction so that nothing applies or enqueues it: two "workers" race for it.
    const [row] = await t.app.dataSource.transaction(async (em) => {
      const tx = ctx.withManager(em);
      const out = await t.app.modules.services.payments.record(tx, [pay({ externalId: 'RACE-1', amount: '300.00', remittanceText: 'J-4002' }) as never], { applyNow: false });
      return [out[0]];
    });
    const [a, b] = await Promise.all([t.app.modules.services.paymentApplication.apply(ctx, [row.paymentId!]), t.app.modules.services.paymentApplication.apply(ctx, [row.paymentId!])]);
    expect(a.processed + b.processed).toBe(1);
    const allocs = await q<{ n: number; sum: string }>(`SELECT count(*)::int AS n, sum(source_amount_minor)::text AS sum FROM payment_allocations WHERE payment_id = $1`, [row.paymentId]);
    expect(allocs[0]).toEqual({ n: 1, sum: '30000' });
    const entries = await q<{ n: number }>(`SELECT count(*)::int AS n FROM journal_entries WHERE source_id = $1 AND kind = 'PAYMENT_APPLIED'`, [row.paymentId]);
    expect(entries[0].n).toBe(1);
    expect((await q<{ open_balance_minor: string }>(`SELECT open_balance_minor FROM invoices WHERE number = 'J-4002'`))[0].open_balance_minor).toBe('0');
  });

  it('two payments racing for one invoice: the invoice is paid once, the loser retries on fresh balances and its cash stays unapplied', async () => {
    dataOf(await t.gql(UpsertInvoicesDocument, { input: [{ externalId: 'J-4100', number: 'J-4100', customerExternalId: 'K-3', issueDate: '2026-03-01', currency: 'USD', total: '500.00', terms: { kind: 'NET', days: 30 } }] }));
    const ids = await t.app.dataSource.transaction(async (em) => {
      const tx = ctx.withManager(em);
      const out = await t.app.modules.services.payments.record(tx, [pay({ externalId: 'DUP-1', amount: '500.00', remittanceText: 'J-4100' }), pay({ externalId: 'DUP-2', amount: '500.00', remittanceText: 'J-4100' })] as never, { applyNow: false });
      return out.map((o) => o.paymentId!);
    });
    // Matching reads balances without locks; the first application commits while the second is
    // between reading and writing (it is held on the invoice row by a third session that pays
    // nothing), so the second must detect the change and retry instead of paying twice.
    const holder = new Client({ connectionString: t.databaseUrl });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT id FROM invoices WHERE number = 'J-4100' FOR NO KEY UPDATE`);
      const first = t.app.modules.services.paymentApplication.apply(ctx, [ids[0]]);
      const second = t.app.modules.services.paymentApplication.apply(ctx, [ids[1]]);
      await new Promise((r) => setTimeout(r, 300));
      await holder.query('COMMIT');
      const [a, b] = await Promise.all([first, second]);
      expect(a.applied + b.applied).toBe(1);
      expect(a.unapplied + b.unapplied).toBe(1);
    } finally {
      await holder.end();
    }
    const [inv] = await q<{ open_balance_minor: string; status: string; paid: string }>(
      `SELECT open_balance_minor, status, (SELECT sum(amount_minor) FROM payment_allocations a WHERE a.invoice_id = i.id)::text AS paid FROM invoices i WHERE number = 'J-4100'`,
    );
    expect(inv).toEqual({ open_balance_minor: '0', status: 'PAID', paid: '50000' });
    const pays = await q<{ status: string; applied_minor: string; unapplied_minor: string }>(`SELECT status, applied_minor, unapplied_minor FROM payments WHERE id = ANY($1::uuid[]) ORDER BY status`, [ids]);
    expect(pays).toEqual([
      { status: 'APPLIED', applied_minor: '50000', unapplied_minor: '0' },
      { status: 'UNAPPLIED', applied_minor: '0', unapplied_minor: '50000' },
    ]);
  });

  async function plannedActionFor(number: string, customer: string, total: string): Promise<{ invoiceId: string; actionId: string }> {
    const inv = dataOf(await t.gql(UpsertInvoicesDocument, { input: [{ externalId: number, number, customerExternalId: customer, issueDate: '2026-03-01', currency: 'USD', total, terms: { kind: 'NET', days: 30 } }] })).upsertInvoices.results[0].invoice!;
    dataOf(await t.gql(RunEvaluationDocument, { asOf: '2026-04-03' }));
    const [a] = await q<{ id: string }>(`SELECT id FROM actions WHERE invoice_id = $1 AND status = 'PLANNED'`, [inv.id]);
    expect(a).toBeDefined();
    return { invoiceId: inv.id, actionId: a.id };
  }

  it('payment vs dispatch: a send in progress finishes first and the payment waits; a PLANNED reminder of a paid invoice is CANCELLED', async () => {
    const x = await plannedActionFor('RC-5001', 'K-2', '100.00');
    const y = await plannedActionFor('RC-5002', 'K-2', '200.00');
    // A dispatcher mid-send: it holds the action and (FOR SHARE) the invoice, as DispatchService does.
    const dispatcher = new Client({ connectionString: t.databaseUrl });
    await dispatcher.connect();
    try {
      await dispatcher.query('BEGIN');
      await dispatcher.query(`SELECT id FROM actions WHERE id = $1 FOR UPDATE SKIP LOCKED`, [x.actionId]);
      await dispatcher.query(`SELECT id FROM invoices WHERE id = $1 FOR SHARE`, [x.invoiceId]);
      const applying = dataOf(await t.gql(RecordPaymentsDocument, { input: [pay({ externalId: 'RACE-2', amount: '300.00', customerExternalId: 'K-2', remittanceText: 'RC-5001 RC-5002' })], applyNow: false })).recordPayments;
      const pid = applying.results[0].payment!.id;
      // A worker picks it up while the send is in progress.
      const direct = t.app.modules.services.paymentApplication.apply(ctx, [pid]);
      await new Promise((r) => setTimeout(r, 500));
      expect((await q<{ status: string }>(`SELECT status FROM invoices WHERE id = $1`, [x.invoiceId]))[0].status).toBe('OPEN');
      await dispatcher.query(`UPDATE actions SET status = 'SENT', sent_at = clock_timestamp() WHERE id = $1`, [x.actionId]);
      await dispatcher.query('COMMIT');
      await direct;
      const p = await until('the payment', async () => (await q<{ status: string; applied_at: Date }>(`SELECT status, applied_at FROM payments WHERE id = $1 AND status = 'APPLIED'`, [pid]))[0]);
      expect(p.status).toBe('APPLIED');
      const [ax] = await q<{ status: string }>(`SELECT status FROM actions WHERE id = $1`, [x.actionId]);
      const [ay] = await q<{ status: string; status_reason: string }>(`SELECT status, status_reason FROM actions WHERE id = $1`, [y.actionId]);
      expect(ax.status).toBe('SENT'); // sent before the payment committed: it waited for this send
      expect(ay).toEqual({ status: 'CANCELLED', status_reason: 'invoice paid' });
    } finally {
      await dispatcher.end();
    }
  });

  it('payment vs dispatch, truly concurrent: whichever commits first, nothing is sent after the payment commits', async () => {
    const svc = t.app.modules.services;
    for (let round = 0; round < 4; round++) {
      const x = await plannedActionFor(`RR-${6000 + round}`, 'K-3', '150.00');
      const [rec] = await t.app.dataSource.transaction(async (em) => svc.payments.record(ctx.withManager(em), [pay({ externalId: `RACE-R${round}`, amount: '150.00', customerExternalId: 'K-3', remittanceText: `RR-${6000 + round}` }) as never], { applyNow: false }));
      const dispatch = () => svc.dispatch.dispatchOne(ctx, x.actionId, '2026-04-03');
      const apply = () => svc.paymentApplication.apply(ctx, [rec.paymentId!]);
      await Promise.all(round % 2 ? [dispatch(), apply()] : [apply(), dispatch()]);
      const [a] = await q<{ status: string }>(`SELECT status FROM actions WHERE id = $1`, [x.actionId]);
      const [inv] = await q<{ status: string }>(`SELECT status FROM invoices WHERE id = $1`, [x.invoiceId]);
      expect(inv.status).toBe('PAID');
      expect(['SENT', 'SUPPRESSED', 'CANCELLED']).toContain(a.status);
      // The dispatcher re-checks after the payment: a second attempt can never send.
      expect(await svc.dispatch.dispatchOne(ctx, x.actionId, '2026-04-03')).toBeNull();
      const msgs = await q<{ n: number }>(`SELECT count(*)::int AS n FROM outbound_messages WHERE action_id = $1`, [x.actionId]);
      expect(msgs[0].n).toBe(a.status === 'SENT' ? 1 : 0);
    }
  });

  it('the database refuses an unbalanced journal entry and any change to posted lines', async () => {
    const [e] = await q<{ id: string }>(
      `INSERT INTO journal_entries (tenant_id, posted_on, kind, source_type, source_id, currency, created_by) VALUES ($1, '2026-01-01', 'ADJUSTMENT', 'Test', gen_random_uuid(), 'USD', 'test') RETURNING id`,
      [tenantId],
    );
    await expect(q(`INSERT INTO journal_lines (tenant_id, entry_id, account, debit_minor, credit_minor) VALUES ($1, $2, 'AR', 100, 0), ($1, $2, 'CASH', 0, 99)`, [tenantId, e.id])).rejects.toThrow(/does not balance/);
    await expect(q(`INSERT INTO journal_lines (tenant_id, entry_id, account, debit_minor, credit_minor) VALUES ($1, $2, 'AR', 100, 0)`, [tenantId, e.id])).rejects.toThrow(/does not balance/);
    await q(`INSERT INTO journal_lines (tenant_id, entry_id, account, debit_minor, credit_minor) VALUES ($1, $2, 'AR', 100, 0), ($1, $2, 'CASH', 0, 100)`, [tenantId, e.id]);
    await expect(q(`INSERT INTO journal_lines (tenant_id, entry_id, account, debit_minor, credit_minor) VALUES ($1, $2, 'AR', 5, 0)`, [tenantId, e.id])).rejects.toThrow(/does not balance/);
    await expect(q(`UPDATE journal_lines SET debit_minor = 1 WHERE entry_id = $1`, [e.id])).rejects.toThrow(/append-only/);
    await expect(q(`DELETE FROM journal_entries WHERE id = $1`, [e.id])).rejects.toThrow(/append-only/);
    await expect(q(`UPDATE payments SET applied_minor = applied_minor + 1 WHERE tenant_id = $1`, [tenantId])).rejects.toThrow(/payments_conservation/);
  });
});

describe('payments: the BullMQ job path', () => {
  let w: TestApp;
  const pay = (p: Partial<RecordPaymentInput> & { externalId: string; amount: string }): RecordPaymentInput => ({ source: 'bank', method: 'ACH', currency: 'USD', ...p });
  beforeAll(async () => {
    w = await startTestApp({ runWorkers: true });
    dataOf(await w.gql(UpsertEntitiesDocument, { input: [{ code: 'US01', name: 'Acme Inc.', currency: 'USD', country: 'US' }] }));
    dataOf(await w.gql(UpsertCustomersDocument, { input: [{ externalId: 'K-1', name: 'Cust K-1', entityCode: 'US01', currency: 'USD' }] }));
  });
  afterAll(async () => {
    await w?.stop();
  });

  it('recorded without applyNow, a BullMQ job applies the payment with the same code', async () => {
    dataOf(await w.gql(UpsertInvoicesDocument, { input: [{ externalId: 'J-4001', number: 'J-4001', customerExternalId: 'K-1', issueDate: '2026-03-01', currency: 'USD', total: '640.00', terms: { kind: 'NET', days: 30 } }] }));
    const r = dataOf(await w.gql(RecordPaymentsDocument, { input: [pay({ externalId: 'JOB-1', amount: '640.00', remittanceText: 'J-4001' })], applyNow: false })).recordPayments;
    expect(r.results[0].payment!.status).toBe('PENDING');
    const done = await until('the apply job', async () => (await w.app.dataSource.query(`SELECT status FROM payments WHERE id = $1 AND status <> 'PENDING'`, [r.results[0].payment!.id]))[0] as { status: string } | undefined);
    expect(done.status).toBe('APPLIED');
    expect((await w.app.dataSource.query(`SELECT status FROM invoices WHERE number = 'J-4001'`))[0].status).toBe('PAID');
  });

});
