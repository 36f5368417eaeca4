import type { RequestContext } from '../../platform/context';

/** What the dispatcher needs from outreach: render a template, send a message (in the caller's transaction). */
export interface Messenger {
  render(ctx: RequestContext, input: { key: string; locale: string; channel: 'EMAIL' | 'SMS' | 'PORTAL' | 'INTERNAL'; model: object }): Promise<{ subject: string | null; body: string }>;
  send(
    ctx: RequestContext,
    input: { actionId: string; customerId: string; channel: 'EMAIL' | 'SMS' | 'PORTAL' | 'INTERNAL'; to: string[]; from?: string; subject?: string | null; body: string },
  ): Promise<{ transport: string; providerMessageId: string | null }>;
  /** True for errors worth retrying (timeouts, 429, 5xx, transient database errors). */
  isRetryable(err: unknown): boolean;
}

/** Called for every send failure that is not retryable or has run out of retries. */
export class SendFailed extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}
