import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';

export enum TabularFormat {
  CSV = 'CSV',
  XLSX = 'XLSX',
}

/** One cell as the file gave it: text from CSV; text, number, Date or boolean from XLSX. */
export type Cell = string | number | boolean | Date | null;

export interface TabularRow {
  /** 1-based row number as a spreadsheet shows it (the header is row 1 when it is the first). */
  rowNumber: number;
  cells: Map<string, Cell>;
}

export interface Table {
  headers: string[];
  rows: TabularRow[];
}

export class TabularFileError extends Error {
  constructor(
    message: string,
    readonly row?: number,
  ) {
    super(message);
    this.name = 'TabularFileError';
  }
}

const MAX_ROWS = 200_000;

/** Reads the first sheet of a CSV or XLSX file into rows keyed by header. */
export async function readTable(format: TabularFormat, content: Buffer, opts: { sheet?: string | null } = {}): Promise<Table> {
  return format === TabularFormat.CSV ? readCsv(content) : readXlsx(content, opts.sheet ?? null);
}

function readCsv(content: Buffer): Table {
  const textContent = content.toString('utf8').replace(/^\uFEFF/, '');
  const firstLine = textContent.slice(0, textContent.search(/\r?\n|$/));
  // AR exports from European ERPs use ';' and some tools tabs: pick what splits the header most.
  const delimiter = [',', ';', '\t'].map((d) => [d, firstLine.split(d).length] as const).sort((a, b) => b[1] - a[1])[0][0];
  let records: string[][];
  try {
    records = parse(textContent, { delimiter, relax_column_count: false, skip_empty_lines: true, trim: true, bom: true });
  } catch (err) {
    const e = err as Error & { lines?: number };
    throw new TabularFileError(`the CSV file cannot be read: ${e.message}`, e.lines);
  }
  if (!records.length) throw new TabularFileError('the file is empty');
  const headers = records[0].map((h) => h.trim());
  checkHeaders(headers);
  if (records.length - 1 > MAX_ROWS) throw new TabularFileError(`at most ${MAX_ROWS} rows per file`);
  return {
    headers,
    rows: records.slice(1).map((r, i) => ({ rowNumber: i + 2, cells: new Map(headers.map((h, j) => [h, r[j] === '' ? null : r[j]])) })),
  };
}

async function readXlsx(content: Buffer, sheetName: string | null): Promise<Table> {
  const wb = new ExcelJS.Workbook();
  try {
    await wb.xlsx.load(content as unknown as ArrayBuffer);
  } catch (err) {
    throw new TabularFileError(`the XLSX file cannot be read: ${(err as Error).message}`);
  }
  const ws = sheetName ? wb.getWorksheet(sheetName) : wb.worksheets[0];
  if (!ws) throw new TabularFileError(sheetName ? `the workbook has no sheet "${sheetName}"` : 'the workbook has no sheet');
  let headers: string[] | null = null;
  let headerCols: number[] = [];
  const rows: TabularRow[] = [];
  ws.eachRow({ includeEmpty: false }, (row, rowNumber) => {
    if (!headers) {
      headerCols = [];
      headers = [];
      row.eachCell({ includeEmpty: false }, (cell, col) => {
        headerCols.push(col);
        headers!.push(String(cellValue(cell.value) ?? '').trim());
      });
      return;
    }
    const cells = new Map<string, Cell>();
    headerCols.forEach((col, i) => cells.set(headers![i], cellValue(row.getCell(col).value)));
    if ([...cells.values()].every((v) => v === null || v === '')) return;
    rows.push({ rowNumber, cells });
  });
  if (!headers) throw new TabularFileError('the sheet is empty');
  checkHeaders(headers);
  if (rows.length > MAX_ROWS) throw new TabularFileError(`at most ${MAX_ROWS} rows per file`);
  return { headers, rows };
}

function cellValue(v: ExcelJS.CellValue): Cell {
  if (v === null || v === undefined) return null;
  if (v instanceof Date || typeof v === 'number' || typeof v === 'boolean') return v;
  if (typeof v === 'string') return v.trim() === '' ? null : v.trim();
  if (typeof v === 'object') {
    if ('result' in v) return cellValue((v as ExcelJS.CellFormulaValue).result as ExcelJS.CellValue);
    if ('richText' in v) return (v as ExcelJS.CellRichTextValue).richText.map((t) => t.text).join('').trim() || null;
    if ('text' in v) return String((v as ExcelJS.CellHyperlinkValue).text).trim() || null;
    if ('error' in v) return null;
  }
  return String(v);
}

function checkHeaders(headers: string[]): void {
  const seen = new Set<string>();
  headers.forEach((h, i) => {
    if (!h) throw new TabularFileError(`header cell ${i + 1} is empty: every column needs a name`, 1);
    if (seen.has(h)) throw new TabularFileError(`column "${h}" appears twice in the header`, 1);
    seen.add(h);
  });
}
