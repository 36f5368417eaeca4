import 'reflect-metadata';
import { validateCustomer } from '../../customers/customer.validation';
import { AgingBucket, agingBucket, daysPastDue } from '../../invoices/aging-bucket';
import { BillingModel } from '../../invoices/invoice.entity';
import { validateInvoice, type InvoiceRow } from '../../invoices/invoice.validation';
import { UserRole } from '../../tenants/user.entity';
import { formatMinor } from '../../../platform/money/money';
import { addDays } from '../../../platform/time/dates';
import { de, de_AT, en, fr, nl } from '@faker-js/faker';
import {
  bookCustomer,
  customerBatches,
  DEMO_ENTITIES,
  generateCustomer,
  generateEntities,
  generateUsers,
  invoiceBatches,
  type BookCustomer,
  type BookOptions,
  type BookRefs,
  type GeneratedCustomer,
} from '../demo-book';

const refs: BookRefs = {
  entityIdByCode: new Map([
    ['US01', '00000000-0000-4000-8000-000000000001'],
    ['UK01', '00000000-0000-4000-8000-000000000002'],
    ['DE01', '00000000-0000-4000-8000-000000000003'],
  ]),
  collectorIds: ['c-0', 'c-1', 'c-2', 'c-3', 'c-4'],
};
const codeOf = new Map([...refs.entityIdByCode].map(([code, id]) => [id, code]));
const ASOF = '2025-06-30';
const opts = (over: Partial<BookOptions> = {}): BookOptions => ({ seed: 42, customers: 500, invoices: 5000, asOf: ASOF, ...over });

function customersOf(o: BookOptions, batchSize = 1000): GeneratedCustomer[] {
  return [...customerBatches(o, refs, batchSize)].flat();
}
function bookOf(customers: GeneratedCustomer[]): BookCustomer[] {
  return customers.map((c) => bookCustomer(c, `id-${c.row.externalId}`));
}
function invoicesOf(o: BookOptions, book: BookCustomer[], batchSize = 1000): InvoiceRow[] {
  return [...invoiceBatches(o, book, batchSize)].flat();
}
const json = (v: unknown): string => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x));

// Faker 9's own name lists, to tell its names from anything else.
const LOCALES = [en, de, de_AT, fr, nl];
const FIRST_NAMES = new Set(LOCALES.flatMap((l) => Object.values(l.person?.first_name ?? {}).flat()));
const LAST_NAMES = new Set(LOCALES.flatMap((l) => Object.values(l.person?.last_name ?? {}).flat()));
/** "First Last", or "First Last-Last", with names from faker's lists. */
function isFakerPerson(name: string): boolean {
  return name
    .split(' ')
    .map((_, i, words) => [words.slice(0, i).join(' '), words.slice(i).join(' ')])
    .some(([first, last]) => FIRST_NAMES.has(first) && (LAST_NAMES.has(last) || last.split('-').every((l) => LAST_NAMES.has(l))));
}

describe('demo book', () => {
  const customers = customersOf(opts());
  const book = bookOf(customers);
  const invoices = invoicesOf(opts(), book);
  const byId = new Map(book.map((c) => [c.id, c]));

  it('gives byte-identical rows for the same seed, whatever the batch size', () => {
    const again = customersOf(opts(), 7);
    expect(json(again)).toBe(json(customers));
    expect(json(invoicesOf(opts(), bookOf(again), 333))).toBe(json(invoices));
    expect(json(generateUsers(42))).toBe(json(generateUsers(42)));
  });

  it('gives a different book for a different seed', () => {
    const other = customersOf(opts({ seed: 43 }));
    expect(json(other)).not.toBe(json(customers));
    expect(json(invoicesOf(opts({ seed: 43 }), bookOf(other)))).not.toBe(json(invoices));
    expect(generateUsers(43).map((u) => u.email)).not.toEqual(generateUsers(42).map((u) => u.email));
  });

  it('has three entities and an AR team of 5 collectors, 2 managers and a director', () => {
    expect(generateEntities()).toEqual([
      { code: 'US01', name: expect.any(String), currency: 'USD', country: 'US' },
      { code: 'UK01', name: expect.any(String), currency: 'GBP', country: 'GB' },
      { code: 'DE01', name: expect.any(String), currency: 'EUR', country: 'DE' },
    ]);
    const users = generateUsers(42);
    expect(users.filter((u) => u.role === UserRole.COLLECTOR)).toHaveLength(5);
    expect(users.filter((u) => u.role === UserRole.MANAGER)).toHaveLength(2);
    expect(users.filter((u) => u.role === UserRole.DIRECTOR)).toHaveLength(1);
    expect(new Set(users.map((u) => u.email)).size).toBe(users.length);
    users.forEach((u) => expect(u.email).toMatch(/^[a-z0-9.]+@demo\.recoup\.test$/));
  });

  it('makes customers the API would accept, spread over entities, segments and payment behaviour', () => {
    const lookups = { entityIdByCode: new Map(refs.entityIdByCode), ownerIds: new Set(refs.collectorIds) };
    for (const { row } of customers) {
      const { row: checked, problems } = validateCustomer(
        {
          ...row,
          entityCode: codeOf.get(row.entityId)!,
          ownerId: row.ownerUserId,
          creditLimit: row.creditLimitMinor === null ? null : formatMinor(row.creditLimitMinor, row.currency),
          creditHold: row.creditHold ?? undefined,
          portalStatus: row.portalStatus ?? undefined,
          contacts: row.contacts,
        },
        lookups,
      );
      expect(problems.list).toEqual([]);
      expect(checked).toEqual(row);
      expect(row.contacts!.length).toBeGreaterThanOrEqual(1);
      expect(row.contacts!.length).toBeLessThanOrEqual(3);
      expect(row.contacts![0]).toMatchObject({ role: 'BILLING', isPrimary: true, email: expect.stringContaining('@') });
      if (row.renewalDate) {
        expect(row.renewalDate > ASOF).toBe(true);
        expect(row.renewalDate <= addDays(ASOF, 550)).toBe(true);
      }
    }
    expect(customers[0].row.externalId).toBe('CUST-000001');
    expect(customers[499].row.externalId).toBe('CUST-000500');
    const share = (pred: (c: GeneratedCustomer) => boolean) => customers.filter(pred).length / customers.length;
    expect(share((c) => c.profile.entityCode === 'US01')).toBeGreaterThan(0.5);
    expect(share((c) => c.profile.entityCode === 'UK01')).toBeGreaterThan(0.15);
    expect(share((c) => c.profile.entityCode === 'DE01')).toBeGreaterThan(0.08);
    expect(share((c) => c.row.segment === 'enterprise')).toBeGreaterThan(0.05);
    expect(share((c) => c.row.segment === 'smb')).toBeGreaterThan(0.5);
    expect(share((c) => c.profile.behaviour === 'punctual')).toBeGreaterThan(0.6);
    expect(customers.some((c) => c.profile.behaviour === 'chronic')).toBe(true);
    expect(customers.some((c) => c.profile.behaviour === 'late')).toBe(true);
    expect(customers.some((c) => c.row.ownerUserId === null)).toBe(true);
    expect(customers.some((c) => c.profile.entityCode !== 'US01' && c.row.currency === 'USD')).toBe(true);
    expect(customers.some((c) => c.row.contacts!.some((k) => k.phone))).toBe(true);
    // Currency and country agree with the entity, except USD customers of UK01 and DE01.
    for (const c of customers) {
      const entity = DEMO_ENTITIES.find((e) => e.code === c.profile.entityCode)!;
      expect([entity.currency, 'USD']).toContain(c.row.currency);
      if (entity.code === 'US01') expect(c.row.currency).toBe('USD');
    }
  });

  it('makes invoices the API would accept: lines add up, open <= total, due >= issue', () => {
    const lookups = {
      customerByExternalId: new Map(book.map((c) => [c.externalId, { id: c.id, entityId: c.entityId }])),
      entityIdByCode: new Map(refs.entityIdByCode),
    };
    invoices.forEach((inv, i) => {
      const customer = byId.get(inv.customerId)!;
      const sum = inv.lines!.reduce((s, l) => s + l.amountMinor, 0n);
      expect(sum).toBe(inv.totalMinor);
      expect(inv.lines!.length).toBeGreaterThanOrEqual(1);
      expect(inv.lines!.length).toBeLessThanOrEqual(4);
      inv.lines!.forEach((l) => expect(l.amountMinor > 0n).toBe(true));
      expect(inv.openBalanceMinor! >= 0n && inv.openBalanceMinor! <= inv.totalMinor).toBe(true);
      expect(inv.dueDate >= inv.issueDate).toBe(true);
      expect(inv.issueDate <= ASOF && inv.issueDate >= addDays(ASOF, -470)).toBe(true);
      expect(inv.currency).toBe(customer.currency);
      expect(inv.entityId).toBe(customer.entityId);
      expect(inv.externalId).toBe(`INV-${String(i + 1).padStart(7, '0')}`);
      expect(inv.number).toMatch(/^(INV|UK|DE)-\d{7}$/);
      if (inv.reconciliationHold) expect(inv.billingModel).toBe(BillingModel.USAGE);

      const { row, problems } = validateInvoice(
        {
          externalId: inv.externalId,
          customerExternalId: customer.externalId,
          number: inv.number,
          issueDate: inv.issueDate,
          currency: inv.currency,
          total: formatMinor(inv.totalMinor, inv.currency),
          terms: { kind: inv.termsKind, days: inv.termsDays },
          openBalance: formatMinor(inv.openBalanceMinor!, inv.currency),
          billingModel: inv.billingModel,
          reconciliationHold: inv.reconciliationHold,
          poNumber: inv.poNumber,
          lines: inv.lines!.map((l) => ({
            description: l.description,
            amount: formatMinor(l.amountMinor, inv.currency),
            quantity: l.quantity,
            unitPrice: formatMinor(l.unitPriceMinor, inv.currency),
            externalId: l.externalId,
          })),
        },
        lookups,
      );
      expect(problems.list).toEqual([]);
      expect(row).toEqual(inv);
    });
    // Numbers follow issue dates.
    for (let i = 1; i < invoices.length; i++) expect(invoices[i].issueDate >= invoices[i - 1].issueDate).toBe(true);
  });

  it('spreads open invoices over every aging bucket, with some partly paid and most older ones paid', () => {
    const open = invoices.filter((i) => i.openBalanceMinor! > 0n);
    const buckets = new Map<AgingBucket, number>();
    for (const i of open) {
      const b = agingBucket(daysPastDue(i.dueDate, ASOF));
      buckets.set(b, (buckets.get(b) ?? 0) + 1);
    }
    for (const b of Object.values(AgingBucket)) expect(buckets.get(b) ?? 0).toBeGreaterThan(0);
    expect(open.some((i) => i.openBalanceMinor! < i.totalMinor)).toBe(true);
    expect(invoices.some((i) => i.reconciliationHold)).toBe(true);
    const old = invoices.filter((i) => i.issueDate < addDays(ASOF, -180));
    expect(old.filter((i) => i.openBalanceMinor === 0n).length / old.length).toBeGreaterThan(0.85);
    // Chronic payers carry far more overdue balance per invoice than punctual ones.
    const overdueShare = (behaviour: string) => {
      const mine = invoices.filter((i) => byId.get(i.customerId)!.profile.behaviour === behaviour);
      return mine.filter((i) => i.openBalanceMinor! > 0n && i.dueDate < ASOF).length / mine.length;
    };
    expect(overdueShare('chronic')).toBeGreaterThan(overdueShare('punctual') * 3);
  });

  it('mixes terms, billing models and amounts', () => {
    const kinds = new Set(invoices.map((i) => `${i.termsKind}${i.termsDays}`));
    for (const k of ['NET30', 'NET15', 'NET45', 'NET60', 'EOM_PLUS15', 'EOM_PLUS30', 'DUE_ON_RECEIPT0']) expect(kinds).toContain(k);
    expect(invoices.filter((i) => i.termsKind === 'NET' && i.termsDays === 30).length / invoices.length).toBeGreaterThan(0.4);
    expect(new Set(invoices.map((i) => i.billingModel))).toEqual(new Set(Object.values(BillingModel)));
    const major = invoices.map((i) => Number(i.totalMinor) / 100);
    expect(major.filter((m) => m >= 500 && m <= 20_000).length / major.length).toBeGreaterThan(0.7);
    expect(major.some((m) => m >= 50_000)).toBe(true);
    expect(Math.max(...major)).toBeLessThanOrEqual(250_000);
  });

  it('takes people and company names from faker, by country', () => {
    const people = [...generateUsers(42), ...customers.flatMap((c) => c.row.contacts!.filter((k) => k.role !== 'AP'))].map((p) => p.name);
    expect(people.length).toBeGreaterThan(500);
    expect(people.filter((n) => !isFakerPerson(n))).toEqual([]);
    // Every faker company name pattern starts with a last name ("Nau GmbH", "Martin et Legrand", ...).
    const companies = customers.map((c) => c.row.name);
    expect(companies.filter((n) => ![...LAST_NAMES].some((l) => n.startsWith(l)))).toEqual([]);
    expect(new Set(companies).size).toBeGreaterThan(companies.length * 0.9);
    const named = (country: string, re: RegExp) => customers.some((c) => c.row.country === country && re.test(c.row.name));
    expect(named('DE', /\b(GmbH|AG|KG|OHG|UG|Gruppe|und)\b|-/)).toBe(true);
    expect(named('US', /\b(Inc|LLC|Group|and)\b| - /)).toBe(true);
    expect(named('FR', /\b(et|SARL|SAS|SA|EURL|SNC|SCS|SCA|SEM|GIE|EI|SASU|SCOP)\b/)).toBe(true);
  });

  it('keeps names independent of generation order, and customer mail on .example domains', () => {
    // Faker instances are shared and stateful; each name reseeds, so order and batching do not matter.
    expect(json(generateCustomer(opts(), refs, 250))).toBe(json(customers[249]));
    expect(json(generateCustomer(opts(), refs, 1))).toBe(json(customers[0]));
    const users = generateUsers(42);
    customersOf(opts({ seed: 7, customers: 20 }));
    expect(json(generateUsers(42))).toBe(json(users));
    expect(json(customersOf(opts({ customers: 20 }), 3))).toBe(json(customers.slice(0, 20)));
    for (const { row } of customers) {
      for (const k of row.contacts!) if (k.email) expect(k.email).toMatch(/^[a-z0-9.]+@[a-z0-9-]+\.example$/);
      expect(new Set(row.contacts!.flatMap((k) => (k.email ? [k.email] : []))).size).toBe(row.contacts!.filter((k) => k.email).length);
    }
  });

  it('streams 200k invoices in bounded batches', () => {
    const big = bookOf(customersOf(opts({ customers: 20_000, invoices: 0 })));
    let count = 0;
    let open = 0;
    let batches = 0;
    let last = '';
    for (const batch of invoiceBatches(opts({ customers: 20_000, invoices: 200_000 }), big, 1000)) {
      expect(batch.length).toBeLessThanOrEqual(1000);
      batches++;
      count += batch.length;
      open += batch.filter((i) => i.openBalanceMinor! > 0n).length;
      last = batch[batch.length - 1].externalId;
    }
    expect(count).toBe(200_000);
    expect(batches).toBe(200);
    expect(last).toBe('INV-0200000');
    expect(open).toBeGreaterThan(0);
  });

  it('refuses invoices without customers and bad options', () => {
    expect(() => invoiceBatches(opts(), [], 1000).next()).toThrow(/at least one customer/);
    expect(() => customerBatches(opts({ asOf: '2025-13-01' }), refs).next()).toThrow(/asOf/);
    expect(() => customerBatches(opts({ customers: -1 }), refs).next()).toThrow(/customers/);
  });
});
