/**
 * A deterministic demo accounts-receivable book: legal entities, the AR team, customers with
 * contacts and payment behaviour, and invoices whose open balances spread over every aging
 * bucket relative to an as-of day.
 *
 * Pure: no database, no clock, no global random state. Every record is drawn from its own
 * random stream derived from (seed, kind, index), so the same (seed, counts, asOf) gives
 * byte-identical rows whatever the batch size, and invoice n never depends on invoice n - 1.
 * Invoices are produced by a generator in batches, so a 1M-invoice book never sits in memory.
 *
 * People and company names come from @faker-js/faker 9 (the last major that ships CommonJS; see
 * docs/decisions/009-demo-data.md), one instance per country, reseeded from (seed, kind, index)
 * for every name, so they are as deterministic as the rest of the book.
 */
import { base, de, de_AT, en, en_CA, en_GB, en_IE, en_US, Faker, fr, nl, type LocaleDefinition } from '@faker-js/faker';
import type { LegalEntityFields } from '../legal-entities/legal-entity.service';
import type { ContactRow, CustomerRow } from '../customers/customer.validation';
import { Channel, ContactRole } from '../customers/contact.entity';
import { PortalStatus } from '../customers/customer.entity';
import type { InvoiceLineRow, InvoiceRow } from '../invoices/invoice.validation';
import { BillingModel } from '../invoices/invoice.entity';
import { dueDateFromTerms, PaymentTermsKind, type PaymentTerms } from '../invoices/payment-terms';
import { UserRole } from '../tenants/user.entity';
import { isIsoDate, type IsoDate } from '../../platform/time/dates';

// ---------------------------------------------------------------------------------------------
// Options and shapes
// ---------------------------------------------------------------------------------------------

export interface BookOptions {
  seed: number;
  customers: number;
  invoices: number;
  /** The day the book is "as of": issue dates run up to it, open balances age relative to it. */
  asOf: IsoDate;
}

/** Database ids the rows must reference. */
export interface BookRefs {
  entityIdByCode: ReadonlyMap<string, string>;
  /** Collector user ids, in the order {@link generateUsers} lists the collectors. */
  collectorIds: readonly string[];
}

export type EntityCode = 'US01' | 'UK01' | 'DE01';
export type Segment = 'enterprise' | 'mid-market' | 'smb';
export type PaymentBehaviour = 'punctual' | 'late' | 'chronic';

/** How a customer buys and pays; drives its invoices. */
export interface CustomerProfile {
  entityCode: EntityCode;
  segment: Segment;
  behaviour: PaymentBehaviour;
  /** Typical days paid after the due date (0 for punctual payers). */
  lateDays: number;
  /** The main way the customer is billed. */
  billingModel: BillingModel;
  terms: PaymentTerms;
  /** Typical invoice total in minor units. */
  typicalMinor: number;
  /** Relative share of the book's invoices. */
  weight: number;
  usesPo: boolean;
}

export interface GeneratedCustomer {
  row: CustomerRow;
  profile: CustomerProfile;
}

/** What invoices need of a written customer: light enough to keep 100k of them. */
export interface BookCustomer {
  externalId: string;
  id: string;
  entityId: string;
  currency: string;
  profile: CustomerProfile;
}

export interface DemoUser {
  name: string;
  email: string;
  role: UserRole;
}

export interface DemoEntity extends LegalEntityFields {
  code: EntityCode;
  currency: string;
  country: string;
  invoicePrefix: string;
}

// ---------------------------------------------------------------------------------------------
// Deterministic randomness
// ---------------------------------------------------------------------------------------------

const STREAM = { users: 1, customers: 2, invoices: 3, names: 4 } as const;

function mix32(h: number, x: number): number {
  h = Math.imul(h ^ (x >>> 0), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A 32-bit hash of a list of integers (seed words, stream, index, ...). */
export function seedFor(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = mix32(h, p % 0x100000000);
    h = mix32(h, Math.floor(p / 0x100000000));
  }
  return h;
}

/** sfc32: small, fast, good enough for demo data, and identical on every platform. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d = 1;

  constructor(seed: number) {
    this.a = seed >>> 0;
    this.b = mix32(seed, 1);
    this.c = mix32(seed, 2);
    for (let i = 0; i < 12; i++) this.next();
  }

  /** Uniform in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  between(lo: number, hi: number): number {
    return lo + this.next() * (hi - lo);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /** Picks by weight from [value, weight] pairs. */
  weighted<T>(entries: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const e of entries) total += e[1];
    let r = this.next() * total;
    for (const e of entries) {
      r -= e[1];
      if (r < 0) return e[0];
    }
    return entries[entries.length - 1][0];
  }

  /** Standard normal (Box-Muller). */
  gauss(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  logNormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.gauss());
  }
}

// ---------------------------------------------------------------------------------------------
// Calendar days as integers (fast; the book makes a few million date computations)
// ---------------------------------------------------------------------------------------------

const DAY_MS = 86_400_000;
const toDay = (d: IsoDate): number => Math.round(Date.parse(`${d}T00:00:00Z`) / DAY_MS);
const fromDay = (n: number): IsoDate => new Date(n * DAY_MS).toISOString().slice(0, 10);
/** 0 = Sunday ... 6 = Saturday (1970-01-01 was a Thursday). */
const weekday = (n: number): number => (((n + 4) % 7) + 7) % 7;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const monthLabel = (d: IsoDate): string => `${MONTHS[Number(d.slice(5, 7)) - 1]} ${d.slice(0, 4)}`;

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

/**
 * One faker per customer country, falling back to en. (en_US, en_GB, en_CA and en_IE add no names
 * of their own in faker 9, so those countries read alike; the locales are there for faithfulness.)
 */
const fakerFor = (...locale: LocaleDefinition[]): Faker => new Faker({ locale: [...locale, en, base] });
const FAKER_BY_COUNTRY: Readonly<Record<string, Faker>> = {
  US: fakerFor(en_US),
  CA: fakerFor(en_CA),
  GB: fakerFor(en_GB),
  IE: fakerFor(en_IE),
  DE: fakerFor(de),
  AT: fakerFor(de_AT, de),
  FR: fakerFor(fr),
  NL: fakerFor(nl),
};

/**
 * The country's faker, reseeded: faker instances are stateful, so reseeding on every use makes a
 * record's names depend only on its own seed, never on what was generated before it.
 */
function seededFaker(seed: number, country: string): Faker {
  const faker = FAKER_BY_COUNTRY[country] ?? FAKER_BY_COUNTRY.US;
  faker.seed(seed);
  return faker;
}

function companyName(seed: number, country: string): string {
  return seededFaker(seed, country).company.name();
}

function personName(seed: number, country: string): { first: string; last: string } {
  const faker = seededFaker(seed, country);
  return { first: faker.person.firstName(), last: faker.person.lastName() };
}

/** ASCII, lower-case, dash-separated: "Müller & Söhne GmbH" -> "mueller-soehne-gmbh". */
export function slug(s: string, sep = '-'): string {
  return s
    .toLowerCase()
    .replace(/ä/g, 'ae')
    .replace(/ö/g, 'oe')
    .replace(/ü/g, 'ue')
    .replace(/ß/g, 'ss')
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, sep)
    .replace(new RegExp(`^\\${sep}+|\\${sep}+$`, 'g'), '');
}

/** "José", "O'Brien" -> "jose.o.brien". */
const emailLocal = (first: string, last: string): string => [slug(first, '.'), slug(last, '.')].filter(Boolean).join('.') || 'contact';

// ---------------------------------------------------------------------------------------------
// Entities and users
// ---------------------------------------------------------------------------------------------

export const DEMO_ENTITIES: readonly DemoEntity[] = [
  { code: 'US01', name: 'Recoup Demo Inc.', currency: 'USD', country: 'US', invoicePrefix: 'INV-' },
  { code: 'UK01', name: 'Recoup Demo Ltd', currency: 'GBP', country: 'GB', invoicePrefix: 'UK-' },
  { code: 'DE01', name: 'Recoup Demo GmbH', currency: 'EUR', country: 'DE', invoicePrefix: 'DE-' },
];
const ENTITY = new Map(DEMO_ENTITIES.map((e) => [e.code, e]));

export function generateEntities(): LegalEntityFields[] {
  return DEMO_ENTITIES.map(({ code, name, currency, country }) => ({ code, name, currency, country }));
}

export const USER_EMAIL_DOMAIN = 'demo.recoup.test';
const TEAM: readonly { role: UserRole; country: string }[] = [
  { role: UserRole.COLLECTOR, country: 'US' },
  { role: UserRole.COLLECTOR, country: 'US' },
  { role: UserRole.COLLECTOR, country: 'US' },
  { role: UserRole.COLLECTOR, country: 'GB' },
  { role: UserRole.COLLECTOR, country: 'DE' },
  { role: UserRole.MANAGER, country: 'US' },
  { role: UserRole.MANAGER, country: 'GB' },
  { role: UserRole.DIRECTOR, country: 'US' },
];
/** Which collectors (by position among the collectors) work each entity's customers. */
const PORTFOLIO: Record<EntityCode, readonly number[]> = { US01: [0, 1, 2], UK01: [3], DE01: [4] };

/** The AR team: 5 collectors (3 for US01, one each for UK01 and DE01), 2 managers, a director. */
export function generateUsers(seed: number): DemoUser[] {
  const seen = new Set<string>();
  return TEAM.map((t, i) => {
    const { first, last } = personName(seedFor(seed, STREAM.users, i), t.country);
    const local = emailLocal(first, last);
    let email = `${local}@${USER_EMAIL_DOMAIN}`;
    for (let n = 2; seen.has(email); n++) email = `${local}${n}@${USER_EMAIL_DOMAIN}`;
    seen.add(email);
    return { name: `${first} ${last}`, email, role: t.role };
  });
}

// ---------------------------------------------------------------------------------------------
// Customers
// ---------------------------------------------------------------------------------------------

export const customerExternalId = (n: number): string => `CUST-${String(n).padStart(6, '0')}`;
export const invoiceExternalId = (n: number): string => `INV-${String(n).padStart(7, '0')}`;

const COUNTRIES: Record<EntityCode, readonly (readonly [string, number])[]> = {
  US01: [['US', 92], ['CA', 8]],
  UK01: [['GB', 90], ['IE', 10]],
  DE01: [['DE', 70], ['AT', 12], ['FR', 10], ['NL', 8]],
};
/** Customer mail domains end in the reserved .example TLD (RFC 2606): demo dunning never reaches anyone. */
const MAIL_TLD = 'example';
/** The legal forms faker 9 puts in en, de, fr and nl company names. */
const LEGAL_FORM = /(?<![\p{L}\p{N}])(gmbh & co\. kg|and sons|en zonen|v\.o\.f\.|inc|llc|group|gmbh|ag|kg|ohg|ug|gruppe|ei|eurl|gie|sa|sarl|sas|sasu|sca|scop|scs|sem|snc|bv|nv|bedrijf|combinatie|groep)(?![\p{L}\p{N}])/giu;

function localeFor(r: Rng, country: string): string {
  switch (country) {
    case 'GB':
    case 'IE':
      return 'en-GB';
    case 'DE':
    case 'AT':
      return r.chance(0.75) ? 'de' : 'en';
    case 'FR':
      return 'fr';
    case 'CA':
      return r.chance(0.2) ? 'fr' : 'en';
    case 'NL':
      return 'en';
    default:
      return 'en';
  }
}

const T = (kind: PaymentTermsKind, days: number): PaymentTerms => ({ kind, days });
const NET15 = T(PaymentTermsKind.NET, 15);
const NET30 = T(PaymentTermsKind.NET, 30);
const NET45 = T(PaymentTermsKind.NET, 45);
const NET60 = T(PaymentTermsKind.NET, 60);
const EOM15 = T(PaymentTermsKind.EOM_PLUS, 15);
const EOM30 = T(PaymentTermsKind.EOM_PLUS, 30);
const RECEIPT = T(PaymentTermsKind.DUE_ON_RECEIPT, 0);
const TERMS_BY_SEGMENT: Record<Segment, readonly (readonly [PaymentTerms, number])[]> = {
  smb: [[NET30, 60], [NET15, 13], [RECEIPT, 15], [EOM15, 12]],
  'mid-market': [[NET30, 60], [NET45, 14], [NET15, 6], [EOM30, 10], [EOM15, 5], [RECEIPT, 5]],
  enterprise: [[NET30, 35], [NET45, 22], [NET60, 28], [EOM30, 15]],
};
const ALL_TERMS: readonly (readonly [PaymentTerms, number])[] = [[NET30, 50], [NET15, 10], [NET45, 12], [NET60, 8], [EOM15, 6], [EOM30, 6], [RECEIPT, 8]];
/** Median typical invoice (major units) and spread, by segment. */
const TYPICAL: Record<Segment, { median: number; sigma: number }> = {
  smb: { median: 1_400, sigma: 0.65 },
  'mid-market': { median: 5_500, sigma: 0.6 },
  enterprise: { median: 16_000, sigma: 0.55 },
};

const phoneFor = (r: Rng, country: string): string => {
  const d = (n: number) => Array.from({ length: n }, () => r.int(0, 9)).join('');
  switch (country) {
    case 'US':
    case 'CA':
      // 555-0100..0199: reserved for fiction in the North American Numbering Plan.
      return `+1${r.int(2, 9)}${d(2)}55501${d(2)}`;
    case 'GB':
      // 020 7946 0000..0999: Ofcom's drama range.
      return `+4420794600${d(2)}`;
    case 'IE':
      return `+3531${d(7)}`;
    case 'FR':
      // 01 99 00 xx xx: ARCEP's range for fiction.
      return `+3319900${d(4)}`;
    case 'DE':
      return `+4930${d(8)}`;
    case 'AT':
      return `+431${d(7)}`;
    case 'NL':
      return `+3120${d(7)}`;
    default:
      return `+1${r.int(2, 9)}${d(2)}55501${d(2)}`;
  }
};

function contactsFor(r: Rng, seed: number, k: number, country: string, domain: string, segment: Segment): ContactRow[] {
  const count = r.weighted<number>([[1, 35], [2, 40], [3, 25]]);
  const contacts: ContactRow[] = [];
  const person = (i: number) => personName(seedFor(seed, STREAM.names, k, i + 1), country);
  // 1: the billing contact, always with an email.
  const billing = person(0);
  const hasPhone = r.chance(0.45);
  const channel = r.weighted<Channel>([[Channel.EMAIL, 80], [Channel.PORTAL, 8], [Channel.PHONE, hasPhone ? 7 : 0], [Channel.SMS, hasPhone ? 5 : 0]]);
  contacts.push({
    name: `${billing.first} ${billing.last}`,
    email: `${emailLocal(billing.first, billing.last)}@${domain}`,
    phone: hasPhone ? phoneFor(r, country) : null,
    role: ContactRole.BILLING,
    isPrimary: true,
    channelPreference: channel,
  });
  // 2: the accounts-payable mailbox.
  if (count >= 2) {
    contacts.push({
      name: country === 'DE' || country === 'AT' ? 'Kreditorenbuchhaltung' : country === 'FR' ? 'Service Comptabilité Fournisseurs' : 'Accounts Payable',
      email: `${r.pick(['ap', 'accounts.payable', 'invoices', 'payables'])}@${domain}`,
      phone: r.chance(0.3) ? phoneFor(r, country) : null,
      role: ContactRole.AP,
      isPrimary: false,
      channelPreference: Channel.EMAIL,
    });
  }
  // 3: someone to escalate to.
  if (count >= 3) {
    const exec = person(2);
    const hasExecPhone = r.chance(0.6);
    contacts.push({
      name: `${exec.first} ${exec.last}`,
      email: r.chance(0.85) ? `${emailLocal(exec.first, exec.last)}@${domain}` : null,
      phone: hasExecPhone ? phoneFor(r, country) : null,
      role: segment === 'smb' ? ContactRole.PRIMARY : ContactRole.EXECUTIVE,
      isPrimary: false,
      channelPreference: hasExecPhone && r.chance(0.3) ? Channel.PHONE : Channel.EMAIL,
    });
  }
  // Names can collide (two Smiths); keep emails distinct within the customer.
  const seen = new Set<string>();
  for (const c of contacts) {
    if (!c.email) continue;
    let e = c.email;
    for (let n = 2; seen.has(e); n++) e = c.email.replace('@', `${n}@`);
    c.email = e;
    seen.add(e);
  }
  return contacts;
}

function checkOptions(opts: BookOptions): void {
  for (const k of ['seed', 'customers', 'invoices'] as const) {
    if (!Number.isSafeInteger(opts[k]) || opts[k] < 0) throw new Error(`${k} must be a whole number >= 0, got ${opts[k]}`);
  }
  if (!isIsoDate(opts.asOf)) throw new Error(`asOf must be YYYY-MM-DD, got ${opts.asOf}`);
}

/** Customer n (1-based) of the book. */
export function generateCustomer(opts: BookOptions, refs: BookRefs, n: number): GeneratedCustomer {
  const r = new Rng(seedFor(opts.seed, STREAM.customers, n));
  const entityCode = r.weighted<EntityCode>([['US01', 60], ['UK01', 25], ['DE01', 15]]);
  const entity = ENTITY.get(entityCode)!;
  const entityId = refs.entityIdByCode.get(entityCode);
  if (!entityId) throw new Error(`no id for entity ${entityCode}`);
  const segment = r.weighted<Segment>([['enterprise', 10], ['mid-market', 30], ['smb', 60]]);
  const tier = segment === 'enterprise' ? (r.chance(0.8) ? 'strategic' : 'standard') : segment === 'mid-market' && r.chance(0.1) ? 'strategic' : 'standard';
  const country = r.weighted(COUNTRIES[entityCode]);
  const currency = entityCode !== 'US01' && r.chance(0.12) ? 'USD' : entity.currency;
  const locale = localeFor(r, country);
  const behaviour = r.weighted<PaymentBehaviour>([['punctual', 70], ['late', 20], ['chronic', 10]]);
  const lateDays = behaviour === 'late' ? r.int(10, 40) : behaviour === 'chronic' ? r.int(45, 150) : 0;
  const billingModel =
    segment === 'enterprise'
      ? r.weighted<BillingModel>([[BillingModel.SUBSCRIPTION, 70], [BillingModel.USAGE, 20], [BillingModel.SERVICES, 10]])
      : r.weighted<BillingModel>([[BillingModel.SUBSCRIPTION, 60], [BillingModel.USAGE, 20], [BillingModel.SERVICES, 20]]);
  const terms = r.weighted(TERMS_BY_SEGMENT[segment]);
  const typicalMajor = Math.min(60_000, Math.max(150, r.logNormal(TYPICAL[segment].median, TYPICAL[segment].sigma)));
  const weight = (segment === 'enterprise' ? 5 : segment === 'mid-market' ? 2.5 : 1) * r.logNormal(1, 0.45);
  const usesPo = r.chance(segment === 'enterprise' ? 0.85 : segment === 'mid-market' ? 0.4 : 0.05);

  const creditLimitMajor = r.chance(segment === 'smb' ? 0.15 : 0.03)
    ? null
    : segment === 'enterprise'
      ? r.int(5, 40) * 50_000
      : segment === 'mid-market'
        ? r.int(5, 30) * 5_000
        : r.int(5, 25) * 1_000;
  const renewalDate = billingModel === BillingModel.SUBSCRIPTION ? fromDay(toDay(opts.asOf) + r.int(1, 548)) : null;
  const pool = PORTFOLIO[entityCode].filter((i) => i < refs.collectorIds.length);
  const ownerUserId = refs.collectorIds.length === 0 || r.chance(0.06) ? null : refs.collectorIds[pool.length ? r.pick(pool) : r.int(0, refs.collectorIds.length - 1)];

  const name = companyName(seedFor(opts.seed, STREAM.names, n, 0), country).slice(0, 300).trim() || `Customer ${n}`;
  // The mail domain drops faker's legal forms: "Nau GmbH & Co. KG" -> nau.example.
  const label = slug(name.replace(LEGAL_FORM, ' '));
  const domain = `${label.slice(0, 40).replace(/-+$/, '') || `customer-${n}`}.${MAIL_TLD}`;
  const contacts = contactsFor(r, opts.seed, n, country, domain, segment);
  const onPortal = contacts.some((c) => c.channelPreference === Channel.PORTAL);

  return {
    profile: { entityCode, segment, behaviour, lateDays, billingModel, terms, typicalMinor: Math.round(typicalMajor * 100), weight, usesPo },
    row: {
      externalId: customerExternalId(n),
      name,
      entityId,
      currency,
      segment,
      tier,
      country,
      locale,
      ownerUserId,
      creditLimitMinor: creditLimitMajor === null ? null : BigInt(creditLimitMajor) * 100n,
      // Some chronic payers are on credit hold; null keeps a hold someone set by hand.
      creditHold: behaviour === 'chronic' && r.chance(0.25) ? true : null,
      portalStatus: onPortal ? PortalStatus.ACTIVE : null,
      renewalDate,
      contacts,
    },
  };
}

/** The book's customers in batches (numbered CUST-000001 ...). */
export function* customerBatches(opts: BookOptions, refs: BookRefs, batchSize = 1000): Generator<GeneratedCustomer[]> {
  checkOptions(opts);
  let batch: GeneratedCustomer[] = [];
  for (let n = 1; n <= opts.customers; n++) {
    batch.push(generateCustomer(opts, refs, n));
    if (batch.length >= batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

// ---------------------------------------------------------------------------------------------
// Invoices
// ---------------------------------------------------------------------------------------------

/** Issue dates run over this many days up to asOf (about 15 months). */
export const HISTORY_DAYS = 456;

const PLAN: Record<Segment, string> = { smb: 'Growth', 'mid-market': 'Professional', enterprise: 'Enterprise' };
const ADDONS: Record<BillingModel, readonly { text: string; qty: [number, number] }[]> = {
  [BillingModel.SUBSCRIPTION]: [
    { text: 'Additional seats', qty: [1, 40] },
    { text: 'Premium support', qty: [1, 1] },
    { text: 'API overage (per 1,000 calls)', qty: [10, 900] },
    { text: 'Sandbox environment', qty: [1, 3] },
  ],
  [BillingModel.USAGE]: [
    { text: 'API calls (per 1,000)', qty: [50, 5000] },
    { text: 'Data storage (GB-month)', qty: [10, 4000] },
    { text: 'Compute hours', qty: [5, 1500] },
    { text: 'Outbound messages (per 100)', qty: [10, 2000] },
  ],
  [BillingModel.SERVICES]: [
    { text: 'Consulting (hours)', qty: [2, 120] },
    { text: 'Training workshop (per attendee)', qty: [3, 30] },
    { text: 'Travel & expenses', qty: [1, 1] },
    { text: 'Project management (days)', qty: [1, 20] },
  ],
};

/** Payment delay after the due date for one invoice, or null when it is stuck (disputed, lost). */
function paymentDelay(r: Rng, p: CustomerProfile): number | null {
  const stuck = p.behaviour === 'punctual' ? 0.012 : p.behaviour === 'late' ? 0.04 : 0.12;
  if (r.chance(stuck)) return null;
  switch (p.behaviour) {
    case 'punctual':
      return Math.min(12, Math.round(r.gauss() * 5 - 3));
    case 'late':
      return Math.max(1, Math.min(80, Math.round(r.logNormal(p.lateDays, 0.3))));
    case 'chronic':
      return Math.max(30, Math.min(240, Math.round(r.logNormal(p.lateDays, 0.3))));
  }
}

function invoiceLines(r: Rng, model: BillingModel, segment: Segment, issueDate: IsoDate, totalMinor: number, annual: boolean): InvoiceLineRow[] {
  const count = r.weighted<number>([[1, 35], [2, 30], [3, 20], [4, 15]]);
  const addons = [...ADDONS[model]];
  const extra: InvoiceLineRow[] = [];
  let used = 0;
  for (let i = 1; i < count; i++) {
    const a = addons.splice(Math.floor(r.next() * addons.length), 1)[0];
    const share = totalMinor * r.between(0.04, 0.22);
    const qty = Math.max(1, Math.min(r.int(a.qty[0], a.qty[1]), Math.floor(share)));
    const unit = Math.max(1, Math.floor(share / qty));
    const amount = qty * unit;
    if (used + amount >= totalMinor) break;
    used += amount;
    extra.push({ lineNo: 0, externalId: null, description: a.text, quantity: String(qty), unitPriceMinor: BigInt(unit), amountMinor: BigInt(amount) });
  }
  const period = monthLabel(issueDate);
  const main =
    model === BillingModel.SUBSCRIPTION
      ? annual
        ? `${PLAN[segment]} plan, annual subscription from ${period}`
        : `${PLAN[segment]} plan subscription, ${period}`
      : model === BillingModel.USAGE
        ? `Platform usage, ${period}`
        : `Implementation services, ${period}`;
  // The main line takes the remainder, so the lines add up to the total to the minor unit.
  const rest = totalMinor - used;
  const lines: InvoiceLineRow[] = [{ lineNo: 1, externalId: null, description: main, quantity: '1', unitPriceMinor: BigInt(rest), amountMinor: BigInt(rest) }, ...extra];
  lines.forEach((l, i) => (l.lineNo = i + 1));
  return lines;
}

/**
 * Invoice n (1-based) of the book. `pickCustomer` maps a uniform [0, 1) draw to a customer.
 * Issue dates grow with n (numbers are chronological), denser towards asOf (a growing business).
 */
export function generateInvoice(opts: BookOptions, n: number, asOfDay: number, pickCustomer: (u: number) => BookCustomer): InvoiceRow {
  const r = new Rng(seedFor(opts.seed, STREAM.invoices, n));
  const c = pickCustomer(r.next());
  const p = c.profile;

  // Invoice density rises linearly from 0.6x to 1.4x over the history: F(x) = 0.6x + 0.4x^2.
  const t = (n - 0.5) / opts.invoices;
  const x = (-0.6 + Math.sqrt(0.36 + 1.6 * t)) / 0.8;
  let issueDay = asOfDay - Math.round(HISTORY_DAYS * (1 - x));
  const wd = weekday(issueDay);
  if (wd === 6) issueDay -= 1;
  else if (wd === 0) issueDay -= 2;
  const issueDate = fromDay(issueDay);

  const model = r.chance(0.82) ? p.billingModel : r.pick([BillingModel.SUBSCRIPTION, BillingModel.USAGE, BillingModel.SERVICES]);
  const terms = r.chance(0.9) ? p.terms : r.weighted(ALL_TERMS);
  const dueDate = dueDateFromTerms(issueDate, terms)!;
  const dueDay = toDay(dueDate);

  // Totals: subscriptions steady, usage varies, services lumpy; a few enterprise big tickets.
  let annual = false;
  let major: number;
  if (model === BillingModel.SUBSCRIPTION) {
    annual = p.segment !== 'smb' && r.chance(0.04);
    major = Math.round((p.typicalMinor / 100) * (annual ? 10 : r.logNormal(1, 0.08)));
  } else if (model === BillingModel.USAGE) {
    major = (p.typicalMinor / 100) * r.logNormal(1, 0.45);
  } else {
    major = Math.round((p.typicalMinor / 100) * r.logNormal(1, 0.7));
  }
  if (p.segment === 'enterprise' && r.chance(0.05)) major = r.between(50_000, 250_000);
  major = Math.min(250_000, Math.max(50, major));
  const totalMinor = model === BillingModel.USAGE ? Math.round(major * 100) : Math.round(major) * 100;

  // Paid, or still open as of asOf (some partly paid).
  const delay = paymentDelay(r, p);
  const paidDay = delay === null ? null : Math.max(issueDay, dueDay + delay);
  let openMinor = 0;
  if (paidDay === null || paidDay > asOfDay) {
    openMinor = totalMinor;
    const overdue = dueDay < asOfDay;
    const partly = overdue ? (p.behaviour === 'chronic' ? 0.3 : 0.15) : 0.04;
    if (totalMinor >= 200 && r.chance(partly)) {
      const paid = Math.round((totalMinor * r.between(0.15, 0.85)) / 100) * 100;
      openMinor = Math.min(totalMinor - 1, Math.max(1, totalMinor - paid));
    }
  }
  // Usage still being reconciled: recent, open usage invoices.
  const reconciliationHold = model === BillingModel.USAGE && openMinor > 0 && asOfDay - issueDay <= 120 && r.chance(0.22);
  const poNumber = p.usesPo && r.chance(0.9) ? `PO-${4_500_000_000 + r.int(0, 99_999_999)}` : null;
  const externalId = invoiceExternalId(n);

  return {
    externalId,
    customerId: c.id,
    entityId: c.entityId,
    number: `${ENTITY.get(p.entityCode)!.invoicePrefix}${externalId.slice(4)}`,
    issueDate,
    termsKind: terms.kind,
    termsDays: terms.days,
    dueDate,
    billingModel: model,
    reconciliationHold,
    currency: c.currency,
    totalMinor: BigInt(totalMinor),
    openBalanceMinor: BigInt(openMinor),
    poNumber,
    lines: invoiceLines(r, model, p.segment, issueDate, totalMinor, annual),
  };
}

/** Picks customers in proportion to their weight (binary search over cumulative weights). */
export function customerPicker(customers: readonly BookCustomer[]): (u: number) => BookCustomer {
  if (customers.length === 0) throw new Error('invoices need at least one customer');
  const cumulative = new Float64Array(customers.length);
  let total = 0;
  customers.forEach((c, i) => (cumulative[i] = total += c.profile.weight));
  return (u) => {
    const target = u * total;
    let lo = 0;
    let hi = customers.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid] <= target) lo = mid + 1;
      else hi = mid;
    }
    return customers[lo];
  };
}

/** The book's invoices in batches (INV-0000001 ...); only one batch exists at a time. */
export function* invoiceBatches(opts: BookOptions, customers: readonly BookCustomer[], batchSize = 1000): Generator<InvoiceRow[]> {
  checkOptions(opts);
  if (opts.invoices === 0) return;
  const pick = customerPicker(customers);
  const asOfDay = toDay(opts.asOf);
  let batch: InvoiceRow[] = [];
  for (let n = 1; n <= opts.invoices; n++) {
    batch.push(generateInvoice(opts, n, asOfDay, pick));
    if (batch.length >= batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

/** The light record invoices need, once the customer's database id is known. */
export function bookCustomer(c: GeneratedCustomer, id: string): BookCustomer {
  return { externalId: c.row.externalId, id, entityId: c.row.entityId, currency: c.row.currency, profile: c.profile };
}
