import type { EntityManager } from 'typeorm';
import { emitEvent } from '../../platform/events/event-bus';
import { AgingChangeReason } from './dto/aging.types';

export const AGING_CHANGED = 'aging.changed';
export interface AgingChangedPayload extends Record<string, unknown> {
  reason: AgingChangeReason;
}

/**
 * Tells every live aging report of the tenant (in every API process) that its figures may have
 * moved. Call it with the writing transaction's manager: the event goes out when that
 * transaction commits and never if it rolls back. Balance changes need no call (the
 * invoices.changed event covers them); collections-state changes that aging can filter on do:
 * pauses and exclusions (PAUSES), promises to pay opened, kept, broken or cancelled (PROMISES).
 */
export async function announceAgingChange(em: EntityManager, tenantId: string, reason: AgingChangeReason): Promise<void> {
  await emitEvent(em, { type: AGING_CHANGED, tenantId, payload: { reason } satisfies AgingChangedPayload });
}
