import type { ReconcileResult } from '../erp/erp-connector';

/**
 * The contract CRM connectors (HubSpot, Salesforce) implement: account facts that steer
 * collections flow in (owner, renewal date, tier, notes), activity logs flow out.
 */
export interface CrmAccount {
  /** The ERP customer id the CRM account is linked to. */
  customerExternalId: string;
  ownerEmail?: string | null;
  renewalDate?: string | null;
  tier?: string | null;
  notes?: string | null;
}

export interface CrmActivity {
  idempotencyKey: string;
  customerExternalId: string;
  subject: string;
  body: string;
  occurredAt: string;
}

export interface CrmConnector {
  readonly kind: string;
  check(): Promise<void>;
  pullAccounts(cursor: string | null, opts: { pageSize: number }): Promise<{ items: CrmAccount[]; nextCursor: string | null; hasMore: boolean }>;
  logActivity(activity: CrmActivity): Promise<{ remoteRef?: string | null }>;
  reconcileActivity(activity: CrmActivity): Promise<ReconcileResult>;
}
