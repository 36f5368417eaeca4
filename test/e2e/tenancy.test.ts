import {
  ApiKeysDocument,
  CreateApiKeyDocument,
  CreateTenantDocument,
  InvoiceDocument,
  InvoicesDocument,
  MeDocument,
  RevokeApiKeyDocument,
  UpsertCustomersDocument,
  UpsertEntitiesDocument,
  UpsertInvoicesDocument,
  VoidInvoiceDocument,
} from '../generated/graphql';
import * as fx from '../support/fixtures';
import { dataOf, startTestApp, type TestApp } from '../support/test-app';

/** A tenant never sees, changes or is notified about another tenant's data. */
describe('tenancy and API keys', () => {
  let t: TestApp;
  let tenantBKey: string;
  let tenantBId: string;
  let invoiceAId: string;

  beforeAll(async () => {
    t = await startTestApp();
    dataOf(await t.gql(UpsertEntitiesDocument, { input: fx.entities }));
    dataOf(await t.gql(UpsertCustomersDocument, { input: fx.customers }));
    const r = dataOf(await t.gql(UpsertInvoicesDocument, { input: fx.invoices })).upsertInvoices;
    invoiceAId = r.results[0].invoice!.id;
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('a partner key creates a tenant with its own admin key', async () => {
    const r = dataOf(await t.gql(CreateTenantDocument, { input: { name: 'Beta GmbH', timezone: 'Europe/Berlin', functionalCurrency: 'EUR' } })).createTenant;
    expect(r.tenant).toMatchObject({ name: 'Beta GmbH', timezone: 'Europe/Berlin', functionalCurrency: 'EUR' });
    expect(r.adminKey.apiKey.role).toBe('ADMIN');
    tenantBKey = r.adminKey.secret;
    tenantBId = r.tenant.id;
    const me = dataOf(await t.gql(MeDocument, {}, tenantBKey)).me;
    expect(me).toMatchObject({ role: 'ADMIN', partner: false, tenant: { id: tenantBId } });
  });

  it('refuses bad tenant settings with a typed error and creates nothing', async () => {
    const before = (await t.app.dataSource.query('SELECT count(*)::int AS n FROM tenants'))[0].n;
    const r = await t.gql(CreateTenantDocument, { input: { name: 'Bad', timezone: 'Mars/Olympus', functionalCurrency: 'EUR' } });
    expect(r.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'timezone' });
    const r2 = await t.gql(CreateTenantDocument, { input: { name: 'Bad', timezone: 'UTC', functionalCurrency: 'EURO' } });
    expect(r2.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'functionalCurrency' });
    expect((await t.app.dataSource.query('SELECT count(*)::int AS n FROM tenants'))[0].n).toBe(before);
  });

  it('a non-partner admin cannot create tenants', async () => {
    const r = await t.gql(CreateTenantDocument, { input: { name: 'Gamma', timezone: 'UTC', functionalCurrency: 'USD' } }, tenantBKey);
    expect(r.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  it('tenant B sees none of tenant A\'s invoices, by list or by id, and cannot change them', async () => {
    const list = dataOf(await t.gql(InvoicesDocument, { first: 50 }, tenantBKey));
    expect(list.invoices.totalCount).toBe(0);
    expect(dataOf(await t.gql(InvoiceDocument, { id: invoiceAId }, tenantBKey)).invoice).toBeNull();
    const v = await t.gql(VoidInvoiceDocument, { id: invoiceAId, reason: 'not mine' }, tenantBKey);
    expect(v.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect(dataOf(await t.gql(InvoiceDocument, { id: invoiceAId })).invoice!.status).toBe('OPEN');
    // The same external ids are free in tenant B: upserts there create B's own records.
    dataOf(await t.gql(UpsertEntitiesDocument, { input: fx.entities }, tenantBKey));
    const c = dataOf(await t.gql(UpsertCustomersDocument, { input: fx.customers.slice(0, 1) }, tenantBKey)).upsertCustomers;
    expect(c.results[0].created).toBe(true);
    const countA = dataOf(await t.gql(InvoicesDocument, { first: 1 })).invoices.totalCount;
    expect(countA).toBe(10);
  });

  it('a partner mints keys for the tenants it created, and only those', async () => {
    const r = dataOf(await t.gql(CreateApiKeyDocument, { input: { name: 'B viewer', role: 'VIEWER', tenantId: tenantBId } })).createApiKey;
    const me = dataOf(await t.gql(MeDocument, {}, r.secret)).me;
    expect(me).toMatchObject({ role: 'VIEWER', tenant: { id: tenantBId } });
    // Tenant B's admin (not a partner) cannot mint for tenant A.
    const ownTenant = dataOf(await t.gql(MeDocument, {})).me.tenant.id;
    const refused = await t.gql(CreateApiKeyDocument, { input: { name: 'x', role: 'ADMIN', tenantId: ownTenant } }, tenantBKey);
    expect(refused.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  it('a viewer reads but cannot write; a manager cannot mint keys', async () => {
    const viewer = dataOf(await t.gql(CreateApiKeyDocument, { input: { name: 'v', role: 'VIEWER' } })).createApiKey.secret;
    expect(dataOf(await t.gql(InvoicesDocument, { first: 1 }, viewer)).invoices.totalCount).toBe(10);
    const w = await t.gql(VoidInvoiceDocument, { id: invoiceAId, reason: 'x' }, viewer);
    expect(w.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const manager = dataOf(await t.gql(CreateApiKeyDocument, { input: { name: 'm', role: 'MANAGER' } })).createApiKey.secret;
    const k = await t.gql(CreateApiKeyDocument, { input: { name: 'x', role: 'VIEWER' } }, manager);
    expect(k.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  it('revoking a key stops it at once; keys are stored hashed and listed without secrets', async () => {
    const created = dataOf(await t.gql(CreateApiKeyDocument, { input: { name: 'temp', role: 'COLLECTOR' } })).createApiKey;
    expect(dataOf(await t.gql(MeDocument, {}, created.secret)).me.role).toBe('COLLECTOR');
    const rows = await t.app.dataSource.query('SELECT key_hash FROM api_keys WHERE id = $1', [created.apiKey.id]);
    expect(rows[0].key_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(rows)).not.toContain(created.secret);
    dataOf(await t.gql(RevokeApiKeyDocument, { id: created.apiKey.id }));
    expect((await t.gql(MeDocument, {}, created.secret)).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    const again = await t.gql(RevokeApiKeyDocument, { id: created.apiKey.id });
    expect(again.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'KEY_ALREADY_REVOKED' });
    const active = dataOf(await t.gql(ApiKeysDocument, {})).apiKeys.map((k) => k.id);
    expect(active).not.toContain(created.apiKey.id);
    const all = dataOf(await t.gql(ApiKeysDocument, { includeRevoked: true })).apiKeys.map((k) => k.id);
    expect(all).toContain(created.apiKey.id);
    // Tenant B cannot see or revoke tenant A's keys.
    expect(dataOf(await t.gql(ApiKeysDocument, { includeRevoked: true }, tenantBKey)).apiKeys.map((k) => k.id)).not.toContain(created.apiKey.id);
  });

  it('every key change leaves an audit event that cannot be altered', async () => {
    const rows = await t.app.dataSource.query(`SELECT action FROM audit_events WHERE action LIKE 'api_key.%' ORDER BY id`);
    expect(rows.map((r: { action: string }) => r.action)).toEqual(expect.arrayContaining(['api_key.created', 'api_key.revoked']));
    await expect(t.app.dataSource.query(`UPDATE audit_events SET action = 'x'`)).rejects.toThrow(/append-only/);
    await expect(t.app.dataSource.query(`DELETE FROM audit_events`)).rejects.toThrow(/append-only/);
  });
});
