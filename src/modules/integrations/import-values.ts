import { DateTime } from 'luxon';
import type { Cell } from '../../../integrations/files/tabular-reader';
import { DateFormat } from './dto/import.types';

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

const EXCEL_EPOCH = Date.UTC(1899, 11, 30);

/** Dates as AR teams' spreadsheets hold them: date cells, Excel serials, or text in the chosen order. */
export function parseDateCell(v: Cell, format: DateFormat): Parsed<string> {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? { ok: false, message: 'is not a valid date' } : { ok: true, value: v.toISOString().slice(0, 10) };
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 1 || v > 2958465) return { ok: false, message: `${v} is not a date` };
    return { ok: true, value: new Date(EXCEL_EPOCH + v * 86_400_000).toISOString().slice(0, 10) };
  }
  const s = String(v ?? '').trim();
  let y: number, m: number, d: number;
  let mt: RegExpMatchArray | null;
  if ((mt = s.match(/^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$/))) [y, m, d] = [Number(mt[1]), Number(mt[2]), Number(mt[3])];
  else if (format !== DateFormat.ISO && (mt = s.match(/^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/))) {
    [y, m, d] = format === DateFormat.DMY ? [Number(mt[3]), Number(mt[2]), Number(mt[1])] : [Number(mt[3]), Number(mt[1]), Number(mt[2])];
  } else return { ok: false, message: `"${s}" is not a date in ${format === DateFormat.ISO ? 'YYYY-MM-DD' : format === DateFormat.DMY ? 'DD/MM/YYYY' : 'MM/DD/YYYY'} form` };
  const dt = DateTime.fromObject({ year: y, month: m, day: d }, { zone: 'utc' });
  if (!dt.isValid) return { ok: false, message: `"${s}" is not a calendar date` };
  return { ok: true, value: dt.toISODate()! };
}

/**
 * Amounts as exported: "1,234.56", "$1,234.56", "1.234,56" (decimal comma), "(120.00)" for
 * negatives, or a number cell. Returned as a plain decimal string; the services check the
 * currency's decimals and sign.
 */
export function parseAmountCell(v: Cell, decimalComma: boolean): Parsed<string> {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return { ok: false, message: 'is not a number' };
    // Spreadsheet numbers are binary floats: 12.1 is 12.0999…; 6 decimals then trimmed keeps what the user typed.
    return { ok: true, value: v.toFixed(6).replace(/\.?0+$/, '') };
  }
  let s = String(v ?? '').trim();
  if (!s) return { ok: false, message: 'is empty' };
  let negative = false;
  if (/^\(.*\)$/.test(s)) {
    negative = true;
    s = s.slice(1, -1);
  }
  s = s.replace(/^[A-Z]{3}\s*/i, '').replace(/\s*[A-Z]{3}$/i, '').replace(/[$€£¥\s\u00a0']/g, '');
  if (s.startsWith('-')) {
    negative = !negative;
    s = s.slice(1);
  }
  s = decimalComma ? s.replace(/\./g, '').replace(',', '.') : s.replace(/,/g, '');
  if (!/^\d{1,15}(\.\d+)?$/.test(s)) return { ok: false, message: `"${String(v).trim()}" is not an amount` };
  return { ok: true, value: `${negative ? '-' : ''}${s}` };
}

export function textCell(v: Cell): string | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v.toISOString().slice(0, 10);
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(v);
  const s = String(v).trim();
  return s || null;
}
