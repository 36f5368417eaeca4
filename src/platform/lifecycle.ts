import type { Logger } from './logging/logger';

/** Ordered shutdown: what started last stops first (HTTP, then workers, then pools, then Postgres). */
export class Lifecycle {
  private readonly closers: { name: string; close: () => Promise<void> }[] = [];
  private stopping: Promise<void> | null = null;

  constructor(private readonly logger: Logger) {}

  onStop(name: string, close: () => Promise<void>): void {
    this.closers.push({ name, close });
  }

  stop(): Promise<void> {
    return (this.stopping ??= (async () => {
      for (const c of [...this.closers].reverse()) {
        try {
          await c.close();
          this.logger.debug({ component: c.name }, 'stopped');
        } catch (err) {
          this.logger.error({ err, component: c.name }, 'error while stopping');
        }
      }
    })());
  }

  /** SIGTERM/SIGINT: stop gracefully, and exit anyway after the grace period. */
  installSignalHandlers(graceMs: number, exit: (code: number) => void = process.exit): void {
    const handler = (signal: NodeJS.Signals) => {
      this.logger.info({ signal }, 'shutting down');
      const timer = setTimeout(() => {
        this.logger.error({ graceMs }, 'shutdown grace period over; exiting');
        exit(1);
      }, graceMs);
      timer.unref();
      void this.stop().then(() => exit(0));
    };
    process.once('SIGTERM', handler);
    process.once('SIGINT', handler);
  }
}
