import { AgingAggregateCache } from '../aging-cache';

describe('AgingAggregateCache', () => {
  const entry = (version: string) => ({ version, signature: 's', rows: [version] });

  it('keeps the most recently used questions: asking again saves a question from eviction', () => {
    const cache = new AgingAggregateCache<string>(2);
    cache.set('a', entry('1'));
    cache.set('b', entry('1'));
    expect(cache.get('a')?.rows).toEqual(['1']);
    cache.set('c', entry('1'));
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')?.rows).toEqual(['1']);
    expect(cache.get('c')?.rows).toEqual(['1']);
  });

  it('replaces the answer to a question asked again', () => {
    const cache = new AgingAggregateCache<string>(2);
    cache.set('a', entry('1'));
    cache.set('a', entry('2'));
    cache.set('b', entry('1'));
    expect(cache.get('a')?.version).toBe('2');
    expect(cache.get('b')?.version).toBe('1');
  });
});
