import { chromium, type Browser, type Locator } from 'playwright-core';
import { UpsertCustomersDocument, UpsertEntitiesDocument, UpsertInvoicesDocument } from '../generated/graphql';
import { addDays, todayIn } from '../../src/platform/time/dates';
import * as fx from '../support/fixtures';
import { dataOf, startTestApp, type TestApp } from '../support/test-app';

/**
 * The /dashboard page in headless Chromium: the key typed into the page connects it over
 * graphql-ws, and a balance changed through the API changes the numbers on the page.
 */
/** Polls an element's text from Node (the page's CSP forbids evaluated strings) until `ok` holds. */
async function waitText(locator: Locator, ok: (text: string) => boolean, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = (await locator.textContent()) ?? '';
    if (ok(text)) return text;
    if (Date.now() > deadline) throw new Error(`timed out waiting on the page; last text: "${text}"`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('aging dashboard in a browser (e2e)', () => {
  let t: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    t = await startTestApp();
    dataOf(await t.gql(UpsertEntitiesDocument, { input: fx.entities }));
    dataOf(await t.gql(UpsertCustomersDocument, { input: fx.customers }));
    // Plus a sale of ten days ago, so that DSO has credit sales in its 90-day period.
    const recent = addDays(todayIn('America/New_York'), -10);
    dataOf(await t.gql(UpsertInvoicesDocument, { input: [...fx.invoices, { externalId: 'I-R', customerExternalId: 'C-2', number: 'INV-RECENT', issueDate: recent, currency: 'USD', total: '500.00', terms: { kind: 'NET', days: 30 } }] }));
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('shows the aging grid with DSO and CEI and updates it live when a balance changes', async () => {
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(t.url.replace(/\/graphql$/, '/dashboard'));
    await page.fill('#api-key', t.adminKey);
    await page.click('button[type=submit]');
    await page.waitForSelector('#status.live');

    const usdTotal = page.locator('tr.total[data-currency="USD"] td.row-total');
    await usdTotal.waitFor();
    expect(await usdTotal.textContent()).toBe('20642.49');
    expect(await page.locator('tr.row').count()).toBe(2);
    const dso = Number(await waitText(page.locator('#dso-standard'), (v) => v !== '–'));
    expect(dso).toBeGreaterThan(0);
    expect(Number(await page.textContent('#pct-current'))).toBeGreaterThan(0);

    // A payment of 11000.00 on INV-1001 (through the API): the page follows without a reload.
    const i1 = fx.invoices.find((i) => i.externalId === 'I-1')!;
    dataOf(await t.gql(UpsertInvoicesDocument, { input: [{ ...i1, openBalance: '1000.00' }] }));
    await waitText(usdTotal, (v) => v === '9642.49');
    // DSO follows the receivables down.
    await waitText(page.locator('#dso-standard'), (v) => Number(v) < dso);
    expect(await page.evaluate(() => (globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }).sessionStorage.getItem('recoup.apiKey'))).toBe(t.adminKey);
    expect(pageErrors).toEqual([]);

    // A reload reconnects with the key from sessionStorage.
    await page.reload();
    await page.waitForSelector('#status.live');
    expect(await usdTotal.textContent()).toBe('9642.49');
    await page.close();
  });

  it('says so when the key is refused', async () => {
    const page = await browser.newPage();
    await page.goto(t.url.replace(/\/graphql$/, '/dashboard'));
    await page.fill('#api-key', 'rk_not-a-real-key-000000000000000000');
    await page.click('button[type=submit]');
    await page.waitForSelector('#status.error');
    expect(await page.textContent('#status')).toContain('refused');
    expect(await page.locator('tr.row').count()).toBe(0);
    await page.close();
  });
});
