import type { Faker as FakerT } from '@faker-js/faker' with { 'resolution-mode': 'import' };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fk = require('@faker-js/faker') as typeof import('@faker-js/faker', { with: { 'resolution-mode': 'import' } });
export function make(seed: number): FakerT {
  const f = new fk.Faker({ locale: [fk.en] });
  f.seed(seed);
  return f;
}
