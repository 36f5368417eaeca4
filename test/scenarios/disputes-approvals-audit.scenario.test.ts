import {
  ActionsDocument,
  ApprovalRequestsFilteredDocument,
  ApproveDocument,
  AssignDunningPolicyDocument,
  AuditEventsDocument,
  ConfirmDisputeDocument,
  CreateApiKeyDocument,
  CreateCreditMemoDocument,
  CreateDunningPolicyDocument,
  CreateUserDocument,
  DismissDisputeDocument,
  DispatchActionsDocument,
  DisputesDocument,
  OpenDisputeFullDocument,
  PublishDunningPolicyDocument,
  RejectDocument,
  RequestCreditHoldDocument,
  RequestCreditMemoDocument,
  RequestWriteOffDocument,
  ResolveDisputeDocument,
  RunEvaluationDocument,
  SetApprovalRulesDocument,
  SetDisputeSettingsDocument,
  SuggestDisputeDocument,
  UpdateDisputeDocument,
  UpsertCustomersDocument,
  UpsertEntitiesDocument,
  UpsertInvoicesDocument,
  VerifyAuditChainDocument,
  type UpsertInvoiceInput,
} from '../generated/graphql';
import { addDays } from '../../src/platform/time/dates';
import { dataOf, startTestApp, type TestApp } from '../support/test-app';
import * as fx from '../support/fixtures';
import { typicalPolicy } from '../support/policies';

const inv = (p: Partial<UpsertInvoiceInput> & { externalId: string; customerExternalId: string }): UpsertInvoiceInput => ({
  number: p.externalId,
  issueDate: '2026-01-01',
  currency: 'USD',
  total: '1000.00',
  terms: { kind: 'NET', days: 30 },
  ...p,
});

describe('disputes, approvals and the audit trail, day by day through the API', () => {
  let t: TestApp;
  let collectorKey: string;
  let managerKey: string;
  let manager2Key: string;
  let managerKeyId: string;
  let pricingUserId: string;
  let ownerUserId: string;
  const invoiceIds: Record<string, string> = {};
  const customerIds: Record<string, string> = {};

  async function day(asOf: string) {
    dataOf(await t.gql(RunEvaluationDocument, { asOf }));
    dataOf(await t.gql(DispatchActionsDocument, { asOf }));
  }
  async function walk(from: string, to: string) {
    for (let d = from; d <= to; d = addDays(d, 1)) await day(d);
  }
  async function addInvoices(items: UpsertInvoiceInput[]) {
    const r = dataOf(await t.gql(UpsertInvoicesDocument, { input: items })).upsertInvoices.results;
    r.forEach((x, i) => (invoiceIds[items[i].externalId] = x.invoice!.id));
  }
  const key = async (name: string, role: 'COLLECTOR' | 'MANAGER') => {
    const r = dataOf(await t.gql(CreateApiKeyDocument, { input: { name, role } })).createApiKey;
    return { secret: r.secret, id: r.apiKey.id };
  };
  const count = async (sql: string, params: unknown[] = []) => (await t.app.dataSource.query(sql, params))[0].n as number;

  beforeAll(async () => {
    t = await startTestApp();
    dataOf(await t.gql(UpsertEntitiesDocument, { input: fx.entities }));
    pricingUserId = dataOf(await t.gql(CreateUserDocument, { input: { name: 'Pia Pricing', email: 'pia@ar.example', role: 'COLLECTOR' } })).createUser.id;
    ownerUserId = dataOf(await t.gql(CreateUserDocument, { input: { name: 'Olli Owner', email: 'olli@ar.example', role: 'COLLECTOR' } })).createUser.id;
    const customers = [
      { externalId: 'D-1', name: 'Nudge Me Inc', entityCode: 'US01', currency: 'USD', segment: 'smb', ownerId: ownerUserId, contacts: [{ name: 'Nia', email: 'nia@nudge.example' }] },
      { externalId: 'D-2', name: 'Three Lines Co', entityCode: 'US01', currency: 'USD', segment: 'smb', contacts: [{ name: 'Tom', email: 'tom@lines.example' }] },
      { externalId: 'D-3', name: 'Routing Ltd', entityCode: 'US01', currency: 'USD', segment: 'smb', ownerId: ownerUserId, contacts: [{ name: 'Rae', email: 'rae@routing.example' }] },
      { externalId: 'D-4', name: 'Approvals LLC', entityCode: 'US01', currency: 'USD', segment: 'smb', tier: 'standard', contacts: [{ name: 'Abe', email: 'abe@appr.example' }] },
      { externalId: 'D-5', name: 'Strategic Corp', entityCode: 'US01', currency: 'USD', segment: 'enterprise', tier: 'strategic', contacts: [{ name: 'Sue', email: 'sue@strat.example' }] },
    ];
    const up = dataOf(await t.gql(UpsertCustomersDocument, { input: customers })).upsertCustomers;
    expect(up.failed).toBe(0);
    const rows: { id: string; external_id: string }[] = await t.app.dataSource.query(`SELECT id, external_id FROM customers`);
    rows.forEach((r) => (customerIds[r.external_id] = r.id));
    const policy = dataOf(await t.gql(CreateDunningPolicyDocument, { input: { name: 'Standard', definition: typicalPolicy } })).createDunningPolicy.policy!;
    dataOf(await t.gql(PublishDunningPolicyDocument, { policyId: policy.id, effectiveFrom: '2025-01-01' }));
    dataOf(await t.gql(AssignDunningPolicyDocument, { policyId: policy.id, scope: 'GLOBAL' }));
    collectorKey = (await key('collector', 'COLLECTOR')).secret;
    const m = await key('manager', 'MANAGER');
    managerKey = m.secret;
    managerKeyId = m.id;
    manager2Key = (await key('manager 2', 'MANAGER')).secret;
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('a dispute opened with no detail: the customer is nudged on day 7, not before, exactly once', async () => {
    await addInvoices([inv({ externalId: 'NUDGE-1', customerExternalId: 'D-1', issueDate: '2026-04-01' })]); // due 05-01
    const d = dataOf(await t.gql(OpenDisputeFullDocument, { input: { invoiceId: invoiceIds['NUDGE-1'], reasonCode: 'OTHER', raisedOn: '2026-05-03' } })).openDispute;
    expect(d).toMatchObject({ status: 'OPEN', raisedOn: '2026-05-03', nudgeDueOn: '2026-05-10', detail: null });
    const nudges = () => t.gql(ActionsDocument, { filter: { invoiceId: invoiceIds['NUDGE-1'], kind: 'DISPUTE_NUDGE' } }).then((r) => dataOf(r).actions.nodes);
    await walk('2026-05-03', '2026-05-09');
    expect(await nudges()).toEqual([]);
    await walk('2026-05-10', '2026-05-16');
    const sent = await nudges();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ status: 'SENT', scheduledFor: '2026-05-10', templateKey: 'dispute-nudge' });
    const mails = await t.app.dataSource.query(`SELECT to_addresses, subject FROM outbound_messages WHERE action_id = $1`, [sent[0].id]);
    expect(mails).toHaveLength(1);
    expect(mails[0].to_addresses).toEqual(['nia@nudge.example']);
    expect(mails[0].subject).toMatch(/NUDGE-1.*details needed/);
    // The whole invoice is disputed: no dunning step went out for it meanwhile.
    const steps = dataOf(await t.gql(ActionsDocument, { filter: { invoiceId: invoiceIds['NUDGE-1'], kind: 'STEP' } })).actions.nodes;
    expect(steps.filter((s) => s.status === 'SENT')).toEqual([]);
    const after = dataOf(await t.gql(DisputesDocument, { filter: { invoiceId: invoiceIds['NUDGE-1'] } })).disputes.nodes[0];
    expect(after.status).toBe('AWAITING_CUSTOMER');
    expect(after.nudgedAt).toBeTruthy();
  });

  it('a dispute whose customer gives detail before day 7 is never nudged; the delay is tenant-configurable', async () => {
    dataOf(await t.gql(SetDisputeSettingsDocument, { input: { nudgeAfterDays: 3 } }));
    await addInvoices([inv({ externalId: 'NUDGE-2', customerExternalId: 'D-1', issueDate: '2026-04-01' }), inv({ externalId: 'NUDGE-3', customerExternalId: 'D-1', issueDate: '2026-04-01' })]);
    const a = dataOf(await t.gql(OpenDisputeFullDocument, { input: { invoiceId: invoiceIds['NUDGE-2'], reasonCode: 'OTHER', raisedOn: '2026-06-01' } })).openDispute;
    const b = dataOf(await t.gql(OpenDisputeFullDocument, { input: { invoiceId: invoiceIds['NUDGE-3'], reasonCode: 'OTHER', raisedOn: '2026-06-01' } })).openDispute;
    expect(a.nudgeDueOn).toBe('2026-06-04');
    dataOf(await t.gql(UpdateDisputeDocument, { id: b.id, input: { detail: 'Delivered to the wrong site' } }, collectorKey));
    await walk('2026-06-01', '2026-06-06');
    const nudged = await t.app.dataSource.query(`SELECT invoice_id, scheduled_for::text AS day, status FROM actions WHERE kind = 'DISPUTE_NUDGE' AND invoice_id = ANY($1::uuid[])`, [[invoiceIds['NUDGE-2'], invoiceIds['NUDGE-3']]]);
    expect(nudged).toEqual([{ invoice_id: invoiceIds['NUDGE-2'], day: '2026-06-04', status: 'SENT' }]);
    dataOf(await t.gql(SetDisputeSettingsDocument, { input: { nudgeAfterDays: 7 } }));
  });

  it('a disputed line on a three-line invoice pauses only that line: reminders ask for the other two, every day', async () => {
    await addInvoices([
      inv({
        externalId: 'LINES-3',
        customerExternalId: 'D-2',
        issueDate: '2026-07-01', // due 07-31
        total: '1000.00',
        lines: [
          { description: 'Platform', amount: '600.00' },
          { description: 'Onboarding', amount: '300.00' },
          { description: 'Travel', amount: '100.00' },
        ],
      }),
    ]);
    const [line] = await t.app.dataSource.query(`SELECT id FROM invoice_lines WHERE invoice_id = $1 AND line_no = 2`, [invoiceIds['LINES-3']]);
    const d = dataOf(await t.gql(OpenDisputeFullDocument, { input: { invoiceId: invoiceIds['LINES-3'], lineIds: [line.id], reasonCode: 'SERVICE', detail: 'Onboarding not delivered', raisedOn: '2026-07-20' } }, collectorKey)).openDispute;
    expect(d.amount).toEqual({ amount: '300.00', currency: 'USD' });
    await walk('2026-07-20', '2026-08-11');
    const sent = dataOf(await t.gql(ActionsDocument, { filter: { invoiceId: invoiceIds['LINES-3'], status: ['SENT'] } })).actions.nodes;
    expect(sent.map((a) => a.stepKey).sort()).toEqual(['due', 'overdue-10', 'overdue-3', 'pre-due']);
    expect(sent.every((a) => a.amountDue?.amount === '700.00')).toBe(true);
    expect(sent.some((a) => a.kind === 'DISPUTE_NUDGE')).toBe(false);
    // Rejected: the line is owed after all, and the next reminder asks for the whole balance.
    dataOf(await t.gql(ResolveDisputeDocument, { id: d.id, input: { resolution: 'REJECTED', note: 'Onboarding was delivered on 07-15' } }, managerKey));
    await walk('2026-08-12', '2026-08-21');
    const next = dataOf(await t.gql(ActionsDocument, { filter: { invoiceId: invoiceIds['LINES-3'], status: ['SENT'] } })).actions.nodes.find((a) => a.stepKey === 'escalation-21');
    expect(next?.amountDue?.amount).toBe('1000.00');
  });

  it('routing by reason with an SLA per reason; the customer owner otherwise; a follow-up task for the owner', async () => {
    dataOf(await t.gql(SetDisputeSettingsDocument, { input: { routing: [{ reasonCode: 'PRICING', userId: pricingUserId }], slaDays: [{ reasonCode: 'PRICING', days: 5 }] } }));
    await addInvoices([inv({ externalId: 'ROUTE-1', customerExternalId: 'D-3' }), inv({ externalId: 'ROUTE-2', customerExternalId: 'D-3' })]);
    const p = dataOf(await t.gql(OpenDisputeFullDocument, { input: { invoiceId: invoiceIds['ROUTE-1'], reasonCode: 'PRICING', amount: '250.00', detail: 'Price list says 750', raisedOn: '2026-03-02' } }, collectorKey)).openDispute;
    const q = dataOf(await t.gql(OpenDisputeFullDocument, { input: { invoiceId: invoiceIds['ROUTE-2'], reasonCode: 'QUANTITY', detail: '8 not 10', raisedOn: '2026-03-02' } }, collectorKey)).openDispute;
    expect(p).toMatchObject({ ownerUserId: pricingUserId, slaDueOn: '2026-03-07', amount: { amount: '250.00' } });
    expect(q).toMatchObject({ ownerUserId: ownerUserId, slaDueOn: '2026-03-12' }); // default 10 days for QUANTITY
    const tasks = await t.app.dataSource.query(`SELECT owner_user_id, reason_code, due_date::text AS due FROM tasks WHERE invoice_id = $1`, [invoiceIds['ROUTE-1']]);
    expect(tasks).toEqual([{ owner_user_id: pricingUserId, reason_code: 'DISPUTE_FOLLOW_UP', due: '2026-03-07' }]);
    const breached = dataOf(await t.gql(DisputesDocument, { filter: { customerId: customerIds['D-3'], slaBreachedAsOf: '2026-03-08' } })).disputes;
    expect(breached.nodes.map((n) => n.id)).toEqual([p.id]);
    // Status flow and keyset pages.
    const moved = dataOf(await t.gql(UpdateDisputeDocument, { id: q.id, input: { status: 'UNDER_REVIEW' } }, collectorKey)).updateDispute;
    expect(moved.status).toBe('UNDER_REVIEW');
    const page1 = dataOf(await t.gql(DisputesDocument, { filter: { customerId: customerIds['D-3'] }, first: 1 })).disputes;
    const page2 = dataOf(await t.gql(DisputesDocument, { filter: { customerId: customerIds['D-3'] }, first: 1, after: page1.pageInfo.endCursor })).disputes;
    expect(page1.totalCount).toBe(2);
    expect([page1.nodes[0].id, page2.nodes[0].id].sort()).toEqual([p.id, q.id].sort());
    expect(page2.pageInfo.hasNextPage).toBe(false);
  });

  it('a suggested dispute pauses nothing until a person confirms it; a dismissed one never does', async () => {
    await addInvoices([inv({ externalId: 'SUG-1', customerExternalId: 'D-4', issueDate: '2026-02-01' }), inv({ externalId: 'SUG-2', customerExternalId: 'D-4', issueDate: '2026-02-01' })]); // due 03-03
    const s1 = dataOf(await t.gql(SuggestDisputeDocument, { input: { invoiceId: invoiceIds['SUG-1'], reasonCode: 'DUPLICATE', detail: '"we paid this twice already" (inbound reply)' } }, collectorKey)).suggestDispute;
    const s2 = dataOf(await t.gql(SuggestDisputeDocument, { input: { invoiceId: invoiceIds['SUG-2'], reasonCode: 'TAX' } }, collectorKey)).suggestDispute;
    expect(s1).toMatchObject({ status: 'SUGGESTED', source: 'INBOUND' });
    await day('2026-03-06'); // +3
    const stepped = async (n: string) => dataOf(await t.gql(ActionsDocument, { filter: { invoiceId: invoiceIds[n], kind: 'STEP', status: ['SENT'] } })).actions.nodes.map((a) => a.stepKey);
    expect(await stepped('SUG-1')).toEqual(['overdue-3']);
    const confirmed = dataOf(await t.gql(ConfirmDisputeDocument, { id: s1.id }, collectorKey)).confirmDispute;
    expect(confirmed.status).toBe('OPEN');
    dataOf(await t.gql(DismissDisputeDocument, { id: s2.id, reason: 'the reply was about another invoice' }, collectorKey));
    await day('2026-03-13'); // +10
    expect(await stepped('SUG-1')).toEqual(['overdue-3']);
    expect((await stepped('SUG-2')).sort()).toEqual(['overdue-10', 'overdue-3']);
    // The worklist follows: confirming swaps the confirm task for a follow-up; dismissing cancels it.
    const tasksOf = (n: string) => t.app.dataSource.query(`SELECT reason_code, status FROM tasks WHERE invoice_id = $1 ORDER BY created_at`, [invoiceIds[n]]);
    expect(await tasksOf('SUG-1')).toEqual([
      { reason_code: 'DISPUTE_CONFIRM', status: 'CANCELLED' },
      { reason_code: 'DISPUTE_FOLLOW_UP', status: 'OPEN' },
    ]);
    expect(await tasksOf('SUG-2')).toEqual([{ reason_code: 'DISPUTE_CONFIRM', status: 'CANCELLED' }]);
    const again = await t.gql(ConfirmDisputeDocument, { id: s2.id }, collectorKey);
    expect(again.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id', reason: 'NOT_SUGGESTED' });
  });

  it('a write-off cannot be approved by the person who asked for it, and a collector cannot approve at all', async () => {
    await addInvoices([inv({ externalId: 'WO-1', customerExternalId: 'D-4', total: '400.00' }), inv({ externalId: 'WO-2', customerExternalId: 'D-4', total: '50.00' })]);
    const req = dataOf(await t.gql(RequestWriteOffDocument, { input: { invoiceId: invoiceIds['WO-1'], reason: 'customer insolvent' } }, managerKey)).requestWriteOff;
    expect(req).toMatchObject({ status: 'PENDING' });
    const own = await t.gql(ApproveDocument, { id: req.id, reason: 'fine by me' }, managerKey);
    expect(own.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const collector = await t.gql(ApproveDocument, { id: req.id, reason: 'ok' }, collectorKey);
    expect(collector.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const listed = dataOf(await t.gql(ApprovalRequestsFilteredDocument, { subjectId: invoiceIds['WO-1'] })).approvalRequests;
    expect(listed).toMatchObject([{ id: req.id, status: 'PENDING', decidedBy: null, requiredRole: 'MANAGER' }]);
    const ok = dataOf(await t.gql(ApproveDocument, { id: req.id, reason: 'insolvency confirmed' }, manager2Key)).approve;
    expect(ok).toMatchObject({ status: 'APPROVED', decidedByKind: 'api_key' });
    const [row] = await t.app.dataSource.query(`SELECT status FROM invoices WHERE id = $1`, [invoiceIds['WO-1']]);
    expect(row.status).toBe('WRITTEN_OFF');
    // Reject needs a reason.
    const r2 = dataOf(await t.gql(RequestWriteOffDocument, { input: { invoiceId: invoiceIds['WO-2'], reason: 'small balance' } }, collectorKey)).requestWriteOff;
    const noReason = await t.gql(RejectDocument, { id: r2.id, reason: ' ' }, managerKey);
    expect(noReason.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reason' });
    expect(dataOf(await t.gql(RejectDocument, { id: r2.id, reason: 'chase it' }, managerKey)).reject.status).toBe('REJECTED');
  });

  it('fast path: routine small write-offs are approved by the rule (recorded as the approver), never for strategic accounts; bigger ones need an ADMIN', async () => {
    const rules = dataOf(
      await t.gql(SetApprovalRulesDocument, { rules: [{ kind: 'WRITE_OFF', minRole: 'MANAGER', fastPath: { maxAmount: '100.00' }, escalations: [{ above: '5000.00', minRole: 'ADMIN' }] }] }),
    ).setApprovalRules;
    expect(rules.find((r) => r.kind === 'WRITE_OFF')).toMatchObject({ fastPath: { maxAmount: { amount: '100.00' }, excludeTiers: ['strategic'] } });
    await addInvoices([inv({ externalId: 'FP-1', customerExternalId: 'D-4', total: '80.00' }), inv({ externalId: 'FP-2', customerExternalId: 'D-5', total: '80.00' }), inv({ externalId: 'FP-3', customerExternalId: 'D-4', total: '9000.00' })]);
    const small = dataOf(await t.gql(RequestWriteOffDocument, { input: { invoiceId: invoiceIds['FP-1'], reason: 'residual' } }, collectorKey)).requestWriteOff;
    expect(small.status).toBe('APPROVED');
    expect(dataOf(await t.gql(ApprovalRequestsFilteredDocument, { subjectId: invoiceIds['FP-1'] })).approvalRequests[0]).toMatchObject({ decidedBy: 'rule:fast-path:WRITE_OFF', decidedByKind: 'rule', requestedBy: expect.any(String) });
    const strategic = dataOf(await t.gql(RequestWriteOffDocument, { input: { invoiceId: invoiceIds['FP-2'], reason: 'residual' } }, collectorKey)).requestWriteOff;
    expect(strategic).toMatchObject({ status: 'PENDING' });
    const big = dataOf(await t.gql(RequestWriteOffDocument, { input: { invoiceId: invoiceIds['FP-3'], reason: 'bankrupt' } }, collectorKey)).requestWriteOff;
    expect(big.status).toBe('PENDING');
    expect(dataOf(await t.gql(ApprovalRequestsFilteredDocument, { subjectId: invoiceIds['FP-3'] })).approvalRequests[0].requiredRole).toBe('ADMIN');
    expect((await t.gql(ApproveDocument, { id: big.id, reason: 'ok' }, managerKey)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(dataOf(await t.gql(ApproveDocument, { id: big.id, reason: 'board approved' })).approve.status).toBe('APPROVED');
    const statuses = await t.app.dataSource.query(`SELECT number, status FROM invoices WHERE number IN ('FP-1','FP-2','FP-3') ORDER BY number`);
    expect(statuses).toEqual([
      { number: 'FP-1', status: 'WRITTEN_OFF' },
      { number: 'FP-2', status: 'OPEN' },
      { number: 'FP-3', status: 'WRITTEN_OFF' },
    ]);
    const audit = dataOf(await t.gql(AuditEventsDocument, { filter: { action: 'approval.approved', actorKind: 'rule' } })).auditEvents.nodes;
    expect(audit.some((e) => e.actorId === 'rule:fast-path:WRITE_OFF' && e.subjectId === invoiceIds['FP-1'])).toBe(true);
  });

  it('requests expire: an expired one can no longer be approved and shows as EXPIRED', async () => {
    await addInvoices([inv({ externalId: 'EXP-1', customerExternalId: 'D-4', total: '300.00' })]);
    const req = dataOf(await t.gql(RequestWriteOffDocument, { input: { invoiceId: invoiceIds['EXP-1'], reason: 'disputed forever' } }, collectorKey)).requestWriteOff;
    const filed = dataOf(await t.gql(ApprovalRequestsFilteredDocument, { subjectId: invoiceIds['EXP-1'] })).approvalRequests[0];
    expect(new Date(filed.expiresAt!).getTime()).toBeGreaterThan(Date.now() + 71 * 3600_000);
    // Three days pass.
    await t.app.dataSource.query(`UPDATE approval_requests SET requested_at = requested_at - interval '73 hours', expires_at = expires_at - interval '73 hours' WHERE id = $1`, [req.id]);
    const late = await t.gql(ApproveDocument, { id: req.id, reason: 'sorry, late' }, managerKey);
    expect(late.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', reason: 'EXPIRED' });
    expect(dataOf(await t.gql(ApprovalRequestsFilteredDocument, { subjectId: invoiceIds['EXP-1'] })).approvalRequests[0]).toMatchObject({ status: 'EXPIRED', decidedBy: 'system:expiry' });
    const [row] = await t.app.dataSource.query(`SELECT status FROM invoices WHERE id = $1`, [invoiceIds['EXP-1']]);
    expect(row.status).toBe('OPEN');
  });

  it('credit memos over the threshold need approval; a dispute resolved by credit memo or write-off waits for it', async () => {
    dataOf(await t.gql(SetApprovalRulesDocument, { rules: [{ kind: 'CREDIT_MEMO', threshold: '500.00' }] }));
    const over = await t.gql(CreateCreditMemoDocument, { input: { customerId: customerIds['D-4'], number: 'CM-BIG', amount: '600.00', reason: 'goodwill' } });
    expect(over.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'amount', reason: 'APPROVAL_REQUIRED' });
    expect(await count(`SELECT count(*)::int AS n FROM ar_documents WHERE number = 'CM-BIG'`)).toBe(0);
    const under = dataOf(await t.gql(CreateCreditMemoDocument, { input: { customerId: customerIds['D-4'], number: 'CM-SMALL', amount: '200.00', reason: 'goodwill' } })).createCreditMemo;
    expect(under.number).toBe('CM-SMALL');
    const req = dataOf(await t.gql(RequestCreditMemoDocument, { input: { customerId: customerIds['D-4'], number: 'CM-BIG', amount: '600.00', reason: 'goodwill' } }, collectorKey)).requestCreditMemo;
    expect(req).toMatchObject({ kind: 'CREDIT_MEMO', status: 'PENDING' });
    dataOf(await t.gql(ApproveDocument, { id: req.id, reason: 'agreed with sales' }, managerKey));
    expect(await count(`SELECT count(*)::int AS n FROM ar_documents WHERE number = 'CM-BIG'`)).toBe(1);

    // A dispute settled by a small credit memo resolves at once; a big one waits for its approval.
    await addInvoices([inv({ externalId: 'CMD-1', customerExternalId: 'D-4', total: '1000.00' }), inv({ externalId: 'CMD-2', customerExternalId: 'D-4', total: '1000.00' }), inv({ externalId: 'WOD-1', customerExternalId: 'D-4', total: '1000.00' })]);
    const open = async (n: string, amount?: string) => dataOf(await t.gql(OpenDisputeFullDocument, { input: { invoiceId: invoiceIds[n], reasonCode: 'PRICING', amount, detail: 'price' } }, collectorKey)).openDispute;
    const d1 = await open('CMD-1', '100.00');
    const r1 = dataOf(await t.gql(ResolveDisputeDocument, { id: d1.id, input: { resolution: 'CREDIT_MEMO', note: 'price error', creditMemoNumber: 'CM-D1' } }, managerKey)).resolveDispute;
    expect(r1).toMatchObject({ status: 'RESOLVED', resolution: 'CREDIT_MEMO' });
    expect(r1.creditMemoId).toBeTruthy();
    const [b1] = await t.app.dataSource.query(`SELECT open_balance_minor::text AS open FROM invoices WHERE id = $1`, [invoiceIds['CMD-1']]);
    expect(b1.open).toBe('90000');
    const d2 = await open('CMD-2', '700.00');
    const r2 = dataOf(await t.gql(ResolveDisputeDocument, { id: d2.id, input: { resolution: 'CREDIT_MEMO', note: 'wrong price list' } }, managerKey)).resolveDispute;
    expect(r2).toMatchObject({ status: 'UNDER_REVIEW', resolution: null });
    expect(r2.approvalRequestId).toBeTruthy();
    const waiting = await t.gql(ResolveDisputeDocument, { id: d2.id, input: { resolution: 'REJECTED', note: 'changed my mind' } }, managerKey);
    expect(waiting.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', reason: 'AWAITING_APPROVAL' });
    expect((await t.gql(ApproveDocument, { id: r2.approvalRequestId!, reason: 'mine' }, managerKey)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    dataOf(await t.gql(ApproveDocument, { id: r2.approvalRequestId!, reason: 'agreed' }, manager2Key));
    const d2After = dataOf(await t.gql(DisputesDocument, { filter: { invoiceId: invoiceIds['CMD-2'] } })).disputes.nodes[0];
    expect(d2After).toMatchObject({ status: 'RESOLVED', resolution: 'CREDIT_MEMO' });
    const [b2] = await t.app.dataSource.query(`SELECT open_balance_minor::text AS open FROM invoices WHERE id = $1`, [invoiceIds['CMD-2']]);
    expect(b2.open).toBe('30000');

    const d3 = await open('WOD-1', '250.00');
    const r3 = dataOf(await t.gql(ResolveDisputeDocument, { id: d3.id, input: { resolution: 'WRITE_OFF', note: 'not worth fighting' } }, managerKey)).resolveDispute;
    expect(r3.status).toBe('UNDER_REVIEW');
    dataOf(await t.gql(ApproveDocument, { id: r3.approvalRequestId!, reason: 'ok' }, manager2Key));
    expect(dataOf(await t.gql(DisputesDocument, { filter: { invoiceId: invoiceIds['WOD-1'] } })).disputes.nodes[0]).toMatchObject({ status: 'RESOLVED', resolution: 'WRITE_OFF' });
    const [b3] = await t.app.dataSource.query(`SELECT open_balance_minor::text AS open FROM invoices WHERE id = $1`, [invoiceIds['WOD-1']]);
    expect(b3.open).toBe('75000');
  });

  it('credit holds follow the rules: the engine\'s tier action waits for the approval, a manual hold too', async () => {
    dataOf(await t.gql(SetApprovalRulesDocument, { rules: [{ kind: 'CREDIT_HOLD', minRole: 'MANAGER' }] }));
    await addInvoices([inv({ externalId: 'HOLD-1', customerExternalId: 'D-3', issueDate: '2026-01-01', total: '800.00' })]); // due 01-31; 60 days → tier 3
    await day('2026-04-02');
    const holdAction = () => t.app.dataSource.query(`SELECT id, status, status_reason FROM actions WHERE customer_id = $1 AND action_type = 'CREDIT_HOLD'`, [customerIds['D-3']]).then((r: { id: string; status: string }[]) => r[0]);
    // The policy asks for approval of the tier action; approving it hands it to the tenant's rule.
    const a = await holdAction();
    expect(a.status).toBe('AWAITING_APPROVAL');
    await t.app.dataSource.query(`UPDATE actions SET status = 'PLANNED' WHERE id = $1`, [a.id]); // as approveAction does
    await day('2026-04-02');
    expect((await holdAction()).status).toBe('AWAITING_APPROVAL');
    const [req] = dataOf(await t.gql(ApprovalRequestsFilteredDocument, { kinds: ['CREDIT_HOLD'], status: ['PENDING'] })).approvalRequests;
    expect(req).toMatchObject({ subjectId: customerIds['D-3'], requestedBy: 'rule:tier-3' });
    dataOf(await t.gql(ApproveDocument, { id: req.id, reason: '60 days late' }, managerKey));
    await day('2026-04-02');
    expect((await holdAction()).status).toBe('SENT');
    const [c] = await t.app.dataSource.query(`SELECT credit_hold FROM customers WHERE id = $1`, [customerIds['D-3']]);
    expect(c.credit_hold).toBe(true);
    // Manual release under the default rule (no approval needed): done at once, by the rule.
    const rel = dataOf(await t.gql(RequestCreditHoldDocument, { customerId: customerIds['D-3'], hold: false, reason: 'paid in full by wire' }, collectorKey)).requestCreditHold;
    expect(rel).toMatchObject({ kind: 'CREDIT_HOLD_RELEASE', status: 'APPROVED', decidedBy: 'rule:not-required:CREDIT_HOLD_RELEASE' });
    const [c2] = await t.app.dataSource.query(`SELECT credit_hold FROM customers WHERE id = $1`, [customerIds['D-3']]);
    expect(c2.credit_hold).toBe(false);
    const manual = dataOf(await t.gql(RequestCreditHoldDocument, { customerId: customerIds['D-4'], hold: true, reason: 'over limit' }, collectorKey)).requestCreditHold;
    expect(manual.status).toBe('PENDING');
  });

  it('bad input gets typed errors naming the field and changes nothing', async () => {
    const before = await count(`SELECT (SELECT count(*) FROM disputes) + (SELECT count(*) FROM approval_requests) + (SELECT count(*) FROM audit_events) AS n`);
    const cases: [Promise<{ errors?: { extensions?: Record<string, unknown> }[] }>, Record<string, unknown>][] = [
      [t.gql(OpenDisputeFullDocument, { input: { invoiceId: invoiceIds['ROUTE-1'], reasonCode: 'PRICING', lineIds: ['00000000-0000-0000-0000-000000000000'] } }), { field: 'lineIds', reason: 'UNKNOWN_LINE' }],
      [t.gql(OpenDisputeFullDocument, { input: { invoiceId: invoiceIds['ROUTE-1'], reasonCode: 'PRICING', amount: '-5' } }), { field: 'amount', reason: 'INVALID_AMOUNT' }],
      [t.gql(OpenDisputeFullDocument, { input: { invoiceId: invoiceIds['ROUTE-1'], reasonCode: 'PRICING', raisedOn: '2999-01-01' } }), { field: 'raisedOn', reason: 'INVALID_DATE' }],
      [t.gql(OpenDisputeFullDocument, { input: { invoiceId: invoiceIds['WO-1'], reasonCode: 'PRICING' } }), { field: 'invoiceId', reason: 'INVOICE_NOT_OPEN' }],
      [t.gql(SetApprovalRulesDocument, { rules: [{ kind: 'WRITE_OFF', minRole: 'COLLECTOR' }] }), { field: 'rules.0.minRole', reason: 'INVALID_RULES' }],
      [t.gql(SetApprovalRulesDocument, { rules: [{ kind: 'WRITE_OFF' }, { kind: 'WRITE_OFF' }] }), { field: 'rules.1.kind', reason: 'INVALID_RULES' }],
      [t.gql(SetApprovalRulesDocument, { rules: [{ kind: 'CREDIT_MEMO', threshold: '12.345' }] }), { field: 'rules.0.threshold', reason: 'INVALID_RULES' }],
      [t.gql(SetDisputeSettingsDocument, { input: { nudgeAfterDays: 0 } }), { field: 'nudgeAfterDays', reason: 'INVALID_SETTINGS' }],
    ];
    for (const [p, ext] of cases) {
      const r = await p;
      expect(r.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', ...ext });
    }
    const open = dataOf(await t.gql(DisputesDocument, { filter: { invoiceId: invoiceIds['ROUTE-1'] } })).disputes.nodes[0];
    const bad = await t.gql(UpdateDisputeDocument, { id: open.id, input: { status: 'RESOLVED' } }, collectorKey);
    expect(bad.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'status', reason: 'INVALID_TRANSITION' });
    const noNote = await t.gql(ResolveDisputeDocument, { id: open.id, input: { resolution: 'REJECTED', note: '' } }, managerKey);
    expect(noNote.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'note' });
    expect((await t.gql(ResolveDisputeDocument, { id: open.id, input: { resolution: 'REJECTED', note: 'x' } }, collectorKey)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(await count(`SELECT (SELECT count(*) FROM disputes) + (SELECT count(*) FROM approval_requests) + (SELECT count(*) FROM audit_events) AS n`)).toBe(before);
  });

  it('every mutation above left an audit event with actor, before/after, reason and request id; only managers read them', async () => {
    const opened = dataOf(await t.gql(AuditEventsDocument, { filter: { action: 'dispute.', subjectId: invoiceIds['ROUTE-1'] } }, managerKey)).auditEvents;
    expect(opened.nodes.map((n) => n.action)).toEqual(expect.arrayContaining(['dispute.opened']));
    const e = opened.nodes.find((n) => n.action === 'dispute.opened')!;
    expect(e).toMatchObject({ actorKind: 'api_key', subjectType: 'Invoice', after: expect.objectContaining({ status: 'OPEN', ownerUserId: pricingUserId }) });
    expect(e.requestId).toBeTruthy();
    const decided = dataOf(await t.gql(AuditEventsDocument, { filter: { action: 'approval.approved', actorId: managerKeyId } }, managerKey)).auditEvents.nodes;
    expect(decided.length).toBeGreaterThan(0);
    const engine = dataOf(await t.gql(AuditEventsDocument, { filter: { action: 'engine.action_planned', subjectId: invoiceIds['LINES-3'] }, first: 50 }, managerKey)).auditEvents.nodes;
    expect(engine.map((n) => n.actorKind)).toEqual(engine.map(() => 'rule'));
    expect(engine.length).toBeGreaterThanOrEqual(4);
    const sent = dataOf(await t.gql(AuditEventsDocument, { filter: { action: 'action.sent', subjectId: invoiceIds['NUDGE-1'] } }, managerKey)).auditEvents.nodes;
    expect(sent).toHaveLength(1);
    expect((await t.gql(AuditEventsDocument, {}, collectorKey)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const p1 = dataOf(await t.gql(AuditEventsDocument, { first: 5 }, managerKey)).auditEvents;
    const p2 = dataOf(await t.gql(AuditEventsDocument, { first: 5, after: p1.pageInfo.endCursor }, managerKey)).auditEvents;
    expect(Number(p2.nodes[0].id)).toBeLessThan(Number(p1.nodes[4].id));
  });

  it('a row changed behind the API\'s back makes verifyAuditChain fail at that row', async () => {
    const ok = dataOf(await t.gql(VerifyAuditChainDocument, {}, managerKey)).verifyAuditChain;
    expect(ok).toMatchObject({ ok: true, firstBrokenLink: null });
    expect(ok.checkedEvents).toBeGreaterThan(50);
    expect(Number(ok.headSeq)).toBe(ok.checkedEvents);
    // The database refuses the change through any ordinary path.
    const [target] = await t.app.dataSource.query(`SELECT e.id::text AS id, c.seq::text AS seq FROM audit_events e JOIN audit_chain c ON c.event_id = e.id WHERE e.action = 'approval.approved' ORDER BY e.id LIMIT 1`);
    await expect(t.app.dataSource.query(`UPDATE audit_events SET data = '{}' WHERE id = $1`, [target.id])).rejects.toThrow(/append-only/);
    await expect(t.app.dataSource.query(`UPDATE audit_chain SET hash = repeat('0', 64) WHERE event_id = $1`, [target.id])).rejects.toThrow(/append-only/);
    // The table owner switches the trigger off and rewrites who approved.
    await t.app.dataSource.query(`ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update`);
    try {
      await t.app.dataSource.query(`UPDATE audit_events SET actor_id = 'someone-else' WHERE id = $1`, [target.id]);
    } finally {
      await t.app.dataSource.query(`ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update`);
    }
    const broken = dataOf(await t.gql(VerifyAuditChainDocument, {}, managerKey)).verifyAuditChain;
    expect(broken.ok).toBe(false);
    expect(broken.firstBrokenLink).toMatchObject({ eventId: target.id, seq: target.seq, reason: expect.stringMatching(/differs/) });
    expect(broken.firstBrokenLink!.expectedHash).not.toBe(broken.firstBrokenLink!.storedHash);
    // A range after the tampered row still verifies.
    const [later] = await t.app.dataSource.query(`SELECT e.occurred_at FROM audit_events e JOIN audit_chain c ON c.event_id = e.id WHERE c.seq > $1::bigint + 1 ORDER BY c.seq LIMIT 1`, [target.seq]);
    const tail = dataOf(await t.gql(VerifyAuditChainDocument, { from: new Date(new Date(later.occurred_at).getTime() + 1).toISOString() }, managerKey)).verifyAuditChain;
    expect(tail.ok).toBe(true);
  });
  it('a policy reaching strategic accounts is published only through an approval the requester cannot give', async () => {
    const created = dataOf(await t.gql(CreateDunningPolicyDocument, { input: { name: 'Strategic care', definition: typicalPolicy } })).createDunningPolicy.policy!;
    dataOf(await t.gql(AssignDunningPolicyDocument, { policyId: created.id, scope: 'SEGMENT', value: 'STRATEGIC' }));
    dataOf(await t.gql(SetApprovalRulesDocument, { rules: [{ kind: 'POLICY_PUBLISH', minRole: 'MANAGER' }] }));
    const direct = await t.gql(PublishDunningPolicyDocument, { policyId: created.id, effectiveFrom: '2026-01-01' }, managerKey);
    expect(direct.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'policyId', reason: 'APPROVAL_REQUIRED' });
    type Req = { requestPolicyPublish: { id: string; kind: string; status: string } };
    const asked = dataOf(
      await t.gql<Req, { p: string }>(`mutation($p: ID!) { requestPolicyPublish(policyId: $p, effectiveFrom: "2026-01-01", reason: "gentler cadence for strategic accounts") { id kind status } }`, { p: created.id }, managerKey),
    ).requestPolicyPublish;
    expect(asked).toMatchObject({ kind: 'POLICY_PUBLISH', status: 'PENDING' });
    const statusOf = async () => (await t.app.dataSource.query(`SELECT status FROM dunning_policy_versions WHERE policy_id = $1`, [created.id]))[0].status;
    expect(await statusOf()).toBe('DRAFT');
    expect((await t.gql(ApproveDocument, { id: asked.id, reason: 'mine' }, managerKey)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect((await t.gql(ApproveDocument, { id: asked.id, reason: 'ok' }, collectorKey)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    dataOf(await t.gql(ApproveDocument, { id: asked.id, reason: 'reviewed with the account team' }));
    expect(await statusOf()).toBe('PUBLISHED');
    const [pub] = await t.app.dataSource.query(`SELECT effective_from::text AS f FROM dunning_policy_publications WHERE policy_id = $1`, [created.id]);
    expect(pub.f).toBe('2026-01-01');
  });
  it('a manual override (a segment override) below the role of its rule goes through an approval; at or above it applies at once', async () => {
    type Req = { requestSegmentOverride: { id: string; kind: string; status: string } };
    const asked = dataOf(
      await t.gql<Req, { c: string }>(`mutation($c: ID!) { requestSegmentOverride(customerId: $c, segment: "STRATEGIC", until: "2026-12-31", reason: "board-level relationship", asOf: "2026-11-01") { id kind status } }`, { c: customerIds['D-1'] }, collectorKey),
    ).requestSegmentOverride;
    expect(asked).toMatchObject({ kind: 'MANUAL_OVERRIDE', status: 'PENDING' });
    const segmentOf = async (c: string) => (await t.app.dataSource.query(`SELECT segment FROM customers WHERE id = $1`, [customerIds[c]]))[0].segment;
    expect(await segmentOf('D-1')).not.toBe('STRATEGIC');
    dataOf(await t.gql(ApproveDocument, { id: asked.id, reason: 'agreed' }, managerKey));
    expect(await segmentOf('D-1')).toBe('STRATEGIC');

    const direct = (role: string | undefined) =>
      t.gql<{ overrideSegment: { segment: string } }, { c: string }>(`mutation($c: ID!) { overrideSegment(customerId: $c, segment: "LONG_TAIL", until: "2026-12-31", reason: "small account", asOf: "2026-11-01") { segment } }`, { c: customerIds['D-2'] }, role);
    dataOf(await t.gql(SetApprovalRulesDocument, { rules: [{ kind: 'MANUAL_OVERRIDE', minRole: 'ADMIN' }] }));
    expect((await direct(managerKey)).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'APPROVAL_REQUIRED' });
    expect(await segmentOf('D-2')).not.toBe('LONG_TAIL');
    expect(dataOf(await direct(undefined)).overrideSegment.segment).toBe('LONG_TAIL');
  });
});
