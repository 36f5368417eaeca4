import { ConnectorError, ConnectorErrorKind, parseRetryAfter } from '../../core/connector-error';

/** The OAuth2 tokens of one QuickBooks Online company (realm), as stored (sealed) on the connection. */
export interface QboCredentials {
  accessToken: string;
  refreshToken: string;
  clientId: string;
  clientSecret: string;
}

/**
 * Where refreshed tokens go. `load` re-reads what is stored (another worker may have refreshed
 * already: its token is used instead of refreshing again, which would rotate the refresh token
 * under it); `save` stores the new pair, sealed, before the retried call is made.
 */
export interface CredentialStore {
  load(): Promise<Partial<QboCredentials> | null>;
  save(credentials: QboCredentials): Promise<void>;
}

export interface QboClientConfig {
  /** e.g. https://quickbooks.api.intuit.com or https://sandbox-quickbooks.api.intuit.com */
  baseUrl: string;
  realmId: string;
  /** https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer */
  tokenUrl: string;
  minorVersion: number;
  timeoutMs: number;
}

/** One entry of a QBO `Fault.Error` list. */
export interface QboFaultError {
  code: string;
  message: string;
  detail: string | null;
  element: string | null;
}

/**
 * A QuickBooks `Fault` answer, typed: `faultType` (ValidationFault, SystemFault,
 * AuthenticationFault, AuthorizationFault, …) and its errors with QBO's codes. The kind decides
 * the retry rule: SystemFault and a stale SyncToken (5010) are transient, throttling (3001,
 * ThrottleExceeded, or HTTP 429) waits, authentication (3200 AuthenticationFailed) and authorization faults are AUTH, the rest PERMANENT.
 */
export class QuickBooksFault extends ConnectorError {
  constructor(
    kind: ConnectorErrorKind,
    readonly faultType: string,
    readonly errors: QboFaultError[],
    opts: { status?: number; retryAfterMs?: number; url?: string },
  ) {
    const first = errors[0];
    super(kind, `QuickBooks ${faultType}${first ? ` ${first.code}: ${first.message}${first.detail && first.detail !== first.message ? ` (${first.detail})` : ''}` : ''}${errors.length > 1 ? ` and ${errors.length - 1} more` : ''}`, opts);
    this.name = 'QuickBooksFault';
  }

  get codes(): string[] {
    return this.errors.map((e) => e.code);
  }
}

const THROTTLE_CODES = new Set(['3001']);
const STALE_OBJECT = '5010';

/** A `Fault` object from any QBO answer (HTTP 200 included), or null. */
export function faultOf(body: unknown, opts: { status: number; url: string; retryAfterMs?: number }): QuickBooksFault | null {
  const fault = (body as { Fault?: unknown } | null)?.Fault as { type?: unknown; Error?: unknown } | undefined;
  if (!fault || typeof fault !== 'object') return null;
  const errors: QboFaultError[] = (Array.isArray(fault.Error) ? fault.Error : []).map((e: Record<string, unknown>) => ({
    code: String(e?.code ?? ''),
    message: String(e?.Message ?? e?.message ?? ''),
    detail: e?.Detail !== undefined && e?.Detail !== null ? String(e.Detail) : null,
    element: e?.element ? String(e.element) : null,
  }));
  const type = typeof fault.type === 'string' ? fault.type : 'Fault';
  let kind: ConnectorErrorKind;
  if (opts.status === 429 || errors.some((e) => THROTTLE_CODES.has(e.code) || /throttle/i.test(e.message))) kind = ConnectorErrorKind.RATE_LIMITED;
  else if (opts.status === 401 || opts.status === 403 || /^(Authentication|Authorization)Fault$/i.test(type)) kind = ConnectorErrorKind.AUTH;
  else if (opts.status >= 500 || /^SystemFault$/i.test(type) || errors.some((e) => e.code === STALE_OBJECT)) kind = ConnectorErrorKind.TRANSIENT;
  else kind = ConnectorErrorKind.PERMANENT;
  return new QuickBooksFault(kind, type, errors, { status: opts.status, url: opts.url, retryAfterMs: opts.retryAfterMs });
}

interface RawAnswer {
  status: number;
  text: string;
  retryAfterMs: number | undefined;
}

async function send(url: string, init: { method: string; headers: Record<string, string>; body?: string }, timeoutMs: number): Promise<RawAnswer> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const name = (err as Error)?.name;
    if (name === 'TimeoutError' || name === 'AbortError') throw new ConnectorError(ConnectorErrorKind.TIMEOUT, `no answer from ${url} within ${timeoutMs} ms`, { url });
    throw new ConnectorError(ConnectorErrorKind.TRANSIENT, `cannot reach ${url}: ${(err as Error)?.message ?? err}`, { url });
  }
  try {
    return { status: res.status, text: await res.text(), retryAfterMs: parseRetryAfter(res.headers.get('retry-after')) };
  } catch (err) {
    const name = (err as Error)?.name;
    throw new ConnectorError(name === 'TimeoutError' ? ConnectorErrorKind.TIMEOUT : ConnectorErrorKind.TRANSIENT, `reading the answer of ${url} failed: ${(err as Error)?.message}`, { url, status: res.status });
  }
}

const excerpt = (text: string) => text.slice(0, 200).replace(/\s+/g, ' ');

/**
 * The QuickBooks Online Accounting API over fetch: `GET|POST /v3/company/{realmId}/…` with
 * `minorversion`, a bearer access token, and failures classified for the framework's retry
 * rules. A 401 refreshes the token pair once (RFC 6749 refresh grant at `tokenUrl`, client
 * id/secret as HTTP Basic), stores it through the CredentialStore, and repeats the call once;
 * a second 401 is an AUTH failure (a person must reconnect the company).
 */
export class QboClient {
  private refreshing: Promise<void> | null = null;

  constructor(
    private readonly config: QboClientConfig,
    private credentials: QboCredentials,
    private readonly store: CredentialStore | null,
  ) {}

  get accessToken(): string {
    return this.credentials.accessToken;
  }

  url(path: string, params: Record<string, string> = {}): string {
    const qs = new URLSearchParams({ ...params, minorversion: String(this.config.minorVersion) });
    return `${this.config.baseUrl.replace(/\/$/, '')}/v3/company/${encodeURIComponent(this.config.realmId)}/${path}?${qs}`;
  }

  async get<T>(path: string, params: Record<string, string> = {}): Promise<T> {
    return this.call<T>('GET', this.url(path, params));
  }

  async post<T>(path: string, body: unknown, params: Record<string, string> = {}): Promise<T> {
    return this.call<T>('POST', this.url(path, params), body);
  }

  private async call<T>(method: 'GET' | 'POST', url: string, body?: unknown): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const token = this.credentials.accessToken;
      const answer = await send(
        url,
        {
          method,
          headers: { accept: 'application/json', authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
          body: body !== undefined ? JSON.stringify(body) : undefined,
        },
        this.config.timeoutMs,
      );
      if (answer.status === 401 && attempt === 1) {
        await this.refresh(token);
        continue;
      }
      return this.parse<T>(answer, url);
    }
  }

  private parse<T>(answer: RawAnswer, url: string): T {
    let json: unknown;
    let parsed = false;
    if (answer.text) {
      try {
        json = JSON.parse(answer.text);
        parsed = true;
      } catch {
        /* classified below */
      }
    }
    const fault = parsed ? faultOf(json, { status: answer.status, url, retryAfterMs: answer.retryAfterMs }) : null;
    if (fault) throw fault;
    if (answer.status === 429) throw new ConnectorError(ConnectorErrorKind.RATE_LIMITED, `QuickBooks is throttling (429)`, { status: 429, retryAfterMs: answer.retryAfterMs, url });
    if (answer.status >= 500) throw new ConnectorError(ConnectorErrorKind.TRANSIENT, `${url} answered ${answer.status}: ${excerpt(answer.text)}`, { status: answer.status, url });
    if (answer.status === 401 || answer.status === 403) throw new ConnectorError(ConnectorErrorKind.AUTH, `QuickBooks refused the access token (${answer.status}) even after a refresh`, { status: answer.status, url });
    if (answer.status >= 400) throw new ConnectorError(ConnectorErrorKind.PERMANENT, `${url} refused the request (${answer.status}): ${excerpt(answer.text)}`, { status: answer.status, url });
    if (!parsed || !json || typeof json !== 'object') {
      throw new ConnectorError(ConnectorErrorKind.INVALID_RESPONSE, `${url} answered ${answer.status} with something that is not a QuickBooks JSON object: "${excerpt(answer.text)}"`, { status: answer.status, url });
    }
    return json as T;
  }

  /** One refresh at a time per client; a token another worker refreshed meanwhile is taken as it is. */
  private async refresh(rejected: string): Promise<void> {
    if (this.credentials.accessToken !== rejected) return;
    this.refreshing ??= this.doRefresh(rejected).finally(() => {
      this.refreshing = null;
    });
    await this.refreshing;
  }

  private async doRefresh(rejected: string): Promise<void> {
    const stored = await this.store?.load();
    if (stored?.accessToken && stored.accessToken !== rejected && stored.refreshToken) {
      this.credentials = { ...this.credentials, accessToken: stored.accessToken, refreshToken: stored.refreshToken };
      return;
    }
    const { clientId, clientSecret, refreshToken } = this.credentials;
    const answer = await send(
      this.config.tokenUrl,
      {
        method: 'POST',
        headers: {
          accept: 'application/json',
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }).toString(),
      },
      this.config.timeoutMs,
    );
    let json: { access_token?: unknown; refresh_token?: unknown; error?: unknown; error_description?: unknown } | null;
    try {
      json = answer.text ? JSON.parse(answer.text) : null;
    } catch {
      json = null;
    }
    if (answer.status === 429) throw new ConnectorError(ConnectorErrorKind.RATE_LIMITED, 'the QuickBooks token endpoint is throttling (429)', { status: 429, retryAfterMs: answer.retryAfterMs, url: this.config.tokenUrl });
    if (answer.status >= 500) throw new ConnectorError(ConnectorErrorKind.TRANSIENT, `the QuickBooks token endpoint answered ${answer.status}`, { status: answer.status, url: this.config.tokenUrl });
    if (answer.status >= 400) {
      // invalid_grant: the refresh token expired (100 days) or was revoked; invalid_client: wrong client id/secret.
      const reason = typeof json?.error === 'string' ? `${json.error}${typeof json.error_description === 'string' ? `: ${json.error_description}` : ''}` : excerpt(answer.text);
      throw new ConnectorError(ConnectorErrorKind.AUTH, `QuickBooks refused to refresh the access token (${answer.status} ${reason}); reconnect the company`, { status: answer.status, url: this.config.tokenUrl });
    }
    if (typeof json?.access_token !== 'string' || !json.access_token) {
      throw new ConnectorError(ConnectorErrorKind.INVALID_RESPONSE, `the QuickBooks token endpoint answered without an access_token: "${excerpt(answer.text)}"`, { status: answer.status, url: this.config.tokenUrl });
    }
    // Intuit may rotate the refresh token: always keep the latest one it returns.
    this.credentials = { ...this.credentials, accessToken: json.access_token, refreshToken: typeof json.refresh_token === 'string' && json.refresh_token ? json.refresh_token : refreshToken };
    await this.store?.save(this.credentials);
  }
}
