import { Client } from 'pg';
import type { EntityManager } from 'typeorm';
import { createPubSub } from '@graphql-yoga/subscription';
import { preparedQuery } from '../db/prepared';
import type { Logger } from '../logging/logger';

export const EVENTS_CHANNEL = 'recoup_events';

/** A domain event: small, ids only, always with its tenant. */
export interface DomainEvent<P extends Record<string, unknown> = Record<string, unknown>> {
  type: string;
  tenantId: string;
  payload: P;
}

export type PubSub = ReturnType<typeof createPubSub<Record<string, [DomainEvent]>>>;

/**
 * Events are sent with pg_notify on the business transaction's own connection: PostgreSQL
 * delivers them only when that transaction commits and drops them on rollback, so nothing is
 * ever announced before it is true, and every API instance listening sees every event.
 */
export async function emitEvent(em: EntityManager, event: DomainEvent): Promise<void> {
  const body = JSON.stringify(event);
  if (Buffer.byteLength(body) > 7900) throw new Error(`event ${event.type} payload too large for NOTIFY`);
  await preparedQuery(em, 'SELECT pg_notify($1, $2)', [EVENTS_CHANNEL, body]);
}

/** Listens on the events channel and republishes each event on the in-process pubsub by type. */
export class EventListener {
  private client: Client | null = null;
  private stopped = false;
  private retry: NodeJS.Timeout | null = null;

  constructor(
    private readonly url: string,
    readonly pubSub: PubSub,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const client = new Client({ connectionString: this.url, application_name: 'recoup-events' });
    client.on('notification', (msg) => {
      if (msg.channel !== EVENTS_CHANNEL || !msg.payload) return;
      try {
        const event = JSON.parse(msg.payload) as DomainEvent;
        this.pubSub.publish(event.type, event);
      } catch (err) {
        this.logger.warn({ err }, 'dropping malformed event');
      }
    });
    client.on('error', (err) => {
      this.logger.warn({ err }, 'event listener connection lost; reconnecting');
      this.reconnectSoon();
    });
    await client.connect();
    await client.query(`LISTEN ${EVENTS_CHANNEL}`);
    this.client = client;
  }

  private reconnectSoon(): void {
    this.client?.end().catch(() => undefined);
    this.client = null;
    if (this.stopped || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      this.start().catch((err) => {
        this.logger.error({ err }, 'event listener reconnect failed');
        this.reconnectSoon();
      });
    }, 1000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    await this.client?.end().catch(() => undefined);
    this.client = null;
  }
}

export function createEventPubSub(): PubSub {
  return createPubSub<Record<string, [DomainEvent]>>();
}
