import { addDays, endOfMonth, isIsoDate, type IsoDate } from '../../platform/time/dates';
import type { DisputeReason } from '../disputes/dispute.entity';
import {
  AUTO_REPLY_BODY_PHRASES,
  AUTO_REPLY_SUBJECT_PHRASES,
  DISPUTE_PHRASES,
  DISPUTE_REASON_ORDER,
  END_OF_MONTH,
  IN_DAYS,
  LANGUAGES,
  MONTHS,
  PROMISE_PHRASES,
  QUOTE_HEADERS,
  RELATIVE_DAYS,
  WEEKDAYS,
  type Language,
} from './phrases';

/** What the classifier reads from one inbound message. */
export interface ClassifierInput {
  subject: string | null;
  /** Plain text of the message (quoted history is removed here). */
  text: string | null;
  /** The message's own calendar day (in the tenant's time zone): relative dates count from it. */
  messageDate: IsoDate;
  /** Lowercased header names → raw values, for RFC 3834 and vendor auto-reply headers. */
  headers?: Record<string, string>;
  fromAddress?: string | null;
}

export interface DisputeSignal {
  reasonCode: DisputeReason;
  language: Language;
  /** The phrase of the list that matched. */
  phrase: string;
  /** The sentence of the reply around it. */
  excerpt: string;
}

export interface PromiseSignal {
  language: Language;
  phrase: string;
  excerpt: string;
  /** The promised day, when one was found (absolute, or relative to the message date). */
  promisedDate: IsoDate | null;
  /** The words the date was read from ("12 March", "by Friday", "2026-03-12"). */
  dateText: string | null;
  /** A decimal amount written next to the promise, and its currency when written. */
  amount: string | null;
  currency: string | null;
}

export interface Classification {
  /** Set for automatic replies (out of office, bounces): nothing else is classified. */
  autoReply: { reason: string } | null;
  dispute: DisputeSignal | null;
  promise: PromiseSignal | null;
}

const NOT_WORD_BEFORE = '(?<![\\p{L}\\p{N}])';
const NOT_WORD_AFTER = '(?![\\p{L}\\p{N}])';
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const phraseRe = new Map<string, RegExp>();
function phraseRegex(phrase: string): RegExp {
  let re = phraseRe.get(phrase);
  if (!re) {
    re = new RegExp(`${NOT_WORD_BEFORE}${escape(normalize(phrase)).replace(/ /g, '\\s+')}${NOT_WORD_AFTER}`, 'u');
    phraseRe.set(phrase, re);
  }
  return re;
}

/** Lowercase, straight apostrophes, one space between words. */
export function normalize(s: string): string {
  return s.toLowerCase().replace(/[\u2018\u2019\u02bc`´]/g, "'").replace(/\u00a0/g, ' ').replace(/\s+/g, ' ').trim();
}

/** The customer's own text: quoted lines (`>`) and everything from a quote header ("On … wrote:") on are dropped. */
export function ownText(text: string): string {
  const out: string[] = [];
  for (const line of text.replace(/\r\n?/g, '\n').split('\n')) {
    const t = line.trim();
    if (QUOTE_HEADERS.some((re) => re.test(t))) break;
    if (t.startsWith('>')) continue;
    out.push(line);
  }
  return out.join('\n');
}

function sentences(text: string): string[] {
  return text
    .split(/(?<=[!?;]|(?<!\d)\.)\s+|\n+/u)
    .map((s) => s.trim())
    .filter(Boolean);
}

function findPhrase(text: string, phrases: Record<Language, string[]>): { language: Language; phrase: string; index: number } | null {
  let best: { language: Language; phrase: string; index: number } | null = null;
  for (const language of LANGUAGES) {
    for (const phrase of phrases[language]) {
      const m = phraseRegex(phrase).exec(text);
      if (m && (!best || m.index < best.index)) best = { language, phrase, index: m.index };
    }
  }
  return best;
}

function excerptAround(original: string, phrase: string): string {
  const hit = sentences(original).find((s) => phraseRegex(phrase).test(normalize(s)));
  return (hit ?? phrase).replace(/\s+/g, ' ').slice(0, 300);
}

/** RFC 3834 `Auto-Submitted`, vendor headers, bounces, and the subject / body phrase lists. */
export function detectAutoReply(input: ClassifierInput, body: string): { reason: string } | null {
  const h = input.headers ?? {};
  const auto = h['auto-submitted']?.trim().toLowerCase();
  if (auto && auto !== 'no') return { reason: `header Auto-Submitted: ${auto}` };
  for (const name of ['x-autoreply', 'x-autorespond', 'x-autoresponder']) if (h[name]) return { reason: `header ${name}` };
  const precedence = h['precedence']?.trim().toLowerCase();
  if (precedence && ['auto_reply', 'bulk', 'junk'].includes(precedence)) return { reason: `header Precedence: ${precedence}` };
  if (h['x-auto-response-suppress'] && /\b(oof|all|autoreply)\b/i.test(h['x-auto-response-suppress']) && /auto|out of office|abwesen|absence/i.test(input.subject ?? '')) return { reason: 'header X-Auto-Response-Suppress' };
  if (/^(mailer-daemon|postmaster)@/i.test(input.fromAddress ?? '')) return { reason: `sender ${input.fromAddress}` };
  if (/multipart\/report/i.test(h['content-type'] ?? '')) return { reason: 'delivery status report' };
  const subject = normalize(input.subject ?? '');
  const s = findPhrase(subject, AUTO_REPLY_SUBJECT_PHRASES);
  if (s) return { reason: `subject phrase "${s.phrase}" (${s.language})` };
  const b = findPhrase(normalize(body).slice(0, 2000), AUTO_REPLY_BODY_PHRASES);
  if (b) return { reason: `body phrase "${b.phrase}" (${b.language})` };
  return null;
}

/** Classifies one reply with the phrase lists of `phrases.ts`; pure and deterministic. */
export function classify(input: ClassifierInput): Classification {
  const body = ownText(input.text ?? '');
  const autoReply = detectAutoReply(input, body);
  if (autoReply) return { autoReply, dispute: null, promise: null };
  // The subject counts too ("Re: Invoice INV-1 – wrong amount"), minus reply/forward prefixes.
  const subject = (input.subject ?? '').replace(/^\s*((re|aw|wg|fw|fwd|tr|réf)\s*:\s*)+/i, '');
  const original = `${subject}\n${body}`;
  const text = normalize(original);
  return { autoReply: null, dispute: findDispute(text, original), promise: findPromise(original, input.messageDate) };
}

function findDispute(text: string, original: string): DisputeSignal | null {
  for (const reasonCode of DISPUTE_REASON_ORDER) {
    let best: { language: Language; phrase: string; index: number } | null = null;
    for (const language of LANGUAGES) {
      for (const phrase of DISPUTE_PHRASES[language][reasonCode] ?? []) {
        const m = phraseRegex(phrase).exec(text);
        if (m && (!best || m.index < best.index)) best = { language, phrase, index: m.index };
      }
    }
    if (best) return { reasonCode, language: best.language, phrase: best.phrase, excerpt: excerptAround(original, best.phrase) };
  }
  return null;
}

function findPromise(original: string, messageDate: IsoDate): PromiseSignal | null {
  const all = sentences(original);
  for (const sentence of all) {
    const norm = normalize(sentence);
    const hit = findPhrase(norm, PROMISE_PHRASES);
    if (!hit) continue;
    // The date and amount: after the phrase in its sentence first, then anywhere in the sentence, then the next sentence.
    const after = norm.slice(hit.index);
    const next = all[all.indexOf(sentence) + 1];
    const date = findDate(after, messageDate, hit.language) ?? findDate(norm, messageDate, hit.language) ?? (next ? findDate(normalize(next), messageDate, hit.language) : null);
    const amount = findAmount(sentence) ?? (next ? findAmount(next) : null);
    return { language: hit.language, phrase: hit.phrase, excerpt: sentence.replace(/\s+/g, ' ').slice(0, 300), promisedDate: date?.date ?? null, dateText: date?.text ?? null, amount: amount?.amount ?? null, currency: amount?.currency ?? null };
  }
  return null;
}

// ---- dates ---------------------------------------------------------------------------------

const pad = (n: number) => String(n).padStart(2, '0');
function ymd(y: number, m: number, d: number): IsoDate | null {
  const s = `${y}-${pad(m)}-${pad(d)}`;
  return m >= 1 && m <= 12 && d >= 1 && d <= 31 && isIsoDate(s) && new Date(`${s}T00:00:00Z`).getUTCDate() === d ? s : null;
}

/** A day and month without a year: the next such day on or after the message date. */
function nextOccurrence(month: number, day: number, from: IsoDate): IsoDate | null {
  const y = Number(from.slice(0, 4));
  const thisYear = ymd(y, month, day);
  if (thisYear && thisYear >= from) return thisYear;
  return ymd(y + 1, month, day);
}

function isoWeekday(d: IsoDate): number {
  const w = new Date(`${d}T00:00:00Z`).getUTCDay();
  return w === 0 ? 7 : w;
}

interface FoundDate {
  date: IsoDate;
  text: string;
  index: number;
}

/** Reads a date from normalized text: ISO, numeric (d.m.y; d/m/y, or m/d/y in English), day + month name, weekday, relative words. Earliest in the text wins. */
export function findDate(text: string, messageDate: IsoDate, language: Language): FoundDate | null {
  const found: FoundDate[] = [];
  const push = (date: IsoDate | null, m: RegExpExecArray) => {
    if (date) found.push({ date, text: m[0].trim().replace(/[.,]+$/, ''), index: m.index });
  };
  for (const m of text.matchAll(/(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)/g)) push(ymd(+m[1], +m[2], +m[3]), m as RegExpExecArray);
  for (const m of text.matchAll(/(?<![\d.])(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})?(?![\d])/g)) {
    const y = m[3] ? (m[3].length === 2 ? 2000 + +m[3] : +m[3]) : null;
    push(y ? ymd(y, +m[2], +m[1]) : nextOccurrence(+m[2], +m[1], messageDate), m as RegExpExecArray);
  }
  for (const m of text.matchAll(/(?<![\d/])(\d{1,2})\/(\d{1,2})\/(\d{4})(?![\d/])/g)) {
    const [a, b, y] = [+m[1], +m[2], +m[3]];
    // Day first unless the text is English and the first number can be a month, or the second cannot.
    const dayFirst = b > 12 ? false : a > 12 ? true : language !== 'en';
    push(dayFirst ? ymd(y, b, a) : ymd(y, a, b), m as RegExpExecArray);
  }
  // Month names: any language's (a German customer may write in English).
  for (const lang of LANGUAGES) {
    const names = Object.keys(MONTHS[lang]).sort((x, y) => y.length - x.length).map(escape).join('|');
    const dm = new RegExp(`${NOT_WORD_BEFORE}(\\d{1,2})(?:st|nd|rd|th|er|\\.)?\\s*(?:of\\s+)?(${names})\\.?${NOT_WORD_AFTER}(?:,?\\s*(\\d{4}))?`, 'gu');
    for (const m of text.matchAll(dm)) {
      const month = MONTHS[lang][m[2]];
      push(m[3] ? ymd(+m[3], month, +m[1]) : nextOccurrence(month, +m[1], messageDate), m as RegExpExecArray);
    }
    const md = new RegExp(`${NOT_WORD_BEFORE}(${names})\\.?\\s+(\\d{1,2})(?:st|nd|rd|th)?${NOT_WORD_AFTER}(?:,?\\s*(\\d{4}))?`, 'gu');
    for (const m of text.matchAll(md)) {
      const month = MONTHS[lang][m[1]];
      push(m[3] ? ymd(+m[3], month, +m[2]) : nextOccurrence(month, +m[2], messageDate), m as RegExpExecArray);
    }
    for (const [word, weekday] of Object.entries(WEEKDAYS[lang])) {
      const re = new RegExp(`${NOT_WORD_BEFORE}(?:(next|nächsten|prochain)\\s+)?${word}(?:\\s+(prochain))?${NOT_WORD_AFTER}`, 'gu');
      for (const m of text.matchAll(re)) {
        // The next such weekday strictly after the message day ("by Friday" written on a Friday is a week later).
        const diff = ((weekday - isoWeekday(messageDate) + 7) % 7) || 7;
        push(addDays(messageDate, diff), m as RegExpExecArray);
      }
    }
    for (const [word, days] of Object.entries(RELATIVE_DAYS[lang])) {
      for (const m of text.matchAll(new RegExp(`${NOT_WORD_BEFORE}${escape(word)}${NOT_WORD_AFTER}`, 'gu'))) push(addDays(messageDate, days), m as RegExpExecArray);
    }
    for (const phrase of END_OF_MONTH[lang]) {
      const m = phraseRegex(phrase).exec(text);
      if (m) push(endOfMonth(messageDate), m);
    }
    const inDays = IN_DAYS[lang].exec(text);
    if (inDays) push(addDays(messageDate, Number(inDays[1])), inDays);
  }
  if (!found.length) return null;
  // The earliest in the text; at the same place, the longest reading ("12 March 2026" over "12 March").
  found.sort((a, b) => a.index - b.index || b.text.length - a.text.length);
  return found[0];
}

// ---- amounts -------------------------------------------------------------------------------

const SYMBOLS: Record<string, string> = { $: 'USD', '€': 'EUR', '£': 'GBP', '¥': 'JPY' };
/** ISO codes read as currencies ("INV 1042" is not an amount). */
const CODES = ['USD', 'EUR', 'GBP', 'CHF', 'CAD', 'AUD', 'NZD', 'JPY', 'SEK', 'NOK', 'DKK', 'PLN', 'CZK', 'HUF', 'SGD', 'HKD', 'MXN', 'BRL', 'INR', 'ZAR', 'CNY'];

/** An amount with its currency when written ("$1,250.00", "EUR 1.250,00", "1 250,00 €", "500 USD"). */
export function findAmount(text: string): { amount: string; currency: string | null } | null {
  const num = '(\\d{1,3}(?:[ ,.\\u00a0\\u202f]\\d{3})+(?:[.,]\\d{1,2})?|\\d+(?:[.,]\\d{1,2})?)';
  const cur = `(${CODES.join('|')}|[$€£¥])`;
  const before = new RegExp(`${cur}\\s?${num}(?![\\d])`, 'u').exec(text);
  const after = new RegExp(`(?<![\\d.,])${num}\\s?${cur}(?![A-Za-z])`, 'u').exec(text);
  const m = before && (!after || before.index <= after.index) ? { cur: before[1], num: before[2] } : after ? { cur: after[2], num: after[1] } : null;
  if (!m) return null;
  return { amount: decimalOf(m.num), currency: SYMBOLS[m.cur] ?? m.cur };
}

/** "1,250.00" / "1.250,00" / "1 250,5" → "1250.00" / "1250.5". */
export function decimalOf(raw: string): string {
  const s = raw.replace(/[\s\u00a0\u202f]/g, '');
  const lastSep = Math.max(s.lastIndexOf('.'), s.lastIndexOf(','));
  if (lastSep < 0) return s;
  const decimals = s.length - lastSep - 1;
  if (decimals === 3) return s.replace(/[.,]/g, ''); // a thousands separator
  return `${s.slice(0, lastSep).replace(/[.,]/g, '')}.${s.slice(lastSep + 1)}`;
}
