import { createHash } from 'node:crypto';

/** The hash a chain starts from (the "previous hash" of position 1). */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * The canonical content of an audit event, rendered by PostgreSQL: a jsonb object (keys in
 * jsonb's fixed order, `data` as stored) with the timestamp in UTC to the microsecond. Using the
 * database's own rendering means the sealer and the verifier hash exactly the bytes stored.
 */
export const canonicalEventSql = (e: string) =>
  `jsonb_build_object('id', ${e}.id::text, 'tenantId', ${e}.tenant_id, 'occurredAt', to_char(${e}.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
     'actorKind', ${e}.actor_kind, 'actorId', ${e}.actor_id, 'action', ${e}.action, 'subjectType', ${e}.subject_type,
     'subjectId', ${e}.subject_id, 'data', ${e}.data, 'requestId', ${e}.request_id)::text`;

/** hash(n) = sha256(hash(n-1) || "\n" || canonical content(n)), hex. */
export function chainHash(prevHash: string, content: string): string {
  return createHash('sha256').update(prevHash).update('\n').update(content).digest('hex');
}
