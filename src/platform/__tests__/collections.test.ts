import { groupBy } from '../collections';

describe('groupBy', () => {
  it('groups in the order items come, mapping values when asked', () => {
    const rows = [
      { c: 'a', n: 1 },
      { c: 'b', n: 2 },
      { c: 'a', n: 3 },
    ];
    expect([...groupBy(rows, (r) => r.c)]).toEqual([
      ['a', [rows[0], rows[2]]],
      ['b', [rows[1]]],
    ]);
    expect([...groupBy(rows, (r) => r.c, (r) => r.n)]).toEqual([
      ['a', [1, 3]],
      ['b', [2]],
    ]);
    expect(groupBy([], (r: { c: string }) => r.c).size).toBe(0);
  });
});
