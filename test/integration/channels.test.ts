import 'reflect-metadata';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from 'pg';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { DataSource } from 'typeorm';
import { migrations } from '../../migrations';
import { createModules, entities } from '../../src/modules';
import { PORTAL_NOTIFICATION } from '../../src/modules/outreach/channels/portal.channel';
import { sampleModel } from '../../src/modules/outreach/sample-model';
import { MessageChannel, PermanentSendError, RetryableSendError, type OutreachService, type SendInput, type TemplateService } from '../../src/modules/outreach/outreach.service';
import { systemActor } from '../../src/platform/auth/roles';
import { loadConfig } from '../../src/platform/config/config';
import { RequestContext } from '../../src/platform/context';
import { createDataSource } from '../../src/platform/db/data-source';
import { EVENTS_CHANNEL } from '../../src/platform/events/event-bus';
import { createLogger } from '../../src/platform/logging/logger';
import { createTestDatabase, dropTestDatabase } from '../support/test-databases';

/**
 * Outreach channels against real transports on loopback: an SMTP server (smtp-server) that
 * nodemailer delivers to, an HTTP server standing in for the SMS provider, and the database
 * outbox written in the sender's transaction.
 */

interface Received {
  from: string;
  to: string[];
  raw: string;
}

/** An SMTP server on 127.0.0.1 that keeps every message, and refuses recipients at reject.example with 550. */
async function startSmtp(): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (address.address.endsWith('@reject.example')) return callback(Object.assign(new Error('5.1.1 No such mailbox'), { responseCode: 550 }));
      callback();
    },
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        received.push({ from, to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return { url: `smtp://127.0.0.1:${port}`, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

interface SmsCall {
  headers: http.IncomingHttpHeaders;
  body: { to: string; body: string; reference: string };
}

/** The SMS provider: answers with whatever `reply` says for the next request. */
async function startSmsProvider() {
  const calls: SmsCall[] = [];
  let reply: { status: number; body: unknown; headers?: Record<string, string> } = { status: 202, body: { id: 'sms-0001', status: 'queued' } };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      calls.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/messages`,
    calls,
    answer(r: typeof reply) {
      reply = r;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Headers unfolded, and the body with quoted-printable soft breaks and escapes decoded. */
function parseRaw(raw: string): { headers: Map<string, string>; body: string } {
  const split = raw.indexOf('\r\n\r\n');
  const headers = new Map<string, string>();
  for (const line of raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const i = line.indexOf(':');
    headers.set(line.slice(0, i).toLowerCase(), line.slice(i + 1).trim());
  }
  const qp = raw.slice(split + 4).replace(/=\r\n/g, '');
  const body = Buffer.from(qp.replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
  return { headers, body };
}

const WAIT_MS = 5000;
async function waitFor<T>(what: string, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${WAIT_MS} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('outreach channels (SMTP, SMS over HTTP, portal, mailbox)', () => {
  const logger = createLogger('silent');
  let url: string;
  let ds: DataSource;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let sms: Awaited<ReturnType<typeof startSmsProvider>>;
  let withProviders: { outreach: OutreachService; templates: TemplateService };
  let mailboxOnly: { outreach: OutreachService };
  let ctx: RequestContext;
  let customerId: string;

  /** The environment without any outreach setting inherited from the machine. */
  const baseEnv = () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of ['SMTP_URL', 'SMS_PROVIDER_URL', 'SMS_PROVIDER_TOKEN', 'EMAIL_FROM']) delete env[k];
    return env;
  };

  beforeAll(async () => {
    [smtp, sms] = await Promise.all([startSmtp(), startSmsProvider()]);
    url = await createTestDatabase();
    ds = createDataSource({ url, entities, migrations, poolSize: 4, logger });
    await ds.initialize();
    const [tenant] = await ds.query(`INSERT INTO tenants (name, timezone, functional_currency) VALUES ('Acme Supplies', 'America/New_York', 'USD') RETURNING id`);
    const [entity] = await ds.query(`INSERT INTO legal_entities (tenant_id, code, name, currency) VALUES ($1, 'US01', 'Acme Inc.', 'USD') RETURNING id`, [tenant.id]);
    const [customer] = await ds.query(`INSERT INTO customers (tenant_id, external_id, entity_id, name, currency) VALUES ($1, 'C-1', $2, 'Northwind Traders', 'USD') RETURNING id`, [tenant.id, entity.id]);
    customerId = customer.id;
    ctx = new RequestContext(tenant.id, systemActor(tenant.id, 'channels-test'), ds.manager, 'channels-test', logger);
    const configured = loadConfig({ ...baseEnv(), SMTP_URL: smtp.url, SMS_PROVIDER_URL: sms.url, SMS_PROVIDER_TOKEN: 'sms-secret-token', EMAIL_FROM: 'Acme Billing <billing@acme.example>' });
    withProviders = createModules(configured).services;
    mailboxOnly = createModules(loadConfig(baseEnv())).services;
  });
  afterAll(async () => {
    await ds?.destroy();
    if (url) await dropTestDatabase(url);
    await Promise.all([smtp?.close(), sms?.close()]);
  });

  /** Sends in a transaction of its own, as the engine will. */
  const send = (svc: { outreach: OutreachService }, input: SendInput) => ds.transaction((em) => svc.outreach.send(ctx.withManager(em), input));
  const outbox = async (where = 'true', params: unknown[] = []) =>
    (await ds.query(`SELECT * FROM outbound_messages WHERE tenant_id = $1 AND ${where} ORDER BY created_at`, [ctx.tenantId, ...params])) as Record<string, unknown>[];

  it('delivers an email over SMTP with a Message-ID from the action id, and records it in the outbox', async () => {
    const rendered = await withProviders.templates.render(ctx, {
      key: 'overdue-friendly',
      locale: 'en-US',
      channel: MessageChannel.EMAIL,
      model: sampleModel({ key: 'overdue-friendly', locale: 'en' }),
    });
    const actionId = '7a1f3c2e-5b6d-4e8f-9a0b-1c2d3e4f5a6b';
    const result = await send(withProviders, { actionId, customerId, channel: MessageChannel.EMAIL, to: ['Dana Whitfield <ap@northwind.example>'], subject: rendered.subject, body: rendered.body });

    expect(result).toMatchObject({ transport: 'SMTP', providerMessageId: `<action.${actionId}@acme.example>`, duplicate: false });
    expect(smtp.received).toHaveLength(1);
    const [mail] = smtp.received;
    expect(mail.from).toBe('billing@acme.example');
    expect(mail.to).toEqual(['ap@northwind.example']);
    const { headers, body } = parseRaw(mail.raw);
    expect(headers.get('message-id')).toBe(`<action.${actionId}@acme.example>`);
    expect(headers.get('subject')).toBe('Payment reminder: invoice INV-2026-0141 now past due');
    expect(headers.get('from')).toBe('Acme Billing <billing@acme.example>');
    expect(headers.get('auto-submitted')).toBe('auto-generated');
    expect(headers.get('content-type')).toMatch(/^multipart\/alternative/);
    // Both parts: the HTML table and the plain-text rendering of it.
    expect(body).toContain('<td>INV-2026-0141</td>');
    expect(body).toContain('INV-2026-0141 | March 2, 2026 | 3 | $12,345.50');
    expect(body).toContain('Dear Dana Whitfield,');

    const rows = await outbox('id = $2', [result.outboundMessageId]);
    expect(rows).toEqual([
      expect.objectContaining({
        action_id: actionId,
        customer_id: customerId,
        channel: 'EMAIL',
        transport: 'SMTP',
        to_addresses: ['Dana Whitfield <ap@northwind.example>'],
        from_address: 'Acme Billing <billing@acme.example>',
        subject: rendered.subject,
        body: rendered.body,
        provider_message_id: `<action.${actionId}@acme.example>`,
      }),
    ]);
  });

  it('sends an action once per channel: a second send finds the first message and sends nothing', async () => {
    const before = smtp.received.length;
    const actionId = '0b9d2f64-8c11-4a57-b3e2-6f0e2d9c1a77';
    const input: SendInput = { actionId, customerId, channel: MessageChannel.EMAIL, to: ['ap@northwind.example'], subject: 'Reminder', body: '<p>Hello</p>' };
    const [a, b] = await Promise.all([send(withProviders, input), send(withProviders, input)]);
    expect([a.duplicate, b.duplicate].sort()).toEqual([false, true]);
    expect(a.outboundMessageId).toBe(b.outboundMessageId);
    expect(smtp.received.length).toBe(before + 1);
    expect(await outbox('action_id = $2', [actionId])).toHaveLength(1);
  });

  it('a recipient the SMTP server refuses (550) is a PermanentSendError and leaves no outbox row', async () => {
    const before = (await outbox()).length;
    const err = await send(withProviders, { customerId, channel: MessageChannel.EMAIL, to: ['nobody@reject.example'], subject: 'Reminder', body: '<p>Hello</p>' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentSendError);
    expect(err).toMatchObject({ transport: 'SMTP', detail: { status: 550 } });
    expect(await outbox()).toHaveLength(before);
  });

  it('an unreachable SMTP server is a RetryableSendError', async () => {
    const closed = await startSmtp();
    await closed.close();
    const unreachable = createModules(loadConfig({ ...baseEnv(), SMTP_URL: closed.url })).services;
    const err = await send(unreachable, { channel: MessageChannel.EMAIL, to: ['ap@northwind.example'], subject: 'Reminder', body: '<p>Hello</p>' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableSendError);
  });

  it('sends an SMS to the provider as JSON with the bearer token, and records the provider id', async () => {
    sms.answer({ status: 202, body: { id: 'sms-0001', status: 'queued' } });
    const actionId = '3c4d5e6f-7a8b-4c9d-8e0f-112233445566';
    const result = await send(withProviders, { actionId, customerId, channel: MessageChannel.SMS, to: ['+14155550100'], body: 'Acme Supplies: 1 invoice is now past due.' });
    expect(result).toMatchObject({ transport: 'SMS_HTTP', providerMessageId: 'sms-0001' });
    const call = sms.calls[sms.calls.length - 1];
    expect(call.headers.authorization).toBe('Bearer sms-secret-token');
    expect(call.headers['content-type']).toBe('application/json');
    expect(call.body).toEqual({ to: '+14155550100', body: 'Acme Supplies: 1 invoice is now past due.', reference: actionId });
    expect(await outbox('id = $2', [result.outboundMessageId])).toEqual([expect.objectContaining({ transport: 'SMS_HTTP', provider_message_id: 'sms-0001', to_addresses: ['+14155550100'], subject: null })]);
  });

  it('maps provider answers: 500 and 429 are retryable, 400 is permanent, and a failed send leaves no row', async () => {
    const before = (await outbox()).length;
    const input: SendInput = { customerId, channel: MessageChannel.SMS, to: ['+14155550100'], body: 'Reminder' };

    sms.answer({ status: 500, body: { error: 'upstream carrier down' } });
    const e500 = await send(withProviders, input).catch((e: unknown) => e);
    expect(e500).toBeInstanceOf(RetryableSendError);
    expect(e500).toMatchObject({ transport: 'SMS_HTTP', detail: { status: 500 } });

    sms.answer({ status: 429, body: { error: 'slow down' }, headers: { 'retry-after': '30' } });
    const e429 = await send(withProviders, input).catch((e: unknown) => e);
    expect(e429).toBeInstanceOf(RetryableSendError);
    expect((e429 as RetryableSendError).retryAfterMs).toBe(30_000);

    sms.answer({ status: 400, body: { error: 'invalid destination number' } });
    const e400 = await send(withProviders, input).catch((e: unknown) => e);
    expect(e400).toBeInstanceOf(PermanentSendError);
    expect((e400 as Error).message).toContain('invalid destination number');

    expect(await outbox()).toHaveLength(before);
  });

  it('without SMTP_URL or SMS_PROVIDER_URL, messages land only in the mailbox', async () => {
    const smtpBefore = smtp.received.length;
    const smsBefore = sms.calls.length;
    const email = await send(mailboxOnly, { customerId, channel: MessageChannel.EMAIL, to: ['ap@northwind.example'], subject: 'Reminder', body: '<p>Hello</p>' });
    const text = await send(mailboxOnly, { customerId, channel: MessageChannel.SMS, to: ['+14155550100'], body: 'Reminder' });
    expect(email).toMatchObject({ transport: 'MAILBOX', providerMessageId: null });
    expect(text).toMatchObject({ transport: 'MAILBOX', providerMessageId: null });
    expect(smtp.received.length).toBe(smtpBefore);
    expect(sms.calls.length).toBe(smsBefore);
    const [row] = await outbox('id = $2', [email.outboundMessageId]);
    expect(row).toMatchObject({ channel: 'EMAIL', transport: 'MAILBOX', from_address: 'billing@recoup.local', subject: 'Reminder', body: '<p>Hello</p>' });
  });

  it('a portal notice is stored and announced as portal.notification only when the transaction commits', async () => {
    const listener = new Client({ connectionString: url });
    await listener.connect();
    const events: { type: string; tenantId: string; payload: Record<string, unknown> }[] = [];
    listener.on('notification', (n) => n.channel === EVENTS_CHANNEL && n.payload && events.push(JSON.parse(n.payload)));
    await listener.query(`LISTEN ${EVENTS_CHANNEL}`);
    try {
      const result = await send(withProviders, { customerId, channel: MessageChannel.PORTAL, to: [], subject: 'Payment reminder', body: 'Invoice INV-1 is past due.' });
      expect(result.transport).toBe('PORTAL');
      const event = await waitFor('the portal.notification event', () => events.find((e) => e.type === PORTAL_NOTIFICATION));
      expect(event).toEqual({ type: PORTAL_NOTIFICATION, tenantId: ctx.tenantId, payload: { outboundMessageId: result.outboundMessageId, customerId, actionId: null } });

      // Rolled back: neither the row nor the event.
      const rolledBack = await ds
        .transaction(async (em) => {
          await withProviders.outreach.send(ctx.withManager(em), { customerId, channel: MessageChannel.PORTAL, to: [], subject: 'Never', body: 'never shown' });
          throw new Error('the caller fails after sending');
        })
        .catch((e: Error) => e.message);
      expect(rolledBack).toBe('the caller fails after sending');
      await listener.query('SELECT 1'); // a round trip: any notification sent before it has arrived
      expect(events.filter((e) => e.type === PORTAL_NOTIFICATION)).toHaveLength(1);
      expect(await outbox(`subject = 'Never'`)).toEqual([]);
    } finally {
      await listener.end();
    }
  });

  it('refuses bad input with typed field errors before anything is sent or written', async () => {
    const before = (await outbox()).length;
    const fail = (input: SendInput) => send(withProviders, input).catch((e: { extensions?: Record<string, unknown> }) => e.extensions);
    expect(await fail({ channel: MessageChannel.EMAIL, to: [], subject: 'x', body: 'b' })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'to', reason: 'NO_RECIPIENT' });
    expect(await fail({ channel: MessageChannel.EMAIL, to: ['not-an-address'], subject: 'x', body: 'b' })).toMatchObject({ field: 'to.0', reason: 'INVALID_RECIPIENT' });
    expect(await fail({ channel: MessageChannel.EMAIL, to: ['a@b.example'], body: 'b' })).toMatchObject({ field: 'subject', reason: 'SUBJECT_REQUIRED' });
    expect(await fail({ channel: MessageChannel.SMS, to: ['0415 555'], body: 'b' })).toMatchObject({ field: 'to.0', reason: 'INVALID_RECIPIENT' });
    expect(await fail({ channel: MessageChannel.SMS, to: ['+14155550100', '+14155550101'], body: 'b' })).toMatchObject({ field: 'to', reason: 'INVALID_RECIPIENT' });
    expect(await fail({ channel: MessageChannel.PORTAL, to: [], subject: 'x', body: 'b' })).toMatchObject({ field: 'customerId', reason: 'CUSTOMER_REQUIRED' });
    expect(await fail({ channel: MessageChannel.EMAIL, customerId: '00000000-0000-4000-8000-000000000000', to: ['a@b.example'], subject: 'x', body: 'b' })).toMatchObject({ code: 'NOT_FOUND', field: 'customerId' });
    expect(await outbox()).toHaveLength(before);
  });

  it('refuses SMTP_URL, SMS_PROVIDER_URL and EMAIL_FROM values that are not what they should be', () => {
    expect(() => loadConfig({ SMTP_URL: 'http://mail.example' })).toThrow(/SMTP_URL: expected a URL with scheme smtp or smtps/);
    expect(() => loadConfig({ SMS_PROVIDER_URL: 'ftp://sms.example' })).toThrow(/SMS_PROVIDER_URL/);
    expect(() => loadConfig({ EMAIL_FROM: 'billing' })).toThrow(/EMAIL_FROM/);
    expect(loadConfig({}).EMAIL_FROM).toBe('billing@recoup.local');
    expect(loadConfig({ SMTP_URL: 'smtps://user:pass@smtp.example:465' }).SMTP_URL).toBe('smtps://user:pass@smtp.example:465');
  });
});
