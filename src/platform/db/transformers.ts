import type { ValueTransformer } from 'typeorm';

/** PostgreSQL bigint <-> TypeScript bigint (pg returns int8 as a string to avoid precision loss). */
export const bigintTransformer: ValueTransformer = {
  to: (v: bigint | null | undefined) => (v === null || v === undefined ? v : v.toString()),
  from: (v: string | null) => (v === null ? null : BigInt(v)),
};

/** PostgreSQL date stays a YYYY-MM-DD string (never a JS Date, which would shift by time zone). */
export const dateTransformer: ValueTransformer = {
  to: (v: string | null | undefined) => v,
  from: (v: string | Date | null) => (v instanceof Date ? v.toISOString().slice(0, 10) : v),
};
