import { chainHash, GENESIS_HASH } from '../audit-chain';

describe('audit hash chain', () => {
  it('links each hash to the previous one and to the content', () => {
    const a = chainHash(GENESIS_HASH, '{"id": "1"}');
    const b = chainHash(a, '{"id": "2"}');
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(chainHash(GENESIS_HASH, '{"id": "1"}')).toBe(a);
    expect(chainHash(a, '{"id": "2 "}')).not.toBe(b);
    expect(chainHash(GENESIS_HASH.replace(/0$/, '1'), '{"id": "2"}')).not.toBe(chainHash(a, '{"id": "2"}'));
  });
});
