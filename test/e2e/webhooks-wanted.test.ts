import { systemActor } from '../../src/platform/auth/roles';
import { RequestContext } from '../../src/platform/context';
import { createLogger } from '../../src/platform/logging/logger';
import { until } from '../fixtures/integrations/helpers';
import { dataOf, startAppOn, startTestApp, type TestApp } from '../support/test-app';

/**
 * Every process keeps, per tenant and event type, whether any endpoint wants it (each domain
 * event asks). An endpoint created through one process must be wanted at once in that process
 * and, before the next event reaches it, in every other one.
 */
describe('webhooks: what processes keep of the endpoints', () => {
  let a: TestApp;
  let b: TestApp;
  let tenantId: string;

  beforeAll(async () => {
    a = await startTestApp();
    b = await startAppOn(a.databaseUrl);
    [{ id: tenantId }] = await a.app.dataSource.query(`SELECT id FROM tenants LIMIT 1`);
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
  });

  const wanted = (t: TestApp, type: 'invoice.paid' | 'payment.unapplied') =>
    t.app.modules.integrations.services.webhooks.wanted(new RequestContext(tenantId, systemActor(tenantId, 'test'), t.app.dataSource.manager, 'test', createLogger('silent')), type);

  it('a new endpoint is wanted in the process that created it and, through the event, in another', async () => {
    expect(await wanted(a, 'invoice.paid')).toBe(false);
    expect(await wanted(b, 'invoice.paid')).toBe(false);
    expect(await wanted(b, 'payment.unapplied')).toBe(false);
    // B keeps these answers: without a word from A it would go on saying no for a minute.

    dataOf(await a.gql(`mutation { createWebhookEndpoint(input: { url: "https://partner.example/hooks", eventTypes: ["invoice.paid"] }) { secret } }`));
    expect(await wanted(a, 'invoice.paid')).toBe(true);
    await until('process B to learn of the new endpoint', async () => (await wanted(b, 'invoice.paid')) || undefined);
    expect(await wanted(b, 'payment.unapplied')).toBe(false);
  });

  it('answers are kept: asking again sends no query while nothing changed', async () => {
    const svc = b.app.modules.integrations.services.webhooks;
    const spy = jest.spyOn(b.app.dataSource.manager, 'query');
    try {
      for (let i = 0; i < 5; i++) expect(await wanted(b, 'invoice.paid')).toBe(true);
      expect(spy.mock.calls.filter(([sql]) => String(sql).includes('webhook_endpoints'))).toHaveLength(0);
      svc.forgetWanted(tenantId);
      expect(await wanted(b, 'invoice.paid')).toBe(true);
      expect(spy.mock.calls.filter(([sql]) => String(sql).includes('webhook_endpoints'))).toHaveLength(1);
    } finally {
      spy.mockRestore();
    }
  });
});
