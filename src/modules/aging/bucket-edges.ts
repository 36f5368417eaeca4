import { addDays, type IsoDate } from '../../platform/time/dates';

/** The upper day of each past-due bucket but the last: 30, 60, 90 gives current, 1-30, 31-60, 61-90, 90+. */
export const DEFAULT_BUCKET_EDGES: readonly number[] = [30, 60, 90];
export const MAX_BUCKET_EDGES = 12;

export interface BucketDefinition {
  index: number;
  label: string;
  /** Smallest days past due in the bucket; null for "current" (not yet due, or due today). */
  fromDays: number | null;
  /** Largest days past due in the bucket; null for the open-ended last bucket. */
  toDays: number | null;
}

/** Why a list of edges is refused, or null when it is usable. */
export function edgesProblem(edges: number[]): string | null {
  if (edges.length === 0) return 'give at least one edge, e.g. [30, 60, 90]';
  if (edges.length > MAX_BUCKET_EDGES) return `at most ${MAX_BUCKET_EDGES} edges`;
  for (const [i, e] of edges.entries()) {
    if (!Number.isInteger(e) || e < 1 || e > 3650) return `edge ${e} must be a whole number of days from 1 to 3650`;
    if (i > 0 && e <= edges[i - 1]) return 'edges must increase strictly';
  }
  return null;
}

export function bucketDefinitions(edges: readonly number[]): BucketDefinition[] {
  const defs: BucketDefinition[] = [{ index: 0, label: 'Current', fromDays: null, toDays: 0 }];
  let from = 1;
  for (const e of edges) {
    defs.push({ index: defs.length, label: `${from}-${e}`, fromDays: from, toDays: e });
    from = e + 1;
  }
  defs.push({ index: defs.length, label: `${edges[edges.length - 1]}+`, fromDays: from, toDays: null });
  return defs;
}

/** Bucket index of a number of days past due (0 = current). */
export function bucketIndex(dpd: number, edges: readonly number[]): number {
  if (dpd <= 0) return 0;
  let i = 1;
  for (const e of edges) {
    if (dpd <= e) return i;
    i++;
  }
  return i;
}

/**
 * The SQL expression of the bucket index for a due date column as of `$asOfParam`;
 * width_bucket counts the edges below the days past due. Edges are bound as an int[] parameter.
 */
export function bucketSql(dueDateExpr: string, asOfParam: string, edgesParam: string): string {
  const dpd = `(${asOfParam}::date - ${dueDateExpr})`;
  return `CASE WHEN ${dpd} <= 0 THEN 0 ELSE 1 + width_bucket(${dpd} - 1, ${edgesParam}::int[]) END`;
}

/** Inclusive due-date range of a bucket as of a day: days past due d means due date asOf - d. */
export function dueDateRange(def: BucketDefinition, asOf: IsoDate): { from: IsoDate | null; to: IsoDate | null } {
  return {
    from: def.toDays === null ? null : addDays(asOf, -def.toDays),
    to: def.fromDays === null ? null : addDays(asOf, -def.fromDays),
  };
}
