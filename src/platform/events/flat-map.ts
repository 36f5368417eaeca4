import { Repeater } from '@graphql-yoga/subscription';

/**
 * Maps each event of a subscription source to zero or more values. Unsubscribing ends the
 * source at once (a plain async generator would wait for the next event to notice).
 */
export function flatMapEvents<T, U>(source: AsyncIterable<T>, fn: (t: T) => U[]): AsyncIterableIterator<U> {
  return new Repeater<U>(async (push, stop) => {
    const it = source[Symbol.asyncIterator]();
    let stopped = false;
    void stop.then(() => {
      stopped = true;
      void it.return?.();
    });
    while (!stopped) {
      const next = await it.next();
      if (next.done) break;
      for (const value of fn(next.value)) await push(value);
    }
    stop();
  });
}
