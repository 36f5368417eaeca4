import { randomUUID } from 'node:crypto';
import { readTable, TabularFileError, TabularFormat, type Cell, type TabularRow } from '../../../integrations/files/tabular-reader';
import type { RequestContext } from '../../platform/context';
import { badInput, type FieldProblem } from '../../platform/errors';
import { Channel, ContactRole } from '../customers/contact.entity';
import { MAX_BULK, type CustomerService } from '../customers/customer.service';
import type { UpsertCustomerInput } from '../customers/dto/customer.inputs';
import type { UpsertInvoiceInput } from '../invoices/dto/invoice.inputs';
import type { InvoiceService } from '../invoices/invoice.service';
import { PaymentTermsKind } from '../invoices/payment-terms';
import type { PaymentApplicationService } from '../payments/payment-application.service';
import { PaymentMethod } from '../payments/payment.entity';
import type { PaymentService, RecordPaymentInput } from '../payments/payment.service';
import { ContentEncoding, ImportKind, ImportMode, type ImportFileInput, type ImportFilePayload, type ImportRowError } from './dto/import.types';
import { parseAmountCell, parseDateCell, textCell } from './import-values';
import { IntegrationErrors } from './integration.errors';

type FieldKind = 'text' | 'date' | 'amount' | 'int' | 'method' | 'list';
interface FieldSpec {
  kind: FieldKind;
  required?: boolean;
  /** Satisfied by a default in ImportDefaultsInput. */
  defaultKey?: 'entityCode' | 'currency' | 'method';
}

/** The fields a file can map, per kind. Names follow the upsert inputs, so a service error's field names its column. */
export const IMPORT_FIELDS: Record<ImportKind, Record<string, FieldSpec>> = {
  [ImportKind.CUSTOMERS]: {
    externalId: { kind: 'text', required: true },
    name: { kind: 'text', required: true },
    entityCode: { kind: 'text', required: true, defaultKey: 'entityCode' },
    currency: { kind: 'text', required: true, defaultKey: 'currency' },
    segment: { kind: 'text' },
    tier: { kind: 'text' },
    country: { kind: 'text' },
    locale: { kind: 'text' },
    creditLimit: { kind: 'amount' },
    renewalDate: { kind: 'date' },
    contactName: { kind: 'text' },
    contactEmail: { kind: 'text' },
    contactPhone: { kind: 'text' },
  },
  [ImportKind.INVOICES]: {
    externalId: { kind: 'text' },
    customerExternalId: { kind: 'text', required: true },
    customerName: { kind: 'text' },
    number: { kind: 'text', required: true },
    issueDate: { kind: 'date', required: true },
    dueDate: { kind: 'date' },
    termsDays: { kind: 'int' },
    currency: { kind: 'text', required: true, defaultKey: 'currency' },
    total: { kind: 'amount', required: true },
    openBalance: { kind: 'amount' },
    poNumber: { kind: 'text' },
    entityCode: { kind: 'text' },
  },
  [ImportKind.PAYMENTS]: {
    externalId: { kind: 'text', required: true },
    customerExternalId: { kind: 'text' },
    amount: { kind: 'amount', required: true },
    currency: { kind: 'text', required: true, defaultKey: 'currency' },
    receivedOn: { kind: 'date' },
    method: { kind: 'method', required: true, defaultKey: 'method' },
    references: { kind: 'list' },
    remittanceText: { kind: 'text' },
    payerName: { kind: 'text' },
    payerAccount: { kind: 'text' },
  },
};

const MAX_FILE_BYTES = 30 * 1024 * 1024;

class Rollback extends Error {}

interface Prepared {
  row: number;
  input: Record<string, unknown>;
}

/**
 * CSV and XLSX imports of customers, invoices (aging extracts) and payments through the same
 * upsert services as the API. Every write happens in one transaction: a dry run rolls it back
 * (so it reports what the services themselves would refuse), WHOLE rolls it back at the first
 * refused row, PER_ROW keeps the valid rows and lists the others.
 */
export class FileImportService {
  constructor(
    private readonly customers: CustomerService,
    private readonly invoices: InvoiceService,
    private readonly payments: PaymentService,
    private readonly application: PaymentApplicationService,
  ) {}

  async import(ctx: RequestContext, input: ImportFileInput, onProgress?: (done: number, total: number, phase: 'validate' | 'write') => void): Promise<ImportFilePayload> {
    const content = decodeContent(input.content, input.encoding ?? (input.format === TabularFormat.XLSX ? ContentEncoding.BASE64 : ContentEncoding.UTF8));
    let table;
    try {
      table = await readTable(input.format, content, { sheet: input.sheet });
    } catch (err) {
      if (err instanceof TabularFileError) throw badInput('content', `${err.message}${err.row ? ` (row ${err.row})` : ''}`, IntegrationErrors.MALFORMED_FILE);
      throw err;
    }
    const specs = IMPORT_FIELDS[input.kind];
    const columnOf = new Map<string, string>();
    input.mapping.forEach((m, i) => {
      if (!specs[m.field]) throw badInput(`mapping.${i}.field`, `"${m.field}" is not a field of ${input.kind} (fields: ${Object.keys(specs).join(', ')})`, IntegrationErrors.UNKNOWN_FIELD);
      if (!table.headers.includes(m.column)) throw badInput(`mapping.${i}.column`, `the file has no column "${m.column}" (columns: ${table.headers.join(', ')})`, IntegrationErrors.UNKNOWN_COLUMN);
      columnOf.set(m.field, m.column);
    });
    const defaults = input.defaults ?? {};
    for (const [field, spec] of Object.entries(specs)) {
      if (spec.required && !columnOf.has(field) && !(spec.defaultKey && defaults[spec.defaultKey])) {
        throw badInput('mapping', `map a column to "${field}"${spec.defaultKey ? ` or give defaults.${spec.defaultKey}` : ''}`, IntegrationErrors.MISSING_MAPPING);
      }
    }

    const errors: ImportRowError[] = [];
    const prepared: Prepared[] = [];
    table.rows.forEach((r, i) => {
      const p = this.prepare(input, r, columnOf, errors);
      if (p) prepared.push(p);
      if (onProgress && (i % 500 === 0 || i === table.rows.length - 1)) onProgress(i + 1, table.rows.length, 'validate');
    });
    if (input.kind !== ImportKind.CUSTOMERS) await this.checkCustomers(ctx, input.kind, prepared, columnOf, errors);

    const rowsWithErrors = () => new Set(errors.map((e) => e.row));
    const valid = prepared.filter((p) => !rowsWithErrors().has(p.row));
    const counts = { created: 0, updated: 0, unchanged: 0, imported: 0 };
    const followUp = { customers: new Set<string>(), payments: [] as string[] };
    let committed = false;
    const stopEarly = input.mode === ImportMode.WHOLE && errors.length > 0 && !input.dryRun;
    if (valid.length && !stopEarly) {
      try {
        await ctx.em.transaction(async (em) => {
          const tx = ctx.withManager(em);
          let done = 0;
          for (let i = 0; i < valid.length; i += MAX_BULK) {
            const batch = valid.slice(i, i + MAX_BULK);
            const outcomes = await this.write(tx, input.kind, batch);
            outcomes.forEach((o, j) => {
              const row = batch[j].row;
              if (o.errors.length) {
                o.errors.forEach((e) => errors.push(this.serviceError(row, e, columnOf)));
                return;
              }
              counts.imported++;
              if (o.created) counts.created++;
              else if (o.changed) counts.updated++;
              else counts.unchanged++;
              if (o.customerId && o.changed) followUp.customers.add(o.customerId);
              if (o.paymentId && o.created) followUp.payments.push(o.paymentId);
            });
            if (input.mode === ImportMode.WHOLE && errors.length && !input.dryRun) throw new Rollback();
            done += batch.length;
            onProgress?.(done, valid.length, 'write');
          }
          if (input.dryRun) throw new Rollback();
        });
        committed = true;
      } catch (err) {
        if (!(err instanceof Rollback)) throw err;
      }
    }
    if (committed) {
      if (followUp.customers.size) this.invoices.onCustomersChanged(ctx, [...followUp.customers]);
      if (followUp.payments.length) await this.application.apply(ctx, followUp.payments);
    }
    const failedRows = rowsWithErrors().size;
    // A dry run reports what the real import would do: in WHOLE mode, nothing when any row fails.
    const wouldKeep = committed || (input.dryRun && !(input.mode === ImportMode.WHOLE && errors.length > 0));
    const importedRows = wouldKeep ? counts.imported : 0;
    errors.sort((a, b) => a.row - b.row || a.field.localeCompare(b.field));
    const importId = randomUUID();
    await ctx.em.query(
      `INSERT INTO file_imports (id, tenant_id, kind, format, mode, dry_run, committed, total_rows, imported_rows, failed_rows, summary, created_by) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)`,
      [importId, ctx.tenantId, input.kind, input.format, input.mode, input.dryRun, committed, table.rows.length, importedRows, failedRows, JSON.stringify({ ...counts, errors: errors.slice(0, 100) }), ctx.actor.id],
    );
    return {
      importId,
      kind: input.kind,
      mode: input.mode,
      dryRun: input.dryRun,
      committed,
      totalRows: table.rows.length,
      importedRows,
      failedRows,
      created: wouldKeep ? counts.created : 0,
      updated: wouldKeep ? counts.updated : 0,
      unchanged: wouldKeep ? counts.unchanged : 0,
      errors,
    };
  }

  /** One row to the service input, every problem of the row at once. */
  private prepare(input: ImportFileInput, r: TabularRow, columnOf: Map<string, string>, errors: ImportRowError[]): Prepared | null {
    const specs = IMPORT_FIELDS[input.kind];
    const defaults = input.defaults ?? {};
    const values: Record<string, unknown> = {};
    let ok = true;
    const fail = (field: string, code: string, message: string) => {
      ok = false;
      errors.push({ row: r.rowNumber, field, column: columnOf.get(field) ?? null, code, message });
    };
    for (const [field, spec] of Object.entries(specs)) {
      const col = columnOf.get(field);
      const raw: Cell = col ? (r.cells.get(col) ?? null) : null;
      const empty = raw === null || (typeof raw === 'string' && raw.trim() === '');
      if (empty) {
        const d = spec.defaultKey ? defaults[spec.defaultKey] : null;
        if (d) values[field] = d;
        else if (spec.required) fail(field, IntegrationErrors.REQUIRED, `is required${col ? ` (column "${col}" is empty)` : ''}`);
        continue;
      }
      if (spec.kind === 'date') {
        const d = parseDateCell(raw, input.dateFormat);
        if (d.ok) values[field] = d.value;
        else fail(field, IntegrationErrors.INVALID_DATE, d.message);
      } else if (spec.kind === 'amount') {
        const a = parseAmountCell(raw, input.decimalComma);
        if (a.ok) values[field] = a.value;
        else fail(field, IntegrationErrors.INVALID_AMOUNT, a.message);
      } else if (spec.kind === 'int') {
        const n = Number(textCell(raw));
        if (Number.isInteger(n) && n >= 0 && n <= 3650) values[field] = n;
        else fail(field, IntegrationErrors.INVALID_AMOUNT, `"${textCell(raw)}" is not a whole number of days`);
      } else if (spec.kind === 'method') {
        const m = textCell(raw)!.toUpperCase().replace(/[\s-]+/g, '_');
        if ((Object.values(PaymentMethod) as string[]).includes(m)) values[field] = m;
        else fail(field, IntegrationErrors.REQUIRED, `"${textCell(raw)}" is not one of ${Object.values(PaymentMethod).join(', ')}`);
      } else if (spec.kind === 'list') {
        values[field] = textCell(raw)!.split(/[,;]\s*|\s+/).map((s) => s.trim()).filter(Boolean);
      } else values[field] = textCell(raw);
    }
    if (!ok) return null;
    return { row: r.rowNumber, input: this.toServiceInput(input, values) };
  }

  private toServiceInput(input: ImportFileInput, v: Record<string, unknown>): Record<string, unknown> {
    const d = input.defaults ?? {};
    if (input.kind === ImportKind.CUSTOMERS) {
      const c: UpsertCustomerInput = {
        externalId: String(v.externalId),
        name: String(v.name),
        entityCode: String(v.entityCode),
        currency: String(v.currency).toUpperCase(),
        segment: (v.segment as string) ?? null,
        tier: (v.tier as string) ?? null,
        country: (v.country as string) ?? null,
        locale: (v.locale as string) ?? null,
        creditLimit: (v.creditLimit as string) ?? null,
        renewalDate: (v.renewalDate as string) ?? null,
      };
      if (v.contactName || v.contactEmail) {
        c.contacts = [{ name: String(v.contactName ?? v.contactEmail), email: (v.contactEmail as string) ?? null, phone: (v.contactPhone as string) ?? null, role: ContactRole.BILLING, isPrimary: true, channelPreference: Channel.EMAIL }];
      }
      return c as unknown as Record<string, unknown>;
    }
    if (input.kind === ImportKind.INVOICES) {
      const termsDays = (v.termsDays as number | undefined) ?? d.termsDays ?? null;
      const i: UpsertInvoiceInput = {
        externalId: String(v.externalId ?? v.number),
        customerExternalId: String(v.customerExternalId),
        number: String(v.number),
        issueDate: String(v.issueDate),
        dueDate: (v.dueDate as string) ?? null,
        terms: v.dueDate ? null : termsDays !== null ? { kind: PaymentTermsKind.NET, days: termsDays } : null,
        currency: String(v.currency).toUpperCase(),
        total: String(v.total),
        openBalance: (v.openBalance as string) ?? null,
        poNumber: (v.poNumber as string) ?? null,
        entityCode: (v.entityCode as string) ?? d.entityCode ?? null,
      };
      return { ...i, customerName: v.customerName ?? null };
    }
    const p: RecordPaymentInput = {
      source: d.source?.trim() || 'file',
      externalId: String(v.externalId),
      method: v.method as PaymentMethod,
      amount: String(v.amount),
      currency: String(v.currency).toUpperCase(),
      receivedOn: (v.receivedOn as string) ?? null,
      customerExternalId: (v.customerExternalId as string) ?? null,
      references: (v.references as string[]) ?? null,
      remittanceText: (v.remittanceText as string) ?? null,
      payerName: (v.payerName as string) ?? null,
      payerAccount: (v.payerAccount as string) ?? null,
    };
    return p as unknown as Record<string, unknown>;
  }

  /** Unknown customers are reported by row before anything is written; a customer name column is used when the number is unknown. */
  private async checkCustomers(ctx: RequestContext, kind: ImportKind, rows: Prepared[], columnOf: Map<string, string>, errors: ImportRowError[]): Promise<void> {
    const ext = [...new Set(rows.map((r) => r.input.customerExternalId as string | null).filter((x): x is string => !!x))];
    const names = [...new Set(rows.map((r) => (r.input.customerName as string | null)?.toLowerCase()).filter((x): x is string => !!x))];
    if (!ext.length && !names.length) return;
    const found: { external_id: string; name: string }[] = await ctx.em.query(`SELECT external_id, name FROM customers WHERE tenant_id = $1 AND (external_id = ANY($2::text[]) OR lower(name) = ANY($3::text[]))`, [ctx.tenantId, ext, names]);
    const known = new Set(found.map((f) => f.external_id));
    const byName = new Map<string, string[]>();
    found.forEach((f) => byName.set(f.name.toLowerCase(), [...(byName.get(f.name.toLowerCase()) ?? []), f.external_id]));
    for (const r of rows) {
      const id = r.input.customerExternalId as string | null;
      if (!id || known.has(id)) continue;
      const name = (r.input.customerName as string | null)?.toLowerCase();
      const candidates = name ? byName.get(name) : undefined;
      if (kind === ImportKind.INVOICES && candidates?.length === 1) {
        r.input.customerExternalId = candidates[0];
        continue;
      }
      errors.push({ row: r.row, field: 'customerExternalId', column: columnOf.get('customerExternalId') ?? null, code: IntegrationErrors.UNKNOWN_CUSTOMER, message: `no customer with number "${id}"${name ? ` or named "${r.input.customerName}"` : ''}: import or sync the customer first` });
    }
  }

  private async write(tx: RequestContext, kind: ImportKind, batch: Prepared[]): Promise<{ errors: FieldProblem[]; created?: boolean; changed?: boolean; customerId?: string; paymentId?: string | null }[]> {
    if (kind === ImportKind.CUSTOMERS) return this.customers.upsert(tx, batch.map((b) => b.input as unknown as UpsertCustomerInput));
    if (kind === ImportKind.INVOICES) {
      const out = await this.invoices.upsert(tx, batch.map(({ input: { customerName: _n, ...i } }) => i as unknown as UpsertInvoiceInput));
      return out.map((o) => ({ ...o, customerId: o.record?.customerId }));
    }
    const out = await this.payments.record(tx, batch.map((b) => b.input as unknown as RecordPaymentInput), { applyNow: false });
    return out.map((o) => ({ errors: o.errors, created: o.created, changed: o.created, paymentId: o.paymentId }));
  }

  private serviceError(row: number, e: FieldProblem, columnOf: Map<string, string>): ImportRowError {
    const top = e.field.split('.')[0];
    const field = top === 'contacts' ? (e.field.endsWith('email') ? 'contactEmail' : e.field.endsWith('phone') ? 'contactPhone' : 'contactName') : top;
    return { row, field, column: columnOf.get(field) ?? null, code: e.code, message: e.message };
  }
}

export function decodeContent(content: string, encoding: ContentEncoding): Buffer {
  if (encoding === ContentEncoding.UTF8) {
    if (Buffer.byteLength(content) > MAX_FILE_BYTES) throw badInput('content', `at most ${MAX_FILE_BYTES / 1024 / 1024} MB per file`, IntegrationErrors.FILE_TOO_LARGE);
    return Buffer.from(content, 'utf8');
  }
  const clean = content.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 !== 0) throw badInput('content', 'is not valid base64', IntegrationErrors.INVALID_ENCODING);
  const buf = Buffer.from(clean, 'base64');
  if (buf.length > MAX_FILE_BYTES) throw badInput('content', `at most ${MAX_FILE_BYTES / 1024 / 1024} MB per file`, IntegrationErrors.FILE_TOO_LARGE);
  return buf;
}
