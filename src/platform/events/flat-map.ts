import { Repeater } from '@graphql-yoga/subscription';

/**
 * Maps each event of a subscription source to zero or more values. Unsubscribing ends the
 * source at once (a plain async generator would wait for the next event to notice); an error
 * thrown by `fn` (e.g. a key revoked since connect) ends the subscription with that error.
 */
export function flatMapEvents<T, U>(source: AsyncIterable<T>, fn: (t: T) => U[] | Promise<U[]>): AsyncIterableIterator<U> {
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
      let values: U[];
      try {
        values = await fn(next.value);
      } catch (err) {
        stop(err);
        break;
      }
      for (const value of values) await push(value);
    }
    stop();
  });
}
