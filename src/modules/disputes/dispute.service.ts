import { In } from 'typeorm';
import { inTransaction, type RequestContext } from '../../platform/context';
import { badInput, notFound } from '../../platform/errors';
import { parseDecimal } from '../../platform/money/money';
import type { AuditService } from '../audit/audit.service';
import { Dispute, DisputeReason, DisputeStatus } from './dispute.entity';

export interface OpenDisputeInput {
  invoiceId: string;
  lineIds?: string[] | null;
  reasonCode: DisputeReason;
  /** Decimal in the invoice currency; defaults to the disputed lines' total, or the open balance. */
  amount?: string | null;
  detail?: string | null;
}

/**
 * Line-level disputes: only what is disputed leaves dunning. (Routing, SLAs, nudges and
 * resolution paths are the worklists issue's; this is the part the engine needs.)
 */
export class DisputeService {
  /** Called after a dispute opens or closes, with the customer to re-evaluate (set by the composition root). */
  onChange: (ctx: RequestContext, customerIds: string[]) => void = () => undefined;

  constructor(private readonly audit: AuditService) {}

  async open(ctx: RequestContext, input: OpenDisputeInput): Promise<Dispute> {
    const lineIds = [...new Set(input.lineIds ?? [])];
    const dispute = await inTransaction(ctx, async (tx) => {
      const [inv] = /^[0-9a-f-]{36}$/i.test(input.invoiceId)
        ? await tx.em.query(`SELECT id, customer_id, currency, open_balance_minor, status FROM invoices WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, [ctx.tenantId, input.invoiceId])
        : [];
      if (!inv) throw notFound('Invoice', input.invoiceId, 'invoiceId');
      if (inv.status !== 'OPEN') throw badInput('invoiceId', `the invoice is ${inv.status}`, 'INVOICE_NOT_OPEN');
      let amount = BigInt(inv.open_balance_minor);
      if (lineIds.length) {
        if (!lineIds.every((id) => /^[0-9a-f-]{36}$/i.test(id))) throw badInput('lineIds', 'must be line ids of this invoice', 'UNKNOWN_LINE');
        const lines: { id: string; amount_minor: string }[] = await tx.em.query(`SELECT id, amount_minor FROM invoice_lines WHERE tenant_id = $1 AND invoice_id = $2 AND id = ANY($3::uuid[])`, [ctx.tenantId, inv.id, lineIds]);
        if (lines.length !== lineIds.length) throw badInput('lineIds', 'every line must belong to this invoice', 'UNKNOWN_LINE');
        amount = lines.reduce((s, l) => s + BigInt(l.amount_minor), 0n);
      }
      if (input.amount) {
        const r = parseDecimal(input.amount, inv.currency);
        if (!r.ok) throw badInput('amount', r.message, 'INVALID_AMOUNT');
        if (r.minor <= 0n) throw badInput('amount', 'must be positive', 'INVALID_AMOUNT');
        if (r.minor > BigInt(inv.open_balance_minor)) throw badInput('amount', 'cannot exceed the open balance', 'INVALID_AMOUNT');
        amount = r.minor;
      }
      const d = await tx.em.getRepository(Dispute).save({
        tenantId: ctx.tenantId,
        customerId: inv.customer_id,
        invoiceId: inv.id,
        lineIds,
        reasonCode: input.reasonCode,
        amountMinor: amount,
        currency: inv.currency,
        detail: input.detail?.trim() || null,
        status: DisputeStatus.OPEN,
        openedBy: ctx.actor.id,
        openedAt: new Date(),
      });
      await this.audit.record(tx, { action: 'dispute.opened', subjectType: 'Invoice', subjectId: inv.id, data: { disputeId: d.id, lineIds, reasonCode: input.reasonCode, amountMinor: amount.toString() } });
      return d;
    });
    this.onChange(ctx, [dispute.customerId]);
    return dispute;
  }

  async resolve(ctx: RequestContext, id: string, resolution: string): Promise<Dispute> {
    const d = await inTransaction(ctx, async (tx) => {
      const repo = tx.em.getRepository(Dispute);
      const found = /^[0-9a-f-]{36}$/i.test(id) ? await repo.findOneBy({ tenantId: ctx.tenantId, id }) : null;
      if (!found) throw notFound('Dispute', id, 'id');
      if (found.status === DisputeStatus.RESOLVED) throw badInput('id', 'this dispute is already resolved', 'ALREADY_RESOLVED');
      found.status = DisputeStatus.RESOLVED;
      found.resolution = resolution;
      found.resolvedAt = new Date();
      await repo.save(found);
      await this.audit.record(tx, { action: 'dispute.resolved', subjectType: 'Invoice', subjectId: found.invoiceId, data: { disputeId: id, resolution } });
      return found;
    });
    this.onChange(ctx, [d.customerId]);
    return d;
  }

  list(ctx: RequestContext, filter: { invoiceId?: string | null; customerId?: string | null; status?: DisputeStatus[] | null }): Promise<Dispute[]> {
    return ctx.em.getRepository(Dispute).find({
      where: {
        tenantId: ctx.tenantId,
        ...(filter.invoiceId ? { invoiceId: filter.invoiceId } : {}),
        ...(filter.customerId ? { customerId: filter.customerId } : {}),
        ...(filter.status?.length ? { status: In(filter.status) } : {}),
      },
      order: { openedAt: 'DESC' },
      take: 500,
    });
  }
}
