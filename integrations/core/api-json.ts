import { ConnectorError, ConnectorErrorKind, parseRetryAfter } from './connector-error';
import { excerptOf, sendForText } from './http-json';

/** What a remote API said about a failed call, read from its documented error body. */
export interface ApiErrorDetail {
  /** Overrides the kind the status alone gives (e.g. Stripe-Should-Retry: false on a 5xx). */
  kind?: ConnectorErrorKind;
  message: string;
  type?: string | null;
  code?: string | null;
  param?: string | null;
  requestId?: string | null;
}

/**
 * A ConnectorError that carries the remote's own error (type, code, request id): a Stripe
 * `{ error: { type, code, message } }` or a HubSpot `{ status, category, message }` arrives
 * as this, with the same kinds and retry rules as every other connector failure.
 */
export class RemoteApiError extends ConnectorError {
  constructor(
    kind: ConnectorErrorKind,
    readonly remote: string,
    readonly detail: ApiErrorDetail,
    opts: { status?: number; retryAfterMs?: number; url?: string } = {},
  ) {
    super(kind, `${remote} ${[detail.type, detail.code].filter(Boolean).join('/') || 'error'} (${opts.status ?? '-'}): ${detail.message}`, opts);
    this.name = 'RemoteApiError';
  }
}

export interface ApiJsonRequest {
  method?: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  /** JSON body (objects) or a form body (URLSearchParams, as Stripe takes). */
  body?: unknown;
  timeoutMs: number;
}

/**
 * One call to a JSON API, classified like `httpJson` (429 with Retry-After, 5xx / network as
 * TRANSIENT, timeouts as TIMEOUT, 401/403 AUTH, other 4xx PERMANENT, non-JSON 2xx
 * INVALID_RESPONSE), but a failed call's body is handed to `describe` so that the remote's
 * documented error becomes a typed RemoteApiError instead of an excerpt.
 */
export async function apiJson<T = unknown>(remote: string, req: ApiJsonRequest, describe: (status: number, body: unknown, headers: Headers) => ApiErrorDetail | null): Promise<T> {
  const form = req.body instanceof URLSearchParams;
  const { res, text } = await sendForText({
    method: req.method,
    url: req.url,
    headers: {
      accept: 'application/json',
      ...(req.body !== undefined ? { 'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json' } : {}),
      ...req.headers,
    },
    body: req.body === undefined ? undefined : form ? String(req.body) : JSON.stringify(req.body),
    timeoutMs: req.timeoutMs,
  });
  let json: unknown;
  let parsed: boolean;
  try {
    json = text ? JSON.parse(text) : undefined;
    parsed = true;
  } catch {
    parsed = false;
  }
  if (res.status >= 400) {
    const kind =
      res.status === 429
        ? ConnectorErrorKind.RATE_LIMITED
        : res.status >= 500
          ? ConnectorErrorKind.TRANSIENT
          : res.status === 401 || res.status === 403
            ? ConnectorErrorKind.AUTH
            : ConnectorErrorKind.PERMANENT;
    const opts = { status: res.status, url: req.url, retryAfterMs: res.status === 429 ? parseRetryAfter(res.headers.get('retry-after')) : undefined };
    const detail = parsed ? describe(res.status, json, res.headers) : null;
    if (detail) throw new RemoteApiError(detail.kind ?? kind, remote, detail, opts);
    throw new ConnectorError(kind, `${req.url} answered ${res.status}: ${excerptOf(text)}`, opts);
  }
  if (!parsed) throw new ConnectorError(ConnectorErrorKind.INVALID_RESPONSE, `${req.url} answered ${res.status} with something that is not JSON: "${excerptOf(text)}"`, { status: res.status, url: req.url });
  return json as T;
}

/** Throws INVALID_RESPONSE unless `ok`: for answers that are JSON but not the documented shape. */
export function expectShape(ok: boolean, what: string, got: unknown): void {
  if (!ok) throw new ConnectorError(ConnectorErrorKind.INVALID_RESPONSE, `${what}; got ${JSON.stringify(got)?.slice(0, 200)}`);
}
