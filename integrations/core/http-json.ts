import { ConnectorError, ConnectorErrorKind, parseRetryAfter } from './connector-error';

export interface HttpJsonRequest {
  method?: 'GET' | 'POST' | 'PATCH' | 'PUT';
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  timeoutMs: number;
}

/**
 * One JSON call to a remote API, its failures classified for the retry rules: 429 with its
 * Retry-After, 5xx and network failures as transient, a timeout as TIMEOUT (the remote may
 * still have applied a write: callers reconcile before retrying), 401/403 as AUTH, other 4xx
 * as permanent, and a 2xx whose body is not JSON as INVALID_RESPONSE.
 */
export async function httpJson<T = unknown>(req: HttpJsonRequest): Promise<T> {
  const { res, text } = await sendForText({
    method: req.method,
    url: req.url,
    headers: { accept: 'application/json', ...(req.body !== undefined ? { 'content-type': 'application/json' } : {}), ...req.headers },
    body: req.body !== undefined ? JSON.stringify(req.body) : undefined,
    timeoutMs: req.timeoutMs,
  });
  const excerpt = excerptOf(text);
  if (res.status === 429) {
    throw new ConnectorError(ConnectorErrorKind.RATE_LIMITED, `${req.url} is rate limiting (429)`, { status: 429, retryAfterMs: parseRetryAfter(res.headers.get('retry-after')), url: req.url });
  }
  if (res.status >= 500) throw new ConnectorError(ConnectorErrorKind.TRANSIENT, `${req.url} answered ${res.status}: ${excerpt}`, { status: res.status, url: req.url });
  if (res.status === 401 || res.status === 403) throw new ConnectorError(ConnectorErrorKind.AUTH, `${req.url} refused the credentials (${res.status})`, { status: res.status, url: req.url });
  if (res.status >= 400) throw new ConnectorError(ConnectorErrorKind.PERMANENT, `${req.url} refused the request (${res.status}): ${excerpt}`, { status: res.status, url: req.url });
  if (!text) return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ConnectorError(ConnectorErrorKind.INVALID_RESPONSE, `${req.url} answered ${res.status} with something that is not JSON: "${excerpt}"`, { status: res.status, url: req.url });
  }
}

/** The first 200 characters of a body, whitespace folded: what an error message quotes. */
export const excerptOf = (text: string): string => text.slice(0, 200).replace(/\s+/g, ' ');

/**
 * Sends one request and reads its body as text; a request that gets no answer in time is
 * TIMEOUT (the remote may still have applied a write), one that cannot reach the remote or
 * breaks off while reading is TRANSIENT. Statuses are the caller's to classify.
 */
export async function sendForText(req: { method?: string; url: string; headers: Record<string, string>; body?: string; timeoutMs: number }): Promise<{ res: Response; text: string }> {
  let res: Response;
  try {
    res = await fetch(req.url, { method: req.method ?? 'GET', headers: req.headers, body: req.body, signal: AbortSignal.timeout(req.timeoutMs) });
  } catch (err) {
    const name = (err as Error)?.name;
    if (name === 'TimeoutError' || name === 'AbortError') throw new ConnectorError(ConnectorErrorKind.TIMEOUT, `no answer from ${req.url} within ${req.timeoutMs} ms`, { url: req.url });
    throw new ConnectorError(ConnectorErrorKind.TRANSIENT, `cannot reach ${req.url}: ${(err as Error)?.message ?? err}`, { url: req.url });
  }
  try {
    return { res, text: await res.text() };
  } catch (err) {
    const name = (err as Error)?.name;
    throw new ConnectorError(name === 'TimeoutError' ? ConnectorErrorKind.TIMEOUT : ConnectorErrorKind.TRANSIENT, `reading the answer of ${req.url} failed: ${(err as Error)?.message}`, { url: req.url, status: res.status });
  }
}
