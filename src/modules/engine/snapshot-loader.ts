import { groupBy } from '../../platform/collections';
import type { RequestContext } from '../../platform/context';
import { isoDate } from '../../platform/db/sql';
import { addDays, type IsoDate } from '../../platform/time/dates';
import type { CustomerSnapshot, InvoiceSnapshot } from './engine.types';

export interface LoadedCustomer extends Omit<CustomerSnapshot, 'currentTier' | 'existingKeys' | 'lastStepOffset'> {
  lastStepOffset: Map<string, number>;
  /** Escalation state: tier entered under which policy version. */
  escalation: { versionId: string; tier: number } | null;
  keys: Set<string>;
}


/**
 * Loads everything the engine needs for a batch of customers in a fixed number of
 * set-based queries (no per-customer or per-invoice round trips).
 */
/** A customers row as the engine reads it (renewal_date as YYYY-MM-DD). */
export interface CustomerFactsRow {
  id: string;
  segment: string | null;
  tier: string | null;
  country: string | null;
  owner_user_id: string | null;
  renewal_date: string | null;
}

/** The engine's facts of a customer, from its row (shared with the backtest's replay). */
export function customerFacts(c: CustomerFactsRow): Pick<CustomerSnapshot, 'id' | 'segment' | 'tier' | 'country' | 'ownerUserId' | 'renewalDate'> {
  return { id: c.id, segment: c.segment, tier: c.tier, country: c.country, ownerUserId: c.owner_user_id, renewalDate: c.renewal_date };
}

export async function loadSnapshots(ctx: RequestContext, customerIds: string[], asOf: IsoDate, versionIds: string[]): Promise<LoadedCustomer[]> {
  if (customerIds.length === 0) return [];
  const t = ctx.tenantId;
  const q = <T>(sql: string, params: unknown[]) => ctx.em.query(sql, params) as Promise<T[]>;
  const yearAgo = addDays(asOf, -365);
  // Sequential on purpose: inside a transaction all queries share one connection.
  const customers = await q<CustomerFactsRow>(
      `SELECT id, segment, tier, country, owner_user_id, ${isoDate('renewal_date')} AS renewal_date FROM customers WHERE tenant_id = $1 AND id = ANY($2::uuid[]) ORDER BY id`,
      [t, customerIds],
    );
  // Open invoices, and in the same pass over each customer's invoices the late-payment history
  // (invoices paid more than 15 days late, or open 30+ days past due, due in the last year):
  // every heap page of the customer's invoices is read once, not twice. The count rides on the
  // open rows: it only matters to a customer with something open.
  const invoices = await q<{ id: string; customer_id: string; number: string; status: string; currency: string; total_minor: string; open_balance_minor: string; issue_date: string; due_date: string; billing_model: string; reconciliation_hold: boolean; late: number }>(
      `SELECT id, customer_id, number, status, currency, total_minor, open_balance_minor, ${isoDate('issue_date')} AS issue_date, ${isoDate('due_date')} AS due_date, billing_model, reconciliation_hold, late
       FROM (SELECT id, customer_id, number, status, currency, total_minor, open_balance_minor, issue_date, due_date, billing_model, reconciliation_hold,
                    status = 'OPEN' AND open_balance_minor > 0 AS open,
                    (count(*) FILTER (WHERE due_date >= $3::date AND ((closed_on IS NOT NULL AND closed_on - due_date > 15) OR (status = 'OPEN' AND open_balance_minor > 0 AND $4::date - due_date >= 30)))
                       OVER (PARTITION BY customer_id))::int AS late
             FROM invoices WHERE tenant_id = $1 AND customer_id = ANY($2::uuid[]) AND ((status = 'OPEN' AND open_balance_minor > 0) OR due_date >= $3::date)) x
       WHERE open ORDER BY x.due_date, x.id`,
      [t, customerIds, yearAgo, asOf],
    );
  const disputes = await q<{ id: string; customer_id: string; invoice_id: string; line_ids: string[]; amount_minor: string; open: boolean; recent: boolean }>(
      // Suggested disputes wait for a person and pause nothing; dismissed ones never counted.
      `SELECT id, customer_id, invoice_id, line_ids, amount_minor, status IN ('OPEN','AWAITING_CUSTOMER','UNDER_REVIEW') AS open, opened_at >= $3::date AS recent
       FROM disputes WHERE tenant_id = $1 AND customer_id = ANY($2::uuid[]) AND status NOT IN ('SUGGESTED','DISMISSED')
         AND (status <> 'RESOLVED' OR opened_at >= $3::date)`,
      [t, customerIds, yearAgo],
    );
  const promises = await q<{ customer_id: string; invoice_ids: string[]; until: string; status: string }>(
      `SELECT customer_id, invoice_ids, ${isoDate("promised_date + grace_days * interval '1 day'")} AS until, status
       FROM promises_to_pay WHERE tenant_id = $1 AND customer_id = ANY($2::uuid[]) AND (status = 'OPEN' OR (status = 'BROKEN' AND created_at >= $3::date))`,
      [t, customerIds, yearAgo],
    );
  const pauses = await q<{ customer_id: string; kind: 'PAUSE' | 'EXCLUSION'; reason: string; created_by: string; until: string | null }>(
      `SELECT customer_id, kind, reason, created_by, ${isoDate('until')} AS until FROM dunning_pauses WHERE tenant_id = $1 AND customer_id = ANY($2::uuid[]) AND ended_at IS NULL`,
      [t, customerIds],
    );
  const escalations = await q<{ customer_id: string; policy_version_id: string; tier: number }>(`SELECT customer_id, policy_version_id, tier FROM customer_escalations WHERE tenant_id = $1 AND customer_id = ANY($2::uuid[])`, [t, customerIds]);
  const keys: { customer_id: string; idempotency_key: string }[] = !versionIds.length
    ? []
    : await q<{ customer_id: string; idempotency_key: string }>(
          `SELECT customer_id, idempotency_key FROM actions WHERE tenant_id = $1 AND customer_id = ANY($2::uuid[]) AND policy_version_id = ANY($3::uuid[])`,
          [t, customerIds, versionIds],
        );
  const offsets = await q<{ invoice_id: string; max: number }>(
      `SELECT invoice_id, max(step_offset)::int AS max FROM actions
       WHERE tenant_id = $1 AND customer_id = ANY($2::uuid[]) AND kind = 'STEP' AND status NOT IN ('CANCELLED','SUPPRESSED','FAILED') GROUP BY invoice_id`,
      [t, customerIds],
    );
  const offsetBy = new Map(offsets.map((o) => [o.invoice_id, o.max]));

  const linesNeeded = [...new Set(disputes.filter((d) => d.open && d.line_ids.length > 0).map((d) => d.invoice_id))];
  const lines = linesNeeded.length
    ? await q<{ id: string; invoice_id: string; amount_minor: string }>(`SELECT id, invoice_id, amount_minor FROM invoice_lines WHERE tenant_id = $1 AND invoice_id = ANY($2::uuid[])`, [t, linesNeeded])
    : [];

  const invByCustomer = groupBy(invoices, (i) => i.customer_id);
  const disputesByInvoice = groupBy(disputes.filter((d) => d.open), (d) => d.invoice_id);
  const disputeCount = groupBy(disputes.filter((d) => d.recent), (d) => d.customer_id);
  const linesByInvoice = groupBy(lines, (l) => l.invoice_id);
  const promisesByCustomer = groupBy(promises, (p) => p.customer_id);
  const pauseBy = new Map(pauses.map((p) => [p.customer_id, p]));
  const lateBy = new Map(invoices.map((i) => [i.customer_id, i.late]));
  const escBy = new Map(escalations.map((e) => [e.customer_id, e]));
  const keysBy = groupBy(keys, (k) => k.customer_id);

  return customers.map((c) => {
    const promiseRows = promisesByCustomer.get(c.id) ?? [];
    const open = promiseRows.filter((p) => p.status === 'OPEN');
    const promiseUntil = (invoiceId: string) => open.filter((p) => p.invoice_ids.includes(invoiceId)).reduce<string | null>((m, p) => (m === null || p.until > m ? p.until : m), null);
    const invs: InvoiceSnapshot[] = (invByCustomer.get(c.id) ?? []).map((i) => ({
      id: i.id,
      number: i.number,
      status: i.status as InvoiceSnapshot['status'],
      currency: i.currency,
      totalMinor: BigInt(i.total_minor),
      openBalanceMinor: BigInt(i.open_balance_minor),
      issueDate: i.issue_date,
      dueDate: i.due_date,
      billingModel: i.billing_model as InvoiceSnapshot['billingModel'],
      reconciliationHold: i.reconciliation_hold,
      lines: (linesByInvoice.get(i.id) ?? []).map((l) => ({ id: l.id, amountMinor: BigInt(l.amount_minor) })),
      disputes: (disputesByInvoice.get(i.id) ?? []).map((d) => ({ id: d.id, lineIds: d.line_ids, amountMinor: BigInt(d.amount_minor) })),
      promiseUntil: promiseUntil(i.id),
    }));
    const pause = pauseBy.get(c.id);
    const esc = escBy.get(c.id);
    return {
      ...customerFacts(c),
      pause: pause ? { kind: pause.kind, reason: pause.reason, by: pause.created_by, until: pause.until } : null,
      invoices: invs,
      history: {
        lateInvoices: lateBy.get(c.id) ?? 0,
        disputes: (disputeCount.get(c.id) ?? []).length,
        brokenPromises: promiseRows.filter((p) => p.status === 'BROKEN').length,
      },
      escalation: esc ? { versionId: esc.policy_version_id, tier: esc.tier } : null,
      keys: new Set((keysBy.get(c.id) ?? []).map((k) => k.idempotency_key)),
      lastStepOffset: new Map(invs.filter((i) => offsetBy.has(i.id)).map((i) => [i.id, offsetBy.get(i.id)!])),
    };
  });
}
