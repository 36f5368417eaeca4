import { editDistance, numberKeys, parseReferences, type ParsedReference } from './reference-parser';

/**
 * Matching and allocation as pure functions over bigint minor units: no database, no floats.
 * The service loads candidates, runs the tenant's ordered strategies here, and writes the result.
 */
export enum StrategyKind {
  BY_REFERENCE = 'BY_REFERENCE',
  EXACT_AMOUNT = 'EXACT_AMOUNT',
  OLDEST_FIRST = 'OLDEST_FIRST',
  PROPORTIONAL = 'PROPORTIONAL',
  CUSTOM = 'CUSTOM',
}

export interface StrategyRule {
  kind: StrategyKind;
  /** For CUSTOM: the name a TypeScript hook was registered under. */
  hook?: string | null;
}

export const DEFAULT_RULES: StrategyRule[] = [{ kind: StrategyKind.BY_REFERENCE }, { kind: StrategyKind.EXACT_AMOUNT }];

export interface OpenInvoice {
  id: string;
  customerId: string;
  number: string;
  dueDate: string;
  issueDate: string;
  currency: string;
  totalMinor: bigint;
  openMinor: bigint;
  reconciliationHold: boolean;
  /** The keys its number is known by, worked out on first use (`keysOf`); copies carry them along. */
  keys?: ParsedReference;
}

/** An invoice's number keys, computed once per invoice object. */
export function keysOf(inv: OpenInvoice): ParsedReference {
  return (inv.keys ??= numberKeys(inv.number));
}

export interface PaymentToMatch {
  id: string;
  currency: string;
  /** What is still unapplied. */
  amountMinor: bigint;
  remittanceText: string | null;
  refs: string[];
  customerId: string | null;
}

export interface Placement {
  invoiceId: string;
  amountMinor: bigint;
  rule: StrategyKind;
}

export interface Ambiguity {
  reason: 'AMOUNT_FIT' | 'REFERENCE';
  invoiceSets: string[][];
}

export type CustomStrategy = (input: { payment: PaymentToMatch; amountMinor: bigint; invoices: readonly OpenInvoice[] }) => Promise<{ invoiceId: string; amountMinor: bigint }[]>;

/** Caps on the subset-sum search of EXACT_AMOUNT: the payer's oldest 20 invoices, 200k steps. */
export const SUBSET_MAX_INVOICES = 20;
export const SUBSET_MAX_STEPS = 200_000;

/** Oldest first: due date, then issue date, number and id, compared as plain strings (the same order on every machine, whatever its locale). */
export function byAge(a: OpenInvoice, b: OpenInvoice): number {
  return cmp(a.dueDate, b.dueDate) || cmp(a.issueDate, b.issueDate) || cmp(a.number, b.number) || cmp(a.id, b.id);
}
const cmp = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);

/** Invoices an automatic rule may touch: open, same currency, and not waiting on usage reconciliation. */
export function eligible(invoices: readonly OpenInvoice[], currency: string): OpenInvoice[] {
  return invoices.filter((i) => i.openMinor > 0n && i.currency === currency && !i.reconciliationHold).sort(byAge);
}

/** Referenced invoices, in the order the remittance names them; a reference that fits two invoices is ambiguous. */
export function referencedInvoices(refs: ParsedReference[], invoices: readonly OpenInvoice[]): { found: OpenInvoice[]; ambiguous: string[][] } {
  const found: OpenInvoice[] = [];
  const ambiguous: string[][] = [];
  if (!refs.length || !invoices.length) return { found, ambiguous };
  for (const r of refs) {
    let hits = invoices.filter((i) => keysOf(i).full === r.full);
    if (hits.length === 0) hits = invoices.filter((i) => keysOf(i).digits === r.digits);
    if (hits.length === 1) {
      if (!found.includes(hits[0])) found.push(hits[0]);
    } else if (hits.length > 1) ambiguous.push(hits.map((h) => h.id));
  }
  return { found, ambiguous };
}

/** Pays each invoice in order up to its balance until the amount runs out. */
export function inOrder(amount: bigint, invoices: readonly OpenInvoice[], rule: StrategyKind): Placement[] {
  const out: Placement[] = [];
  let left = amount;
  for (const inv of invoices) {
    if (left <= 0n) break;
    const x = inv.openMinor < left ? inv.openMinor : left;
    if (x > 0n) out.push({ invoiceId: inv.id, amountMinor: x, rule });
    left -= x;
  }
  return out;
}

/**
 * Proportional to open balances with largest-remainder rounding: each share is floored, then
 * the cents left over go one each to the largest remainders (ties: oldest invoice first), so
 * every cent is placed. 100.00 over three equal balances = 33.34 + 33.33 + 33.33.
 */
export function proportional(amount: bigint, invoices: readonly OpenInvoice[]): Placement[] {
  const list = [...invoices].filter((i) => i.openMinor > 0n).sort(byAge);
  const total = list.reduce((s, i) => s + i.openMinor, 0n);
  if (total === 0n || amount <= 0n) return [];
  if (amount >= total) return list.map((i) => ({ invoiceId: i.id, amountMinor: i.openMinor, rule: StrategyKind.PROPORTIONAL }));
  const shares = list.map((inv, idx) => ({ inv, idx, share: (amount * inv.openMinor) / total, rem: (amount * inv.openMinor) % total }));
  let left = amount - shares.reduce((s, x) => s + x.share, 0n);
  const order = [...shares].sort((a, b) => (a.rem === b.rem ? a.idx - b.idx : a.rem > b.rem ? -1 : 1));
  for (const s of order) {
    if (left === 0n) break;
    if (s.share < s.inv.openMinor) {
      s.share += 1n;
      left -= 1n;
    }
  }
  return shares.filter((s) => s.share > 0n).map((s) => ({ invoiceId: s.inv.id, amountMinor: s.share, rule: StrategyKind.PROPORTIONAL }));
}

/**
 * Subsets of the oldest invoices whose balances sum exactly to `amount` (at most `want`).
 * Depth-first over balances sorted large to small with suffix-sum pruning, within a step budget.
 */
export function exactSubsets(amount: bigint, invoices: readonly OpenInvoice[], want = 2): { sets: OpenInvoice[][]; exhausted: boolean } {
  const pool = [...invoices].sort(byAge).slice(0, SUBSET_MAX_INVOICES).sort((a, b) => (a.openMinor === b.openMinor ? byAge(a, b) : a.openMinor > b.openMinor ? -1 : 1));
  const suffix: bigint[] = new Array(pool.length + 1).fill(0n);
  for (let i = pool.length - 1; i >= 0; i--) suffix[i] = suffix[i + 1] + pool[i].openMinor;
  const sets: OpenInvoice[][] = [];
  let steps = 0;
  let exhausted = false;
  const pick: OpenInvoice[] = [];
  const walk = (i: number, left: bigint): void => {
    if (sets.length >= want || exhausted) return;
    if (++steps > SUBSET_MAX_STEPS) {
      exhausted = true;
      return;
    }
    if (left === 0n) {
      sets.push([...pick]);
      return;
    }
    if (i >= pool.length || suffix[i] < left) return;
    if (pool[i].openMinor <= left) {
      pick.push(pool[i]);
      walk(i + 1, left - pool[i].openMinor);
      pick.pop();
    }
    walk(i + 1, left);
  };
  walk(0, amount);
  return { sets: sets.map((s) => s.sort(byAge)), exhausted };
}

export interface MatchResult {
  placements: Placement[];
  ambiguity: Ambiguity[];
  /** Referenced invoices that no automatic rule may pay (reconciliation hold). */
  heldReferences: string[];
}

/**
 * Runs the ordered strategies on what is still unapplied; each works on the remainder the
 * previous ones left, over the invoices they left open. A strategy that is not confident
 * places nothing and records why, for the suggestions.
 */
export async function matchPayment(
  payment: PaymentToMatch,
  invoices: readonly OpenInvoice[],
  rules: readonly StrategyRule[],
  custom: (name: string) => CustomStrategy | undefined = () => undefined,
): Promise<MatchResult> {
  const balance = new Map(invoices.map((i) => [i.id, i.openMinor]));
  const placements: Placement[] = [];
  const ambiguity: Ambiguity[] = [];
  let left = payment.amountMinor;
  const open = () =>
    eligible(
      invoices.map((i) => (balance.get(i.id) === i.openMinor ? i : { ...i, openMinor: balance.get(i.id)! })),
      payment.currency,
    );
  const place = (ps: Placement[]) => {
    for (const p of ps) {
      const b = balance.get(p.invoiceId);
      if (b === undefined || p.amountMinor <= 0n || p.amountMinor > b || p.amountMinor > left) throw new Error(`strategy ${p.rule} placed ${p.amountMinor} on ${p.invoiceId} beyond what is open or unapplied`);
      balance.set(p.invoiceId, b - p.amountMinor);
      left -= p.amountMinor;
      const same = placements.find((x) => x.invoiceId === p.invoiceId && x.rule === p.rule);
      if (same) same.amountMinor += p.amountMinor;
      else placements.push({ ...p });
    }
  };
  const refs = parseReferences(payment.remittanceText, payment.refs);
  const heldReferences = referencedInvoices(refs, invoices.filter((i) => i.reconciliationHold && i.openMinor > 0n)).found.map((i) => i.id);

  for (const rule of rules) {
    if (left <= 0n) break;
    const candidates = open();
    if (candidates.length === 0) break;
    switch (rule.kind) {
      case StrategyKind.BY_REFERENCE: {
        const r = referencedInvoices(refs, candidates);
        if (r.ambiguous.length) ambiguity.push({ reason: 'REFERENCE', invoiceSets: r.ambiguous });
        place(inOrder(left, r.found, StrategyKind.BY_REFERENCE));
        break;
      }
      case StrategyKind.EXACT_AMOUNT: {
        const single = candidates.filter((i) => i.openMinor === left);
        if (single.length === 1) {
          place([{ invoiceId: single[0].id, amountMinor: left, rule: StrategyKind.EXACT_AMOUNT }]);
          break;
        }
        if (single.length > 1) {
          ambiguity.push({ reason: 'AMOUNT_FIT', invoiceSets: single.map((i) => [i.id]) });
          break;
        }
        const { sets, exhausted } = exactSubsets(left, candidates);
        if (sets.length === 1 && !exhausted) place(sets[0].map((i) => ({ invoiceId: i.id, amountMinor: i.openMinor, rule: StrategyKind.EXACT_AMOUNT })));
        else if (sets.length) ambiguity.push({ reason: 'AMOUNT_FIT', invoiceSets: sets.map((s) => s.map((i) => i.id)) });
        break;
      }
      case StrategyKind.OLDEST_FIRST:
        place(inOrder(left, candidates, StrategyKind.OLDEST_FIRST));
        break;
      case StrategyKind.PROPORTIONAL:
        place(proportional(left, candidates));
        break;
      case StrategyKind.CUSTOM: {
        const fn = rule.hook ? custom(rule.hook) : undefined;
        if (!fn) throw new Error(`no payment strategy hook named ${rule.hook}`);
        const out = await fn({ payment, amountMinor: left, invoices: candidates });
        place(out.map((p) => ({ invoiceId: p.invoiceId, amountMinor: p.amountMinor, rule: StrategyKind.CUSTOM })));
        break;
      }
    }
  }
  return { placements, ambiguity, heldReferences };
}

export enum SuggestionReason {
  REFERENCE_SIMILARITY = 'REFERENCE_SIMILARITY',
  AMOUNT_FIT = 'AMOUNT_FIT',
  PAYER_HISTORY = 'PAYER_HISTORY',
}

export interface Suggestion {
  invoiceIds: string[];
  amountMinor: bigint;
  score: number;
  reason: SuggestionReason;
  detail: string;
}

/**
 * Ranked candidates for a person to accept: reference similarity (exact but ambiguous or held,
 * then one edit away), amount fit (one invoice or a combination equal to what is unapplied,
 * then near fits), and payer history (invoices of customers this payer paid for before).
 */
export function suggest(payment: PaymentToMatch, invoices: readonly OpenInvoice[], opts: { ambiguity: Ambiguity[]; historyCustomerIds?: ReadonlySet<string>; limit?: number }): Suggestion[] {
  const left = payment.amountMinor;
  const pool = invoices.filter((i) => i.openMinor > 0n && i.currency === payment.currency);
  const byId = new Map(pool.map((i) => [i.id, i]));
  const out = new Map<string, Suggestion>();
  const add = (ids: string[], score: number, reason: SuggestionReason, detail: string) => {
    const invs = ids.map((id) => byId.get(id)).filter((i): i is OpenInvoice => !!i).sort(byAge);
    if (!invs.length) return;
    const key = invs.map((i) => i.id).join(',');
    const open = invs.reduce((s, i) => s + i.openMinor, 0n);
    const amount = open < left ? open : left;
    if (amount <= 0n) return;
    const prev = out.get(key);
    if (!prev || prev.score < score) out.set(key, { invoiceIds: invs.map((i) => i.id), amountMinor: amount, score: Math.max(0, Math.min(100, score)), reason, detail });
  };
  const refs = parseReferences(payment.remittanceText, payment.refs);
  for (const inv of pool) {
    const k = keysOf(inv);
    for (const r of refs) {
      if (r.full === k.full || r.digits === k.digits) add([inv.id], inv.reconciliationHold ? 85 : 90, SuggestionReason.REFERENCE_SIMILARITY, `remittance names ${inv.number}${inv.reconciliationHold ? ' (on reconciliation hold)' : ''}`);
      else if (r.digits.length >= 3 && editDistance(r.digits, k.digits, 1) === 1) add([inv.id], 65, SuggestionReason.REFERENCE_SIMILARITY, `remittance "${r.full}" is one character from ${inv.number}`);
    }
  }
  for (const a of opts.ambiguity) {
    const n = a.invoiceSets.length;
    for (const set of a.invoiceSets) {
      const score = a.reason === 'AMOUNT_FIT' ? (set.length === 1 ? 80 : 70) - 5 * Math.min(n - 1, 4) : 75;
      add(set, score, a.reason === 'AMOUNT_FIT' ? SuggestionReason.AMOUNT_FIT : SuggestionReason.REFERENCE_SIMILARITY, a.reason === 'AMOUNT_FIT' ? `amount fits exactly (${n} equally good fits)` : `reference fits ${set.length} invoices`);
    }
  }
  for (const inv of pool) {
    if (inv.reconciliationHold) continue;
    const diff = inv.openMinor > left ? inv.openMinor - left : left - inv.openMinor;
    if (diff === 0n) add([inv.id], 78, SuggestionReason.AMOUNT_FIT, `open balance equals the unapplied amount`);
    else if (diff * 100n <= inv.openMinor) add([inv.id], 50, SuggestionReason.AMOUNT_FIT, `open balance within 1% of the unapplied amount`);
  }
  if (opts.historyCustomerIds?.size) {
    const hist = pool.filter((i) => opts.historyCustomerIds!.has(i.customerId) && !i.reconciliationHold).sort(byAge).slice(0, 3);
    hist.forEach((inv, n) => add([inv.id], 40 - n * 5, SuggestionReason.PAYER_HISTORY, `this payer paid for ${inv.number}'s customer before`));
  }
  return [...out.values()].sort((a, b) => b.score - a.score || a.invoiceIds.join().localeCompare(b.invoiceIds.join())).slice(0, opts.limit ?? 5);
}
