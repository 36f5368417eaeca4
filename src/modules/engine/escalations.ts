import type { RequestContext } from '../../platform/context';
import { preparedQuery } from '../../platform/db/prepared';

export interface EscalationReset {
  customerId: string;
  /** The tier the customer stood at before the reset. */
  tier: number;
}

/**
 * The escalation ladder's counters (`customer_escalations`): the engine raises a customer's
 * tier and never lowers it while anything is open. `reset` drops the customers back to tier 0,
 * in the caller's transaction, so that their next evaluation starts from what the facts say now
 * (a tier whose entry actions already ran does not run them again: their action keys stay).
 */
export class DunningCounters {
  async reset(ctx: RequestContext, customerIds: string[]): Promise<EscalationReset[]> {
    if (!customerIds.length) return [];
    const rows = await preparedQuery<{ customer_id: string; tier: number }>(
      ctx.em,
      `DELETE FROM customer_escalations WHERE tenant_id = $1 AND customer_id = ANY($2::uuid[]) RETURNING customer_id, tier`,
      [ctx.tenantId, customerIds],
    );
    return rows.map((r) => ({ customerId: r.customer_id, tier: r.tier }));
  }
}
