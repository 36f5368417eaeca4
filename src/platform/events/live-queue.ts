/**
 * The stream of one live subscription, fed by a producer that fans a value out to many
 * subscribers: `push` hands the value to the waiting consumer or queues it (no promise per push,
 * unlike a Repeater's back-pressure), `fail` ends the stream with an error after what is queued,
 * and the consumer's `return` (the client unsubscribed or went away) ends it at once. `onClose`
 * runs once, whichever end comes first.
 */
export class LiveQueue<T> implements AsyncIterableIterator<T> {
  /** Values a consumer may fall behind by before its stream ends with an error. */
  static readonly MAX_QUEUED = 1024;
  private readonly queue: T[] = [];
  private waiter: { resolve: (r: IteratorResult<T>) => void; reject: (err: unknown) => void } | null = null;
  private ended = false;
  private error: { err: unknown } | null = null;

  constructor(private readonly onClose: () => void) {}

  push(value: T): void {
    if (this.ended) return;
    const w = this.waiter;
    if (w) {
      this.waiter = null;
      w.resolve({ value, done: false });
    } else if (this.queue.length >= LiveQueue.MAX_QUEUED) {
      this.fail(new Error(`subscriber fell ${LiveQueue.MAX_QUEUED} events behind`));
    } else this.queue.push(value);
  }

  fail(err: unknown): void {
    if (this.ended) return;
    this.close();
    const w = this.waiter;
    if (w && this.queue.length === 0) {
      this.waiter = null;
      w.reject(err);
    } else this.error = { err };
  }

  next(): Promise<IteratorResult<T>> {
    if (this.queue.length) return Promise.resolve({ value: this.queue.shift()!, done: false });
    if (this.error) {
      const { err } = this.error;
      this.error = null;
      return Promise.reject(err);
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  return(): Promise<IteratorResult<T>> {
    this.queue.length = 0;
    this.error = null;
    this.close();
    const w = this.waiter;
    this.waiter = null;
    w?.resolve({ value: undefined, done: true });
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(err: unknown): Promise<IteratorResult<T>> {
    void this.return();
    return Promise.reject(err);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private close(): void {
    if (this.ended) return;
    this.ended = true;
    this.onClose();
  }
}
