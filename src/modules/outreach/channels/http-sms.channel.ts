import { MessageTransport } from '../outreach.enums';
import type { ChannelMessage, OutboundChannel, SendResult } from './outbound-channel';
import { PermanentSendError, RetryableSendError } from './send-errors';

const TIMEOUT_MS = 10_000;

/**
 * SMS through an HTTP provider: POST {to, body, reference} as JSON with a bearer token.
 * 2xx = accepted (the provider's id is read from the JSON answer); 429 and 5xx = try again
 * later; any other status = the provider refuses this message for good.
 */
export class HttpSmsChannel implements OutboundChannel {
  constructor(
    private readonly url: string,
    private readonly token: string | undefined,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  async send(message: ChannelMessage): Promise<SendResult> {
    const reference = message.actionId ?? message.id;
    let res: Response;
    try {
      res = await this.fetchImpl(this.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        },
        body: JSON.stringify({ to: message.to[0], body: message.body, reference }),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (err) {
      throw new RetryableSendError(`SMS provider unreachable: ${(err as Error).message}`, MessageTransport.SMS_HTTP, { code: (err as Error).name });
    }
    const text = await res.text().catch(() => '');
    if (res.ok) return { transport: MessageTransport.SMS_HTTP, providerMessageId: providerId(text) };
    const said = text.slice(0, 200);
    if (res.status === 429 || res.status >= 500) {
      throw new RetryableSendError(`SMS provider answered ${res.status}: ${said}`, MessageTransport.SMS_HTTP, { status: res.status, retryAfterMs: retryAfter(res.headers.get('retry-after')) });
    }
    throw new PermanentSendError(`SMS provider refused the message (${res.status}): ${said}`, MessageTransport.SMS_HTTP, { status: res.status });
  }
}

function providerId(text: string): string | null {
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    const id = body.id ?? body.messageId ?? body.message_id ?? body.sid;
    return typeof id === 'string' || typeof id === 'number' ? String(id) : null;
  } catch {
    return null;
  }
}

/** Retry-After in seconds or as an HTTP date. */
export function retryAfter(header: string | null, now = Date.now()): number | null {
  if (!header) return null;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
