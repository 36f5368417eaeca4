import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { SMTPServer, type SMTPServerDataStream } from 'smtp-server';
import { dataOf, startTestApp, type TestApp } from '../support/test-app';
import { typicalPolicy } from '../support/policies';

const fixture = (name: string, vars: Record<string, string> = {}) =>
  Object.entries(vars).reduce((s, [k, v]) => s.split(`{{${k}}}`).join(v), readFileSync(path.join(__dirname, '..', 'fixtures', 'email', name), 'utf8'));

/** A real SMTP server on loopback: the reminders Recoup sends, with their Message-IDs. */
async function startSmtp() {
  const received: string[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream: SMTPServerDataStream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push(Buffer.concat(chunks).toString('utf8'));
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return { url: `smtp://127.0.0.1:${port}`, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const json = async (r: Response): Promise<Json> => r.json();
const header = (raw: string, name: string) => new RegExp(`^${name}:\\s*(.+)$`, 'im').exec(raw)?.[1].trim() ?? null;

const MESSAGE_FIELDS = `id messageId status matchMethod matchNote customerId invoiceIds invoiceNumbers actionId contactId autoReply autoReplyReason timelineEntryId
  suggestions { id kind status language phrase excerpt reasonCode promisedDate dateText amount { amount currency } invoiceIds disputeId promiseId taskId }`;

describe('inbound replies: POST /inbound/email, threading, timeline, suggestions', () => {
  let t: TestApp;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let inboundUrl: string;
  const ids: Record<string, string> = {};

  const post = (body: string, opts: { type?: string; key?: string | null; auth?: string } = {}) =>
    fetch(inboundUrl, {
      method: 'POST',
      headers: { 'content-type': opts.type ?? 'message/rfc822', ...(opts.auth ? { authorization: opts.auth } : opts.key === null ? {} : { authorization: `Bearer ${opts.key ?? t.adminKey}` }) },
      body,
    });
  const count = async () => Number((await t.app.dataSource.query(`SELECT count(*)::int AS n FROM inbound_messages`))[0].n);
  const message = async (id: string) => dataOf(await t.gql<{ inboundMessage: Record<string, Json> }, { id: string }>(`query($id: ID!) { inboundMessage(id: $id) { ${MESSAGE_FIELDS} } }`, { id })).inboundMessage;
  const day = async (asOf: string) => {
    dataOf(await t.gql(`mutation($asOf: Date) { runEvaluation(asOf: $asOf) { id } }`, { asOf }));
    dataOf(await t.gql(`mutation($asOf: Date) { dispatchActions(asOf: $asOf) { sent } }`, { asOf }));
  };
  const sentSteps = async (invoiceId: string) =>
    ((await t.app.dataSource.query(`SELECT step_key FROM actions WHERE invoice_id = $1 AND status = 'SENT' AND kind = 'STEP' ORDER BY scheduled_for`, [invoiceId])) as { step_key: string }[]).map((r) => r.step_key);

  beforeAll(async () => {
    smtp = await startSmtp();
    t = await startTestApp({ env: { SMTP_URL: smtp.url, EMAIL_FROM: 'billing@recoup.local' } });
    inboundUrl = t.url.replace(/\/graphql$/, '/inbound/email');
    dataOf(await t.gql(`mutation { upsertEntities(input: [{ code: "US01", name: "Acme Inc.", currency: "USD", country: "US" }]) { __typename } }`));
    const customers = dataOf(
      await t.gql<{ upsertCustomers: { failed: number; results: { externalId: string; customer: { id: string; contacts: { id: string; email: string }[] } }[] } }, Record<string, never>>(
        `mutation { upsertCustomers(input: [
          { externalId: "NW", name: "Northwind", entityCode: "US01", currency: "USD", contacts: [{ name: "Dana Payables", email: "ap@northwind.example", isPrimary: true }] },
          { externalId: "GX", name: "Globex", entityCode: "US01", currency: "USD", contacts: [{ name: "Hank", email: "hank@globex.example" }] }
        ]) { failed results { externalId customer { id contacts { id email } } } } }`,
      ),
    ).upsertCustomers;
    expect(customers.failed).toBe(0);
    for (const r of customers.results) ids[r.externalId] = r.customer.id;
    ids.danaContact = customers.results.find((r) => r.externalId === 'NW')!.customer.contacts[0].id;
    const invoices = dataOf(
      await t.gql<{ upsertInvoices: { results: { externalId: string; invoice: { id: string } }[] } }, Record<string, never>>(
        `mutation { upsertInvoices(input: [
          { externalId: "NW-2001", customerExternalId: "NW", number: "NW-2001", issueDate: "2026-01-01", dueDate: "2026-01-31", currency: "USD", total: "1200.00" },
          { externalId: "NW-2002", customerExternalId: "NW", number: "NW-2002", issueDate: "2026-01-05", dueDate: "2026-02-28", currency: "USD", total: "640.00" },
          { externalId: "GX-3001", customerExternalId: "GX", number: "GX-3001", issueDate: "2026-01-05", dueDate: "2026-02-28", currency: "USD", total: "99.00" }
        ]) { results { externalId invoice { id } } } }`,
      ),
    ).upsertInvoices;
    for (const r of invoices.results) ids[r.externalId] = r.invoice.id;
    const created = dataOf(await t.gql<{ createDunningPolicy: { policy: { id: string } } }, { d: unknown }>(`mutation($d: JSONObject!) { createDunningPolicy(input: { name: "Standard", definition: $d }) { policy { id } errors { message } } }`, { d: typicalPolicy })).createDunningPolicy;
    dataOf(await t.gql(`mutation($p: ID!) { publishDunningPolicy(policyId: $p, effectiveFrom: "2025-01-01") { effectiveFrom } }`, { p: created.policy.id }));
    dataOf(await t.gql(`mutation($p: ID!) { assignDunningPolicy(policyId: $p, scope: GLOBAL) { id } }`, { p: created.policy.id }));
  });
  afterAll(async () => {
    await t?.stop();
    await smtp?.close();
  });

  it('refuses an unauthenticated or unknown caller with 401 (a VIEWER key with 403), and stores nothing', async () => {
    const raw = fixture('unknown-sender.eml');
    const none = await post(raw, { key: null });
    expect(none.status).toBe(401);
    expect(await json(none)).toMatchObject({ errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });
    expect((await post(raw, { key: 'rk_not-a-real-key-000000000000000' })).status).toBe(401);
    expect((await post(raw, { auth: 'Basic ' + Buffer.from('inbound:wrong-password-0000000000000').toString('base64') })).status).toBe(401);
    const viewer = dataOf(await t.gql<{ createApiKey: { secret: string } }, Record<string, never>>(`mutation { createApiKey(input: { name: "viewer", role: VIEWER }) { secret } }`)).createApiKey.secret;
    const forbidden = await post(raw, { key: viewer });
    expect(forbidden.status).toBe(403);
    expect((await json(forbidden)).errors[0].extensions.code).toBe('FORBIDDEN');
    expect(await count()).toBe(0);
  });

  it('refuses malformed MIME with 400 and a clear JSON error, storing nothing', async () => {
    const bad = await post(fixture('malformed.eml'));
    expect(bad.status).toBe(400);
    const body = await json(bad);
    expect(body.errors[0].extensions).toEqual({ code: 'BAD_REQUEST', reason: 'MALFORMED_MIME' });
    expect(body.errors[0].message).toMatch(/^Malformed MIME message: /);
    for (const [raw, type] of [
      ['', 'message/rfc822'],
      ['Subject: no sender\n\nhello', 'message/rfc822'],
      [JSON.stringify({ raw: 'not mime' }), 'application/json'],
    ]) {
      const r = await post(raw, { type });
      expect(r.status).toBe(400);
      expect((await json(r)).errors[0].extensions.reason).toBe('MALFORMED_MIME');
    }
    const noField = await post(JSON.stringify({ text: 'hi' }), { type: 'application/json' });
    expect((await json(noField)).errors[0].extensions.reason).toBe('MISSING_MESSAGE');
    expect((await post('{"raw": ', { type: 'application/json' })).status).toBe(400);
    expect(await count()).toBe(0);
  });

  it('a reply to a reminder threads by In-Reply-To to its invoice, shows on the timeline, and suggests a dispute that pauses nothing until confirmed', async () => {
    await day('2026-02-03'); // overdue-3 for NW-2001 goes out over SMTP
    const reminder = smtp.received.find((m) => header(m, 'To')?.includes('ap@northwind.example') && /NW-2001/.test(m))!;
    expect(reminder).toBeDefined();
    const ourId = header(reminder, 'Message-ID')!;
    expect(ourId).toMatch(/^<action\.[0-9a-f-]{36}@recoup\.local>$/);

    const res = await post(fixture('reply-not-received.eml', { IN_REPLY_TO: ourId, SUBJECT: header(reminder, 'Subject')! }));
    expect(res.status).toBe(201);
    const receipt = await json(res);
    expect(receipt).toMatchObject({ duplicate: false, status: 'MATCHED', matchMethod: 'IN_REPLY_TO', customerId: ids.NW, invoiceIds: [ids['NW-2001']], autoReply: false });
    const m = await message(receipt.id);
    expect(m).toMatchObject({ contactId: ids.danaContact, invoiceNumbers: ['NW-2001'] });
    expect(m.actionId).toBe(/action\.([0-9a-f-]{36})@/.exec(ourId)![1]);
    // The quoted reminder ("If you have already paid") is not read as the customer's words.
    expect(m.suggestions).toHaveLength(1);
    const [s] = m.suggestions;
    expect(s).toMatchObject({ kind: 'DISPUTE', status: 'PENDING', reasonCode: 'NOT_RECEIVED', phrase: 'we never received', language: 'en', invoiceIds: [ids['NW-2001']] });
    expect(s.excerpt).toContain('We never received this invoice.');
    const dispute = dataOf(await t.gql<{ dispute: { status: string; source: string } }, { id: string }>(`query($id: ID!) { dispute(id: $id) { status source } }`, { id: s.disputeId })).dispute;
    expect(dispute).toEqual({ status: 'SUGGESTED', source: 'INBOUND' });

    for (const scope of [{ invoiceId: ids['NW-2001'] }, { customerId: ids.NW }] as Record<string, string>[]) {
      const tl = dataOf(await t.gql<{ timeline: { nodes: { id: string; kind: string; summary: string }[] } }, Record<string, string>>(`query($invoiceId: ID, $customerId: ID) { timeline(invoiceId: $invoiceId, customerId: $customerId, kinds: [REPLY_RECEIVED]) { nodes { id kind summary } } }`, scope)).timeline.nodes;
      expect(tl).toEqual([expect.objectContaining({ id: m.timelineEntryId, kind: 'REPLY_RECEIVED' })]);
      expect(tl[0].summary).toContain('Reply from Dana Payables <ap@northwind.example>');
    }

    // Suggested: dunning goes on.
    await day('2026-02-10');
    expect(await sentSteps(ids['NW-2001'])).toEqual(['overdue-3', 'overdue-10']);
    const confirmed = dataOf(await t.gql<{ confirmInboundSuggestion: { status: string; disputeId: string } }, { id: string }>(`mutation($id: ID!) { confirmInboundSuggestion(id: $id) { status disputeId decidedBy } }`, { id: s.id })).confirmInboundSuggestion;
    expect(confirmed.status).toBe('CONFIRMED');
    expect(dataOf(await t.gql<{ dispute: { status: string } }, { id: string }>(`query($id: ID!) { dispute(id: $id) { status } }`, { id: s.disputeId })).dispute.status).toBe('OPEN');
    // Confirmed: the invoice leaves dunning.
    await day('2026-02-21');
    expect(await sentSteps(ids['NW-2001'])).toEqual(['overdue-3', 'overdue-10']);
    const again = await t.gql(`mutation($id: ID!) { confirmInboundSuggestion(id: $id) { status } }`, { id: s.id });
    expect(again.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'NOT_PENDING' });
  });

  it('an out-of-office reply is stored and on the timeline, but never classified', async () => {
    const ourId = header(smtp.received.find((x) => /NW-2001/.test(x))!, 'Message-ID')!;
    const receipt = await json(await post(fixture('out-of-office.eml', { IN_REPLY_TO: ourId, SUBJECT: 'Invoice NW-2001' })));
    expect(receipt).toMatchObject({ status: 'MATCHED', autoReply: true, suggestions: [] });
    expect((await message(receipt.id)).autoReplyReason).toBe('header Auto-Submitted: auto-replied');
  });

  it('"we will pay on 12 March" suggests a promise dated 2026-03-12 with a task; confirmed, it creates the promise', async () => {
    const receipt = await json(await post(fixture('reply-promise.eml')));
    expect(receipt).toMatchObject({ status: 'MATCHED', matchMethod: 'SENDER', customerId: ids.NW, invoiceIds: [ids['NW-2002']] });
    const m = await message(receipt.id);
    expect(m.suggestions).toEqual([expect.objectContaining({ kind: 'PROMISE', status: 'PENDING', phrase: 'we will pay', promisedDate: '2026-03-12', dateText: '12 march', amount: null, invoiceIds: [ids['NW-2002']] })]);
    const s = m.suggestions[0];
    const task = (await t.app.dataSource.query(`SELECT reason_code, source_kind, source_id, status, invoice_id FROM tasks WHERE id = $1`, [s.taskId]))[0];
    expect(task).toEqual({ reason_code: 'PROMISE_CONFIRM', source_kind: 'INBOUND_SUGGESTION', source_id: s.id, status: 'OPEN', invoice_id: ids['NW-2002'] });

    const done = dataOf(await t.gql<{ confirmInboundSuggestion: { status: string; promiseId: string } }, { id: string }>(`mutation($id: ID!) { confirmInboundSuggestion(id: $id) { status promiseId } }`, { id: s.id })).confirmInboundSuggestion;
    expect(done.status).toBe('CONFIRMED');
    const promises = dataOf(await t.gql<{ promisesToPay: { nodes: Record<string, unknown>[] } }, { c: string }>(`query($c: ID!) { promisesToPay(customerId: $c) { nodes { id promisedDate status channel amount { amount } invoiceIds } } }`, { c: ids.NW })).promisesToPay.nodes;
    expect(promises).toEqual([{ id: done.promiseId, promisedDate: '2026-03-12', status: 'OPEN', channel: 'EMAIL', amount: { amount: '640.00' }, invoiceIds: [ids['NW-2002']] }]);
    expect((await t.app.dataSource.query(`SELECT status, outcome FROM tasks WHERE id = $1`, [s.taskId]))[0]).toEqual({ status: 'DONE', outcome: 'PROMISED' });
  });

  it('an unknown sender without references lands UNMATCHED; a person assigns it', async () => {
    const receipt = await json(await post(fixture('unknown-sender.eml')));
    expect(receipt).toMatchObject({ status: 'UNMATCHED', matchMethod: null, customerId: null, suggestions: [] });
    const queue = dataOf(await t.gql<{ inboundMessages: { totalCount: number; nodes: { id: string; matchNote: string }[] } }, Record<string, never>>(`{ inboundMessages(status: UNMATCHED) { totalCount nodes { id matchNote } } }`)).inboundMessages;
    expect(queue.totalCount).toBe(1);
    expect(queue.nodes[0]).toEqual({ id: receipt.id, matchNote: 'unknown sender; no invoice number' });

    const assigned = dataOf(await t.gql<{ assignInboundMessage: Record<string, Json> }, { id: string; c: string; i: string[] }>(`mutation($id: ID!, $c: ID!, $i: [ID!]) { assignInboundMessage(id: $id, customerId: $c, invoiceIds: $i) { ${MESSAGE_FIELDS} } }`, { id: receipt.id, c: ids.GX, i: [ids['GX-3001']] })).assignInboundMessage;
    expect(assigned).toMatchObject({ status: 'ASSIGNED', matchMethod: 'MANUAL', customerId: ids.GX, invoiceIds: [ids['GX-3001']], contactId: null });
    expect(assigned.timelineEntryId).toMatch(/^int:/);
    // The classification made at receipt becomes a suggestion once the customer is known.
    expect(assigned.suggestions).toEqual([expect.objectContaining({ kind: 'PROMISE', promisedDate: '2026-03-20' })]);
    // Without a contact for the sender, confirming needs one; dismissing closes its task.
    const noContact = await t.gql(`mutation($id: ID!) { confirmInboundSuggestion(id: $id) { status } }`, { id: assigned.suggestions[0].id });
    expect(noContact.errors?.[0].extensions).toMatchObject({ field: 'input.contactId', reason: 'CONTACT_REQUIRED' });
    const dismissed = dataOf(await t.gql<{ dismissInboundSuggestion: { status: string; note: string } }, { id: string }>(`mutation($id: ID!) { dismissInboundSuggestion(id: $id, reason: "not a customer promise") { status note } }`, { id: assigned.suggestions[0].id })).dismissInboundSuggestion;
    expect(dismissed).toEqual({ status: 'DISMISSED', note: 'not a customer promise' });
    expect(dataOf(await t.gql<{ inboundMessages: { totalCount: number } }, Record<string, never>>(`{ inboundMessages(status: UNMATCHED) { totalCount } }`)).inboundMessages.totalCount).toBe(0);
    const again = await t.gql(`mutation($id: ID!, $c: ID!) { assignInboundMessage(id: $id, customerId: $c) { id } }`, { id: receipt.id, c: ids.NW });
    expect(again.errors?.[0].extensions).toMatchObject({ reason: 'NOT_UNMATCHED' });
  });

  it('the same message twice (raw, then as JSON) is stored once', async () => {
    const before = await count();
    const raw = fixture('reply-promise.eml').replace('<reply-2.dana@northwind.example>', '<reply-3.dana@northwind.example>').replace('NW-2002', 'NW-2001');
    const first = await post(raw);
    expect(first.status).toBe(201);
    const firstBody = await json(first);
    const second = await post(JSON.stringify({ raw }), { type: 'application/json' });
    expect(second.status).toBe(200);
    expect(await json(second)).toMatchObject({ id: firstBody.id, duplicate: true });
    const third = await post(new URLSearchParams({ 'body-mime': raw }).toString(), { type: 'application/x-www-form-urlencoded', auth: 'Basic ' + Buffer.from(`inbound:${t.adminKey}`).toString('base64') });
    expect(third.status).toBe(200);
    expect(await count()).toBe(before + 1);
    const suggestions = await t.app.dataSource.query(`SELECT count(*)::int AS n FROM inbound_suggestions WHERE inbound_message_id = $1`, [firstBody.id]);
    expect(suggestions[0].n).toBe(1);
  });
});
