import { createHash } from 'node:crypto';
import Handlebars from 'handlebars';
import { currencyExponent, formatMinor, isCurrency } from '../../platform/money/money';
import { isIsoDate } from '../../platform/time/dates';
import { LRUCache } from 'lru-cache';

/**
 * The Handlebars environment of message templates: its own instance (nothing registered
 * globally), three helpers, and the built-in blocks if/unless/each/with. The validator
 * refuses everything else, so what saves is what renders.
 */
export const HELPERS = {
  money: { params: 2, usage: '{{money amount currency}}: an amount in minor units, formatted for the message locale' },
  date: { params: 1, usage: '{{date someDate}}: a YYYY-MM-DD date as a long date in the message locale' },
  plural: { params: 3, usage: '{{plural count "one form" "other form"}}: picks the form for count; # in a form becomes the count' },
} as const;
export type HelperName = keyof typeof HELPERS;
export const BLOCK_HELPERS = new Set(['if', 'unless', 'each', 'with']);

interface LocaleData {
  locale: string;
}

function localeOf(options: unknown): string {
  const data = (options as { data?: LocaleData } | undefined)?.data;
  return data?.locale ?? 'en';
}

function toMinor(amount: unknown): bigint | null {
  if (typeof amount === 'bigint') return amount;
  if (typeof amount === 'number' && Number.isSafeInteger(amount)) return BigInt(amount);
  if (typeof amount === 'string' && /^-?\d+$/.test(amount)) return BigInt(amount);
  return null;
}

/** `1234550n USD` → "$12,345.50" (en), "12.345,50 $" (de); exact for any size (decimal string to Intl). */
export function formatMoney(amount: unknown, currency: unknown, locale: string): string {
  const minor = toMinor(amount);
  if (minor === null || typeof currency !== 'string' || !isCurrency(currency)) return '';
  const exp = currencyExponent(currency);
  const nf = new Intl.NumberFormat(locale, { style: 'currency', currency, minimumFractionDigits: exp, maximumFractionDigits: exp });
  return nf.format(formatMinor(minor, currency) as `${number}`);
}

/** `2026-03-31` → "March 31, 2026" (en), "31. März 2026" (de), "31 mars 2026" (fr). */
export function formatDate(value: unknown, locale: string): string {
  if (typeof value !== 'string' || !isIsoDate(value)) return value instanceof Date ? formatDate(value.toISOString().slice(0, 10), locale) : '';
  return new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeZone: 'UTC' }).format(new Date(`${value}T00:00:00Z`));
}

export function pluralForm(count: unknown, one: unknown, other: unknown, locale: string): string {
  const n = typeof count === 'bigint' ? Number(count) : Number(count);
  if (!Number.isFinite(n)) return String(other ?? '');
  const form = new Intl.PluralRules(locale).select(n) === 'one' ? one : other;
  return String(form ?? '').replace(/#/g, new Intl.NumberFormat(locale).format(n));
}

function createEnvironment(): typeof Handlebars {
  const hb = Handlebars.create();
  hb.registerHelper('money', (amount: unknown, currency: unknown, options: unknown) => formatMoney(amount, currency, localeOf(options)));
  hb.registerHelper('date', (value: unknown, options: unknown) => formatDate(value, localeOf(options)));
  hb.registerHelper('plural', (count: unknown, one: unknown, other: unknown, options: unknown) => pluralForm(count, one, other, localeOf(options)));
  return hb;
}

const env = createEnvironment();

export function compileOptions(html: boolean): CompileOptions {
  return {
    knownHelpers: { money: true, date: true, plural: true },
    knownHelpersOnly: true,
    noEscape: !html,
    strict: false,
    preventIndent: true,
  };
}

/** Compiled templates by source, the 500 most recently used. */
const cache = new LRUCache<string, HandlebarsTemplateDelegate>({ max: 500 });

/** Compiles (memoised by source) and renders; `html` escapes output, plain text does not. */
export function renderSource(source: string, model: object, opts: { html: boolean; locale: string }): string {
  const id = createHash('sha1').update(opts.html ? 'h' : 't').update(source).digest('hex');
  let template = cache.get(id);
  if (!template) {
    template = env.compile(source, compileOptions(opts.html));
    cache.set(id, template);
  }
  return template(model, { data: { locale: opts.locale } satisfies LocaleData });
}

/** Compiles without rendering, so that every compile-time error shows at save. */
export function precompileCheck(source: string, html: boolean): void {
  env.precompile(source, compileOptions(html));
}
