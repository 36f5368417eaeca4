import { createHash } from 'node:crypto';
import { simpleParser, type AddressObject } from 'mailparser';
import { htmlToText } from '../outreach/html-text';

/** The largest raw message accepted (the HTTP body limit says the same). */
export const MAX_RAW_BYTES = 15 * 1024 * 1024;
/** Body text kept per message (the raw MIME is kept whole). */
export const MAX_TEXT_CHARS = 100_000;

export class MalformedMimeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedMimeError';
  }
}

export interface ParsedInbound {
  /** The Message-ID with its angle brackets; derived from the content when the message has none. */
  messageId: string;
  messageIdDerived: boolean;
  inReplyTo: string | null;
  /** References, oldest first, as written. */
  references: string[];
  fromAddress: string | null;
  fromName: string | null;
  to: string[];
  subject: string | null;
  text: string;
  date: Date | null;
  /** Lowercased header name → value as text, for the auto-reply rules. */
  headers: Record<string, string>;
  sha256: string;
}

const HEADER_LINE = /^[!-9;-~]+:/; // RFC 5322 field name: printable ASCII except ':' then ':'
const MSG_ID = /<[^<>\s]+>/g;

function ids(value: string | string[] | undefined): string[] {
  const all = Array.isArray(value) ? value.join(' ') : (value ?? '');
  const found = all.match(MSG_ID) ?? [];
  // Some clients drop the brackets: keep a lone token that looks like local@domain.
  if (!found.length && /^[^\s<>]+@[^\s<>]+$/.test(all.trim())) return [`<${all.trim()}>`];
  return found;
}

function addresses(a: AddressObject | AddressObject[] | undefined): { address: string; name: string }[] {
  const list = Array.isArray(a) ? a : a ? [a] : [];
  const out: { address: string; name: string }[] = [];
  for (const o of list) for (const v of o.value) for (const x of v.group ?? [v]) if (x.address) out.push({ address: x.address.toLowerCase(), name: x.name });
  return out;
}

/**
 * Parses one raw RFC 5322 message with mailparser. mailparser accepts nearly anything, so what
 * counts as malformed is decided here first: an empty body, no header section (the first line
 * must be a `Name: value` field and a blank line must end the headers, unless the message is
 * headers only), binary content, or no usable From address.
 */
export async function parseMime(raw: Buffer): Promise<ParsedInbound> {
  if (!raw.length) throw new MalformedMimeError('the message is empty');
  if (raw.length > MAX_RAW_BYTES) throw new MalformedMimeError(`the message is larger than ${MAX_RAW_BYTES} bytes`);
  if (raw.includes(0)) throw new MalformedMimeError('the message contains NUL bytes: not an RFC 5322 message');
  const head = raw.subarray(0, Math.min(raw.length, 256 * 1024)).toString('latin1');
  const firstLine = head.split(/\r?\n/, 1)[0];
  if (!HEADER_LINE.test(firstLine)) throw new MalformedMimeError('the message does not start with a header field ("Name: value")');
  const headerEnd = head.search(/\r?\n\r?\n/);
  const headerBlock = headerEnd >= 0 ? head.slice(0, headerEnd) : head;
  for (const line of headerBlock.split(/\r?\n/)) {
    if (line === '' || /^[ \t]/.test(line)) continue; // folded continuation
    if (!HEADER_LINE.test(line)) throw new MalformedMimeError(`malformed header line: "${line.slice(0, 80)}"`);
  }
  let mail;
  try {
    mail = await simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true, skipTextLinks: true });
  } catch (err) {
    throw new MalformedMimeError(`could not parse the message: ${(err as Error).message}`);
  }
  const from = addresses(mail.from)[0] ?? null;
  if (!from) throw new MalformedMimeError('the message has no From address');
  const headers: Record<string, string> = {};
  for (const { key, line } of mail.headerLines) headers[key] ??= line.slice(line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, ' ').trim();
  const text = (mail.text?.trim() ? mail.text : typeof mail.html === 'string' ? htmlToText(mail.html) : '').slice(0, MAX_TEXT_CHARS);
  const sha256 = createHash('sha256').update(raw).digest('hex');
  const given = ids(mail.messageId)[0];
  return {
    messageId: (given ?? `<sha256.${sha256}@inbound.recoup>`).slice(0, 998),
    messageIdDerived: !given,
    inReplyTo: ids(mail.inReplyTo)[0] ?? null,
    references: ids(mail.references),
    fromAddress: from.address,
    fromName: from.name || null,
    to: addresses(mail.to).map((a) => a.address),
    subject: mail.subject?.slice(0, 2000) ?? null,
    text,
    date: mail.date && !Number.isNaN(mail.date.getTime()) ? mail.date : null,
    headers,
    sha256,
  };
}
