import type { DataSource } from 'typeorm';
import { bucketIndex } from '../../src/modules/aging/bucket-edges';
import { daysBetween } from '../../src/platform/time/dates';

/** A tenant's aging recomputed straight from the invoice table, per currency: the open balance in each bucket as of a day. */
export async function bucketsFromInvoices(db: DataSource, tenantId: string, asOf: string, edges: number[]): Promise<Map<string, bigint[]>> {
  const rows: { currency: string; due: string; open: string }[] = await db.query(
    `SELECT currency, to_char(due_date, 'YYYY-MM-DD') AS due, open_balance_minor::text AS open FROM invoices WHERE tenant_id = $1 AND status = 'OPEN' AND open_balance_minor > 0`,
    [tenantId],
  );
  const out = new Map<string, bigint[]>();
  for (const r of rows) {
    const b = out.get(r.currency) ?? Array(edges.length + 2).fill(0n);
    b[bucketIndex(daysBetween(r.due, asOf), edges)] += BigInt(r.open);
    out.set(r.currency, b);
  }
  return out;
}
