import type { QueueName } from './queue-names';

export interface JobRun {
  id: string;
  attemptsMade: number;
  log(message: string): Promise<unknown>;
}

/**
 * A job kind: its queue, its name, and its handler. Handlers receive ids only (never entities)
 * and must be idempotent: a job delivered twice changes nothing the second time.
 */
export interface JobDefinition<D = unknown> {
  queue: QueueName;
  name: string;
  handle(data: D, run: JobRun): Promise<unknown>;
  attempts?: number;
  backoffMs?: number;
}

/** A recurring task: BullMQ job scheduler upserted at worker start. */
export interface ScheduledTask {
  id: string;
  queue: QueueName;
  jobName: string;
  /** Cron pattern, evaluated in `tz`. */
  pattern: string;
  tz?: string;
  data?: Record<string, unknown>;
}

export class JobRegistry {
  private readonly jobs = new Map<string, JobDefinition<never>>();
  readonly schedules: ScheduledTask[] = [];

  define<D>(def: JobDefinition<D>): JobDefinition<D> {
    const key = `${def.queue}:${def.name}`;
    if (this.jobs.has(key)) throw new Error(`job ${key} defined twice`);
    this.jobs.set(key, def as JobDefinition<never>);
    return def;
  }

  schedule(task: ScheduledTask): void {
    this.schedules.push(task);
  }

  get(queue: QueueName, name: string): JobDefinition<unknown> | undefined {
    return this.jobs.get(`${queue}:${name}`) as JobDefinition<unknown> | undefined;
  }

  queues(): QueueName[] {
    return [...new Set([...this.jobs.values()].map((j) => j.queue))];
  }
}
