import { MessageChannel } from '../../src/modules/outreach/outreach.enums';
import { systemActor } from '../../src/platform/auth/roles';
import { RequestContext } from '../../src/platform/context';
import {
  CreateApiKeyDocument,
  CreateTenantDocument,
  type OutboundMessagesQuery,
  MeDocument,
  MessageMergeFieldsDocument,
  MessageTemplatesDocument,
  OutboundMessagesDocument,
  RenderTemplateDocument,
  UpsertCustomersDocument,
  UpsertEntitiesDocument,
  UpsertInvoicesDocument,
  UpsertMessageTemplateDocument,
} from '../generated/graphql';
import * as fx from '../support/fixtures';
import { dataOf, startTestApp, type TestApp } from '../support/test-app';

/**
 * Message templates and the outbox through the API: the shipped defaults, a tenant's override
 * (validated, versioned, audited, used by render), previews against a real customer, roles,
 * and the outbox of what was sent.
 */
describe('message templates and outbox (e2e over HTTP)', () => {
  let t: TestApp;
  let viewerKey: string;
  let tenantId: string;
  const customerIds: Record<string, string> = {};
  const countRows = async (sql: string) => Number((await t.app.dataSource.query(sql))[0].n);

  beforeAll(async () => {
    t = await startTestApp();
    tenantId = dataOf(await t.gql(MeDocument, {})).me.tenant.id;
    viewerKey = dataOf(await t.gql(CreateApiKeyDocument, { input: { name: 'Dashboard', role: 'VIEWER' } })).createApiKey.secret;
    dataOf(await t.gql(UpsertEntitiesDocument, { input: fx.entities }));
    const customers = [...fx.customers, { externalId: 'C-FR', name: 'Boulangerie Martin', entityCode: 'US01', currency: 'CAD', locale: 'fr-ca', contacts: [{ name: 'Camille Martin', email: 'compta@martin.example' }] }];
    for (const r of dataOf(await t.gql(UpsertCustomersDocument, { input: customers })).upsertCustomers.results) customerIds[r.externalId] = r.customer!.id;
    const invoices = [...fx.invoices, { externalId: 'I-FR', customerExternalId: 'C-FR', number: 'F-2026-07', issueDate: '2026-01-10', currency: 'CAD', total: '1234.50', terms: { kind: 'NET' as const, days: 30 } }];
    expect(dataOf(await t.gql(UpsertInvoicesDocument, { input: invoices })).upsertInvoices.failed).toBe(0);
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('lists the shipped templates for every locale and channel', async () => {
    const en = dataOf(await t.gql(MessageTemplatesDocument, { locale: 'en', channel: 'EMAIL' })).messageTemplates;
    expect(en.map((x) => x.key)).toEqual(['courtesy-balance', 'credit-hold-notice', 'dispute-nudge', 'due-today', 'escalation-notice', 'overdue-firm', 'overdue-friendly', 'pre-due-reminder']);
    expect(en.every((x) => x.source === 'FILE' && x.version === 0 && x.subject && x.updatedAt === null)).toBe(true);
    const friendly = dataOf(await t.gql(MessageTemplatesDocument, { key: 'overdue-friendly' }, viewerKey)).messageTemplates;
    expect(friendly.map((x) => `${x.channel}/${x.locale}`)).toEqual(['EMAIL/de', 'EMAIL/en', 'EMAIL/fr', 'PORTAL/de', 'PORTAL/en', 'PORTAL/fr', 'SMS/de', 'SMS/en', 'SMS/fr']);
    const fields = dataOf(await t.gql(MessageMergeFieldsDocument, {}, viewerKey)).messageMergeFields;
    expect(fields).toContainEqual({ path: 'invoices[].amountDue', type: 'money', description: expect.stringContaining('outside disputes'), optional: false });
  });

  it('saves an override that render then uses, with its version going 1 → 2, audited', async () => {
    const input = { key: 'overdue-friendly', locale: 'fr', channel: 'EMAIL' as const, subject: 'Relance : {{customer.name}}', body: '<p>Bonjour {{contact.name}}, {{#each invoices}}{{number}} ({{money amountDue currency}}) {{/each}}</p>' };
    const v1 = dataOf(await t.gql(UpsertMessageTemplateDocument, { input })).upsertMessageTemplate;
    expect(v1).toMatchObject({ key: 'overdue-friendly', locale: 'fr', channel: 'EMAIL', source: 'TENANT', version: 1, updatedBy: expect.any(String) });

    // A fr-CA customer falls back to the tenant's fr override; money follows fr-CA.
    const r1 = dataOf(await t.gql(RenderTemplateDocument, { input: { key: 'overdue-friendly', locale: 'fr-CA', channel: 'EMAIL' } })).renderTemplate;
    expect(r1).toMatchObject({ locale: 'fr', source: 'TENANT', version: 1, subject: 'Relance : Vent du Nord SARL' });
    expect(r1.body).toBe('<p>Bonjour Dana Laurent, INV-2026-0141 (12\u00a0345,50\u00a0€) </p>');

    const v2 = dataOf(await t.gql(UpsertMessageTemplateDocument, { input: { ...input, subject: 'Rappel : {{customer.name}}' } })).upsertMessageTemplate;
    expect(v2).toMatchObject({ source: 'TENANT', version: 2, subject: 'Rappel : {{customer.name}}' });
    const r2 = dataOf(await t.gql(RenderTemplateDocument, { input: { key: 'overdue-friendly', locale: 'fr', channel: 'EMAIL' } })).renderTemplate;
    expect(r2).toMatchObject({ source: 'TENANT', version: 2, subject: 'Rappel : Vent du Nord SARL' });

    // Other locales still use the shipped file.
    const en = dataOf(await t.gql(RenderTemplateDocument, { input: { key: 'overdue-friendly', locale: 'en', channel: 'EMAIL' } })).renderTemplate;
    expect(en).toMatchObject({ source: 'FILE', version: 0, locale: 'en', subject: 'Payment reminder: invoice INV-2026-0141 now past due' });

    const listed = dataOf(await t.gql(MessageTemplatesDocument, { key: 'overdue-friendly', locale: 'fr', channel: 'EMAIL' })).messageTemplates;
    expect(listed).toEqual([expect.objectContaining({ source: 'TENANT', version: 2 })]);
    expect(await countRows(`SELECT count(*) AS n FROM audit_events WHERE action = 'message_template.saved' AND data->>'key' = 'overdue-friendly'`)).toBe(2);
  });

  it('refuses a template with an unknown merge field, and saves nothing', async () => {
    const before = await countRows('SELECT count(*) AS n FROM message_templates');
    const r = await t.gql(UpsertMessageTemplateDocument, { input: { key: 'overdue-friendly', locale: 'fr', channel: 'EMAIL', subject: 'Relance', body: '<p>Bonjour {{customer.nmae}}</p>' } });
    expect(r.data).toBeNull();
    expect(r.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'body', reason: 'UNKNOWN_MERGE_FIELD' });
    expect(r.errors?.[0].message).toContain('did you mean customer.name?');
    expect((r.errors?.[0].extensions?.problems as unknown[]).length).toBe(1);

    const noSubject = await t.gql(UpsertMessageTemplateDocument, { input: { key: 'custom-note', locale: 'en', channel: 'EMAIL', subject: null, body: '<p>{{uppercase customer.name}}</p>' } });
    expect(noSubject.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'subject', reason: 'SUBJECT_REQUIRED' });
    expect(noSubject.errors?.[0].extensions?.problems).toEqual([
      expect.objectContaining({ field: 'subject', reason: 'SUBJECT_REQUIRED' }),
      expect.objectContaining({ field: 'body', reason: 'UNKNOWN_HELPER' }),
    ]);
    const syntax = await t.gql(UpsertMessageTemplateDocument, { input: { key: 'custom-note', locale: 'en', channel: 'SMS', body: '{{#each invoices}}{{number}}' } });
    expect(syntax.errors?.[0].extensions).toMatchObject({ field: 'body', reason: 'TEMPLATE_SYNTAX' });

    expect(await countRows('SELECT count(*) AS n FROM message_templates')).toBe(before);
    const still = dataOf(await t.gql(MessageTemplatesDocument, { key: 'overdue-friendly', locale: 'fr', channel: 'EMAIL' })).messageTemplates;
    expect(still[0]).toMatchObject({ version: 2, subject: 'Rappel : {{customer.name}}' });
  });

  it('renders against a real customer\'s open invoices, in the customer\'s locale by default', async () => {
    const r = dataOf(await t.gql(RenderTemplateDocument, { input: { key: 'overdue-firm', locale: 'en', channel: 'EMAIL', customerId: customerIds['C-1'] } })).renderTemplate;
    expect(r).toMatchObject({ locale: 'en', source: 'FILE', subject: 'Second reminder: payment overdue for invoices INV-1001, INV-1002, INV-1003' });
    expect(r.body).toContain('<p>Dear Hank Scorpio,</p>');
    expect(r.body).toContain('<td align="right">$12,000.00</td>');
    expect(r.body).toContain('Amount overdue: $18,200.50');
    expect(r.body).not.toContain('INV-1010'); // paid
    expect(r.body).toContain('Accounts Receivable<br>\nDemo Company<br>\nbilling@recoup.local</p>');

    const fr = dataOf(await t.gql(RenderTemplateDocument, { input: { key: 'overdue-firm', channel: 'EMAIL', customerId: customerIds['C-FR'] } }, viewerKey)).renderTemplate;
    expect(fr).toMatchObject({ locale: 'fr', source: 'FILE', subject: 'Deuxième relance : facture F-2026-07 impayée' });
    expect(fr.body).toContain('Bonjour Camille Martin,');
    expect(fr.body).toContain('1\u00a0234,50\u00a0$'); // CAD in fr-CA

    const sms = dataOf(await t.gql(RenderTemplateDocument, { input: { key: 'overdue-friendly', channel: 'SMS', customerId: customerIds['C-2'] } })).renderTemplate;
    expect(sms.subject).toBeNull();
    expect(sms.body).toMatch(/^Demo Company: Hi Bill Lumbergh, a friendly reminder that 4 invoices are now past due, \$1,941\.99 in total\./);

    const missing = await t.gql(RenderTemplateDocument, { input: { key: 'overdue-firm', channel: 'EMAIL', customerId: '00000000-0000-4000-8000-000000000000' } });
    expect(missing.errors?.[0].extensions).toMatchObject({ code: 'NOT_FOUND', field: 'customerId' });
    const unknownKey = await t.gql(RenderTemplateDocument, { input: { key: 'no-such-template', channel: 'EMAIL' } });
    expect(unknownKey.errors?.[0].extensions).toMatchObject({ code: 'NOT_FOUND', reason: 'TEMPLATE_NOT_FOUND' });
  });

  it('a VIEWER can read and preview templates but cannot save one', async () => {
    const r = await t.gql(UpsertMessageTemplateDocument, { input: { key: 'due-today', locale: 'en', channel: 'SMS', body: 'Due today: {{links.payment}}' } }, viewerKey);
    expect(r.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(r.data).toBeNull();
    expect(await countRows(`SELECT count(*) AS n FROM message_templates WHERE key = 'due-today'`)).toBe(0);
  });

  it('outboundMessages lists what was sent, newest first, paged and filtered', async () => {
    const ctx = new RequestContext(tenantId, systemActor(tenantId, 'e2e'), t.app.dataSource.manager, 'e2e-outbox', t.app.logger);
    const { templates, outreach } = t.app.modules.services;
    const rendered = await templates.preview(ctx, { key: 'overdue-friendly', locale: 'en', channel: MessageChannel.EMAIL, customerId: customerIds['C-1'] });
    const actionId = '5f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f';
    const sent = [
      await outreach.send(ctx, { actionId, customerId: customerIds['C-1'], channel: MessageChannel.EMAIL, to: ['ap@globex.example'], subject: rendered.subject, body: rendered.body }),
      await outreach.send(ctx, { customerId: customerIds['C-2'], channel: MessageChannel.SMS, to: ['+14155550123'], body: 'Initech: 4 invoices are past due.' }),
      await outreach.send(ctx, { customerId: customerIds['C-1'], channel: MessageChannel.PORTAL, to: [], subject: 'Payment reminder', body: 'INV-1001 is past due.' }),
    ];
    expect(sent.map((s) => s.transport)).toEqual(process.env.SMTP_URL ? ['SMTP', 'MAILBOX', 'PORTAL'] : ['MAILBOX', 'MAILBOX', 'PORTAL']);

    const seen: string[] = [];
    let after: string | null | undefined = null;
    do {
      const page: OutboundMessagesQuery['outboundMessages'] = dataOf(await t.gql(OutboundMessagesDocument, { first: 2, after }, viewerKey)).outboundMessages;
      expect(page.totalCount).toBe(3);
      seen.push(...page.nodes.map((n) => n.id));
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after);
    expect(seen).toEqual(sent.map((s) => s.outboundMessageId).reverse());

    const all = dataOf(await t.gql(OutboundMessagesDocument, {})).outboundMessages.nodes;
    expect(all[2]).toMatchObject({ actionId, channel: 'EMAIL', toAddresses: ['ap@globex.example'], fromAddress: 'billing@recoup.local', subject: rendered.subject, body: rendered.body, customer: { name: 'Globex Corporation', externalId: 'C-1' } });
    expect(all[0]).toMatchObject({ channel: 'PORTAL', transport: 'PORTAL', toAddresses: [], actionId: null });

    const sms = dataOf(await t.gql(OutboundMessagesDocument, { filter: { channel: 'SMS' } })).outboundMessages;
    expect(sms.nodes.map((n) => n.body)).toEqual(['Initech: 4 invoices are past due.']);
    const globex = dataOf(await t.gql(OutboundMessagesDocument, { filter: { customerId: customerIds['C-1'] } })).outboundMessages;
    expect(globex.totalCount).toBe(2);
    const byAction = dataOf(await t.gql(OutboundMessagesDocument, { filter: { actionId } })).outboundMessages;
    expect(byAction.nodes.map((n) => n.id)).toEqual([sent[0].outboundMessageId]);
    const future = dataOf(await t.gql(OutboundMessagesDocument, { filter: { since: new Date(Date.now() + 3_600_000).toISOString() } })).outboundMessages;
    expect(future.totalCount).toBe(0);
  });

  it('keeps each tenant\'s templates and outbox to itself', async () => {
    const other = dataOf(await t.gql(CreateTenantDocument, { input: { name: 'Other Co', timezone: 'Europe/Paris', functionalCurrency: 'EUR' } })).createTenant;
    const key = other.adminKey.secret;
    const fr = dataOf(await t.gql(MessageTemplatesDocument, { key: 'overdue-friendly', locale: 'fr', channel: 'EMAIL' }, key)).messageTemplates;
    expect(fr).toEqual([expect.objectContaining({ source: 'FILE', version: 0 })]);
    expect(dataOf(await t.gql(OutboundMessagesDocument, {}, key)).outboundMessages.totalCount).toBe(0);
    const theirs = await t.gql(RenderTemplateDocument, { input: { key: 'overdue-firm', channel: 'EMAIL', customerId: customerIds['C-1'] } }, key);
    expect(theirs.errors?.[0].extensions).toMatchObject({ code: 'NOT_FOUND', field: 'customerId' });
  });
});
