import type { IsoDate } from '../../platform/time/dates';
import type { DunningStep, StepChannel, TierAction } from '../policies/policy-definition';

/** Everything the engine may know about one customer on one day: plain data, no database. */
export interface CustomerSnapshot {
  id: string;
  segment: string | null;
  tier: string | null;
  country: string | null;
  ownerUserId: string | null;
  renewalDate: IsoDate | null;
  /**
   * Active pause or exclusion (reason, who, until; `until` null = until resumed). A PAUSE stops
   * outreach; an EXCLUSION takes the account out of automation: every action waits for a person.
   */
  pause: { kind: 'PAUSE' | 'EXCLUSION'; reason: string; by: string; until: IsoDate | null } | null;
  invoices: InvoiceSnapshot[];
  history: {
    /** Invoices paid more than 15 days late, or still open 30+ days past due, over the last 365 days. */
    lateInvoices: number;
    disputes: number;
    brokenPromises: number;
  };
  /** Highest escalation tier already entered under the policy version being evaluated (0 = none). */
  currentTier: number;
  /** Idempotency keys of actions that already exist, whatever their status. */
  existingKeys: ReadonlySet<string>;
  /**
   * Highest step offset already sent or planned per invoice under any version of any policy:
   * publishing a new version continues the sequence instead of repeating the latest step.
   */
  lastStepOffset?: ReadonlyMap<string, number>;
}

export interface InvoiceSnapshot {
  id: string;
  number: string;
  status: 'OPEN' | 'PAID' | 'VOID' | 'WRITTEN_OFF';
  currency: string;
  totalMinor: bigint;
  openBalanceMinor: bigint;
  issueDate: IsoDate;
  dueDate: IsoDate;
  billingModel: 'SUBSCRIPTION' | 'USAGE' | 'SERVICES';
  reconciliationHold: boolean;
  lines: { id: string; amountMinor: bigint }[];
  /** Open disputes: whole invoice, or some lines with the disputed amount. */
  disputes: { id: string; lineIds: string[]; amountMinor: bigint }[];
  /** An open promise to pay covering this invoice pauses it until `until` (promise date + grace). */
  promiseUntil: IsoDate | null;
}

export interface PolicyVersionRef {
  id: string;
  version: number;
}

export interface Reason {
  /** Which rule fired, e.g. `step:overdue-3` or `tier:2 group 1`, or why it was held back. */
  rule: string;
  /** The facts that made it fire: days past due, amounts, conditions met. */
  facts: Record<string, string | number | boolean | null | string[]>;
}

export type Decision =
  | {
      kind: 'STEP';
      idempotencyKey: string;
      invoiceId: string;
      step: DunningStep;
      path: 'STANDARD' | 'COURTESY';
      channels: StepChannel[];
      mode: 'AUTO' | 'APPROVAL';
      /** What the customer still owes on this invoice outside disputes. */
      amountDueMinor: bigint;
      currency: string;
      reason: Reason;
    }
  | {
      kind: 'TIER_ENTRY';
      idempotencyKey: string;
      tier: number;
      tierName: string;
      action: TierAction;
      actionIndex: number;
      mode: 'AUTO' | 'APPROVAL';
      reason: Reason;
    };

export type SuppressionCode = 'PAID_OR_CLOSED' | 'DISPUTED' | 'PROMISE_TO_PAY' | 'RECONCILIATION_HOLD' | 'CUSTOMER_PAUSED' | 'NOTHING_DUE' | 'ESCALATED_TO_PEOPLE' | 'ALREADY_SENT' | 'NO_STEP_DUE' | 'CONDITIONS_NOT_MET';

export interface Suppression {
  invoiceId: string;
  code: SuppressionCode;
  reason: Reason;
}

export interface Evaluation {
  decisions: Decision[];
  suppressions: Suppression[];
  /** Tier the customer is in after this evaluation. */
  tier: number;
}
