import { UpsertCustomersDocument, UpsertEntitiesDocument, UpsertInvoicesDocument, type UpsertInvoiceInput } from '../generated/graphql';
import * as fx from '../support/fixtures';
import { dataOf, startTestApp, type TestApp } from '../support/test-app';

/** Bad input always gets a typed error naming the field, and changes nothing. */
describe('bad input', () => {
  let t: TestApp;
  const counts = async () => (await t.app.dataSource.query(`SELECT (SELECT count(*) FROM invoices)::int AS invoices, (SELECT count(*) FROM invoice_lines)::int AS lines, (SELECT count(*) FROM customers)::int AS customers`))[0];
  const base: UpsertInvoiceInput = { externalId: 'X-1', customerExternalId: 'C-1', number: 'INV-X1', issueDate: '2026-03-01', currency: 'USD', total: '100.00', terms: { kind: 'NET', days: 30 } };

  beforeAll(async () => {
    t = await startTestApp();
    dataOf(await t.gql(UpsertEntitiesDocument, { input: fx.entities }));
    dataOf(await t.gql(UpsertCustomersDocument, { input: fx.customers }));
  });
  afterAll(async () => {
    await t?.stop();
  });

  const expectNoStack = (body: unknown) => expect(JSON.stringify(body)).not.toMatch(/stacktrace|\bat .*\.ts:\d+/);

  it('malformed GraphQL: GRAPHQL_PARSE_FAILED, no stack', async () => {
    const r = await t.gql('{ invoices(first: 1) { nodes { id }', {});
    expect(r.errors?.[0].extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    expectNoStack(r);
  });

  it('unknown field and unknown enum value: GRAPHQL_VALIDATION_FAILED', async () => {
    const r1 = await t.gql('{ invoices(first: 1) { nodes { nope } } }', {});
    expect(r1.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const r2 = await t.gql('{ invoices(first: 1, orderBy: SIDEWAYS) { totalCount } }', {});
    expect(r2.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(r2.errors?.[0].message).toMatch(/SIDEWAYS/);
  });

  it('wrong variable types and unknown enum values in variables: BAD_USER_INPUT naming the path', async () => {
    const r = await t.gql(UpsertInvoicesDocument, { input: [{ ...base, terms: { kind: 'NET60' as never, days: 30 } }] });
    expect(r.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.errors?.[0].message).toMatch(/terms\.kind|NET60/);
    const r2 = await t.gql(UpsertInvoicesDocument, { input: [{ ...base, issueDate: '2026-02-30' }] });
    expect(r2.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(r2.errors?.[0].message).toMatch(/Date/);
    const r3 = await t.gql('query($n: Int) { invoices(first: $n) { totalCount } }', { n: 'ten' });
    expect(r3.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(await counts()).toEqual({ invoices: 0, lines: 0, customers: 3 });
  });

  it('page size out of range: BAD_USER_INPUT naming first', async () => {
    const r = await t.gql('{ invoices(first: 100000) { totalCount } }', {});
    expect(r.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
  });

  it('a bulk call over 1,000 items is refused whole', async () => {
    const input = Array.from({ length: 1001 }, (_, i) => ({ ...base, externalId: `B-${i}`, number: `B-${i}` }));
    const r = await t.gql(UpsertInvoicesDocument, { input });
    expect(r.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input', reason: 'TOO_MANY_ITEMS' });
    expect(await counts()).toMatchObject({ invoices: 0 });
  });

  it('per-item business errors name the field and leave that item unwritten; good items in the same call are written', async () => {
    const items: UpsertInvoiceInput[] = [
      { ...base, externalId: 'E-currency', currency: 'XYZ' },
      { ...base, externalId: 'E-negative', total: '-5.00' },
      { ...base, externalId: 'E-due', dueDate: '2026-02-01' },
      { ...base, externalId: 'E-lines', total: '100.00', lines: [{ description: 'a', amount: '60.00' }, { description: 'b', amount: '30.00' }] },
      { ...base, externalId: 'E-precision', total: '10.001' },
      { ...base, externalId: 'E-customer', customerExternalId: 'NOPE' },
      { ...base, externalId: 'E-nodue', terms: null },
      { ...base, externalId: 'E-open', openBalance: '200.00' },
      { ...base, externalId: 'OK-1', lines: [{ description: 'a', amount: '60.00' }, { description: 'b', amount: '40.00' }] },
      { ...base, externalId: 'OK-1', number: 'dup' },
    ];
    const p = dataOf(await t.gql(UpsertInvoicesDocument, { input: items })).upsertInvoices;
    const err = (ext: string) => p.results.find((r) => r.externalId === ext && r.errors.length)?.errors.map((e) => [e.field, e.code]);
    expect(err('E-currency')).toEqual([['currency', 'UNKNOWN_CURRENCY']]);
    expect(err('E-negative')).toEqual([['total', 'NEGATIVE_AMOUNT']]);
    expect(err('E-due')).toEqual([['dueDate', 'DUE_BEFORE_ISSUE']]);
    expect(err('E-lines')).toEqual([['lines', 'LINES_DO_NOT_ADD_UP']]);
    expect(err('E-precision')).toEqual([['total', 'INVALID_AMOUNT']]);
    expect(err('E-customer')).toEqual([['customerExternalId', 'UNKNOWN_CUSTOMER']]);
    expect(err('E-nodue')).toEqual([['dueDate', 'NO_DUE_DATE']]);
    expect(err('E-open')).toEqual([['openBalance', 'OPEN_ABOVE_TOTAL']]);
    expect(err('OK-1')).toEqual([['externalId', 'DUPLICATE_IN_BATCH']]);
    expect(p.results.every((r) => r.errors.every((e) => e.message.length > 5))).toBe(true);
    expect(p).toMatchObject({ succeeded: 1, failed: 9 });
    expect(p.results[8]).toMatchObject({ externalId: 'OK-1', created: true, invoice: { number: 'INV-X1' } });
    expect(await counts()).toEqual({ invoices: 1, lines: 2, customers: 3 });
  });

  it('an update that the stored state refuses changes nothing', async () => {
    // OK-1 is partly paid per the ERP, then an update tries to cut the total below what was paid.
    dataOf(await t.gql(UpsertInvoicesDocument, { input: [{ ...base, externalId: 'OK-1', openBalance: '30.00' }] }));
    const r = dataOf(await t.gql(UpsertInvoicesDocument, { input: [{ ...base, externalId: 'OK-1', total: '50.00' }] })).upsertInvoices;
    expect(r.results[0].errors).toEqual([expect.objectContaining({ field: 'total', code: 'TOTAL_BELOW_PAID' })]);
    const [row] = await t.app.dataSource.query(`SELECT total_minor, open_balance_minor FROM invoices WHERE external_id = 'OK-1'`);
    expect(row).toEqual({ total_minor: '10000', open_balance_minor: '3000' });
    // Lines were not given in the update, so the stored lines stay.
    expect(await counts()).toEqual({ invoices: 1, lines: 2, customers: 3 });
  });

  it('customers: unknown entity, bad email, negative credit limit', async () => {
    const p = dataOf(
      await t.gql(UpsertCustomersDocument, {
        input: [
          { externalId: 'C-bad', name: 'Bad', entityCode: 'ZZ99', currency: 'USD' },
          { externalId: 'C-bad2', name: 'Bad 2', entityCode: 'US01', currency: 'USD', creditLimit: '-1.00', contacts: [{ name: 'x', email: 'not-an-email' }] },
        ],
      }),
    ).upsertCustomers;
    expect(p.results[0].errors.map((e) => e.code)).toEqual(['UNKNOWN_ENTITY']);
    expect(p.results[1].errors.map((e) => [e.field, e.code])).toEqual([
      ['creditLimit', 'NEGATIVE_AMOUNT'],
      ['contacts.0.email', 'INVALID_FORMAT'],
    ]);
    expect(await counts()).toMatchObject({ customers: 3 });
  });

  it('an invalid cursor or id is a typed error, not a crash', async () => {
    const r = await t.gql('{ invoices(first: 2, after: "garbage") { totalCount } }', {});
    expect(r.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    const r2 = await t.gql('{ invoices(first: 2, filter: { customerIds: ["not-a-uuid"] }) { totalCount } }', {});
    expect(r2.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const r3 = await t.gql('{ invoice(id: "not-a-uuid") { id } }', {});
    expect(r3.errors).toBeUndefined();
    expect(r3.data).toEqual({ invoice: null });
  });
});
