import { htmlToText } from '../html-text';
import { formatDate, formatMoney, pluralForm } from '../template-engine';
import { canonicalLocale, localeChain, type TemplateFile } from '../template-files';
import { MessageChannel, TemplateSource } from '../outreach.enums';
import { pickTemplate, type EffectiveTemplate } from '../template.service';

const NBSP = '\u00a0';
const NNBSP = '\u202f';

describe('money, date and plural helpers', () => {
  it('formats minor units for the message locale', () => {
    expect(formatMoney(123450n, 'USD', 'en')).toBe('$1,234.50');
    expect(formatMoney(123450n, 'EUR', 'de')).toBe(`1.234,50${NBSP}€`);
    expect(formatMoney(123450n, 'EUR', 'fr')).toBe(`1${NNBSP}234,50${NBSP}€`);
    expect(formatMoney(123450n, 'JPY', 'en')).toBe('¥123,450');
    expect(formatMoney(5n, 'USD', 'en')).toBe('$0.05');
    expect(formatMoney(-250n, 'EUR', 'de')).toBe(`-2,50${NBSP}€`);
    expect(formatMoney(123450n, 'CAD', 'fr-CA')).toBe(`1${NBSP}234,50${NBSP}$`);
  });

  it('is exact beyond float precision and accepts minor units as strings', () => {
    expect(formatMoney(1234567890123456789n, 'USD', 'en')).toBe('$12,345,678,901,234,567.89');
    expect(formatMoney('123450', 'USD', 'en')).toBe('$1,234.50');
    expect(formatMoney('12.5', 'USD', 'en')).toBe('');
    expect(formatMoney(100n, 'XXX1', 'en')).toBe('');
  });

  it('writes long dates in the locale', () => {
    expect(formatDate('2026-03-31', 'en')).toBe('March 31, 2026');
    expect(formatDate('2026-03-31', 'de')).toBe('31. März 2026');
    expect(formatDate('2026-03-31', 'fr')).toBe('31 mars 2026');
    expect(formatDate('not a date', 'en')).toBe('');
  });

  it('picks the plural form with the locale rules and puts the count in place of #', () => {
    expect(pluralForm(1, '# invoice', '# invoices', 'en')).toBe('1 invoice');
    expect(pluralForm(0, '# invoice', '# invoices', 'en')).toBe('0 invoices');
    expect(pluralForm(0, '# facture', '# factures', 'fr')).toBe('0 facture');
    expect(pluralForm(1200, '# Rechnung', '# Rechnungen', 'de')).toBe('1.200 Rechnungen');
  });
});

describe('locale fallback', () => {
  it('goes exact → language → en', () => {
    expect(localeChain('fr-CA')).toEqual(['fr-CA', 'fr', 'en']);
    expect(localeChain('de')).toEqual(['de', 'en']);
    expect(localeChain('en-GB')).toEqual(['en-GB', 'en']);
    expect(canonicalLocale('fr-ca')).toBe('fr-CA');
    expect(canonicalLocale('not a locale!')).toBeNull();
  });

  const file = (locale: string): TemplateFile => ({ key: 'k', locale, channel: MessageChannel.EMAIL, subject: `file ${locale}`, body: 'b', file: `${locale}/k.email.hbs` });
  const own = (locale: string): EffectiveTemplate => ({ key: 'k', locale, channel: MessageChannel.EMAIL, subject: `tenant ${locale}`, body: 'b', source: TemplateSource.TENANT, version: 1, updatedAt: null, updatedBy: 'x' });
  const files = (...locales: string[]) => (l: string) => (locales.includes(l) ? file(l) : undefined);

  it('uses fr for a fr-CA customer, then en when there is no French template', () => {
    expect(pickTemplate(localeChain('fr-CA'), [], files('en', 'fr'))).toMatchObject({ locale: 'fr', source: 'FILE' });
    expect(pickTemplate(localeChain('fr-CA'), [], files('en'))).toMatchObject({ locale: 'en', source: 'FILE' });
    expect(pickTemplate(localeChain('es'), [], files('en', 'fr'))).toMatchObject({ locale: 'en' });
    expect(pickTemplate(localeChain('es'), [], files('fr'))).toBeNull();
  });

  it('lets the tenant override win at its locale, but not over a closer locale', () => {
    expect(pickTemplate(localeChain('fr-CA'), [own('fr')], files('en', 'fr'))).toMatchObject({ locale: 'fr', source: 'TENANT' });
    expect(pickTemplate(localeChain('fr-CA'), [own('fr-CA'), own('fr')], files('en', 'fr'))).toMatchObject({ locale: 'fr-CA', source: 'TENANT' });
    expect(pickTemplate(localeChain('fr-CA'), [own('en')], files('en', 'fr'))).toMatchObject({ locale: 'fr', source: 'FILE' });
    expect(pickTemplate(localeChain('de'), [own('en')], files('en', 'fr'))).toMatchObject({ locale: 'en', source: 'TENANT' });
  });
});

describe('htmlToText', () => {
  it('turns paragraphs, breaks, tables, lists and links into readable text', () => {
    const html = `<p>Dear A &amp; B,</p>\n\n<table>\n  <tr>\n    <th>Invoice</th>\n    <th>Due</th>\n  </tr>\n  <tr>\n    <td>INV-1</td>\n    <td>$5.00</td>\n  </tr>\n</table>\n<ul>\n  <li>one;</li>\n  <li>two.</li>\n</ul>\n<p>Pay at <a href="https://x.example/p?a=1&amp;b=2">https://x.example/p?a=1&amp;b=2</a> or <a href="https://y.example">here</a>.</p>\n<p>Regards,<br>\nJo</p>`;
    expect(htmlToText(html)).toBe('Dear A & B,\n\nInvoice | Due\nINV-1 | $5.00\n\n- one;\n- two.\n\nPay at https://x.example/p?a=1&b=2 or here (https://y.example).\n\nRegards,\nJo');
  });
});
