import { startTestApp, type TestApp, dataOf } from '../support/test-app';

describe('smoke', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('answers me with the bootstrap key', async () => {
    const r = await t.gql<{ me: { role: string; partner: boolean; tenant: { name: string } } }, Record<string, never>>('{ me { role partner tenant { name } } }');
    expect(dataOf(r).me).toEqual({ role: 'ADMIN', partner: true, tenant: { name: 'Demo Company' } });
  });
});
