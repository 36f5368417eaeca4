import { LiveQueue } from '../live-queue';

describe('LiveQueue', () => {
  it('hands values to a waiting consumer or queues them, in order', async () => {
    const q = new LiveQueue<number>(() => undefined);
    const first = q.next();
    q.push(1);
    q.push(2);
    q.push(3);
    expect(await first).toEqual({ value: 1, done: false });
    expect(await q.next()).toEqual({ value: 2, done: false });
    expect(await q.next()).toEqual({ value: 3, done: false });
  });

  it('ends with the error after what was queued, and closes once', async () => {
    const onClose = jest.fn();
    const q = new LiveQueue<number>(onClose);
    q.push(1);
    q.fail(new Error('revoked'));
    q.push(2);
    expect(await q.next()).toEqual({ value: 1, done: false });
    await expect(q.next()).rejects.toThrow('revoked');
    expect(await q.next()).toEqual({ value: undefined, done: true });
    await q.return();
    expect(onClose).toHaveBeenCalledTimes(1);
  });

  it('rejects a waiting consumer at once on failure', async () => {
    const q = new LiveQueue<number>(() => undefined);
    const waiting = q.next();
    q.fail(new Error('gone'));
    await expect(waiting).rejects.toThrow('gone');
  });

  it('return() ends a waiting consumer, drops what is queued and closes', async () => {
    const onClose = jest.fn();
    const q = new LiveQueue<number>(onClose);
    const waiting = q.next();
    expect(await q.return()).toEqual({ value: undefined, done: true });
    expect(await waiting).toEqual({ value: undefined, done: true });
    q.push(5);
    expect(await q.next()).toEqual({ value: undefined, done: true });
    expect(onClose).toHaveBeenCalledTimes(1);
  });

  it('ends a consumer that falls too far behind', async () => {
    const q = new LiveQueue<number>(() => undefined);
    for (let i = 0; i <= LiveQueue.MAX_QUEUED; i++) q.push(i);
    for (let i = 0; i < LiveQueue.MAX_QUEUED; i++) expect((await q.next()).value).toBe(i);
    await expect(q.next()).rejects.toThrow('behind');
  });
});
