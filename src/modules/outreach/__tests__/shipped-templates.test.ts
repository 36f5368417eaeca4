import { htmlToText } from '../html-text';
import { MessageChannel, TemplateSource } from '../outreach.enums';
import { sampleModel } from '../sample-model';
import { loadTemplateFiles, type TemplateFile } from '../template-files';
import { renderTemplate } from '../template.service';
import { validateTemplate } from '../template-validation';

const files = loadTemplateFiles();
const LOCALES = ['en', 'de', 'fr'];
const render = (f: TemplateFile, model = sampleModel({ key: f.key, locale: f.locale }), requestedLocale = f.locale) =>
  renderTemplate({ ...f, source: TemplateSource.FILE, version: 0, updatedAt: null, updatedBy: null, requestedLocale }, model);

/** Every shipped template must pass the same check a tenant's save does, and render cleanly. */
describe('shipped templates (templates/<locale>/<key>.<channel>.hbs)', () => {
  it('ships every key the dunning steps use, in en, de and fr', () => {
    const want = [
      ...['pre-due-reminder', 'due-today', 'overdue-friendly', 'overdue-firm', 'escalation-notice', 'credit-hold-notice', 'courtesy-balance', 'dispute-nudge'].flatMap((k) => [`${k}.EMAIL`, `${k}.PORTAL`]),
      'internal-escalation.INTERNAL',
      'overdue-friendly.SMS',
      'overdue-firm.SMS',
    ].sort();
    for (const locale of LOCALES) {
      expect(files.filter((f) => f.locale === locale).map((f) => `${f.key}.${f.channel}`).sort()).toEqual(want);
    }
    expect(new Set(files.map((f) => f.locale))).toEqual(new Set(LOCALES));
  });

  it.each(files.map((f) => [f.file, f] as const))('%s passes save-time validation', (_name, f) => {
    expect(validateTemplate(f)).toEqual([]);
  });

  it.each(files.map((f) => [f.file, f] as const))('%s renders with a sample model in its locale', (_name, f) => {
    const model = sampleModel({ key: f.key, locale: f.locale });
    const r = render(f, model);
    expect(r.body.length).toBeGreaterThan(80);
    expect(r.body).not.toMatch(/undefined|\[object |NaN|\{\{|\}\}/);
    const text = f.channel === MessageChannel.EMAIL || f.channel === MessageChannel.INTERNAL ? htmlToText(r.body) : r.body;
    // The amount due, formatted for the locale, and the payment link (customers) or the account link (internal).
    const total = new Intl.NumberFormat(f.locale, { style: 'currency', currency: model.totalsByCurrency[0].currency }).format(Number(model.totalsByCurrency[0].amountDue) / 100);
    expect(text).toContain(total);
    expect(text).toContain(f.channel === MessageChannel.INTERNAL ? model.links.portal : model.links.payment);
    if (f.channel === MessageChannel.SMS) {
      expect(r.subject).toBeNull();
    } else {
      expect(r.subject).toBeTruthy();
      expect(r.subject).not.toMatch(/undefined|\{\{|\n/);
    }
    if (f.channel !== MessageChannel.SMS && f.channel !== MessageChannel.INTERNAL) {
      for (const inv of model.invoices) expect(text).toContain(inv.number);
    }
  });

  it('SMS bodies stay within 480 characters with a typical model (3 invoices, long names)', () => {
    const sms = files.filter((f) => f.channel === MessageChannel.SMS);
    expect(sms).toHaveLength(6);
    for (const f of sms) {
      const base = sampleModel({ key: f.key, locale: f.locale });
      const model = {
        ...base,
        tenant: { name: 'Acme Industrial Supplies & Services' },
        contact: { name: 'Alexandra Montgomery-Whitfield', email: 'ap@northwind.example' },
        invoices: [...base.invoices, { ...base.invoices[0], number: 'INV-2026-0199' }, { ...base.invoices[0], number: 'INV-2026-0200' }],
        totalsByCurrency: [{ amountDue: 123456789n, currency: base.totalsByCurrency[0].currency }],
      };
      const r = render(f, model);
      expect({ file: f.file, length: r.body.length }).toEqual({ file: f.file, length: expect.any(Number) });
      expect(r.body.length).toBeLessThanOrEqual(480);
      expect(r.body).not.toContain('&amp;');
      expect(r.body).toContain('Acme Industrial Supplies & Services');
    }
  });

  it('escapes HTML in email bodies but not in SMS or in subjects', () => {
    const email = files.find((f) => f.file === 'en/overdue-friendly.email.hbs')!;
    const sms = files.find((f) => f.file === 'en/overdue-friendly.sms.hbs')!;
    const model = { ...sampleModel({ key: 'overdue-friendly', locale: 'en' }), contact: { name: '<script>alert("x")</script> & Co', email: null } };
    model.invoices = model.invoices.map((i) => ({ ...i, number: 'INV-<b>1</b>' }));
    const e = render(email, model);
    expect(e.body).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co');
    expect(e.body).not.toContain('<script>');
    expect(e.body).toContain('INV-&lt;b&gt;1&lt;/b&gt;');
    expect(e.subject).toContain('INV-<b>1</b>');
    expect(render(sms, model).body).toContain('<script>alert("x")</script> & Co');
  });

  it('lists several currencies separately instead of adding them up', () => {
    const f = files.find((x) => x.file === 'en/escalation-notice.email.hbs')!;
    const base = sampleModel({ key: 'escalation-notice', locale: 'en' });
    const invoices = [base.invoices[0], { ...base.invoices[1], currency: 'EUR', amountDue: 50000n }];
    const r = render(f, { ...base, invoices, totals: null, totalsByCurrency: [{ amountDue: base.invoices[0].amountDue, currency: 'USD' }, { amountDue: 50000n, currency: 'EUR' }] });
    expect(r.subject).toBe('Urgent: overdue balance of $12,345.50 + €500.00 on your account');
    expect(htmlToText(r.body)).toContain('Total overdue: $12,345.50 + €500.00');
  });

  it('gives the email a readable plain-text part (table rows, links)', () => {
    const f = files.find((x) => x.file === 'en/overdue-firm.email.hbs')!;
    const text = htmlToText(render(f).body);
    expect(text).toContain('Invoice | Due date | Days past due | Amount due\nINV-2026-0141 | March 2, 2026 | 10 | $12,345.50');
    expect(text).toContain('online at https://pay.acme-supplies.example/p/7f3c9a, or let us know');
    expect(text).not.toMatch(/<[a-z/]/i);
  });
});
