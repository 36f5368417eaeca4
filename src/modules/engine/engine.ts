import { daysBetween, type IsoDate } from '../../platform/time/dates';
import { parseDecimal } from '../../platform/money/money';
import type { DunningStep, EscalationTier, PolicyDefinition, StepConditions, TierCondition } from '../policies/policy-definition';
import type { CustomerSnapshot, Decision, Evaluation, InvoiceSnapshot, PolicyVersionRef, Reason, Suppression } from './engine.types';

/**
 * The dunning engine: a pure function of (customer snapshot, policy version, asOf). It imports
 * nothing from the database, so the daily run, a policy preview and a backtest share it.
 *
 * Rules, in order, per open invoice: suppression first (paid/closed, reconciliation hold,
 * customer pause, promise to pay, dispute), then the courtesy path for mostly-paid invoices,
 * then the latest step that is due and whose conditions hold — only that one, so an invoice
 * first seen late gets one reminder, never a burst of the ones it missed. Per customer:
 * the highest escalation tier whose entry conditions hold; entering it (and any tier skipped
 * on the way) yields its entry actions once.
 */
export function evaluateCustomer(snap: CustomerSnapshot, policy: { ref: PolicyVersionRef; def: PolicyDefinition }, asOf: IsoDate): Evaluation {
  const decisions: Decision[] = [];
  const suppressions: Suppression[] = [];
  const behaviour = behaviourOf(snap);
  const dunnable: { inv: InvoiceSnapshot; dpd: number; amountDue: bigint; courtesy: boolean }[] = [];

  for (const inv of snap.invoices) {
    const dpd = daysBetween(inv.dueDate, asOf);
    const held = suppressionOf(inv, snap, dpd, asOf);
    if (held) {
      suppressions.push(held);
      continue;
    }
    const disputed = disputedAmount(inv);
    const amountDue = inv.openBalanceMinor - disputed > 0n ? inv.openBalanceMinor - disputed : 0n;
    if (amountDue === 0n) {
      suppressions.push(suppress(inv, 'DISPUTED', 'suppress:dispute', { daysPastDue: dpd, disputedMinor: disputed.toString() }));
      continue;
    }
    const paidPercent = inv.totalMinor > 0n ? Number(((inv.totalMinor - inv.openBalanceMinor) * 10000n) / inv.totalMinor) / 100 : 0;
    const courtesy = paidPercent >= policy.def.courtesy.thresholdPercent;
    dunnable.push({ inv, dpd, amountDue, courtesy });
  }

  const tierEval = evaluateTiers(snap, policy, asOf, dunnable.filter((d) => !d.courtesy));
  decisions.push(...tierEval.decisions);
  const stopTier = policy.def.tiers.find((t) => t.stopsAutomatedReminders && t.level <= tierEval.tier);
  const personOnly = snap.pause?.kind === 'EXCLUSION' || (!!snap.tier && policy.def.personOnlyTiers.includes(snap.tier));

  for (const { inv, dpd, amountDue, courtesy } of dunnable) {
    if (stopTier && !courtesy) {
      suppressions.push(suppress(inv, 'ESCALATED_TO_PEOPLE', `tier:${stopTier.level}`, { daysPastDue: dpd, tier: tierEval.tier, tierName: stopTier.name }));
      continue;
    }
    const steps = courtesy ? policy.def.courtesy.steps : policy.def.steps;
    const facts = { daysPastDue: dpd, amountDueMinor: amountDue.toString(), currency: inv.currency, behaviour, path: courtesy ? 'COURTESY' : 'STANDARD' };
    const due = steps.filter((s) => s.offsetDays <= dpd);
    const eligible = due.filter((s) => conditionsHold(s.conditions, snap, inv, amountDue, behaviour));
    const latest = eligible[eligible.length - 1];
    if (!latest) {
      suppressions.push(suppress(inv, due.length ? 'CONDITIONS_NOT_MET' : 'NO_STEP_DUE', 'no-step', facts));
      continue;
    }
    // Once a step has gone out, earlier ones never do: the sequence only moves forward.
    const sentLaterOrSame =
      steps.some((s) => s.offsetDays >= latest.offsetDays && snap.existingKeys.has(stepKey(inv.id, policy.ref, s))) ||
      (snap.lastStepOffset?.get(inv.id) ?? -Infinity) >= latest.offsetDays;
    if (sentLaterOrSame) {
      suppressions.push(suppress(inv, 'ALREADY_SENT', `step:${latest.key}`, facts));
      continue;
    }
    decisions.push({
      kind: 'STEP',
      idempotencyKey: stepKey(inv.id, policy.ref, latest),
      invoiceId: inv.id,
      step: latest,
      path: courtesy ? 'COURTESY' : 'STANDARD',
      channels: latest.channels,
      mode: personOnly ? 'APPROVAL' : latest.mode,
      amountDueMinor: amountDue,
      currency: inv.currency,
      reason: {
        rule: `step:${latest.key} (offset ${latest.offsetDays >= 0 ? '+' : ''}${latest.offsetDays}d)`,
        facts: { ...facts, skippedSteps: due.filter((s) => s !== latest && !snap.existingKeys.has(stepKey(inv.id, policy.ref, s))).map((s) => s.key), ...(personOnly ? { routedToPerson: snap.pause?.kind === 'EXCLUSION' ? 'excluded account' : `tier ${snap.tier}` } : {}) },
      },
    });
  }
  return { decisions, suppressions, tier: tierEval.tier };
}

/**
 * The send-time re-check of one invoice: the same suppression rules as the evaluation, on
 * fresh state. Returns why it must not go out, or what is still due.
 */
export function recheckInvoice(snap: CustomerSnapshot, invoiceId: string, asOf: IsoDate): { suppressed: Suppression } | { amountDueMinor: bigint; invoice: InvoiceSnapshot } {
  const inv = snap.invoices.find((i) => i.id === invoiceId);
  if (!inv) return { suppressed: { invoiceId, code: 'PAID_OR_CLOSED', reason: { rule: 'suppress:closed', facts: { open: false } } } };
  const dpd = daysBetween(inv.dueDate, asOf);
  const held = suppressionOf(inv, snap, dpd, asOf);
  if (held) return { suppressed: held };
  const due = inv.openBalanceMinor - disputedAmount(inv);
  if (due <= 0n) return { suppressed: suppress(inv, 'DISPUTED', 'suppress:dispute', { daysPastDue: dpd }) };
  return { amountDueMinor: due, invoice: inv };
}

export function stepKey(invoiceId: string, ref: PolicyVersionRef, step: DunningStep): string {
  return `step:${invoiceId}:${ref.id}:${step.key}`;
}

export function tierKey(customerId: string, ref: PolicyVersionRef, level: number, actionIndex: number): string {
  return `tier:${customerId}:${ref.id}:${level}:${actionIndex}`;
}

function suppress(inv: InvoiceSnapshot, code: Suppression['code'], rule: string, facts: Reason['facts']): Suppression {
  return { invoiceId: inv.id, code, reason: { rule, facts } };
}

function suppressionOf(inv: InvoiceSnapshot, snap: CustomerSnapshot, dpd: number, asOf: IsoDate): Suppression | null {
  if (inv.status !== 'OPEN' || inv.openBalanceMinor <= 0n) return suppress(inv, 'PAID_OR_CLOSED', 'suppress:closed', { status: inv.status });
  if (inv.reconciliationHold) return suppress(inv, 'RECONCILIATION_HOLD', 'suppress:reconciliation-hold', { billingModel: inv.billingModel });
  if (snap.pause?.kind === 'PAUSE' && (!snap.pause.until || snap.pause.until >= asOf)) {
    return suppress(inv, 'CUSTOMER_PAUSED', 'suppress:customer-paused', { pauseReason: snap.pause.reason, pausedBy: snap.pause.by, until: snap.pause.until });
  }
  if (inv.promiseUntil && inv.promiseUntil >= asOf) return suppress(inv, 'PROMISE_TO_PAY', 'suppress:promise-to-pay', { promiseUntil: inv.promiseUntil, daysPastDue: dpd });
  if (inv.disputes.some((d) => d.lineIds.length === 0)) return suppress(inv, 'DISPUTED', 'suppress:dispute', { daysPastDue: dpd, wholeInvoice: true });
  return null;
}

/** Disputed line amounts (each line counted once), for line-level disputes. */
function disputedAmount(inv: InvoiceSnapshot): bigint {
  const lineIds = new Set(inv.disputes.flatMap((d) => d.lineIds));
  return inv.lines.filter((l) => lineIds.has(l.id)).reduce((s, l) => s + l.amountMinor, 0n);
}

export type Behaviour = 'FIRST_TIME_LATE' | 'OCCASIONALLY_LATE' | 'CHRONIC_LATE';

/** Chronic: 3+ late invoices in the last year; first-time: at most one (the current one). */
export function behaviourOf(snap: CustomerSnapshot): Behaviour {
  if (snap.history.lateInvoices >= 3) return 'CHRONIC_LATE';
  if (snap.history.lateInvoices <= 1) return 'FIRST_TIME_LATE';
  return 'OCCASIONALLY_LATE';
}

function amountAtLeast(minor: bigint, currency: string, min: { amount: string; currency: string }): boolean {
  if (currency !== min.currency) return false;
  const parsed = parseDecimal(min.amount, currency);
  return parsed.ok && minor >= parsed.minor;
}

function conditionsHold(c: StepConditions | undefined, snap: CustomerSnapshot, inv: InvoiceSnapshot, amountDue: bigint, behaviour: Behaviour): boolean {
  if (!c) return true;
  if (c.minOpenAmount && !amountAtLeast(amountDue, inv.currency, c.minOpenAmount)) return false;
  if (c.billingModels && !c.billingModels.includes(inv.billingModel)) return false;
  if (c.behaviour !== 'ANY' && c.behaviour !== behaviour) return false;
  if (c.segments && !(snap.segment && c.segments.includes(snap.segment))) return false;
  if (c.tiers && !(snap.tier && c.tiers.includes(snap.tier))) return false;
  if (c.countries && !(snap.country && c.countries.includes(snap.country))) return false;
  return true;
}

function evaluateTiers(
  snap: CustomerSnapshot,
  policy: { ref: PolicyVersionRef; def: PolicyDefinition },
  asOf: IsoDate,
  dunnable: { inv: InvoiceSnapshot; dpd: number; amountDue: bigint }[],
): { tier: number; decisions: Decision[] } {
  let reached: { tier: EscalationTier; group: number; facts: Reason['facts'] } | null = null;
  for (const tier of policy.def.tiers) {
    tier.entry.forEach((group, g) => {
      const facts = groupHolds(group, snap, asOf, dunnable);
      if (facts && (!reached || tier.level > reached.tier.level)) reached = { tier, group: g, facts };
    });
  }
  const hit = reached as { tier: EscalationTier; group: number; facts: Reason['facts'] } | null;
  const level = Math.max(snap.currentTier, hit?.tier.level ?? 0);
  if (!hit || hit.tier.level <= snap.currentTier) return { tier: dunnable.length ? level : 0, decisions: [] };
  const decisions: Decision[] = [];
  // Entering a tier also runs the entry actions of any tier skipped on the way.
  for (const tier of policy.def.tiers.filter((t) => t.level > snap.currentTier && t.level <= hit.tier.level)) {
    tier.actions.forEach((action, i) => {
      const key = tierKey(snap.id, policy.ref, tier.level, i);
      if (snap.existingKeys.has(key)) return;
      decisions.push({
        kind: 'TIER_ENTRY',
        idempotencyKey: key,
        tier: tier.level,
        tierName: tier.name,
        action,
        actionIndex: i,
        mode: action.requiresApproval ? 'APPROVAL' : 'AUTO',
        reason: { rule: `tier:${hit.tier.level} "${hit.tier.name}" entry group ${hit.group + 1}${tier !== hit.tier ? ` (passing tier ${tier.level})` : ''}`, facts: hit.facts },
      });
    });
  }
  return { tier: hit.tier.level, decisions };
}

/** The facts that make a condition group hold, or null. Tiers only apply to overdue accounts. */
function groupHolds(c: TierCondition, snap: CustomerSnapshot, asOf: IsoDate, dunnable: { inv: InvoiceSnapshot; dpd: number; amountDue: bigint }[]): Reason['facts'] | null {
  const minDpd = c.minDaysPastDue ?? 1;
  const late = dunnable.filter((d) => d.dpd >= minDpd);
  if (late.length === 0) return null;
  const facts: Reason['facts'] = { maxDaysPastDue: Math.max(...late.map((d) => d.dpd)), minDaysPastDue: minDpd };
  if (c.minInvoiceAmount) {
    const big = late.filter((d) => amountAtLeast(d.amountDue, d.inv.currency, c.minInvoiceAmount!));
    if (big.length === 0) return null;
    facts.invoice = big[0].inv.number;
    facts.invoiceAmountDueMinor = big[0].amountDue.toString();
    facts.minInvoiceAmount = `${c.minInvoiceAmount.amount} ${c.minInvoiceAmount.currency}`;
  }
  if (c.minOverdueTotal) {
    const total = dunnable.filter((d) => d.dpd >= 1 && d.inv.currency === c.minOverdueTotal!.currency).reduce((s, d) => s + d.amountDue, 0n);
    if (!amountAtLeast(total, c.minOverdueTotal.currency, c.minOverdueTotal)) return null;
    facts.overdueTotalMinor = total.toString();
  }
  if (c.customerTiers) {
    if (!snap.tier || !c.customerTiers.includes(snap.tier)) return null;
    facts.customerTier = snap.tier;
  }
  if (c.segments) {
    if (!snap.segment || !c.segments.includes(snap.segment)) return null;
    facts.segment = snap.segment;
  }
  if (c.minDisputes) {
    const disputes = snap.history.disputes;
    if (disputes < c.minDisputes) return null;
    facts.disputes = disputes;
  }
  if (c.minBrokenPromises) {
    if (snap.history.brokenPromises < c.minBrokenPromises) return null;
    facts.brokenPromises = snap.history.brokenPromises;
  }
  if (c.renewalWithinDays !== undefined) {
    if (!snap.renewalDate) return null;
    const days = daysBetween(asOf, snap.renewalDate);
    if (days < 0 || days > c.renewalWithinDays) return null;
    facts.daysToRenewal = days;
  }
  return facts;
}
