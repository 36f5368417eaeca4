import { LRUCache } from 'lru-cache';

/** The tenant's aging version in SQL: a sum over stripes that every committed change to what a rollup report reads increases. */
export const AGING_VERSION_SQL = (tenantParam: string) => `(SELECT coalesce(sum(version), 0)::text FROM aging_versions WHERE tenant_id = ${tenantParam})`;

interface Entry<R> {
  version: string;
  signature: string;
  rows: R[];
}

/**
 * The last aggregate of each aging question asked in this process, with the tenant's aging
 * version and settings signature read in the same statement. It answers again only while both
 * are unchanged (one cheap read), so it can never be staler than the database: a dashboard
 * asking the same question over an unchanged book does not aggregate the rollups each time.
 */
export class AgingAggregateCache<R> {
  /** The most recently asked questions (least recently used goes first). */
  private readonly entries: LRUCache<string, Entry<R>>;

  constructor(maxEntries = 500) {
    this.entries = new LRUCache({ max: maxEntries });
  }

  get(key: string): Entry<R> | undefined {
    return this.entries.get(key);
  }

  set(key: string, entry: Entry<R>): void {
    this.entries.set(key, entry);
  }
}
