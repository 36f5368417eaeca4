import { addDays } from '../../src/platform/time/dates';
import { dataOf, startTestApp, type TestApp } from '../support/test-app';
import * as fx from '../support/fixtures';
import { typicalPolicy } from '../support/policies';
import { waitFor } from '../support/wait';
import { startGlobalQueryCount } from '../../src/platform/db/sql-logger';

/**
 * Payment behaviour, segmentation, recommendations and backtests through the GraphQL API, on a
 * history built day by day: six months of invoices, reminders sent by the real engine and
 * dispatcher, payments recorded on the day each customer habitually pays.
 */
const Q = {
  upsertCustomers: `mutation($input: [UpsertCustomerInput!]!) { upsertCustomers(input: $input) { failed results { customer { id externalId } } } }`,
  upsertInvoices: `mutation($input: [UpsertInvoiceInput!]!) { upsertInvoices(input: $input) { failed } }`,
  createPolicy: `mutation($input: CreateDunningPolicyInput!) { createDunningPolicy(input: $input) { policy { id } version { id } errors { field message } } }`,
  publish: `mutation($policyId: ID!, $effectiveFrom: Date) { publishDunningPolicy(policyId: $policyId, effectiveFrom: $effectiveFrom) { version { id } } }`,
  assign: `mutation($policyId: ID!, $scope: AssignmentScope!, $value: String) { assignDunningPolicy(policyId: $policyId, scope: $scope, value: $value) { id } }`,
  run: `mutation($asOf: Date) { runEvaluation(asOf: $asOf) { id } }`,
  dispatch: `mutation($asOf: Date) { dispatchActions(asOf: $asOf) { sent } }`,
  pay: `mutation($input: [RecordPaymentInput!]!) { recordPayments(input: $input) { failed results { errors { message } } } }`,
  refresh: `mutation($asOf: Date) { refreshPaymentBehaviour(asOf: $asOf) }`,
  customers: `query { customers(first: 50) { nodes { id externalId segment
      segmentAssignment { segment source ruleName reason overrideUntil overrideReason }
      paymentBehaviour { asOf paidInvoices lateInvoices daysToPay { mean median p90 } daysLate { mean median p90 } paidAfterStep { step invoices share }
        promiseKeptRate disputeRate trend openBalance { amount } invoicedLast365 { amount } maxDaysPastDue } } } }`,
  rules: `query { segmentationRules { isDefault rules { name segment conditions { field op value values } } } }`,
  setRules: `mutation($rules: [SegmentationRuleInput!]!) { setSegmentationRules(rules: $rules) { isDefault rules { name segment } } }`,
  segment: `mutation($asOf: Date) { runSegmentation(asOf: $asOf) { asOf customers changed overridesKept overridesExpired bySegment } }`,
  override: `mutation($customerId: ID!, $segment: String!, $until: Date!, $reason: String!, $asOf: Date) { overrideSegment(customerId: $customerId, segment: $segment, until: $until, reason: $reason, asOf: $asOf) { segment source overrideUntil overrideReason } }`,
  effective: `query($customerId: ID!, $asOf: Date) { effectivePolicy(customerId: $customerId, asOf: $asOf) { policy { name } reason } }`,
  recs: `query($kind: RecommendationKind) { recommendations(kind: $kind) { id kind customerId policyId title evidence change proposedDefinition status } }`,
  refreshRecs: `mutation($asOf: Date) { refreshRecommendations(asOf: $asOf) { id kind customerId title } }`,
  apply: `mutation($id: ID!) { applyRecommendation(id: $id) { recommendation { status appliedPolicyId appliedVersionId } policy { id name } version { id status } } }`,
  backtest: `mutation($input: BacktestDunningPolicyInput!) { backtestDunningPolicy(input: $input) { id status percentDone result { ...R } } }`,
  backtestRun: `query($id: ID!) { backtestRun(id: $id) { id status percentDone customersTotal customersDone result { ...R } } }`,
  backtestRuns: `query($policyId: ID) { backtestRuns(policyId: $policyId) { id status from to result { candidate { touches } current { touches } } } }`,
};
const RESULT = `fragment R on BacktestResult { customers invoices invoiceDays sales { amount currency } actualCash { amount currency } cashDelta { amountMinor currency } touchesDelta
  dsoDelta { currency days } modelInvoices
  model { segment kind touches within1 within5 withinHorizon medianDelay }
  candidate { label touches cashCollected { amountMinor currency } dso { currency days } touchesByStep { key value } touchesByKind { key value } escalations { key value } cashByWeek { week weekStart cash { amountMinor } touches } policies { policyId versionId customers } }
  current { label touches cashCollected { amountMinor currency } dso { currency days } touchesByStep { key value } touchesByKind { key value } escalations { key value } cashByWeek { week weekStart cash { amountMinor } touches } policies { policyId versionId customers } } }`;

/** Each customer's habit: days after the due date it pays (null = never). */
const HABITS: Record<string, { name: string; delay: number | null; total: string; tier?: string }> = {
  PROMPT: { name: 'Prompt Payer Co', delay: 1, total: '1000.00' },
  LATE10: { name: 'Ten Days Late Inc', delay: 12, total: '4000.00' },
  LATE22: { name: 'After Escalation LLC', delay: 23, total: '20000.00' },
  STRAT: { name: 'Strategic Partner plc', delay: -3, total: '9000.00', tier: 'strategic' },
};
const MONTHS = ['2026-01-01', '2026-02-01', '2026-03-01', '2026-04-01', '2026-05-01', '2026-06-01'];
const END = '2026-07-31';

describe('behaviour, segments, recommendations and backtests through the API', () => {
  let t: TestApp;
  let standardId: string;
  const ids: Record<string, string> = {};
  const payments = new Map<string, { externalId: string; amount: string; customerExternalId: string; remittanceText: string }[]>();
  const gql = async <T = Record<string, never>>(q: string, variables?: Record<string, unknown>) => dataOf(await t.gql<T, Record<string, unknown>>(q, variables)) as T & Record<string, never>;

  beforeAll(async () => {
    t = await startTestApp();
    dataOf(await t.gql(`mutation($input: [UpsertEntityInput!]!) { upsertEntities(input: $input) { id } }`, { input: fx.entities }));
    const customers = [...Object.entries(HABITS).map(([ext, h]) => ({ externalId: ext, name: h.name, entityCode: 'US01', currency: 'USD', segment: 'smb', country: 'US', ...(h.tier ? { tier: h.tier } : {}), contacts: [{ name: 'AP', email: `ap@${ext.toLowerCase()}.example` }] })),
      { externalId: 'NEWBIE', name: 'New Customer GmbH', entityCode: 'US01', currency: 'USD', segment: 'smb', country: 'DE', contacts: [{ name: 'AP', email: 'ap@newbie.example' }] }];
    const up = await gql<{ upsertCustomers: { failed: number; results: { customer: { id: string; externalId: string } }[] } }>(Q.upsertCustomers, { input: customers });
    expect(up.upsertCustomers.failed).toBe(0);
    for (const r of up.upsertCustomers.results) ids[r.customer.externalId] = r.customer.id;
    const created = await gql<{ createDunningPolicy: { policy: { id: string } } }>(Q.createPolicy, { input: { name: 'Standard', definition: typicalPolicy } });
    standardId = created.createDunningPolicy.policy.id;
    await gql(Q.publish, { policyId: standardId, effectiveFrom: '2025-01-01' });
    await gql(Q.assign, { policyId: standardId, scope: 'GLOBAL' });

    const invoices: Record<string, unknown>[] = [];
    for (const [ext, h] of Object.entries(HABITS)) {
      for (const issueDate of MONTHS) {
        const number = `INV-${1001 + invoices.length}`; // digits the remittance matcher can read
        invoices.push({ externalId: number, number, customerExternalId: ext, issueDate, currency: 'USD', total: h.total, terms: { kind: 'NET', days: 30 } });
        const due = addDays(issueDate, 30);
        const payOn = addDays(due, h.delay!);
        if (payOn > END) continue;
        const list = payments.get(payOn) ?? [];
        list.push({ externalId: `PAY-${number}`, amount: h.total, customerExternalId: ext, remittanceText: number });
        payments.set(payOn, list);
      }
    }
    invoices.push({ externalId: 'NEWBIE-1', number: 'INV-2001', customerExternalId: 'NEWBIE', issueDate: '2026-06-25', currency: 'USD', total: '3000.00', terms: { kind: 'NET', days: 30 } });
    expect((await gql<{ upsertInvoices: { failed: number } }>(Q.upsertInvoices, { input: invoices })).upsertInvoices.failed).toBe(0);

    // Day by day: evaluate, send what is due, then the day's payments come in.
    for (let d = '2025-12-20'; d <= END; d = addDays(d, 1)) {
      await gql(Q.run, { asOf: d });
      await gql(Q.dispatch, { asOf: d });
      const due = payments.get(d);
      if (due) {
        const r = await gql<{ recordPayments: { failed: number } }>(Q.pay, { input: due.map((p) => ({ ...p, source: 'bank', method: 'WIRE', currency: 'USD', receivedOn: d })) });
        expect(r.recordPayments.failed).toBe(0);
      }
    }
  }, 600_000);
  afterAll(async () => {
    await t?.stop();
  });

  it('payment behaviour per customer: days to pay, days late, the step that precedes payment; one query per page', async () => {
    expect(await gql<{ refreshPaymentBehaviour: number }>(Q.refresh, { asOf: END })).toEqual({ refreshPaymentBehaviour: 5 });
    const nodes = (await gql<{ customers: { nodes: { externalId: string; paymentBehaviour: Record<string, never> & { paidAfterStep: { step: string }[] } }[] } }>(Q.customers)).customers.nodes;
    const by = Object.fromEntries(nodes.map((n) => [n.externalId, n.paymentBehaviour]));
    expect(by.PROMPT).toMatchObject({ asOf: END, paidInvoices: 6, lateInvoices: 6, daysToPay: { mean: 31, median: 31, p90: 31 }, daysLate: { median: 1 }, trend: 'STABLE' });
    expect(by.PROMPT.paidAfterStep).toEqual([{ step: 'due', invoices: 6, share: 1 }]);
    expect(by.LATE10).toMatchObject({ paidInvoices: 6, daysLate: { mean: 12, median: 12, p90: 12 }, paidAfterStep: [{ step: 'overdue-10', invoices: 6, share: 1 }] });
    // The June invoice of LATE22 is due 07-01 and paid 07-24: all six paid after the 21-day escalation.
    expect(by.LATE22).toMatchObject({ paidInvoices: 6, daysLate: { median: 23 }, paidAfterStep: [{ step: 'escalation-21', invoices: 6, share: 1 }], invoicedLast365: { amount: '120000.00' } });
    expect(by.STRAT).toMatchObject({ paidInvoices: 6, lateInvoices: 0, daysLate: { median: 0 }, daysToPay: { median: 27 }, paidAfterStep: [{ step: 'pre-due', invoices: 6, share: 1 }] });
    expect(by.NEWBIE).toMatchObject({ paidInvoices: 0, daysToPay: { mean: null }, maxDaysPastDue: 6, openBalance: { amount: '3000.00' }, trend: 'INSUFFICIENT_DATA' });

    // Dataloader: the whole page's behaviour and segment rows in one query each, however long the page.
    const statements = async (first: number) => {
      const counter = startGlobalQueryCount();
      dataOf(await t.gql(`query($first: Int) { customers(first: $first) { nodes { id paymentBehaviour { paidInvoices } segmentAssignment { segment } } } }`, { first }));
      const { statements: sql } = counter.stop();
      return sql.filter((q) => /customer_behaviour|customer_segments/.test(q)).length;
    };
    expect(await statements(1)).toBe(2);
    expect(await statements(50)).toBe(2);
  });

  it('segmentation from the default rules: every assignment has its reason; the change is audited and the segment policy follows', async () => {
    const rules = (await gql<{ segmentationRules: { isDefault: boolean; rules: { segment: string }[] } }>(Q.rules)).segmentationRules;
    expect(rules.isDefault).toBe(true);
    expect(rules.rules.map((r) => r.segment)).toEqual(['STRATEGIC', 'CHRONIC_LATE', 'FIRST_TIME_LATE', 'MID_MARKET', 'LONG_TAIL']);
    const run = (await gql<{ runSegmentation: { customers: number; changed: number; bySegment: Record<string, number> } }>(Q.segment, { asOf: END })).runSegmentation;
    expect(run).toMatchObject({ customers: 5, changed: 5, bySegment: { STRATEGIC: 1, CHRONIC_LATE: 2, FIRST_TIME_LATE: 1, LONG_TAIL: 1 } });
    const nodes = (await gql<{ customers: { nodes: { externalId: string; segment: string; segmentAssignment: { source: string; ruleName: string; reason: { rule: string; facts: Record<string, unknown> } } }[] } }>(Q.customers)).customers.nodes;
    const by = Object.fromEntries(nodes.map((n) => [n.externalId, n]));
    expect(by.LATE22.segment).toBe('CHRONIC_LATE');
    expect(by.LATE22.segmentAssignment).toMatchObject({ source: 'RULE', ruleName: 'chronic late payers', reason: { facts: { LATE_INVOICES: 6, DAYS_LATE_MEDIAN: 23 } } });
    expect(by.NEWBIE.segmentAssignment.reason.facts).toMatchObject({ LATE_INVOICES: 0, MAX_DAYS_PAST_DUE: 6 });
    expect(by.STRAT.segment).toBe('STRATEGIC');
    expect(by.PROMPT.segment).toBe('LONG_TAIL');
    const audit = await t.app.dataSource.query(`SELECT subject_id, actor_kind, data FROM audit_events WHERE action = 'customer.segment_changed' AND subject_id = $1`, [ids.LATE22]);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor_kind: 'rule', data: { before: { segment: 'smb' }, after: { segment: 'CHRONIC_LATE' } } });
    // Running again changes nothing.
    expect((await gql<{ runSegmentation: { changed: number } }>(Q.segment, { asOf: END })).runSegmentation.changed).toBe(0);

    // A policy assigned to the segment now wins for its customers.
    const chronic = await gql<{ createDunningPolicy: { policy: { id: string } } }>(Q.createPolicy, {
      input: { name: 'Chronic', definition: { ...typicalPolicy, steps: [{ key: 'call-1', offsetDays: 1, channels: ['EMAIL', 'CALL_TASK'], templateKey: 'overdue-friendly' }, ...typicalPolicy.steps.slice(3)] } },
    });
    await gql(Q.publish, { policyId: chronic.createDunningPolicy.policy.id, effectiveFrom: '2025-01-01' });
    await gql(Q.assign, { policyId: chronic.createDunningPolicy.policy.id, scope: 'SEGMENT', value: 'CHRONIC_LATE' });
    const eff = (await gql<{ effectivePolicy: { policy: { name: string }; reason: string } }>(Q.effective, { customerId: ids.LATE10, asOf: END })).effectivePolicy;
    expect(eff.policy.name).toBe('Chronic');
    expect(eff.reason).toContain('segment = CHRONIC_LATE');
  });

  it('a manual override sticks until it expires, then the rules apply again (audited both ways)', async () => {
    const o = (await gql<{ overrideSegment: Record<string, unknown> }>(Q.override, { customerId: ids.LATE10, segment: 'MID_MARKET', until: '2026-08-15', reason: 'new CFO, agreed payment plan', asOf: END })).overrideSegment;
    expect(o).toEqual({ segment: 'MID_MARKET', source: 'OVERRIDE', overrideUntil: '2026-08-15', overrideReason: 'new CFO, agreed payment plan' });
    const kept = (await gql<{ runSegmentation: { changed: number; overridesKept: number } }>(Q.segment, { asOf: '2026-08-15' })).runSegmentation;
    expect(kept).toMatchObject({ changed: 0, overridesKept: 1 });
    expect((await gql<{ effectivePolicy: { policy: { name: string } } }>(Q.effective, { customerId: ids.LATE10, asOf: END })).effectivePolicy.policy.name).toBe('Standard');
    const expired = (await gql<{ runSegmentation: { changed: number; overridesExpired: number } }>(Q.segment, { asOf: '2026-08-16' })).runSegmentation;
    expect(expired).toMatchObject({ changed: 1, overridesExpired: 1 });
    const audit = await t.app.dataSource.query(`SELECT action, data FROM audit_events WHERE subject_id = $1 AND action LIKE 'customer.segment%' ORDER BY id`, [ids.LATE10]);
    expect(audit.map((a: { action: string }) => a.action)).toEqual(['customer.segment_changed', 'customer.segment_overridden', 'customer.segment_changed']);
    expect(audit[2].data.reason).toMatch(/^override expired on 2026-08-15/);
    // Bad input: typed errors naming the field.
    const bad = await t.gql(Q.override, { customerId: ids.LATE10, segment: 'X', until: '2026-01-01', reason: 'r', asOf: END });
    expect(bad.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'until' });
  });

  it('tenant rules: validated with the field named, ordered, CRM and balance conditions', async () => {
    const bad = await t.gql(Q.setRules, { rules: [{ name: 'x', segment: 'A', conditions: [{ field: 'TIER', op: 'GT', value: '1' }] }] });
    expect(bad.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'rules.0.conditions.0.op' });
    const set = (
      await gql<{ setSegmentationRules: { isDefault: boolean; rules: { name: string }[] } }>(Q.setRules, {
        rules: [
          { name: 'germany', segment: 'DACH', conditions: [{ field: 'COUNTRY', op: 'IN', values: ['DE', 'AT', 'CH'] }] },
          { name: 'big books', segment: 'MID_MARKET', conditions: [{ field: 'INVOICED_LAST_365', op: 'GTE', value: '50000.00' }] },
          { name: 'chronic', segment: 'CHRONIC_LATE', conditions: [{ field: 'DAYS_LATE_MEDIAN', op: 'GTE', value: '10' }] },
        ],
      })
    ).setSegmentationRules;
    expect(set).toEqual({ isDefault: false, rules: [{ name: 'germany', segment: 'DACH' }, { name: 'big books', segment: 'MID_MARKET' }, { name: 'chronic', segment: 'CHRONIC_LATE' }] });
    const r = (await gql<{ runSegmentation: { bySegment: Record<string, number> } }>(Q.segment, { asOf: '2026-08-16' })).runSegmentation;
    // STRAT invoiced 54,000.00 and LATE22 120,000.00 in the year: big books; PROMPT matches nothing and gets its ERP segment back.
    expect(r.bySegment).toEqual({ DACH: 1, MID_MARKET: 2, CHRONIC_LATE: 1, smb: 1 });
    const [p] = await t.app.dataSource.query(`SELECT segment FROM customers WHERE id = $1`, [ids.PROMPT]);
    expect(p.segment).toBe('smb');
    const [g] = await t.app.dataSource.query(`SELECT segment FROM customers WHERE id = $1`, [ids.NEWBIE]);
    expect(g.segment).toBe('DACH');
    expect((await t.app.dataSource.query(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'segmentation.rules_set'`))[0].n).toBe(1);
  });

  it('recommendations with evidence; applying one creates a DRAFT, nothing goes live', async () => {
    const recs = (await gql<{ refreshRecommendations: { kind: string; customerId: string }[] }>(Q.refreshRecs, { asOf: END })).refreshRecommendations;
    const list = (await gql<{ recommendations: { id: string; kind: string; customerId: string; title: string; evidence: Record<string, unknown>; change: string; proposedDefinition: { steps: { key: string; channels: string[] }[] } }[] }>(Q.recs)).recommendations;
    expect(list.length).toBe(recs.length);
    const start = list.find((r) => r.kind === 'START_AT_STEP' && r.customerId === ids.LATE10)!;
    expect(start.title).toContain('"overdue-10"');
    // LATE10 is CHRONIC_LATE, so the Chronic policy is its current one: start at +10 and skip the +1 call.
    expect(start.evidence).toMatchObject({ paidInvoices: 6, share: 1, skippedSteps: [{ key: 'call-1', offsetDays: 1 }] });
    expect(start.proposedDefinition.steps[0].key).toBe('overdue-10');
    const personal = list.find((r) => r.kind === 'PERSONAL_OUTREACH')!;
    expect(personal.customerId).toBe(ids.LATE22);
    expect(personal.evidence).toMatchObject({ paidInvoices: 6, daysLate: { median: 23 }, paidOnlyAfterLateSteps: 6 });
    // LATE22 is MID_MARKET now: its current policy is Standard, every overdue step of the draft gets a call task.
    expect(personal.proposedDefinition.steps.filter((s) => s.channels.includes('CALL_TASK')).map((s) => s.key)).toEqual(['overdue-3', 'overdue-10', 'escalation-21', 'hold-30']);
    expect(list.some((r) => r.kind === 'START_AT_STEP' && r.customerId === ids.PROMPT)).toBe(true);

    const policiesBefore = await t.app.dataSource.query(`SELECT count(*)::int AS n FROM dunning_policy_publications`);
    const applied = (await gql<{ applyRecommendation: { recommendation: { status: string; appliedPolicyId: string }; policy: { id: string; name: string }; version: { status: string } } }>(Q.apply, { id: start.id })).applyRecommendation;
    expect(applied.version.status).toBe('DRAFT');
    expect(applied.recommendation).toMatchObject({ status: 'APPLIED', appliedPolicyId: applied.policy.id });
    expect(await t.app.dataSource.query(`SELECT count(*)::int AS n FROM dunning_policy_publications`)).toEqual(policiesBefore);
    expect(await t.app.dataSource.query(`SELECT count(*)::int AS n FROM policy_assignments WHERE policy_id = $1`, [applied.policy.id])).toEqual([{ n: 0 }]);
    const again = await t.gql(Q.apply, { id: start.id });
    expect(again.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'ALREADY_APPLIED' });
  });

  it('backtest: candidate vs current on the same history, deterministic, kept and listed', async () => {
    // Candidate: no pre-due / due / +3 reminders, start at +10.
    const candidate = { ...typicalPolicy, steps: typicalPolicy.steps.slice(3) };
    const input = { policyId: standardId, definition: candidate, from: '2026-03-01', to: '2026-06-30' };
    type Run = { id: string; status: string; percentDone: number; result: { candidate: { touches: number; cashCollected: { amountMinor: string }[]; touchesByStep: { key: string }[]; cashByWeek: unknown[]; dso: { days: number }[] }; current: { touches: number; cashCollected: { amountMinor: string }[]; touchesByStep: { key: string }[]; dso: { days: number }[] }; model: { segment: string; kind: string; touches: number; within5: number }[]; customers: number; touchesDelta: number; actualCash: { amount: string }[] } };
    const first = (await gql<{ backtestDunningPolicy: Run }>(`${Q.backtest} ${RESULT}`, { input })).backtestDunningPolicy;
    expect(first.status).toBe('DONE');
    expect(first.percentDone).toBe(100);
    const r = first.result;
    // The candidate is the global Standard policy: LATE10 (segment CHRONIC_LATE) has its own and is out of scope.
    expect(r.customers).toBe(4);
    expect(r.candidate.touchesByStep.map((s) => s.key).sort()).toEqual(['escalation-21', 'hold-30', 'overdue-10']);
    expect(r.current.touchesByStep.map((s) => s.key)).toEqual(expect.arrayContaining(['pre-due', 'due', 'overdue-3']));
    expect(r.candidate.touches).toBeLessThan(r.current.touches);
    expect(r.touchesDelta).toBeCloseTo(r.candidate.touches - r.current.touches, 3);
    expect(r.candidate.cashByWeek).toHaveLength(18);
    expect(Number(r.current.cashCollected[0].amountMinor)).toBeGreaterThan(0);
    expect(r.current.dso[0].days).toBeGreaterThan(0);
    // The model saw the reminders of the history: emails, by segment.
    expect(r.model.some((m) => m.kind === 'EMAIL' && m.touches > 0 && m.within5 > 0)).toBe(true);
    expect(Number(r.actualCash[0].amount)).toBeGreaterThan(0);
    // Same inputs, same numbers.
    const second = (await gql<{ backtestDunningPolicy: Run }>(`${Q.backtest} ${RESULT}`, { input })).backtestDunningPolicy;
    expect({ ...second.result, elapsedMs: 0 }).toEqual({ ...first.result, elapsedMs: 0 });
    const runs = (await gql<{ backtestRuns: { id: string; status: string }[] }>(Q.backtestRuns, { policyId: standardId })).backtestRuns;
    expect(runs.map((x) => x.id)).toEqual([second.id, first.id]);
    const bad = await t.gql(`${Q.backtest} ${RESULT}`, { input: { ...input, to: '2026-01-01' } });
    expect(bad.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'to' });
  });

  it('a backtest as a BullMQ job: queued, then done with progress at 100%', async () => {
    const queued = (await gql<{ backtestDunningPolicy: { id: string; status: string } }>(`${Q.backtest} ${RESULT}`, { input: { policyId: standardId, from: '2026-03-01', to: '2026-06-30', background: true } })).backtestDunningPolicy;
    expect(queued.status).toBe('QUEUED');
    t.app.queues.startWorkers();
    const done = await waitFor('the backtest job', async () => {
      const r = (await gql<{ backtestRun: { status: string; percentDone: number; customersDone: number; result: unknown } }>(`${Q.backtestRun} ${RESULT}`, { id: queued.id })).backtestRun;
      return r.status === 'DONE' ? r : null;
    }, 60_000);
    expect(done).toMatchObject({ percentDone: 100, customersDone: 5 });
    expect(done.result).not.toBeNull();
  });
});
