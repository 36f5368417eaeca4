import { Role } from '../../platform/auth/roles';
import { RequestContext } from '../../platform/context';
import { forbidden } from '../../platform/errors';
import type { DomainEvent, PubSub } from '../../platform/events/event-bus';
import { LiveQueue } from '../../platform/events/live-queue';
import type { GqlContext } from '../../platform/graphql/gql-context';
import type { Logger } from '../../platform/logging/logger';
import { INVOICES_CHANGED } from '../invoices/invoice.service';
import type { ApiKeyService } from '../tenants/api-key.service';
import { AGING_CHANGED, type AgingArgs, type AgingChangedPayload, type AgingService } from './aging.service';
import { AgingChangeReason, type AgingChange, type AgingReport } from './dto/aging.types';

interface Subscriber {
  keyId: string | null;
  push(change: AgingChange): void;
  fail(err: Error): void;
}

const rowSignature = (r: AgingReport['rows'][number]) => JSON.stringify([r.total.amountMinor, r.cells.map((c) => [c.amount.amountMinor, c.invoiceCount])]);

/**
 * One live aging report per (tenant, arguments) in this process, shared by every subscriber
 * asking for it: an event marks it dirty, and it is recomputed (from the rollups) at most once
 * per interval, the first change at once. Subscribers' keys are re-checked before each emission.
 */
class Feed {
  readonly subs = new Set<Subscriber>();
  private pending = new Set<AgingChangeReason>();
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private running = false;
  private lastEmit = 0;
  private last: { report: AgingReport; signatures: Map<string, string> } | null = null;

  constructor(
    private readonly hub: AgingFeeds,
    readonly ctx: RequestContext,
    private readonly args: AgingArgs,
  ) {}

  async initial(sub: Subscriber): Promise<void> {
    // The shared report when it is current; otherwise one of its own, which becomes the feed's
    // baseline only for a first subscriber (the others must still get the pending change).
    let report = this.last && !this.pending.size && !this.running ? this.last.report : null;
    if (!report) {
      report = await this.hub.aging.report(this.ctx, this.args);
      if (!this.last && this.subs.size === 1) this.last = this.snapshot(report);
    }
    sub.push({ reasons: [AgingChangeReason.INITIAL], changedRowKeys: report.rows.map((r) => r.key), report });
  }

  private snapshot(report: AgingReport) {
    return { report, signatures: new Map([...report.rows, ...report.totals].map((r) => [r.key, rowSignature(r)])) };
  }

  changed(reason: AgingChangeReason): void {
    this.pending.add(reason);
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.immediate || this.running || this.subs.size === 0) return;
    const wait = this.lastEmit + this.hub.intervalMs - Date.now();
    // After a quiet spell the change goes out at once (events of the same I/O turn still coalesce);
    // only a feed that emitted within the interval waits for the rest of it.
    if (wait <= 0) this.immediate = setImmediate(() => void this.run());
    else this.timer = setTimeout(() => void this.run(), wait);
  }

  private async run(): Promise<void> {
    this.timer = null;
    this.immediate = null;
    this.running = true;
    const reasons = [...this.pending];
    this.pending.clear();
    try {
      // The keys' check and the report are independent reads: one round trip's wait, not two.
      const [, report] = await Promise.all([this.recheckKeys(), this.hub.aging.report(this.ctx, this.args)]);
      if (this.subs.size === 0) return;
      const prev = this.last;
      const next = this.snapshot(report);
      this.last = next;
      const changed = [...next.signatures].filter(([k, sig]) => prev?.signatures.get(k) !== sig).map(([k]) => k);
      for (const k of prev?.signatures.keys() ?? []) if (!next.signatures.has(k)) changed.push(k);
      if (changed.length === 0 && prev?.report.asOf === next.report.asOf) return;
      this.lastEmit = Date.now();
      const change: AgingChange = { reasons, changedRowKeys: changed, report: next.report };
      await this.deliver(change);
    } catch (err) {
      this.ctx.logger.error({ err }, 'aging feed could not recompute');
    } finally {
      this.running = false;
      if (this.pending.size) this.schedule();
    }
  }

  /**
   * Hands the change to the subscribers a slice per event-loop turn. graphql-ws executes the
   * subscription's selection and writes the message for each subscriber; pushed all at once,
   * those executions interleave and the first message leaves only when the last is built. By
   * slices, the first messages are on the wire (and being read) while later ones are built, and
   * other requests are not held up behind hundreds of subscribers.
   */
  private async deliver(change: AgingChange): Promise<void> {
    const subs = [...this.subs];
    const slice = this.hub.deliverySlice;
    for (let i = 0; i < subs.length; i += slice) {
      if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      for (const s of subs.slice(i, i + slice)) if (this.subs.has(s)) s.push(change);
    }
  }

  /** Tenant is fixed per feed; a key revoked since connecting ends its subscription. */
  private async recheckKeys(): Promise<void> {
    const ids = [...new Set([...this.subs].map((s) => s.keyId).filter((id): id is string => !!id))];
    if (ids.length === 0) return;
    const allowed = await this.hub.apiKeys.stillAllowed(this.ctx, ids, Role.VIEWER);
    for (const s of this.subs) {
      if (s.keyId && !allowed.has(s.keyId)) {
        this.subs.delete(s);
        s.fail(forbidden('This API key was revoked'));
      }
    }
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
  }
}

const feedsByPubSub = new WeakMap<PubSub, AgingFeeds>();

export class AgingFeeds {
  /** Minimum time between two emissions of one feed: at most 1000 / intervalMs events a second per subscriber. */
  intervalMs = 250;
  /** Subscribers handed an emission per event-loop turn. */
  deliverySlice = 32;
  private readonly feeds = new Map<string, Feed>();
  private readonly listening = new WeakSet<PubSub>();

  constructor(
    readonly aging: AgingService,
    readonly apiKeys: ApiKeyService,
  ) {}

  /** Binds these feeds to an app's event pubsub (the composition root calls it once the pubsub exists). */
  attach(pubSub: PubSub, logger: Logger): void {
    feedsByPubSub.set(pubSub, this);
    this.listen(pubSub, logger);
  }

  /** The feeds of the app whose pubsub a subscription's context carries. */
  static of(pubSub: PubSub): AgingFeeds {
    const f = feedsByPubSub.get(pubSub);
    if (!f) throw new Error('aging feeds are not attached to this pubsub');
    return f;
  }

  private listen(pubSub: PubSub, logger: Logger): void {
    if (this.listening.has(pubSub)) return;
    this.listening.add(pubSub);
    const consume = async (topic: string, reason: (e: DomainEvent) => AgingChangeReason) => {
      for await (const e of pubSub.subscribe(topic)) {
        for (const f of this.feeds.values()) if (f.ctx.tenantId === e.tenantId) f.changed(reason(e));
      }
    };
    consume(INVOICES_CHANGED, () => AgingChangeReason.INVOICES).catch((err) => logger.error({ err }, 'aging feed stopped listening'));
    consume(AGING_CHANGED, (e) => (e.payload as AgingChangedPayload).reason).catch((err) => logger.error({ err }, 'aging feed stopped listening'));
  }

  subscribe(gql: GqlContext, args: AgingArgs): AsyncIterableIterator<AgingChange> {
    const ctx = gql.ctx!;
    this.listen(gql.pubSub, gql.logger);
    const key = `${ctx.tenantId}:${JSON.stringify(args)}`;
    let feed = this.feeds.get(key);
    if (!feed) {
      // A context of its own: not tied to one connection's loaders or lifetime.
      const feedCtx = new RequestContext(ctx.tenantId, ctx.actor, ctx.em, `aging-feed-${ctx.tenantId}`, ctx.logger);
      feed = new Feed(this, feedCtx, args);
      this.feeds.set(key, feed);
    }
    const shared = feed;
    // Changes that come while the INITIAL report is computed wait behind it, so order holds.
    let early: AgingChange[] | null = [];
    const sub: Subscriber = {
      keyId: ctx.actor.kind === 'api_key' ? ctx.actor.id : null,
      push: (c) => (early ? early.push(c) : stream.push(c)),
      fail: (err) => stream.fail(err),
    };
    const stream = new LiveQueue<AgingChange>(() => {
      shared.subs.delete(sub);
      if (shared.subs.size === 0 && this.feeds.get(key) === shared) {
        shared.dispose();
        this.feeds.delete(key);
      }
    });
    shared.subs.add(sub);
    shared.initial({ ...sub, push: (c) => stream.push(c) }).then(
      () => {
        const waiting: AgingChange[] = early ?? [];
        early = null;
        for (const c of waiting) stream.push(c);
      },
      (err: unknown) => stream.fail(err),
    );
    return stream;
  }
}
