import fs from 'node:fs';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { dataOf, startTestApp, type TestApp } from '../support/test-app';

const BANK = path.join(__dirname, '../fixtures/bank');
const FILES = path.join(__dirname, '../fixtures/files');
const IMPORT = `mutation($input: ImportFileInput!) { importFile(input: $input) { importId committed dryRun totalRows importedRows failedRows created updated unchanged errors { row field column code message } } }`;
const BANK_IMPORT = `mutation($input: ImportBankStatementInput!) { importBankStatement(input: $input) { statementId account source credits recorded alreadyRecorded returns reversed alreadyReversed skipped paymentIds errors { externalId field code message } } }`;

type ImportResult = { committed: boolean; totalRows: number; importedRows: number; failedRows: number; created: number; updated: number; unchanged: number; errors: { row: number; field: string; column: string | null; code: string; message: string }[] };

const AGING_MAPPING = [
  { field: 'customerExternalId', column: 'Customer No' },
  { field: 'customerName', column: 'Customer Name' },
  { field: 'number', column: 'Invoice No' },
  { field: 'issueDate', column: 'Invoice Date' },
  { field: 'dueDate', column: 'Due Date' },
  { field: 'total', column: 'Amount' },
  { field: 'openBalance', column: 'Open Balance' },
  { field: 'currency', column: 'Curr' },
];

async function agingXlsx(rows: (string | number | Date | null)[][]): Promise<string> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('AR Aging 2026-03-31');
  ws.addRow(['Customer No', 'Customer Name', 'Invoice No', 'Invoice Date', 'Due Date', 'Amount', 'Open Balance', 'Curr']);
  rows.forEach((r) => ws.addRow(r));
  return Buffer.from(await wb.xlsx.writeBuffer()).toString('base64');
}

describe('file and bank statement imports', () => {
  let t: TestApp;
  const imp = async (input: Record<string, unknown>) => dataOf(await t.gql<{ importFile: ImportResult }, Record<string, unknown>>(IMPORT, { input })).importFile;
  const counts = async () => (await t.app.dataSource.query(`SELECT (SELECT count(*) FROM customers)::int AS customers, (SELECT count(*) FROM invoices)::int AS invoices, (SELECT count(*) FROM payments)::int AS payments`))[0];

  beforeAll(async () => {
    t = await startTestApp();
    dataOf(await t.gql(`mutation { upsertEntities(input: [{ code: "US01", name: "Acme Inc.", currency: "USD", country: "US" }]) { __typename } }`));
  });
  afterAll(() => t?.stop());

  it('imports customers from CSV with a mapping; the same file again changes nothing', async () => {
    const csv = fs.readFileSync(path.join(FILES, 'customers.csv'), 'utf8');
    const mapping = [
      { field: 'externalId', column: 'Customer No' },
      { field: 'name', column: 'Customer Name' },
      { field: 'segment', column: 'Segment' },
      { field: 'contactEmail', column: 'AP Email' },
      { field: 'creditLimit', column: 'Credit Limit' },
    ];
    const r = await imp({ kind: 'CUSTOMERS', format: 'CSV', content: csv, mapping, mode: 'WHOLE', defaults: { entityCode: 'US01', currency: 'USD' } });
    expect(r).toMatchObject({ committed: true, totalRows: 4, importedRows: 4, created: 4, failedRows: 0, errors: [] });
    const [globex] = await t.app.dataSource.query(`SELECT credit_limit_minor::text AS limit FROM customers WHERE external_id = 'C-100'`);
    expect(globex.limit).toBe('25000000');
    const again = await imp({ kind: 'CUSTOMERS', format: 'CSV', content: csv, mapping, mode: 'WHOLE', defaults: { entityCode: 'US01', currency: 'USD' } });
    expect(again).toMatchObject({ committed: true, created: 0, updated: 0, unchanged: 4 });
  });

  it('a dry run of an aging extract reports bad dates, bad amounts and unknown customers by row, field and column, and keeps nothing', async () => {
    const before = await counts();
    const content = await agingXlsx([
      ['C-100', 'Globex Corporation', 'BNK-1001', new Date(Date.UTC(2026, 1, 1)), new Date(Date.UTC(2026, 2, 3)), 1200, 1200, 'USD'],
      ['C-101', 'Initech LLC', 'BNK-1002', '2026-02-10', '2026-03-12', '500.50', '500.50', 'USD'],
      ['C-102', 'Umbrella Corp', 'BNK-1003', '31/02/2026', '2026-03-12', '999.00', '999.00', 'USD'],
      ['C-103', 'Stark Industries', 'BNK-1004', '2026-02-10', '2026-03-12', 'twelve', '12.00', 'USD'],
      ['C-999', 'Nobody Ltd', 'BNK-1005', '2026-02-10', '2026-03-12', '10.00', '10.00', 'USD'],
    ]);
    const r = await imp({ kind: 'INVOICES', format: 'XLSX', content, mapping: AGING_MAPPING, mode: 'WHOLE', dryRun: true });
    expect(r).toMatchObject({ committed: false, totalRows: 5, importedRows: 0, failedRows: 3 });
    expect(r.errors.map((e) => [e.row, e.field, e.column, e.code])).toEqual([
      [4, 'issueDate', 'Invoice Date', 'INVALID_DATE'],
      [5, 'total', 'Amount', 'INVALID_AMOUNT'],
      [6, 'customerExternalId', 'Customer No', 'UNKNOWN_CUSTOMER'],
    ]);
    expect(await counts()).toEqual(before);

    // WHOLE for real: all or nothing.
    const whole = await imp({ kind: 'INVOICES', format: 'XLSX', content, mapping: AGING_MAPPING, mode: 'WHOLE' });
    expect(whole).toMatchObject({ committed: false, importedRows: 0, failedRows: 3 });
    expect(await counts()).toEqual(before);

    // PER_ROW: the two valid rows land, the three others are listed.
    const perRow = await imp({ kind: 'INVOICES', format: 'XLSX', content, mapping: AGING_MAPPING, mode: 'PER_ROW' });
    expect(perRow).toMatchObject({ committed: true, importedRows: 2, created: 2, failedRows: 3 });
    expect((await counts()).invoices).toBe(before.invoices + 2);
    const [inv] = await t.app.dataSource.query(`SELECT issue_date::text, due_date::text, total_minor::text FROM invoices WHERE number = 'BNK-1001'`);
    expect(inv).toEqual({ issue_date: '2026-02-01', due_date: '2026-03-03', total_minor: '120000' });
  });

  it('refuses a malformed file, an unknown column and a missing mapping with a typed error, writing nothing', async () => {
    const before = await counts();
    const broken = await t.gql(IMPORT, { input: { kind: 'CUSTOMERS', format: 'CSV', content: 'Customer No,Customer Name\nC-1,"Globex\nC-2,Initech', mapping: [{ field: 'externalId', column: 'Customer No' }, { field: 'name', column: 'Customer Name' }], defaults: { entityCode: 'US01', currency: 'USD' } } });
    expect(broken.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'content', reason: 'MALFORMED_FILE' });
    const notXlsx = await t.gql(IMPORT, { input: { kind: 'INVOICES', format: 'XLSX', content: Buffer.from('this is not a workbook').toString('base64'), mapping: AGING_MAPPING } });
    expect(notXlsx.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'content', reason: 'MALFORMED_FILE' });
    const column = await t.gql(IMPORT, { input: { kind: 'CUSTOMERS', format: 'CSV', content: 'No,Name\n1,A\n', mapping: [{ field: 'externalId', column: 'Number' }], defaults: { entityCode: 'US01', currency: 'USD' } } });
    expect(column.errors?.[0].extensions).toMatchObject({ field: 'mapping.0.column', reason: 'UNKNOWN_COLUMN' });
    const missing = await t.gql(IMPORT, { input: { kind: 'CUSTOMERS', format: 'CSV', content: 'No,Name\n1,A\n', mapping: [{ field: 'externalId', column: 'No' }] } });
    expect(missing.errors?.[0].extensions).toMatchObject({ field: 'mapping', reason: 'MISSING_MAPPING' });
    expect(await counts()).toEqual(before);
  });

  it('imports payments from CSV and applies them; decimal comma and DMY dates', async () => {
    const csv = 'Ref;Kunde;Betrag;Datum;Rechnung\nPAY-1;C-101;500,50;30.03.2026;BNK-1002\n';
    const r = await imp({ kind: 'PAYMENTS', format: 'CSV', content: csv, mode: 'PER_ROW', decimalComma: true, dateFormat: 'DMY', defaults: { currency: 'USD', method: 'WIRE', source: 'lockbox-file' }, mapping: [{ field: 'externalId', column: 'Ref' }, { field: 'customerExternalId', column: 'Kunde' }, { field: 'amount', column: 'Betrag' }, { field: 'receivedOn', column: 'Datum' }, { field: 'references', column: 'Rechnung' }] });
    expect(r).toMatchObject({ committed: true, importedRows: 1, created: 1, errors: [] });
    const [inv] = await t.app.dataSource.query(`SELECT status, open_balance_minor::text AS open FROM invoices WHERE number = 'BNK-1002'`);
    expect(inv).toEqual({ status: 'PAID', open: '0' });
  });

  describe('bank statements', () => {
    beforeAll(async () => {
      // BNK-1002 was paid by the CSV above; reset the book for the statement with fresh invoices.
      dataOf(await t.gql(`mutation { upsertInvoices(input: [{ externalId: "BNK-2002", customerExternalId: "C-101", number: "BNK-2002", issueDate: "2026-02-10", dueDate: "2026-03-12", currency: "USD", total: "500.50" }, { externalId: "BNK-1003", customerExternalId: "C-102", number: "BNK-1003", issueDate: "2026-02-10", dueDate: "2026-03-12", currency: "USD", total: "999.00" }]) { failed } }`));
    });

    it('a cut-off camt.053 is refused whole: nothing imported', async () => {
      const before = await counts();
      const full = fs.readFileSync(path.join(BANK, 'camt053-credits.xml'), 'utf8');
      const cut = full.slice(0, Math.floor(full.length * 0.6));
      const r = await t.gql(BANK_IMPORT, { input: { format: 'CAMT053', content: cut } });
      expect(r.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'content', reason: 'TRUNCATED' });
      expect(r.errors?.[0].message).toMatch(/cut off/);
      // A whole entry dropped from the middle: the entry count gives it away.
      const dropped = full.replace(/<Ntry>\s*<NtryRef>4<\/NtryRef>[\s\S]*?<\/Ntry>/, '');
      const r2 = await t.gql(BANK_IMPORT, { input: { format: 'CAMT053', content: dropped } });
      expect(r2.errors?.[0].extensions).toMatchObject({ field: 'content', reason: 'TRUNCATED' });
      expect(await counts()).toEqual(before);
    });

    it('imports camt.053 credits with their remittance, idempotently; a returned payment reverses it', async () => {
      const content = fs.readFileSync(path.join(BANK, 'camt053-credits.xml'), 'utf8');
      const r = dataOf(await t.gql<{ importBankStatement: Record<string, unknown> & { paymentIds: string[] } }, Record<string, unknown>>(BANK_IMPORT, { input: { format: 'CAMT053', content } })).importBankStatement;
      expect(r).toMatchObject({ account: 'DE89370400440532013000', source: 'bank:DE89370400440532013000', credits: 3, recorded: 3, alreadyRecorded: 0, returns: 0, skipped: 1, errors: [] });
      const pays = await t.app.dataSource.query(`SELECT external_id, method, amount_minor::text AS amount, payer_name, remittance_text, remittance_refs, status FROM payments WHERE source = 'bank:DE89370400440532013000' ORDER BY external_id`);
      expect(pays).toEqual([
        expect.objectContaining({ external_id: '2026033000012346', amount: '50050', payer_name: 'INITECH LLC', remittance_text: 'PAYMENT INV BNK-1002 THANK YOU' }),
        expect.objectContaining({ external_id: 'E2E-GLOBEX-0001', method: 'ACH', amount: '120000', payer_name: 'Globex Corporation', remittance_refs: ['BNK-1001'], status: 'APPLIED' }),
        expect.objectContaining({ external_id: 'E2E-UNKNOWN-77', amount: '7500' }),
      ]);
      const [paid] = await t.app.dataSource.query(`SELECT status FROM invoices WHERE number = 'BNK-1001'`);
      expect(paid.status).toBe('PAID');

      const again = dataOf(await t.gql<{ importBankStatement: Record<string, unknown> }, Record<string, unknown>>(BANK_IMPORT, { input: { format: 'CAMT053', content } })).importBankStatement;
      expect(again).toMatchObject({ recorded: 0, alreadyRecorded: 3 });

      const ret = fs.readFileSync(path.join(BANK, 'camt053-return.xml'), 'utf8');
      const rr = dataOf(await t.gql<{ importBankStatement: Record<string, unknown> }, Record<string, unknown>>(BANK_IMPORT, { input: { format: 'CAMT053', content: ret } })).importBankStatement;
      expect(rr).toMatchObject({ returns: 1, reversed: 1, errors: [] });
      const [p] = await t.app.dataSource.query(`SELECT status, reversal_reason, reversal_note FROM payments WHERE external_id = 'E2E-GLOBEX-0001'`);
      expect(p).toMatchObject({ status: 'REVERSED', reversal_reason: 'RETURNED_ACH' });
      expect(p.reversal_note).toContain('AC04');
      const [reopened] = await t.app.dataSource.query(`SELECT status, open_balance_minor::text AS open FROM invoices WHERE number = 'BNK-1001'`);
      expect(reopened).toEqual({ status: 'OPEN', open: '120000' });
      const twice = dataOf(await t.gql<{ importBankStatement: Record<string, unknown> }, Record<string, unknown>>(BANK_IMPORT, { input: { format: 'CAMT053', content: ret } })).importBankStatement;
      expect(twice).toMatchObject({ reversed: 0, alreadyReversed: 1 });
    });

    it('imports BAI2 credits and refuses a BAI2 file without its trailer', async () => {
      const content = fs.readFileSync(path.join(BANK, 'bai2-lockbox.txt'), 'utf8');
      const r = dataOf(await t.gql<{ importBankStatement: Record<string, unknown> }, Record<string, unknown>>(BANK_IMPORT, { input: { format: 'BAI2', content } })).importBankStatement;
      expect(r).toMatchObject({ account: '000123456789', credits: 2, recorded: 2, skipped: 1, errors: [] });
      const [ach] = await t.app.dataSource.query(`SELECT method, amount_minor::text AS amount, remittance_refs, payer_name FROM payments WHERE external_id = 'BR260330001'`);
      expect(ach).toEqual({ method: 'ACH', amount: '99900', remittance_refs: ['BNK-1003'], payer_name: 'INITECH LLC' });
      const [check] = await t.app.dataSource.query(`SELECT method, remittance_text FROM payments WHERE external_id = 'BR260330002'`);
      expect(check).toEqual({ method: 'CHECK', remittance_text: 'LOCKBOX DEPOSIT,CHECK 4471 GLOBEX CORPORATION' });
      const before = await counts();
      const cut = content.split('\n').slice(0, 7).join('\n');
      const bad = await t.gql(BANK_IMPORT, { input: { format: 'BAI2', content: cut } });
      expect(bad.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'content', reason: 'TRUNCATED' });
      expect(await counts()).toEqual(before);
    });
  });
});
