import type { EntityManager } from 'typeorm';
import type { RequestContext } from '../../platform/context';
import { canonicalEventSql, chainHash, GENESIS_HASH } from './audit-chain';

export const SEAL_BATCH = 5000;

export interface SealResult {
  sealed: number;
  headSeq: string;
  headHash: string;
}

export interface ChainBreak {
  seq: string;
  eventId: string | null;
  expectedHash: string;
  storedHash: string;
  reason: string;
}

export interface ChainVerification {
  ok: boolean;
  checkedEvents: number;
  fromSeq: string | null;
  toSeq: string | null;
  headSeq: string;
  headHash: string;
  firstBrokenLink: ChainBreak | null;
}

interface Head {
  seq: string;
  hash: string;
  sealed_below_txid: string;
}

/**
 * The per-tenant hash chain over audit events, built after the fact so that writers never wait
 * on each other: events are inserted as before (any number of concurrent transactions), and the
 * sealer appends them to `audit_chain` in the order their transactions finished, as far as the
 * oldest still-running transaction allows (every transaction id below that horizon has committed
 * or aborted, so no event below it can still appear). See docs/decisions/015-audit-hash-chain.md.
 */
export class AuditChainService {
  /** Seals everything below the current horizon; `wait` queues behind a running sealer instead of skipping. */
  async seal(em: EntityManager, tenantId: string, opts: { wait?: boolean; batch?: number } = {}): Promise<SealResult> {
    let sealed = 0;
    let head: Head = { seq: '0', hash: GENESIS_HASH, sealed_below_txid: '0' };
    for (;;) {
      const r = await em.transaction(async (tx) => {
        if (opts.wait) await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended('audit-seal:' || $1, 0))`, [tenantId]);
        else {
          const [{ locked }] = await tx.query(`SELECT pg_try_advisory_xact_lock(hashtextextended('audit-seal:' || $1, 0)) AS locked`, [tenantId]);
          if (!locked) return null;
        }
        // The horizon first: every transaction below it has finished before the events are read.
        const [{ horizon }] = await tx.query(`SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS horizon`);
        const [stored]: Head[] = await tx.query(`SELECT seq::text, hash, sealed_below_txid::text FROM audit_chain_heads WHERE tenant_id = $1`, [tenantId]);
        head = stored ?? head;
        const limit = opts.batch ?? SEAL_BATCH;
        const rows: { id: string; txid: string; content: string }[] = await tx.query(
          `SELECT e.id::text, e.txid::text, ${canonicalEventSql('e')} AS content FROM audit_events e
           WHERE e.tenant_id = $1 AND e.txid >= $2::bigint AND e.txid < $3::bigint
             AND NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.event_id = e.id)
           ORDER BY e.txid, e.id LIMIT $4`,
          [tenantId, head.sealed_below_txid, horizon, limit],
        );
        let seq = BigInt(head.seq);
        let prev = head.hash;
        const seqs: string[] = [];
        const prevs: string[] = [];
        const hashes: string[] = [];
        for (const row of rows) {
          seq += 1n;
          const h = chainHash(prev, row.content);
          seqs.push(seq.toString());
          prevs.push(prev);
          hashes.push(h);
          prev = h;
        }
        if (rows.length) {
          await tx.query(
            `INSERT INTO audit_chain (tenant_id, seq, event_id, prev_hash, hash) SELECT $1, v.s, v.e, v.p, v.h FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[]) AS v(s, e, p, h)`,
            [tenantId, seqs, rows.map((r) => r.id), prevs, hashes],
          );
        }
        // A full batch may stop inside one transaction's events: resume from that transaction.
        const below = rows.length === limit ? rows[rows.length - 1].txid : horizon;
        await tx.query(
          `INSERT INTO audit_chain_heads (tenant_id, seq, hash, sealed_below_txid) VALUES ($1, $2, $3, $4)
           ON CONFLICT (tenant_id) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash, sealed_below_txid = EXCLUDED.sealed_below_txid, updated_at = now()`,
          [tenantId, seq.toString(), prev, below],
        );
        head = { seq: seq.toString(), hash: prev, sealed_below_txid: below };
        return rows.length;
      });
      if (r === null) break;
      sealed += r;
      if (r < (opts.batch ?? SEAL_BATCH)) break;
    }
    return { sealed, headSeq: head.seq, headHash: head.hash };
  }

  /** Tenants with events below the horizon that are not sealed yet (the fan-out's work list). */
  async tenantsToSeal(em: EntityManager): Promise<string[]> {
    const rows: { id: string }[] = await em.query(
      `SELECT t.id FROM tenants t LEFT JOIN audit_chain_heads h ON h.tenant_id = t.id
       WHERE EXISTS (SELECT 1 FROM audit_events e WHERE e.tenant_id = t.id AND e.txid >= COALESCE(h.sealed_below_txid, 0)
                       AND e.txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
                       AND NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.event_id = e.id))
       ORDER BY t.id`,
    );
    return rows.map((r) => r.id);
  }

  /**
   * Seals, then recomputes the chain from its stored rows and the events as they are now: the
   * first position whose event is missing, whose stored previous hash is not the hash before it,
   * or whose hash does not match the event's content is the broken link. With `from`, the
   * check starts from the stored hash just before the first event at or after it.
   */
  async verify(ctx: RequestContext, range: { from?: Date | null; to?: Date | null }): Promise<ChainVerification> {
    const head = await this.seal(ctx.em, ctx.tenantId, { wait: true });
    const t = ctx.tenantId;
    const bound = async (fn: 'min' | 'max', op: '>=' | '<=', at: Date) => {
      const [r] = await ctx.em.query(`SELECT ${fn}(c.seq)::text AS seq FROM audit_chain c JOIN audit_events e ON e.id = c.event_id WHERE c.tenant_id = $1 AND e.occurred_at ${op} $2`, [t, at]);
      return r?.seq as string | null;
    };
    const fromSeq = range.from ? await bound('min', '>=', range.from) : '1';
    const toSeq = range.to ? await bound('max', '<=', range.to) : head.headSeq;
    const result: ChainVerification = { ok: true, checkedEvents: 0, fromSeq, toSeq, headSeq: head.headSeq, headHash: head.headHash, firstBrokenLink: null };
    if (!fromSeq || !toSeq || BigInt(fromSeq) > BigInt(toSeq)) return { ...result, fromSeq: null, toSeq: null };
    let prev = GENESIS_HASH;
    if (BigInt(fromSeq) > 1n) {
      const [before] = await ctx.em.query(`SELECT hash FROM audit_chain WHERE tenant_id = $1 AND seq = $2::bigint - 1`, [t, fromSeq]);
      prev = before?.hash ?? GENESIS_HASH;
    }
    let expectSeq = BigInt(fromSeq);
    for (;;) {
      const rows: { seq: string; event_id: string; prev_hash: string; hash: string; content: string | null }[] = await ctx.em.query(
        `SELECT c.seq::text, c.event_id::text, c.prev_hash, c.hash, ${canonicalEventSql('e')} AS content
         FROM audit_chain c LEFT JOIN audit_events e ON e.id = c.event_id AND e.tenant_id = c.tenant_id
         WHERE c.tenant_id = $1 AND c.seq >= $2::bigint AND c.seq <= $3::bigint ORDER BY c.seq LIMIT $4`,
        [t, expectSeq.toString(), toSeq, SEAL_BATCH],
      );
      for (const r of rows) {
        const fail = (reason: string, expectedHash: string): ChainVerification => ({ ...result, ok: false, firstBrokenLink: { seq: r.seq, eventId: r.event_id, expectedHash, storedHash: r.hash, reason } });
        if (BigInt(r.seq) !== expectSeq) return fail(`chain position ${expectSeq} is missing`, prev);
        // An event row that was deleted still yields its (null) content: the link is broken there.
        if (r.content === null || r.event_id === null) return fail('the audited event no longer exists', prev);
        if (r.prev_hash !== prev) return fail('the stored previous hash is not the hash of the position before', prev);
        const h = chainHash(prev, r.content);
        if (h !== r.hash) return fail('the event differs from what was sealed', h);
        prev = h;
        expectSeq += 1n;
        result.checkedEvents++;
      }
      if (rows.length < SEAL_BATCH) break;
    }
    if (expectSeq <= BigInt(toSeq)) return { ...result, ok: false, firstBrokenLink: { seq: expectSeq.toString(), eventId: null, expectedHash: prev, storedHash: '', reason: `chain position ${expectSeq} is missing` } };
    return result;
  }
}
