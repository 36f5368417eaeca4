import { randomBytes } from 'node:crypto';
import type { RequestContext } from '../../platform/context';
import { badInput, notFound } from '../../platform/errors';
import { emitEvent } from '../../platform/events/event-bus';
import type { AuditService } from '../audit/audit.service';
import type { SecretBox } from '../integrations/secret-box';
import { WEBHOOK_EVENT_TYPES, WebhookDeliveryStatus, type CreateWebhookEndpointInput, type CreateWebhookEndpointPayload, type WebhookDelivery, type WebhookEndpoint, type WebhookEventType } from './dto/webhook.types';
import { SIGNATURE_HEADER, signatureHeader } from './webhook-signature';

export interface WebhookDeliveryJobData {
  tenantId: string;
  deliveryId: string;
}

interface EndpointRow {
  id: string;
  tenant_id: string;
  url: string;
  description: string | null;
  event_types: string[];
  secret_enc: string;
  secret_hint: string;
  active: boolean;
  created_at: Date;
}
interface DeliveryRow {
  id: string;
  endpoint_id: string;
  event_id: string;
  type: string;
  payload: Record<string, unknown>;
  occurred_at: Date;
  status: WebhookDeliveryStatus;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: Date | null;
  delivered_at: Date | null;
  replay_of: string | null;
  created_at: Date;
}

const isUuid = (s: string) => /^[0-9a-f-]{36}$/i.test(s);
const DELIVERY_COLS = `d.id, d.endpoint_id, d.event_id, e.type, e.payload, e.occurred_at, d.status, d.attempts, d.last_status_code, d.last_error, d.next_attempt_at, d.delivered_at, d.replay_of, d.created_at`;

export class WebhookError extends Error {}

/** Announced when a tenant's endpoints change: every process forgets what it kept of them. */
export const ENDPOINTS_CHANGED = 'webhooks.endpoints_changed';
const WANTED_TTL_MS = 60_000;

/**
 * Outbound webhooks: endpoints (secret sealed at rest, shown once), events deduplicated by a
 * key (the same fact announced twice, or by two API instances, is one event), one delivery
 * per endpoint and event, signed `t=…,v1=HMAC-SHA256(secret, "<t>.<body>")`, retried with
 * exponential backoff by BullMQ, every attempt recorded on the delivery.
 */
export class WebhookService {
  enqueue: (data: WebhookDeliveryJobData, opts: { jobId: string }) => Promise<void> = async () => {
    throw new Error('the webhook queue is not wired');
  };
  /** From config: the first retry waits this long, then it doubles (the job's backoff). */
  retryBaseMs = 10_000;
  timeoutMs = 10_000;

  private readonly wantedCache = new Map<string, { wanted: boolean; at: number }>();
  private generation = 0;

  constructor(
    private readonly box: SecretBox,
    private readonly audit: AuditService,
  ) {}

  async createEndpoint(ctx: RequestContext, input: CreateWebhookEndpointInput): Promise<CreateWebhookEndpointPayload> {
    let url: URL;
    try {
      url = new URL(input.url.trim());
    } catch {
      throw badInput('url', `"${input.url}" is not a URL`, 'INVALID_URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badInput('url', `webhooks are delivered over http or https only, not ${url.protocol.replace(':', '')}`, 'INVALID_URL');
    if (url.username || url.password) throw badInput('url', 'put no credentials in the URL: verify the signature instead', 'INVALID_URL');
    const types = [...new Set(input.eventTypes.map((t) => t.trim()))];
    if (!types.length) throw badInput('eventTypes', 'subscribe to at least one event type', 'NO_EVENT_TYPES');
    const unknown = types.filter((t) => t !== '*' && !(WEBHOOK_EVENT_TYPES as readonly string[]).includes(t));
    if (unknown.length) throw badInput('eventTypes', `unknown event types ${unknown.join(', ')} (known: ${WEBHOOK_EVENT_TYPES.join(', ')}, or *)`, 'UNKNOWN_EVENT_TYPE');
    const secret = `whsec_${randomBytes(32).toString('base64url')}`;
    const [row]: EndpointRow[] = await ctx.em.query(
      `INSERT INTO webhook_endpoints (tenant_id, url, description, event_types, secret_enc, secret_hint) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
      [ctx.tenantId, url.toString(), input.description?.trim() || null, types, this.box.seal(secret, ctx.tenantId), secret.slice(-4)],
    );
    this.forgetWanted(ctx.tenantId);
    await emitEvent(ctx.em, { type: ENDPOINTS_CHANGED, tenantId: ctx.tenantId, payload: { endpointId: row.id } });
    await this.audit.record(ctx, { action: 'webhook_endpoint.created', subjectType: 'WebhookEndpoint', subjectId: row.id, data: { url: row.url, eventTypes: types } });
    return { endpoint: endpointGql(row), secret };
  }

  async endpoints(ctx: RequestContext): Promise<WebhookEndpoint[]> {
    const rows: EndpointRow[] = await ctx.em.query(`SELECT * FROM webhook_endpoints WHERE tenant_id = $1 ORDER BY created_at, id`, [ctx.tenantId]);
    return rows.map(endpointGql);
  }

  async deliveries(ctx: RequestContext, args: { endpointId?: string | null; eventType?: string | null; first: number }): Promise<WebhookDelivery[]> {
    const rows: DeliveryRow[] = await ctx.em.query(
      `SELECT ${DELIVERY_COLS} FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
       WHERE d.tenant_id = $1 AND ($2::uuid IS NULL OR d.endpoint_id = $2) AND ($3::text IS NULL OR e.type = $3)
       ORDER BY d.created_at DESC, d.id LIMIT $4`,
      [ctx.tenantId, args.endpointId && isUuid(args.endpointId) ? args.endpointId : null, args.eventType ?? null, Math.min(Math.max(args.first, 1), 200)],
    );
    return rows.map(deliveryGql);
  }

  /** Sends a past event to its endpoint again, as a new delivery with a fresh timestamp and signature. */
  async replay(ctx: RequestContext, deliveryId: string): Promise<WebhookDelivery> {
    const [orig]: { id: string; endpoint_id: string; event_id: string }[] = isUuid(deliveryId) ? await ctx.em.query(`SELECT id, endpoint_id, event_id FROM webhook_deliveries WHERE tenant_id = $1 AND id = $2`, [ctx.tenantId, deliveryId]) : [];
    if (!orig) throw notFound('WebhookDelivery', deliveryId, 'deliveryId');
    const [row]: { id: string }[] = await ctx.em.query(`INSERT INTO webhook_deliveries (tenant_id, endpoint_id, event_id, replay_of) VALUES ($1, $2, $3, $4) RETURNING id`, [ctx.tenantId, orig.endpoint_id, orig.event_id, orig.id]);
    await this.audit.record(ctx, { action: 'webhook.replayed', subjectType: 'WebhookDelivery', subjectId: orig.id, data: { replay: row.id } });
    await this.enqueue({ tenantId: ctx.tenantId, deliveryId: row.id }, { jobId: `wh-${row.id}` });
    return (await this.delivery(ctx, row.id))!;
  }

  async delivery(ctx: RequestContext, id: string): Promise<WebhookDelivery | null> {
    const [row]: DeliveryRow[] = await ctx.em.query(`SELECT ${DELIVERY_COLS} FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id WHERE d.tenant_id = $1 AND d.id = $2`, [ctx.tenantId, id]);
    return row ? deliveryGql(row) : null;
  }

  /**
   * Whether any active endpoint of the tenant wants this type: producers skip the work when none
   * does. Every process asks this for every domain event it hears (a chunk of payments announces
   * several), so answers are kept per tenant and type until an endpoint of the tenant changes:
   * `createEndpoint` forgets them here at once and, through the ENDPOINTS_CHANGED event committed
   * with the endpoint, in every other process before any later event reaches it (notifications
   * arrive in commit order). An answer read while a change was announced is not kept; none is
   * kept longer than a minute, whatever happens to the listener.
   */
  async wanted(ctx: RequestContext, type: WebhookEventType): Promise<boolean> {
    const key = `${ctx.tenantId} ${type}`;
    const hit = this.wantedCache.get(key);
    if (hit && hit.at > Date.now() - WANTED_TTL_MS) return hit.wanted;
    const generation = this.generation;
    const [r] = await ctx.em.query(`SELECT 1 FROM webhook_endpoints WHERE tenant_id = $1 AND active AND (event_types @> ARRAY[$2]::text[] OR event_types @> ARRAY['*']::text[]) LIMIT 1`, [ctx.tenantId, type]);
    if (generation === this.generation) this.wantedCache.set(key, { wanted: !!r, at: Date.now() });
    return !!r;
  }

  /** Forgets what `wanted` kept for a tenant (an endpoint of it changed, here or in another process). */
  forgetWanted(tenantId: string): void {
    this.generation++;
    for (const key of this.wantedCache.keys()) if (key.startsWith(`${tenantId} `)) this.wantedCache.delete(key);
  }

  /**
   * Announces a fact to the tenant's subscribed endpoints, once per `key` (idempotent). Call it
   * inside the business transaction (the outbox rows commit with the fact; the sweeper sends
   * them) or after commit (sent at once). Returns the event id, or null when nothing was new.
   */
  async publish(ctx: RequestContext, event: { type: WebhookEventType; key: string; data: Record<string, unknown> }): Promise<string | null> {
    if (!(await this.wanted(ctx, event.type))) return null;
    const [ev]: { id: string }[] = await ctx.em.query(
      `INSERT INTO webhook_events (tenant_id, type, dedupe_key, payload) VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, dedupe_key) DO NOTHING RETURNING id`,
      [ctx.tenantId, event.type, event.key.slice(0, 300), JSON.stringify(event.data)],
    );
    if (!ev) return null;
    const deliveries: { id: string }[] = await ctx.em.query(
      `INSERT INTO webhook_deliveries (tenant_id, endpoint_id, event_id)
       SELECT $1, id, $2 FROM webhook_endpoints WHERE tenant_id = $1 AND active AND (event_types @> ARRAY[$3]::text[] OR event_types @> ARRAY['*']::text[])
       ON CONFLICT DO NOTHING RETURNING id`,
      [ctx.tenantId, ev.id, event.type],
    );
    if (!ctx.inTransaction) for (const d of deliveries) await this.enqueue({ tenantId: ctx.tenantId, deliveryId: d.id }, { jobId: `wh-${d.id}` });
    return ev.id;
  }

  /** Deliveries written inside transactions (or whose enqueue was lost) that no job has picked up yet. */
  async sweep(ctx: RequestContext): Promise<number> {
    const rows: { id: string; tenant_id: string }[] = await ctx.em.query(
      `SELECT id, tenant_id FROM webhook_deliveries WHERE status = 'PENDING' AND attempts = 0 AND created_at < now() - interval '15 seconds' ORDER BY created_at LIMIT 1000`,
    );
    for (const r of rows) await this.enqueue({ tenantId: r.tenant_id, deliveryId: r.id }, { jobId: `wh-${r.id}` });
    return rows.length;
  }

  /** The job: one attempt; throws on failure so that BullMQ retries with backoff, FAILED after the last. */
  async deliver(ctx: RequestContext, data: WebhookDeliveryJobData, attempt: { attemptsMade: number; maxAttempts: number }): Promise<WebhookDeliveryStatus> {
    const [d]: (DeliveryRow & { url: string; secret_enc: string; active: boolean })[] = await ctx.em.query(
      `SELECT ${DELIVERY_COLS}, w.url, w.secret_enc, w.active FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id JOIN webhook_endpoints w ON w.id = d.endpoint_id
       WHERE d.tenant_id = $1 AND d.id = $2`,
      [ctx.tenantId, data.deliveryId],
    );
    if (!d || d.status === WebhookDeliveryStatus.DELIVERED || d.status === WebhookDeliveryStatus.FAILED) return d?.status ?? WebhookDeliveryStatus.FAILED;
    if (!d.active) {
      await ctx.em.query(`UPDATE webhook_deliveries SET status = 'FAILED', last_error = 'endpoint disabled', updated_at = now() WHERE id = $1`, [d.id]);
      return WebhookDeliveryStatus.FAILED;
    }
    const body = JSON.stringify({ id: d.event_id, type: d.type, createdAt: new Date(d.occurred_at).toISOString(), data: d.payload });
    const timestamp = Math.floor(Date.now() / 1000);
    const secret = this.box.open(d.secret_enc, ctx.tenantId);
    let status: number | null = null;
    let error: string | null = null;
    try {
      const res = await fetch(d.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Recoup-Webhooks/1',
          [SIGNATURE_HEADER]: signatureHeader(secret, timestamp, body),
          'Recoup-Event-Id': d.event_id,
          'Recoup-Event-Type': d.type,
          'Recoup-Delivery-Id': d.id,
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = res.status;
      await res.arrayBuffer().catch(() => undefined);
      if (res.status < 200 || res.status >= 300) error = `the endpoint answered ${res.status}`;
    } catch (err) {
      error = (err as Error)?.name === 'TimeoutError' ? `no answer within ${this.timeoutMs} ms` : `cannot reach the endpoint: ${(err as Error)?.message ?? err}`;
    }
    if (!error) {
      await ctx.em.query(`UPDATE webhook_deliveries SET status = 'DELIVERED', attempts = attempts + 1, last_status_code = $2, last_error = NULL, next_attempt_at = NULL, delivered_at = now(), updated_at = now() WHERE id = $1`, [d.id, status]);
      return WebhookDeliveryStatus.DELIVERED;
    }
    const last = attempt.attemptsMade + 1 >= attempt.maxAttempts;
    await ctx.em.query(
      `UPDATE webhook_deliveries SET status = $2::varchar, attempts = attempts + 1, last_status_code = $3, last_error = $4,
         next_attempt_at = CASE WHEN $2::varchar = 'RETRYING' THEN now() + make_interval(secs => $5::float8 / 1000) END, updated_at = now() WHERE id = $1`,
      [d.id, last ? WebhookDeliveryStatus.FAILED : WebhookDeliveryStatus.RETRYING, status, error, this.retryBaseMs * 2 ** attempt.attemptsMade],
    );
    if (last) return WebhookDeliveryStatus.FAILED;
    throw new WebhookError(`delivery ${d.id}: ${error}`);
  }
}

function endpointGql(r: EndpointRow): WebhookEndpoint {
  return { id: r.id, url: r.url, eventTypes: r.event_types, description: r.description, active: r.active, secretHint: r.secret_hint, createdAt: r.created_at };
}

function deliveryGql(r: DeliveryRow): WebhookDelivery {
  return {
    id: r.id,
    endpointId: r.endpoint_id,
    eventId: r.event_id,
    eventType: r.type,
    payload: r.payload,
    status: r.status,
    attempts: r.attempts,
    lastStatusCode: r.last_status_code,
    lastError: r.last_error,
    nextAttemptAt: r.next_attempt_at,
    deliveredAt: r.delivered_at,
    replayOf: r.replay_of,
    createdAt: r.created_at,
  };
}
