import { Queue, Worker, createPostgresBackend, runMigrations, type Job, type JobsOptions } from 'bullmq';
import IORedis from 'ioredis';
import { Pool } from 'pg';
import type { Logger } from '../logging/logger';
import type { JobRegistry } from './job-registry';
import { QueueName } from './queue-names';

export interface QueueRuntimeOptions {
  /** Redis when set; otherwise BullMQ's PostgreSQL backend in `databaseUrl`. */
  redisUrl?: string;
  databaseUrl: string;
  prefix: string;
  logger: Logger;
  registry: JobRegistry;
  concurrency?: number;
}

export const BULLMQ_PG_SCHEMA = 'bullmq';

/**
 * One place that knows where the queues live. Business code only sees `enqueue` and the job
 * registry; Redis or PostgreSQL is decided here and nowhere else.
 */
export class QueueRuntime {
  private readonly queues = new Map<QueueName, Queue>();
  private readonly workers: Worker[] = [];
  private redis: IORedis | null = null;
  private pgPool: Pool | null = null;

  private constructor(private readonly opts: QueueRuntimeOptions) {}

  get backend(): 'redis' | 'postgres' {
    return this.opts.redisUrl ? 'redis' : 'postgres';
  }

  static async create(opts: QueueRuntimeOptions): Promise<QueueRuntime> {
    const rt = new QueueRuntime(opts);
    if (opts.redisUrl) {
      rt.redis = new IORedis(opts.redisUrl, { maxRetriesPerRequest: null, lazyConnect: false });
      rt.redis.on('error', (err) => opts.logger.warn({ err }, 'redis connection error'));
    } else {
      rt.pgPool = new Pool({ connectionString: opts.databaseUrl, max: 20, options: `-c search_path=${BULLMQ_PG_SCHEMA}`, application_name: 'recoup-queue' });
      rt.pgPool.on('error', (err) => opts.logger.warn({ err }, 'queue pool connection error'));
      // BullMQ's PostgreSQL backend adds an 'error' listener to the shared pool for every queue and
      // every worker (and, the pool not being its own, leaves it there): one each per queue name,
      // plus ours. Beyond that, Node's leak warning still means a leak.
      rt.pgPool.setMaxListeners(Object.values(QueueName).length * 2 + 2);
      const client = await rt.pgPool.connect();
      try {
        await runMigrations(client, BULLMQ_PG_SCHEMA);
      } finally {
        client.release();
      }
    }
    return rt;
  }

  queue(name: QueueName): Queue {
    let q = this.queues.get(name);
    if (!q) {
      q = this.redis
        ? new Queue(name, { connection: this.redis, prefix: this.opts.prefix })
        : (new Queue(name, { connection: this.pgPool!, prefix: this.opts.prefix }, createPostgresBackend) as unknown as Queue);
      q.on('error', (err) => this.opts.logger.warn({ err, queue: name }, 'queue error'));
      this.queues.set(name, q);
    }
    return q;
  }

  async enqueue<D extends object>(queue: QueueName, name: string, data: D, opts: JobsOptions = {}): Promise<string | undefined> {
    const def = this.opts.registry.get(queue, name);
    if (!def) throw new Error(`no job ${queue}:${name} is defined`);
    const job = await this.queue(queue).add(name, data, {
      attempts: def.attempts ?? 5,
      backoff: { type: 'exponential', delay: def.backoffMs ?? 1000 },
      removeOnComplete: { age: 24 * 3600, count: 1000 },
      removeOnFail: { age: 7 * 24 * 3600 },
      ...opts,
    });
    return job.id;
  }

  /** Upserts every registered job scheduler (idempotent: same id, same schedule). */
  async registerSchedules(): Promise<void> {
    for (const s of this.opts.registry.schedules) {
      await this.queue(s.queue).upsertJobScheduler(s.id, { pattern: s.pattern, tz: s.tz }, { name: s.jobName, data: s.data ?? {} });
    }
  }

  /** Starts one worker per queue that has job definitions. */
  startWorkers(): void {
    for (const name of this.opts.registry.queues()) {
      const processor = async (job: Job) => {
        const def = this.opts.registry.get(name, job.name);
        if (!def) throw new Error(`no handler for ${name}:${job.name}`);
        return def.handle(job.data, { id: String(job.id), attemptsMade: job.attemptsMade, log: (m) => job.log(m) });
      };
      const workerOpts = { prefix: this.opts.prefix, concurrency: this.opts.concurrency ?? 5 };
      const worker = this.redis
        ? new Worker(name, processor, { ...workerOpts, connection: this.redis })
        : (new Worker(name, processor, { ...workerOpts, connection: this.pgPool! }, createPostgresBackend) as unknown as Worker);
      worker.on('failed', (job, err) => this.opts.logger.warn({ err, queue: name, job: job?.name, jobId: job?.id, attempts: job?.attemptsMade }, 'job failed'));
      worker.on('error', (err) => this.opts.logger.warn({ err, queue: name }, 'worker error'));
      this.workers.push(worker);
    }
    this.opts.logger.info({ backend: this.backend, queues: this.opts.registry.queues() }, 'queue workers started');
  }

  /** Readiness: can we reach the queue store? */
  async ping(): Promise<boolean> {
    try {
      if (this.redis) return (await this.redis.ping()) === 'PONG';
      await this.pgPool!.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  /** Waits for running jobs to finish, then closes every connection. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    if (this.redis) await this.redis.quit().catch(() => undefined);
    if (this.pgPool) await this.pgPool.end().catch(() => undefined);
  }
}
