import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SingleBar, Presets } from 'cli-progress';
import { BankStatementFormat } from '../../../integrations/bank/bank-statement-parser';
import { TabularFormat } from '../../../integrations/files/tabular-reader';
import type { RequestContext } from '../../platform/context';
import { ContentEncoding, DateFormat, ImportKind, ImportMode, type ColumnMappingInput } from './dto/import.types';
import type { BankImportService } from './bank-import.service';
import type { FileImportService } from './file-import.service';

export const IMPORT_USAGE = `  import <customers|invoices|payments> <file.csv|file.xlsx> --mapping <json file or field=Column,...>
         [--dry-run] [--per-row] [--date-format ISO|DMY|MDY] [--decimal-comma] [--sheet NAME]
         [--entity CODE] [--currency XXX] [--method ACH|WIRE|…] [--source NAME] [--tenant ID]
                                  import a file (WHOLE: all rows or none, unless --per-row)
  import-bank <camt053|bai2> <file> [--tenant ID]
                                  import a bank statement into payments
`;

function mappingFrom(arg: string): ColumnMappingInput[] {
  if (fs.existsSync(arg)) {
    const json = JSON.parse(fs.readFileSync(arg, 'utf8')) as Record<string, string> | ColumnMappingInput[];
    return Array.isArray(json) ? json : Object.entries(json).map(([field, column]) => ({ field, column }));
  }
  return arg.split(',').map((pair) => {
    const [field, ...column] = pair.split('=');
    if (!field || !column.length) throw new Error(`--mapping: expected field=Column pairs, got "${pair}"`);
    return { field: field.trim(), column: column.join('=').trim() };
  });
}

/** `recoup import …` and `recoup import-bank …`: the same services as the GraphQL mutations, with a progress bar. */
export async function runImportCommand(command: 'import' | 'import-bank', args: string[], services: { fileImports: FileImportService; bankImports: BankImportService }, ctx: RequestContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      mapping: { type: 'string' },
      'dry-run': { type: 'boolean' },
      'per-row': { type: 'boolean' },
      'date-format': { type: 'string' },
      'decimal-comma': { type: 'boolean' },
      sheet: { type: 'string' },
      entity: { type: 'string' },
      currency: { type: 'string' },
      method: { type: 'string' },
      source: { type: 'string' },
      tenant: { type: 'string' },
    },
  });
  const [kindArg, file] = positionals;
  if (!kindArg || !file) throw new Error(`usage:\n${IMPORT_USAGE}`);
  if (command === 'import-bank') {
    const format = kindArg.toUpperCase() as BankStatementFormat;
    if (!Object.values(BankStatementFormat).includes(format)) throw new Error('import-bank takes camt053 or bai2');
    const r = await services.bankImports.import(ctx, { format, content: fs.readFileSync(file, 'utf8'), encoding: ContentEncoding.UTF8, applyNow: true });
    process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    return r.errors.length ? 1 : 0;
  }
  const kind = kindArg.toUpperCase() as ImportKind;
  if (!Object.values(ImportKind).includes(kind)) throw new Error('import takes customers, invoices or payments');
  if (!values.mapping) throw new Error('--mapping is required (a JSON file {"field": "Column"} or field=Column,field=Column)');
  const format = path.extname(file).toLowerCase() === '.xlsx' ? TabularFormat.XLSX : TabularFormat.CSV;
  const bar = new SingleBar({ format: '  {phase} [{bar}] {value}/{total} rows', hideCursor: true, stream: process.stderr }, Presets.shades_classic);
  let phase = '';
  const r = await services.fileImports.import(
    ctx,
    {
      kind,
      format,
      content: fs.readFileSync(file).toString(format === TabularFormat.XLSX ? 'base64' : 'utf8'),
      encoding: format === TabularFormat.XLSX ? ContentEncoding.BASE64 : ContentEncoding.UTF8,
      mapping: mappingFrom(values.mapping),
      mode: values['per-row'] ? ImportMode.PER_ROW : ImportMode.WHOLE,
      dryRun: !!values['dry-run'],
      dateFormat: (values['date-format']?.toUpperCase() as DateFormat) ?? DateFormat.ISO,
      decimalComma: !!values['decimal-comma'],
      sheet: values.sheet ?? null,
      defaults: { entityCode: values.entity ?? null, currency: values.currency ?? null, method: (values.method?.toUpperCase() as never) ?? null, source: values.source ?? null },
    },
    (done, total, p) => {
      if (p !== phase) {
        if (phase) bar.stop();
        phase = p;
        bar.start(total, 0, { phase: p === 'validate' ? 'checking' : 'writing ' });
      }
      bar.update(done);
    },
  );
  if (phase) bar.stop();
  for (const e of r.errors.slice(0, 50)) process.stderr.write(`  row ${e.row} ${e.field}${e.column ? ` ("${e.column}")` : ''}: ${e.code} ${e.message}\n`);
  if (r.errors.length > 50) process.stderr.write(`  … and ${r.errors.length - 50} more\n`);
  process.stdout.write(
    `${r.dryRun ? 'dry run: ' : ''}${r.totalRows} rows, ${r.importedRows} ${r.dryRun ? 'would be imported' : 'imported'} (${r.created} new, ${r.updated} updated, ${r.unchanged} unchanged), ${r.failedRows} with errors${r.committed || r.dryRun ? '' : ' — nothing was imported'}\n`,
  );
  return r.failedRows ? 1 : 0;
}
