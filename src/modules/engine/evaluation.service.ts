import { inTransaction, type RequestContext } from '../../platform/context';
import { chunks, unnestSource, type BulkColumn } from '../../platform/db/bulk';
import type { IsoDate } from '../../platform/time/dates';
import type { PolicyBook, PolicyService } from '../policies/policy.service';
import { evaluateCustomer } from './engine';
import type { Decision, Evaluation } from './engine.types';
import { EvaluationRun } from './evaluation-run.entity';
import { loadSnapshots, type LoadedCustomer } from './snapshot-loader';

export const EVALUATION_BATCH = 500;
/** Batches of one run evaluated at the same time, each on its own connection. */
export const EVALUATION_CONCURRENCY = 2;

export type Trigger = 'DAILY' | 'EVENT' | 'MANUAL';

export interface BatchOutcome {
  customers: number;
  invoices: number;
  actionsCreated: number;
  outcomes: Record<string, number>;
}

interface ActionRow {
  key: string;
  customerId: string;
  invoiceId: string | null;
  versionId: string;
  runId: string | null;
  kind: 'STEP' | 'TIER_ENTRY';
  stepKey: string | null;
  stepOffset: number | null;
  tier: number | null;
  actionType: string | null;
  channels: string[];
  templateKey: string | null;
  mode: 'AUTO' | 'APPROVAL';
  status: 'PLANNED' | 'AWAITING_APPROVAL';
  reason: unknown;
  amountDueMinor: bigint | null;
  currency: string | null;
  scheduledFor: IsoDate;
  packet: unknown;
}

/** Columns of `actions` written by the evaluation, with their types in the JSON rows. */
const actionRecordColumns: [string, string][] = [
  ['idempotency_key', 'text'],
  ['customer_id', 'uuid'],
  ['invoice_id', 'uuid'],
  ['policy_version_id', 'uuid'],
  ['evaluation_run_id', 'uuid'],
  ['kind', 'text'],
  ['step_key', 'text'],
  ['step_offset', 'int'],
  ['tier', 'int'],
  ['action_type', 'text'],
  ['channels', 'text[]'],
  ['template_key', 'text'],
  ['mode', 'text'],
  ['status', 'text'],
  ['reason', 'jsonb'],
  ['amount_due_minor', 'bigint'],
  ['currency', 'text'],
  ['scheduled_for', 'date'],
  ['packet', 'jsonb'],
];

const actionRecord = (r: ActionRow) => ({
  idempotency_key: r.key,
  customer_id: r.customerId,
  invoice_id: r.invoiceId,
  policy_version_id: r.versionId,
  evaluation_run_id: r.runId,
  kind: r.kind,
  step_key: r.stepKey,
  step_offset: r.stepOffset,
  tier: r.tier,
  action_type: r.actionType,
  channels: r.channels,
  template_key: r.templateKey,
  mode: r.mode,
  status: r.status,
  reason: r.reason,
  // bigint travels as a decimal string, read back exactly by the bigint column.
  amount_due_minor: r.amountDueMinor === null ? null : r.amountDueMinor.toString(),
  currency: r.currency,
  scheduled_for: r.scheduledFor,
  packet: r.packet,
});

/** Builds the approval packet for decisions that wait for a person (set by the composition root). */
export type PacketBuilder = (ctx: RequestContext, items: { customer: LoadedCustomer; decision: Decision }[], asOf: IsoDate) => Promise<Record<string, unknown>[]>;

/**
 * Runs the pure engine over the book and persists its decisions as actions: set-based loads
 * per batch of customers, one insert per batch with ON CONFLICT DO NOTHING on the idempotency
 * key, so reruns, retries and crashes never create a second action.
 */
export class EvaluationService {
  packetBuilder: PacketBuilder = async (_ctx, items) => items.map(() => ({}));
  /**
   * Other modules' daily decisions for the same customers (e.g. dispute nudges), run in each
   * batch's transaction; each returns the actions it created.
   */
  readonly batchHooks: ((tx: RequestContext, b: { customerIds: string[]; asOf: IsoDate; runId: string | null }) => Promise<number>)[] = [];
  /**
   * What must settle before a day is evaluated, e.g. promises to pay judged as of that day (so a
   * promise broken today counts toward escalation today); set by the composition root.
   */
  beforeEvaluation: ((ctx: RequestContext, asOf: IsoDate, customerIds?: string[]) => Promise<void>)[] = [];

  async prepare(ctx: RequestContext, asOf: IsoDate, customerIds?: string[]): Promise<void> {
    for (const hook of this.beforeEvaluation) await hook(ctx, asOf, customerIds);
  }

  constructor(private readonly policies: PolicyService) {}

  async startRun(ctx: RequestContext, asOf: IsoDate, trigger: Trigger, batches: number): Promise<string> {
    const [row] = await ctx.em.query(`INSERT INTO evaluation_runs (tenant_id, as_of, trigger, pending_batches) VALUES ($1, $2, $3, $4) RETURNING id`, [ctx.tenantId, asOf, trigger, batches]);
    if (batches === 0) await this.finishIfDone(ctx, row.id);
    return row.id;
  }

  /** Customers with something open, in id order: the units of a run. */
  async customerBatches(ctx: RequestContext, size = EVALUATION_BATCH): Promise<string[][]> {
    const rows: { customer_id: string }[] = await ctx.em.query(
      `SELECT DISTINCT customer_id FROM invoices WHERE tenant_id = $1 AND status = 'OPEN' AND open_balance_minor > 0 ORDER BY customer_id`,
      [ctx.tenantId],
    );
    return chunks(
      rows.map((r) => r.customer_id),
      size,
    );
  }

  /** A whole run in this process (manual runs, replays, events, tests). */
  async run(ctx: RequestContext, opts: { asOf: IsoDate; trigger: Trigger; customerIds?: string[] }): Promise<EvaluationRun> {
    await this.prepare(ctx, opts.asOf, opts.customerIds);
    const batches = opts.customerIds ? chunks(opts.customerIds, EVALUATION_BATCH) : await this.customerBatches(ctx);
    const runId = await this.startRun(ctx, opts.asOf, opts.trigger, batches.length);
    const book = await this.policies.book(ctx, opts.asOf);
    try {
      // Batches are independent (disjoint customers, one transaction each): a few run at once,
      // so the engine works on one batch while PostgreSQL loads or writes another. Inside a
      // caller's transaction there is one connection, so they go one by one.
      let next = 0;
      let failed = false;
      const worker = async () => {
        while (!failed && next < batches.length) {
          const i = next++;
          try {
            await this.evaluateBatch(ctx, { runId, batchNo: i, asOf: opts.asOf, customerIds: batches[i], book });
          } catch (err) {
            failed = true;
            throw err;
          }
        }
      };
      const workers = ctx.inTransaction ? 1 : Math.min(EVALUATION_CONCURRENCY, batches.length);
      const results = await Promise.allSettled(Array.from({ length: workers }, worker));
      const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (rejected) throw rejected.reason;
    } catch (err) {
      await ctx.em.query(`UPDATE evaluation_runs SET status = 'FAILED', error = $2, finished_at = now() WHERE id = $1`, [runId, String(err).slice(0, 2000)]);
      throw err;
    }
    if (!opts.customerIds) await this.resetSettledEscalations(ctx);
    return (await ctx.em.getRepository(EvaluationRun).findOneBy({ id: runId }))!;
  }

  /**
   * Evaluates one batch and writes its actions and its share of the run counts in one
   * transaction; a batch delivered twice (retry after a crash) counts once and writes nothing new.
   */
  async evaluateBatch(ctx: RequestContext, b: { runId: string | null; batchNo: number; asOf: IsoDate; customerIds: string[]; book?: PolicyBook }): Promise<BatchOutcome> {
    const book = b.book ?? (await this.policies.book(ctx, b.asOf));
    const versionIds = [...book.live.values()].map((l) => l.versionId);
    return inTransaction(ctx, async (tx) => {
      if (b.runId) {
        const [first] = await tx.em.query(`INSERT INTO evaluation_run_batches (tenant_id, run_id, batch_no) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING batch_no`, [ctx.tenantId, b.runId, b.batchNo]);
        if (!first) return { customers: 0, invoices: 0, actionsCreated: 0, outcomes: {} };
      }
      const snapshots = await loadSnapshots(tx, b.customerIds, b.asOf, versionIds);
      const outcome: BatchOutcome = { customers: snapshots.length, invoices: 0, actionsCreated: 0, outcomes: {} };
      const count = (k: string) => (outcome.outcomes[k] = (outcome.outcomes[k] ?? 0) + 1);
      const decided: { snap: LoadedCustomer; d: Decision; versionId: string; policyReason: string }[] = [];
      const tiers: { customerId: string; versionId: string; tier: number }[] = [];
      for (const snap of snapshots) {
        outcome.invoices += snap.invoices.length;
        const pick = book.resolve(snap);
        if (!pick) {
          count('no-policy');
          continue;
        }
        const currentTier = snap.escalation?.versionId === pick.live.versionId ? snap.escalation.tier : 0;
        const ev: Evaluation = evaluateCustomer({ ...snap, currentTier, existingKeys: snap.keys, lastStepOffset: snap.lastStepOffset }, { ref: { id: pick.live.versionId, version: pick.live.version }, def: pick.live.definition }, b.asOf);
        ev.suppressions.forEach((s) => count(`suppressed:${s.code}`));
        if (ev.tier !== currentTier) tiers.push({ customerId: snap.id, versionId: pick.live.versionId, tier: ev.tier });
        for (const d of ev.decisions) {
          count(d.kind === 'STEP' ? `step:${d.step.key}` : `tier:${d.tier}:${d.action.type}`);
          decided.push({ snap, d, versionId: pick.live.versionId, policyReason: pick.reason });
        }
      }
      // Approval packets for the whole batch at once (their prior outreach is one query).
      const waiting = decided.filter((x) => x.d.mode === 'APPROVAL');
      const packets = new Map(waiting.map((x, i) => [x, i]));
      const built = await this.packetBuilder(tx, waiting.map((x) => ({ customer: x.snap, decision: x.d })), b.asOf);
      const rows: ActionRow[] = decided.map((x) => toActionRow(x.d, x.snap.id, x.versionId, b.runId, b.asOf, packets.has(x) ? built[packets.get(x)!] : null, x.policyReason));
      outcome.actionsCreated = await this.insertActions(tx, rows);
      for (const hook of this.batchHooks) outcome.actionsCreated += await hook(tx, { customerIds: b.customerIds, asOf: b.asOf, runId: b.runId });
      await this.saveTiers(tx, tiers, b.asOf);
      if (b.runId) await this.addToRun(tx, b.runId, outcome);
      return outcome;
    }).then(async (o) => {
      if (b.runId) await this.finishIfDone(ctx, b.runId);
      return o;
    });
  }

  /**
   * The batch's actions in statements of up to 1,000 rows, the rows as one JSON document: one
   * native JSON.stringify here instead of an array parameter per column escaped element by
   * element by the driver (about a fifth of this process's CPU in a run with approval packets
   * of a few kB each; see docs/decisions/012-evaluation-benchmark.md).
   */
  private async insertActions(ctx: RequestContext, rows: ActionRow[]): Promise<number> {
    let created = 0;
    for (const part of chunks(rows, 1000)) {
      const doc = JSON.stringify(part.map(actionRecord));
      const [{ n }]: { n: number }[] = await ctx.em.query(
        `WITH ins AS (
           INSERT INTO actions (tenant_id, ${actionRecordColumns.map(([c]) => c).join(', ')})
           SELECT $1, ${actionRecordColumns.map(([c]) => `v.${c}`).join(', ')}
           FROM json_to_recordset($2::json) AS v(${actionRecordColumns.map(([c, t]) => `${c} ${t}`).join(', ')})
           ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
           RETURNING id, idempotency_key, customer_id, invoice_id, kind, step_key, tier, action_type, status, reason, scheduled_for, amount_due_minor, currency, evaluation_run_id),
         -- Every decision the engine makes is audited, in the same statement, with the rule as the actor.
         aud AS (
           INSERT INTO audit_events (tenant_id, actor_kind, actor_id, action, subject_type, subject_id, data, request_id)
           SELECT $1, 'rule', left(COALESCE(ins.reason->>'rule', 'engine'), 64), 'engine.action_planned',
                  CASE WHEN ins.invoice_id IS NULL THEN 'Customer' ELSE 'Invoice' END, COALESCE(ins.invoice_id, ins.customer_id)::text,
                  jsonb_build_object('actionId', ins.id, 'idempotencyKey', ins.idempotency_key, 'kind', ins.kind, 'stepKey', ins.step_key, 'tier', ins.tier,
                    'actionType', ins.action_type, 'status', ins.status, 'scheduledFor', ins.scheduled_for, 'amountDueMinor', ins.amount_due_minor::text,
                    'currency', ins.currency, 'runId', ins.evaluation_run_id, 'reason', ins.reason->>'rule', 'facts', ins.reason->'facts'),
                  $3
           FROM ins)
         SELECT count(*)::int AS n FROM ins`,
        [ctx.tenantId, doc, ctx.requestId],
      );
      created += n;
    }
    return created;
  }

  private async saveTiers(ctx: RequestContext, tiers: { customerId: string; versionId: string; tier: number }[], asOf: IsoDate): Promise<void> {
    if (!tiers.length) return;
    const cols: BulkColumn<(typeof tiers)[number]>[] = [
      { name: 'customer_id', type: 'uuid', value: (r) => r.customerId },
      { name: 'policy_version_id', type: 'uuid', value: (r) => r.versionId },
      { name: 'tier', type: 'int', value: (r) => r.tier },
    ];
    const src = unnestSource(cols, tiers, 3);
    await ctx.em.query(
      `INSERT INTO customer_escalations (tenant_id, customer_id, policy_version_id, tier, entered_on)
       SELECT $1, v.customer_id, v.policy_version_id, v.tier, $2 FROM ${src.sql}
       ON CONFLICT (tenant_id, customer_id) DO UPDATE SET policy_version_id = EXCLUDED.policy_version_id, tier = EXCLUDED.tier, entered_on = EXCLUDED.entered_on, updated_at = now()`,
      [ctx.tenantId, asOf, ...src.params],
    );
  }

  /** Customers with nothing open any more start from tier 0 next time. */
  private async resetSettledEscalations(ctx: RequestContext): Promise<void> {
    await ctx.em.query(
      `DELETE FROM customer_escalations e WHERE e.tenant_id = $1 AND NOT EXISTS (
         SELECT 1 FROM invoices i WHERE i.tenant_id = e.tenant_id AND i.customer_id = e.customer_id AND i.status = 'OPEN' AND i.open_balance_minor > 0)`,
      [ctx.tenantId],
    );
  }

  private async addToRun(ctx: RequestContext, runId: string, o: BatchOutcome): Promise<void> {
    await ctx.em.query(
      `UPDATE evaluation_runs SET customers = customers + $2, invoices = invoices + $3, actions_created = actions_created + $4,
         outcomes = (SELECT COALESCE(jsonb_object_agg(k, COALESCE((outcomes->>k)::int, 0) + COALESCE(($5::jsonb->>k)::int, 0)), '{}'::jsonb)
                     FROM (SELECT jsonb_object_keys(outcomes) UNION SELECT jsonb_object_keys($5::jsonb)) AS keys(k)),
         pending_batches = pending_batches - 1
       WHERE id = $1`,
      [runId, o.customers, o.invoices, o.actionsCreated, JSON.stringify(o.outcomes)],
    );
  }

  private async finishIfDone(ctx: RequestContext, runId: string): Promise<void> {
    await ctx.em.query(
      `UPDATE evaluation_runs SET status = 'DONE', finished_at = now(), duration_ms = (EXTRACT(EPOCH FROM (now() - started_at)) * 1000)::int
       WHERE id = $1 AND status = 'RUNNING' AND pending_batches <= 0`,
      [runId],
    );
  }

  runs(ctx: RequestContext, limit: number): Promise<EvaluationRun[]> {
    return ctx.em.getRepository(EvaluationRun).find({ where: { tenantId: ctx.tenantId }, order: { startedAt: 'DESC' }, take: limit });
  }
}

function toActionRow(d: Decision, customerId: string, versionId: string, runId: string | null, asOf: IsoDate, packet: Record<string, unknown> | null, policyReason: string): ActionRow {
  const status = d.mode === 'APPROVAL' ? 'AWAITING_APPROVAL' : 'PLANNED';
  const reason = { rule: d.reason.rule, facts: { ...d.reason.facts, policy: policyReason } };
  if (d.kind === 'STEP') {
    return {
      key: d.idempotencyKey,
      customerId,
      invoiceId: d.invoiceId,
      versionId,
      runId,
      kind: 'STEP',
      stepKey: d.step.key,
      stepOffset: d.step.offsetDays,
      tier: null,
      actionType: null,
      channels: d.channels,
      templateKey: d.step.templateKey,
      mode: d.mode,
      status,
      reason,
      amountDueMinor: d.amountDueMinor,
      currency: d.currency,
      scheduledFor: asOf,
      packet: { ...(packet ?? {}), step: { tone: d.step.tone, sender: d.step.sender, notify: d.step.notify ?? null, accountFlag: d.step.accountFlag ?? null, path: d.path } },
    };
  }
  return {
    key: d.idempotencyKey,
    customerId,
    invoiceId: null,
    versionId,
    runId,
    kind: 'TIER_ENTRY',
    stepKey: null,
    stepOffset: null,
    tier: d.tier,
    actionType: d.action.type,
    channels: [],
    templateKey: null,
    mode: d.mode,
    status,
    reason,
    amountDueMinor: null,
    currency: null,
    scheduledFor: asOf,
    packet: { ...(packet ?? {}), action: d.action, tierName: d.tierName },
  };
}
