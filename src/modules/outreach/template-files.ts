import fs from 'node:fs';
import path from 'node:path';
import { CHANNEL_FILE_SUFFIX, MessageChannel } from './outreach.enums';

/** Template keys: what dunning steps name in `templateKey`. */
export const TEMPLATE_KEY_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;

export interface TemplateFile {
  key: string;
  locale: string;
  channel: MessageChannel;
  subject: string | null;
  body: string;
  /** Path relative to the templates directory, for messages. */
  file: string;
}

const CHANNEL_BY_SUFFIX = new Map(Object.entries(CHANNEL_FILE_SUFFIX).map(([channel, suffix]) => [suffix, channel as MessageChannel]));

/**
 * `templates/` next to the sources (`src/…/outreach` → repo root) or next to the compiled
 * output (`dist/src/…/outreach` → the image root where the Dockerfile copies it).
 */
export function defaultTemplatesDir(): string {
  const candidates = [path.resolve(__dirname, '../../../templates'), path.resolve(__dirname, '../../../../templates')];
  return candidates.find((d) => fs.existsSync(path.join(d, 'en'))) ?? candidates[0];
}

/**
 * A template file: an optional front-matter block (`---`, `subject: …`, `---`) and the body.
 * The subject is the rest of its line, taken as written (no quoting rules to get wrong).
 */
export function parseTemplateFile(text: string, file = '(template)'): { subject: string | null; body: string } {
  const src = text.replace(/\r\n/g, '\n');
  if (!src.startsWith('---\n')) return { subject: null, body: src };
  const end = src.indexOf('\n---\n', 3);
  if (end < 0) throw new Error(`${file}: front matter opened with --- is never closed`);
  let subject: string | null = null;
  for (const line of src.slice(4, end).split('\n')) {
    if (!line.trim()) continue;
    const m = /^([A-Za-z]+):\s?(.*)$/.exec(line);
    if (!m || m[1] !== 'subject') throw new Error(`${file}: unknown front-matter line "${line}" (only "subject: …" is allowed)`);
    subject = m[2].trim();
  }
  return { subject, body: src.slice(end + 5) };
}

/** Reads every `<locale>/<key>.<channel>.hbs` under `dir`. */
export function loadTemplateFiles(dir: string = defaultTemplatesDir()): TemplateFile[] {
  if (!fs.existsSync(dir)) return [];
  const out: TemplateFile[] = [];
  for (const locale of fs.readdirSync(dir).sort()) {
    const localeDir = path.join(dir, locale);
    if (!fs.statSync(localeDir).isDirectory()) continue;
    if (canonicalLocale(locale) !== locale) throw new Error(`templates/${locale}: not a canonical BCP 47 locale (expected ${canonicalLocale(locale) ?? 'e.g. en, de, fr-CA'})`);
    for (const name of fs.readdirSync(localeDir).sort()) {
      if (!name.endsWith('.hbs')) continue;
      const file = `${locale}/${name}`;
      const m = /^(.+)\.([a-z]+)\.hbs$/.exec(name);
      const channel = m ? CHANNEL_BY_SUFFIX.get(m[2]) : undefined;
      if (!m || !channel || !TEMPLATE_KEY_RE.test(m[1])) throw new Error(`templates/${file}: expected <key>.<${[...CHANNEL_BY_SUFFIX.keys()].join('|')}>.hbs`);
      const { subject, body } = parseTemplateFile(fs.readFileSync(path.join(localeDir, name), 'utf8'), `templates/${file}`);
      out.push({ key: m[1], locale, channel, subject, body, file });
    }
  }
  return out;
}

/** `fr-ca` → `fr-CA`; null when it is not a BCP 47 tag. */
export function canonicalLocale(tag: string): string | null {
  try {
    const [c] = Intl.getCanonicalLocales(tag);
    return c ?? null;
  } catch {
    return null;
  }
}

/** Exact locale, then its language, then en: `fr-CA` → [`fr-CA`, `fr`, `en`]. */
export function localeChain(locale: string): string[] {
  const chain = [locale];
  const language = new Intl.Locale(locale).language;
  if (language !== locale) chain.push(language);
  if (!chain.includes('en')) chain.push('en');
  return chain;
}
