import { randomUUID } from 'node:crypto';
import DataLoader from 'dataloader';
import { In } from 'typeorm';
import type { RequestContext } from '../../platform/context';
import { chunks, unnestSource, type BulkColumn } from '../../platform/db/bulk';
import { keysetPage } from '../../platform/db/keyset';
import { preparedQuery } from '../../platform/db/prepared';
import { badInput } from '../../platform/errors';
import type { Connection } from '../../platform/graphql/connection';
import { isIsoDate } from '../../platform/time/dates';
import { JournalEntry, JournalKind, JournalLine, LedgerAccount } from './journal.entity';

export interface PostingLine {
  account: LedgerAccount;
  debitMinor?: bigint;
  creditMinor?: bigint;
  customerId?: string | null;
  invoiceId?: string | null;
}

export interface Posting {
  kind: JournalKind;
  sourceType: string;
  sourceId: string;
  currency: string;
  postedOn: string;
  memo?: string | null;
  lines: PostingLine[];
}

interface EntryRow {
  id: string;
  posting: Posting;
  createdBy: string;
}
/** One shape for every line (callers' lines differ in which optional fields they set). */
interface LineRow {
  entryId: string;
  account: LedgerAccount;
  debitMinor: bigint;
  creditMinor: bigint;
  customerId: string | null;
  invoiceId: string | null;
}

const entryColumns: BulkColumn<EntryRow>[] = [
  { name: 'id', type: 'uuid', value: (r) => r.id },
  { name: 'posted_on', type: 'date', value: (r) => r.posting.postedOn },
  { name: 'kind', type: 'text', value: (r) => r.posting.kind },
  { name: 'source_type', type: 'text', value: (r) => r.posting.sourceType },
  { name: 'source_id', type: 'uuid', value: (r) => r.posting.sourceId },
  { name: 'currency', type: 'text', value: (r) => r.posting.currency },
  { name: 'memo', type: 'text', value: (r) => r.posting.memo ?? null },
  { name: 'created_by', type: 'text', value: (r) => r.createdBy },
];
const lineColumns: BulkColumn<LineRow>[] = [
  { name: 'entry_id', type: 'uuid', value: (r) => r.entryId },
  { name: 'account', type: 'text', value: (r) => r.account },
  { name: 'debit_minor', type: 'bigint', value: (r) => r.debitMinor },
  { name: 'credit_minor', type: 'bigint', value: (r) => r.creditMinor },
  { name: 'customer_id', type: 'uuid', value: (r) => r.customerId },
  { name: 'invoice_id', type: 'uuid', value: (r) => r.invoiceId },
];

/**
 * The rows of a batch of postings, each posting checked to balance. Synchronous and apart from
 * the async `post`, with indexed loops: the JIT compiles it once instead of recompiling the
 * whole posting path after each deoptimisation (ADR 013, JIT-friendly worker code).
 */
function journalRows(postings: Posting[], createdBy: string): { entries: EntryRow[]; lines: LineRow[] } {
  const entries: EntryRow[] = [];
  const lines: LineRow[] = [];
  for (let i = 0; i < postings.length; i++) {
    const posting = postings[i];
    const entry: EntryRow = { id: randomUUID(), posting, createdBy };
    let dr = 0n;
    let cr = 0n;
    let n = 0;
    for (let j = 0; j < posting.lines.length; j++) {
      const l = posting.lines[j];
      const debitMinor = l.debitMinor ?? 0n;
      const creditMinor = l.creditMinor ?? 0n;
      if (debitMinor <= 0n && creditMinor <= 0n) continue;
      dr += debitMinor;
      cr += creditMinor;
      n++;
      lines.push({ entryId: entry.id, account: l.account, debitMinor, creditMinor, customerId: l.customerId ?? null, invoiceId: l.invoiceId ?? null });
    }
    if (dr !== cr || n < 2) throw new Error(`unbalanced ${posting.kind} posting for ${posting.sourceId}: debits ${dr}, credits ${cr}`);
    entries.push(entry);
  }
  return { entries, lines };
}

export interface TrialBalanceRow {
  account: LedgerAccount;
  currency: string;
  debitMinor: bigint;
  creditMinor: bigint;
}

export interface JournalFilter {
  sourceId?: string | null;
  kind?: JournalKind | null;
  account?: LedgerAccount | null;
  invoiceId?: string | null;
  from?: string | null;
  to?: string | null;
}

/**
 * The double-entry ledger. Every posting is written in the caller's transaction, all lines of
 * a batch in one statement; the database refuses a statement whose entries do not balance.
 */
export class LedgerService {
  async post(ctx: RequestContext, postings: Posting[]): Promise<string[]> {
    if (!postings.length) return [];
    const { entries, lines } = journalRows(postings, ctx.actor.id);
    for (const part of chunks(entries, 5000)) {
      const src = unnestSource(entryColumns, part, 2);
      await preparedQuery(ctx.em, `INSERT INTO journal_entries (tenant_id, ${src.names}) SELECT $1, ${src.names} FROM ${src.sql}`, [ctx.tenantId, ...src.params]);
    }
    // One statement for every line, so the balance check sees each entry whole.
    const src = unnestSource(lineColumns, lines, 2);
    await preparedQuery(ctx.em, `INSERT INTO journal_lines (tenant_id, ${src.names}) SELECT $1, ${src.names} FROM ${src.sql}`, [ctx.tenantId, ...src.params]);
    return entries.map((e) => e.id);
  }

  async trialBalance(ctx: RequestContext, asOf: string): Promise<TrialBalanceRow[]> {
    if (!isIsoDate(asOf)) throw badInput('asOf', 'must be a date YYYY-MM-DD', 'INVALID_DATE');
    const rows: { account: LedgerAccount; currency: string; dr: string; cr: string }[] = await ctx.em.query(
      `SELECT l.account, e.currency, sum(l.debit_minor)::text AS dr, sum(l.credit_minor)::text AS cr
       FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id
       WHERE l.tenant_id = $1 AND e.tenant_id = $1 AND e.posted_on <= $2::date
       GROUP BY l.account, e.currency ORDER BY e.currency, l.account`,
      [ctx.tenantId, asOf],
    );
    return rows.map((r) => ({ account: r.account, currency: r.currency, debitMinor: BigInt(r.dr), creditMinor: BigInt(r.cr) }));
  }

  list(ctx: RequestContext, args: { first: number; after?: string | null; filter?: JournalFilter | null }): Promise<Connection<JournalEntry>> {
    const f = args.filter ?? {};
    const qb = ctx.em.getRepository(JournalEntry).createQueryBuilder('e').where('e.tenant_id = :t', { t: ctx.tenantId });
    if (f.sourceId) qb.andWhere('e.source_id = :sourceId', { sourceId: f.sourceId });
    if (f.kind) qb.andWhere('e.kind = :kind', { kind: f.kind });
    if (f.from) qb.andWhere('e.posted_on >= CAST(:from AS date)', { from: f.from });
    if (f.to) qb.andWhere('e.posted_on <= CAST(:to AS date)', { to: f.to });
    if (f.account || f.invoiceId) {
      const conds = ['jl.entry_id = e.id', 'jl.tenant_id = :t', ...(f.account ? ['jl.account = :account'] : []), ...(f.invoiceId ? ['jl.invoice_id = :invoiceId'] : [])];
      qb.andWhere(`EXISTS (SELECT 1 FROM journal_lines jl WHERE ${conds.join(' AND ')})`, { account: f.account, invoiceId: f.invoiceId });
    }
    return keysetPage(qb, { sortExpr: 'e.entry_no', sortType: 'bigint', direction: 'DESC', idExpr: 'e.id', first: args.first, after: args.after, cursorOf: (e) => ({ k: e.entryNo, id: e.id }) });
  }

  linesLoader(ctx: RequestContext): DataLoader<string, JournalLine[]> {
    return ctx.loaders.get('journalLinesByEntry', () => new DataLoader<string, JournalLine[]>(async (ids) => {
      const rows = await ctx.em.getRepository(JournalLine).find({ where: { tenantId: ctx.tenantId, entryId: In([...ids]) }, order: { id: 'ASC' } });
      const by = new Map<string, JournalLine[]>();
      for (const r of rows) by.set(r.entryId, [...(by.get(r.entryId) ?? []), r]);
      return ids.map((id) => by.get(id) ?? []);
    }));
  }
}
