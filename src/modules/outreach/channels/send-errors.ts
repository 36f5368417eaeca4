import type { MessageTransport } from '../outreach.enums';

/** A send that did not go out. `detail` is what the provider said, for logs and the action's reason. */
export abstract class SendError extends Error {
  constructor(
    message: string,
    readonly transport: MessageTransport,
    readonly detail: { status?: number; code?: string } = {},
  ) {
    super(message);
  }
}

/** Worth trying again later: the provider was down, busy (429, 5xx, SMTP 4xx) or unreachable. */
export class RetryableSendError extends SendError {
  override readonly name = 'RetryableSendError';
  constructor(message: string, transport: MessageTransport, detail: { status?: number; code?: string; retryAfterMs?: number | null } = {}) {
    super(message, transport, detail);
    this.retryAfterMs = detail.retryAfterMs ?? null;
  }
  /** The provider's Retry-After, when it gave one. */
  readonly retryAfterMs: number | null;
}

/** Will fail the same way every time (bad number, refused recipient, 4xx): do not retry. */
export class PermanentSendError extends SendError {
  override readonly name = 'PermanentSendError';
}
