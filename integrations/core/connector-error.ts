/**
 * How a remote system failed, which decides whether and when to try again:
 * - RATE_LIMITED (429): retry after the remote's Retry-After (or a default);
 * - TRANSIENT (5xx, connection reset) and TIMEOUT: retry with exponential backoff;
 * - PERMANENT (other 4xx), AUTH (401/403) and INVALID_RESPONSE (a body that is not the
 *   documented shape): never retried: the same request would fail the same way; a person
 *   has to fix the credentials, the mapping or the remote.
 */
export enum ConnectorErrorKind {
  RATE_LIMITED = 'RATE_LIMITED',
  TRANSIENT = 'TRANSIENT',
  TIMEOUT = 'TIMEOUT',
  PERMANENT = 'PERMANENT',
  AUTH = 'AUTH',
  INVALID_RESPONSE = 'INVALID_RESPONSE',
}

export class ConnectorError extends Error {
  constructor(
    readonly kind: ConnectorErrorKind,
    message: string,
    readonly opts: { status?: number; retryAfterMs?: number; url?: string } = {},
  ) {
    super(message);
    this.name = 'ConnectorError';
  }

  get retryable(): boolean {
    return this.kind === ConnectorErrorKind.RATE_LIMITED || this.kind === ConnectorErrorKind.TRANSIENT || this.kind === ConnectorErrorKind.TIMEOUT;
  }
}

export interface RetryPolicy {
  maxAttempts: number;
  /** First backoff for TRANSIENT / TIMEOUT; doubles each attempt, capped at maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Used for 429 without a Retry-After header. */
  defaultRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 2000, maxDelayMs: 10 * 60_000, defaultRetryAfterMs: 30_000 };

/** The retry rule per error kind: null = give up now. `attempt` counts failures so far (1 = first). */
export function retryDelay(err: unknown, attempt: number, policy: RetryPolicy = DEFAULT_RETRY_POLICY): number | null {
  const e = err instanceof ConnectorError ? err : new ConnectorError(ConnectorErrorKind.TRANSIENT, String(err));
  if (!e.retryable || attempt >= policy.maxAttempts) return null;
  if (e.kind === ConnectorErrorKind.RATE_LIMITED) return Math.min(e.opts.retryAfterMs ?? policy.defaultRetryAfterMs, policy.maxDelayMs);
  return Math.min(policy.baseDelayMs * 2 ** (attempt - 1), policy.maxDelayMs);
}

/** Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
