import { arrayParam, unnestSource, type BulkColumn } from '../bulk';

interface Row {
  id: string | null;
  n: bigint;
  on: unknown;
  note: string;
}
const cols: BulkColumn<Row>[] = [
  { name: 'id', type: 'uuid', value: (r) => r.id },
  { name: 'n', type: 'bigint', value: (r) => r.n },
  { name: 'on', type: 'date', value: (r) => r.on },
  { name: 'note', type: 'text', value: (r) => r.note },
];

describe('unnestSource', () => {
  it('sends every column as a ready array literal, quoting what does not look plain', () => {
    const src = unnestSource(cols, [
      { id: '0b5c6a1e-6f0e-4a57-9d1c-2f7f6f0a0b01', n: 12n, on: '2026-11-20', note: 'a, "b"' },
      { id: null, n: -3n, on: '2026-11-21', note: 'NULL' },
    ], 2);
    expect(src.sql).toBe('unnest($2::uuid[], $3::bigint[], $4::date[], $5::text[]) AS v(id, n, on, note)');
    expect(src.names).toBe('id, n, on, note');
    expect(src.params).toEqual(['{0b5c6a1e-6f0e-4a57-9d1c-2f7f6f0a0b01,NULL}', '{12,-3}', '{2026-11-20,2026-11-21}', '{"a, \\"b\\"","NULL"}']);
  });

  it('leaves a column with a value that is not a string, number or boolean to the driver', () => {
    const when = new Date('2026-11-20T00:00:00Z');
    const src = unnestSource(cols, [
      { id: 'x,y', n: 1n, on: when, note: '' },
      { id: 'null', n: 2n, on: '2026-11-21', note: '' },
    ]);
    expect(src.params[0]).toBe('{"x,y","null"}');
    expect(src.params[1]).toBe('{1,2}');
    expect(src.params[2]).toEqual([when, '2026-11-21']);
    expect(src.params[3]).toBe('{"",""}');
  });
});

describe('arrayParam', () => {
  it('quotes the strings the array syntax would read otherwise and escapes quotes and backslashes', () => {
    expect(arrayParam(['USD', 'null', 'Null', 'nullx', '', ' a', 'a b', '{x}', 'a\\b', 'say "hi"', 'é'])).toBe(
      '{USD,"null","Null",nullx,""," a","a b","{x}","a\\\\b","say \\"hi\\"","é"}',
    );
    expect(arrayParam([1, 2.5, true, 7n, null, undefined])).toBe('{1,2.5,true,7,NULL,NULL}');
    expect(arrayParam([])).toBe('{}');
  });
});
