import { randomUUID } from 'node:crypto';
import express, { type Router } from 'express';
import type { EntityManager } from 'typeorm';
import { roleAtLeast, Role, type Actor } from '../../platform/auth/roles';
import { Loaders, RequestContext } from '../../platform/context';
import { AppError } from '../../platform/errors';
import type { Logger } from '../../platform/logging/logger';
import type { InboundService } from './inbound.service';
import { MalformedMimeError } from './mime';

export const INBOUND_EMAIL_PATH = '/inbound/email';
/** Fields of a JSON or form body that may carry the raw message (common inbound-mail webhooks use these names). */
const RAW_FIELDS = ['raw', 'mime', 'body-mime', 'email', 'message'];

function fail(res: express.Response, status: number, code: string, message: string, reason?: string) {
  res.status(status).json({ errors: [{ message, extensions: { code, ...(reason ? { reason } : {}) } }] });
}

/** `Authorization: Bearer <api key>`, or HTTP Basic with the API key as the password (for providers that only put credentials in the URL). */
function credential(header: string | undefined): string | null {
  if (!header) return null;
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (bearer) return bearer[1];
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (basic) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    return i >= 0 ? decoded.slice(i + 1) : decoded;
  }
  return null;
}

/**
 * `POST /inbound/email`: one inbound email as raw MIME, for a mail provider's inbound webhook.
 * Body: `message/rfc822` (or `text/plain`, `application/octet-stream`) with the raw message, or
 * JSON / `application/x-www-form-urlencoded` with the raw message in `raw` (also `mime`,
 * `body-mime`, `email`, `message`), base64 when `encoding` is `base64`. Authenticated by an API
 * key of the tenant (COLLECTOR or above). 201 stored, 200 already stored (same Message-ID),
 * 400 malformed (nothing stored), 401 / 403, 413 too large, 415 other content types.
 */
export function inboundRouter(opts: { inbound: InboundService; authenticate: (token: string) => Promise<Actor | null>; em: () => EntityManager; logger: () => Logger }): Router {
  const router = express.Router();
  const limit = '15mb';
  router.post(
    INBOUND_EMAIL_PATH,
    async (req, res, next) => {
      const token = credential(req.headers.authorization);
      const actor = token ? await opts.authenticate(token).catch(() => null) : null;
      if (!actor) return fail(res, 401, 'UNAUTHENTICATED', 'Send an API key as "Authorization: Bearer <key>" (or as the password of HTTP Basic auth)');
      if (!roleAtLeast(actor.role, Role.COLLECTOR)) return fail(res, 403, 'FORBIDDEN', 'Receiving inbound email needs a COLLECTOR key or above');
      res.locals.actor = actor;
      next();
    },
    express.raw({ type: ['message/rfc822', 'text/plain', 'application/octet-stream'], limit }),
    express.json({ limit }),
    express.urlencoded({ extended: false, limit }),
    async (req, res) => {
      const actor = res.locals.actor as Actor;
      let raw: Buffer;
      if (Buffer.isBuffer(req.body)) raw = req.body;
      else if (req.body && typeof req.body === 'object') {
        const body = req.body as Record<string, unknown>;
        const field = RAW_FIELDS.find((f) => typeof body[f] === 'string');
        if (!field) return fail(res, 400, 'BAD_REQUEST', `The body has no raw message: put it in one of ${RAW_FIELDS.map((f) => `"${f}"`).join(', ')}`, 'MISSING_MESSAGE');
        raw = Buffer.from(body[field] as string, body.encoding === 'base64' ? 'base64' : 'utf8');
      } else {
        return fail(res, 415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the message as message/rfc822, or as JSON / a form with a "raw" field', 'UNSUPPORTED_CONTENT_TYPE');
      }
      const log = (req.log ?? opts.logger()).child({ tenantId: actor.tenantId, actor: actor.id });
      const ctx = new RequestContext(actor.tenantId, actor, opts.em(), String(req.id ?? res.getHeader('x-request-id') ?? randomUUID()), log, new Loaders());
      try {
        const { message, duplicate } = await opts.inbound.receive(ctx, raw);
        res.status(duplicate ? 200 : 201).json({
          id: message.id,
          messageId: message.messageId,
          duplicate,
          status: message.status,
          matchMethod: message.matchMethod,
          customerId: message.customerId,
          invoiceIds: message.invoiceIds,
          autoReply: message.autoReply,
          suggestions: message.suggestions.map((s) => ({ id: s.id, kind: s.kind, status: s.status, phrase: s.phrase, language: s.language, reasonCode: s.reasonCode, promisedDate: s.promisedDate, amount: s.amount, disputeId: s.disputeId, taskId: s.taskId })),
        });
      } catch (err) {
        if (err instanceof MalformedMimeError) return fail(res, 400, 'BAD_REQUEST', `Malformed MIME message: ${err.message}`, 'MALFORMED_MIME');
        if (err instanceof AppError) return fail(res, 400, String(err.extensions.code), err.message, err.extensions.reason as string | undefined);
        log.error({ err }, 'inbound email failed');
        return fail(res, 500, 'INTERNAL_SERVER_ERROR', 'Internal server error');
      }
    },
  );
  // Body-parser failures on this path: JSON errors, never HTML.
  router.use(INBOUND_EMAIL_PATH, (err: { type?: string; status?: number; message?: string }, _req: express.Request, res: express.Response, next: express.NextFunction) => {
    if (!err) return next();
    if (err.type === 'entity.too.large') return fail(res, 413, 'PAYLOAD_TOO_LARGE', `The message is larger than ${limit}`, 'TOO_LARGE');
    if ((err.status ?? 500) < 500) return fail(res, 400, 'BAD_REQUEST', `Malformed body: ${err.message ?? 'could not be read'}`, 'MALFORMED_BODY');
    return next(err);
  });
  return router;
}
