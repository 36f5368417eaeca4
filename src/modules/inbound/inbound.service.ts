import { inTransaction, type RequestContext } from '../../platform/context';
import { badInput, notFound } from '../../platform/errors';
import { decodeCursor, toConnection, type Connection } from '../../platform/graphql/connection';
import { Money } from '../../platform/graphql/money.type';
import { formatMinor, parseDecimal } from '../../platform/money/money';
import type { AuditService } from '../audit/audit.service';
import type { DisputeReason } from '../disputes/dispute.entity';
import type { DisputeService } from '../disputes/dispute.service';
import { NUMBER_DIGITS_SQL, numberKeys, parseReferences } from '../payments/reference-parser';
import { PromiseChannel } from '../promises/promise-to-pay.entity';
import type { PromiseService } from '../promises/promise.service';
import type { TenantService } from '../tenants/tenant.service';
import type { TimelineService } from '../timeline/timeline.service';
import type { TaskService } from '../worklists/task.service';
import { classify, ownText, type Classification } from './classifier';
import {
  InboundMatchMethod,
  InboundMessageStatus,
  InboundSuggestionKind,
  InboundSuggestionStatus,
  type InboundMessage,
  type InboundMessageFilter,
  type InboundSuggestion,
} from './inbound.types';
import { parseMime, type ParsedInbound } from './mime';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Our outbound Message-IDs (see outreach/channels/smtp-email.channel.ts `messageIdFor`). */
const OUR_MESSAGE_ID = /^<(action|message)\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})@[^>]+>$/i;
/** Words written before a number that make it an invoice number ("invoice 1042" for INV-1042). */
const INVOICE_WORDS = new Set(['INVOICE', 'INV', 'NO', 'NR', 'NUMBER', 'REF', 'RECHNUNG', 'RG', 'RGNR', 'FACTURE', 'FACT', 'N', 'NUMERO']);
const MAX_REFERENCES = 50;

export const InboundErrors = {
  NOT_UNMATCHED: 'NOT_UNMATCHED',
  NOT_PENDING: 'NOT_PENDING',
  OTHER_CUSTOMER: 'OTHER_CUSTOMER',
  DATE_REQUIRED: 'DATE_REQUIRED',
  CONTACT_REQUIRED: 'CONTACT_REQUIRED',
  INVOICE_REQUIRED: 'INVOICE_REQUIRED',
  REASON_REQUIRED: 'REASON_REQUIRED',
} as const;

interface Threading {
  status: InboundMessageStatus;
  method: InboundMatchMethod | null;
  note: string | null;
  customerId: string | null;
  invoiceIds: string[];
  actionId: string | null;
  contactId: string | null;
}

interface MessageRow {
  id: string;
  message_id: string;
  in_reply_to: string | null;
  references: string[];
  from_address: string | null;
  from_name: string | null;
  to_addresses: string[];
  subject: string | null;
  text_body: string | null;
  sent_at: Date | null;
  received_on: string;
  status: InboundMessageStatus;
  match_method: InboundMatchMethod | null;
  match_note: string | null;
  customer_id: string | null;
  customer_name: string | null;
  invoice_ids: string[];
  invoice_numbers: string[];
  action_id: string | null;
  contact_id: string | null;
  auto_reply: boolean;
  auto_reply_reason: string | null;
  classification: Classification;
  interaction_id: string | null;
  created_at: Date;
  k: string;
}

interface SuggestionRow {
  id: string;
  inbound_message_id: string;
  kind: InboundSuggestionKind;
  status: InboundSuggestionStatus;
  language: string;
  phrase: string;
  excerpt: string;
  reason_code: DisputeReason | null;
  promised_date: string | null;
  date_text: string | null;
  amount_minor: string | null;
  currency: string | null;
  invoice_ids: string[];
  dispute_id: string | null;
  promise_id: string | null;
  task_id: string | null;
  decided_by: string | null;
  decided_at: Date | null;
  note: string | null;
  created_at: Date;
}

const MESSAGE_COLUMNS = `m.id, m.message_id, m.in_reply_to, m."references", m.from_address, m.from_name, m.to_addresses, m.subject, m.text_body, m.sent_at,
  to_char(m.received_on, 'YYYY-MM-DD') AS received_on, m.status, m.match_method, m.match_note, m.customer_id, c.name AS customer_name, m.invoice_ids,
  ARRAY(SELECT i.number FROM unnest(m.invoice_ids) WITH ORDINALITY u(id, n) JOIN invoices i ON i.tenant_id = m.tenant_id AND i.id = u.id ORDER BY u.n) AS invoice_numbers,
  m.action_id, m.contact_id, m.auto_reply, m.auto_reply_reason, m.classification, m.interaction_id, m.created_at,
  to_char(m.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS k`;

/**
 * A suggestion's status follows its dispute when a person decided the dispute directly
 * (confirmDispute / dismissDispute): the two never disagree.
 */
const SUGGESTION_COLUMNS = `s.id, s.inbound_message_id, s.kind,
  CASE WHEN s.kind = 'DISPUTE' AND s.status = 'PENDING' AND d.status IS NOT NULL AND d.status <> 'SUGGESTED'
       THEN CASE WHEN d.status = 'DISMISSED' THEN 'DISMISSED' ELSE 'CONFIRMED' END ELSE s.status END AS status,
  s.language, s.phrase, s.excerpt, s.reason_code, to_char(s.promised_date, 'YYYY-MM-DD') AS promised_date, s.date_text, s.amount_minor, s.currency,
  s.invoice_ids, s.dispute_id, s.promise_id, s.task_id,
  CASE WHEN s.status = 'PENDING' AND d.status IS NOT NULL AND d.status <> 'SUGGESTED' THEN COALESCE(d.confirmed_by, d.resolved_by) ELSE s.decided_by END AS decided_by,
  CASE WHEN s.status = 'PENDING' AND d.status IS NOT NULL AND d.status <> 'SUGGESTED' THEN COALESCE(d.confirmed_at, d.resolved_at) ELSE s.decided_at END AS decided_at,
  CASE WHEN s.status = 'PENDING' AND d.status = 'DISMISSED' THEN d.resolution_note ELSE s.note END AS note, s.created_at`;

/**
 * Inbound replies: parsed (mailparser), threaded to the customer and invoices (our Message-IDs
 * in In-Reply-To / References → the action → customer and invoice; else the sender's contact
 * address; else invoice numbers in the subject and body), stored once per Message-ID, put on
 * the timeline, and classified by the phrase lists of `phrases.ts`: likely disputes become
 * SUGGESTED disputes, likely promises a suggestion with a task, both for a person to confirm.
 * What no rule threads waits as UNMATCHED for `assign`.
 */
export class InboundService {
  constructor(
    private readonly disputes: DisputeService,
    private readonly promises: PromiseService,
    private readonly tasks: TaskService,
    private readonly timeline: TimelineService,
    private readonly tenants: TenantService,
    private readonly audit: AuditService,
  ) {}

  /** Receives one raw message. Throws MalformedMimeError for what is not a message; the same Message-ID twice returns the first. */
  async receive(ctx: RequestContext, raw: Buffer): Promise<{ message: InboundMessage; duplicate: boolean }> {
    const parsed = await parseMime(raw);
    const existing = await this.findByMessageId(ctx, parsed.messageId);
    if (existing) return { message: existing, duplicate: true };
    const today = await this.tenants.today(ctx);
    const sentOn = parsed.date ? await this.tenants.today(ctx, parsed.date) : today;
    const receivedOn = sentOn > today ? today : sentOn;
    const classification = classify({ subject: parsed.subject, text: parsed.text, messageDate: receivedOn, headers: parsed.headers, fromAddress: parsed.fromAddress });
    const threading = await this.thread(ctx, parsed);
    const result = await inTransaction(ctx, async (tx) => {
      const rows: { id: string }[] = await tx.em.query(
        `INSERT INTO inbound_messages (tenant_id, message_id, in_reply_to, "references", from_address, from_name, to_addresses, subject, text_body, sent_at, received_on,
           status, match_method, match_note, customer_id, invoice_ids, action_id, contact_id, auto_reply, auto_reply_reason, classification, raw_mime, raw_sha256, received_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)
         ON CONFLICT (tenant_id, message_id) DO NOTHING RETURNING id`,
        [
          ctx.tenantId,
          parsed.messageId,
          parsed.inReplyTo?.slice(0, 998) ?? null,
          parsed.references.slice(-MAX_REFERENCES),
          parsed.fromAddress?.slice(0, 320) ?? null,
          parsed.fromName?.slice(0, 500) ?? null,
          parsed.to,
          parsed.subject,
          parsed.text,
          parsed.date,
          receivedOn,
          threading.status,
          threading.method,
          threading.note?.slice(0, 500) ?? null,
          threading.customerId,
          threading.invoiceIds,
          threading.actionId,
          threading.contactId,
          !!classification.autoReply,
          classification.autoReply?.reason.slice(0, 500) ?? null,
          JSON.stringify(classification),
          raw,
          parsed.sha256,
          ctx.actor.id.slice(0, 64),
        ],
      );
      // A concurrent delivery of the same message committed first (the unique index waited for it).
      if (!rows.length) return null;
      const id = rows[0].id;
      await this.audit.record(tx, {
        action: 'inbound_message.received',
        subjectType: threading.customerId ? 'Customer' : 'InboundMessage',
        subjectId: threading.customerId ?? id,
        data: { inboundMessageId: id, messageId: parsed.messageId, status: threading.status, matchMethod: threading.method, invoiceIds: threading.invoiceIds, autoReply: !!classification.autoReply },
      });
      if (threading.customerId) await this.applyMatch(tx, id);
      return id;
    });
    if (!result) return { message: (await this.findByMessageId(ctx, parsed.messageId))!, duplicate: true };
    return { message: (await this.get(ctx, result))!, duplicate: false };
  }

  // --- threading ------------------------------------------------------------------------------

  private async thread(ctx: RequestContext, p: ParsedInbound): Promise<Threading> {
    const t: Threading = { status: InboundMessageStatus.UNMATCHED, method: null, note: null, customerId: null, invoiceIds: [], actionId: null, contactId: null };
    // 1. Our Message-IDs in In-Reply-To, then References from the newest.
    const refs = [...new Set([p.inReplyTo, ...[...p.references].reverse()].filter((x): x is string => !!x))].slice(0, MAX_REFERENCES);
    for (const ref of refs) {
      const hit = await this.byMessageId(ctx, ref);
      if (!hit) continue;
      Object.assign(t, { status: InboundMessageStatus.MATCHED, method: ref === p.inReplyTo ? InboundMatchMethod.IN_REPLY_TO : InboundMatchMethod.REFERENCES, customerId: hit.customerId, invoiceIds: hit.invoiceIds, actionId: hit.actionId, note: `replies to ${ref}` });
      break;
    }
    // 2. The sender's address among the contacts.
    const senders: { id: string; customer_id: string }[] = p.fromAddress
      ? await ctx.em.query(`SELECT id, customer_id FROM contacts WHERE tenant_id = $1 AND lower(email) = $2 AND email IS NOT NULL ORDER BY is_primary DESC, id`, [ctx.tenantId, p.fromAddress.toLowerCase()])
      : [];
    const senderCustomers = [...new Set(senders.map((s) => s.customer_id))];
    if (!t.customerId && senderCustomers.length === 1) Object.assign(t, { status: InboundMessageStatus.MATCHED, method: InboundMatchMethod.SENDER, customerId: senderCustomers[0], note: `sender ${p.fromAddress} is a contact` });
    // 3. Invoice numbers in the subject and body: more invoices of the customer found, or the customer itself.
    const mentioned = await this.mentionedInvoices(ctx, `${p.subject ?? ''}\n${p.text}`);
    if (t.customerId) {
      for (const inv of mentioned) if (inv.customer_id === t.customerId && !t.invoiceIds.includes(inv.id)) t.invoiceIds.push(inv.id);
    } else {
      let candidates = [...new Set(mentioned.map((m) => m.customer_id))];
      if (senderCustomers.length > 1 && candidates.some((c) => senderCustomers.includes(c))) candidates = candidates.filter((c) => senderCustomers.includes(c));
      if (candidates.length === 1) {
        Object.assign(t, { status: InboundMessageStatus.MATCHED, method: InboundMatchMethod.INVOICE_NUMBER, customerId: candidates[0], invoiceIds: mentioned.filter((m) => m.customer_id === candidates[0]).map((m) => m.id), note: `invoice numbers ${mentioned.filter((m) => m.customer_id === candidates[0]).map((m) => m.number).join(', ')}` });
      } else if (candidates.length > 1) {
        t.note = `invoice numbers belong to ${candidates.length} customers`;
      } else if (senderCustomers.length > 1) {
        t.note = `sender ${p.fromAddress} is a contact of ${senderCustomers.length} customers`;
      } else {
        t.note = refs.length ? 'references none of our messages; unknown sender; no invoice number' : 'unknown sender; no invoice number';
      }
    }
    if (t.customerId) t.contactId = senders.find((s) => s.customer_id === t.customerId)?.id ?? null;
    return t;
  }

  /** One of our outbound Message-IDs (or an inbound message already threaded) → customer, invoices, action. */
  private async byMessageId(ctx: RequestContext, ref: string): Promise<{ customerId: string; invoiceIds: string[]; actionId: string | null } | null> {
    const ours = OUR_MESSAGE_ID.exec(ref);
    let rows: { customer_id: string | null; invoice_id: string | null; action_id: string | null }[] = [];
    if (ours?.[1].toLowerCase() === 'action') {
      rows = await ctx.em.query(`SELECT customer_id, invoice_id, id AS action_id FROM actions WHERE tenant_id = $1 AND id = $2`, [ctx.tenantId, ours[2]]);
    } else if (ours) {
      rows = await ctx.em.query(
        `SELECT m.customer_id, a.invoice_id, m.action_id FROM outbound_messages m LEFT JOIN actions a ON a.tenant_id = m.tenant_id AND a.id = m.action_id WHERE m.tenant_id = $1 AND m.id = $2`,
        [ctx.tenantId, ours[2]],
      );
    }
    if (!rows.length) {
      // A provider that set its own Message-ID: the one it reported is stored with the message.
      rows = await ctx.em.query(
        `SELECT m.customer_id, a.invoice_id, m.action_id FROM outbound_messages m LEFT JOIN actions a ON a.tenant_id = m.tenant_id AND a.id = m.action_id
         WHERE m.tenant_id = $1 AND m.provider_message_id = $2 AND m.customer_id IS NOT NULL LIMIT 1`,
        [ctx.tenantId, ref],
      );
    }
    if (rows[0]?.customer_id) return { customerId: rows[0].customer_id, invoiceIds: rows[0].invoice_id ? [rows[0].invoice_id] : [], actionId: rows[0].action_id };
    // A follow-up in a thread whose earlier message was already threaded (or assigned by a person).
    const [prior] = await ctx.em.query(`SELECT customer_id, invoice_ids, action_id FROM inbound_messages WHERE tenant_id = $1 AND message_id = $2 AND customer_id IS NOT NULL`, [ctx.tenantId, ref]);
    return prior ? { customerId: prior.customer_id, invoiceIds: prior.invoice_ids, actionId: prior.action_id } : null;
  }

  /** Open invoices whose numbers the text names (reference-parser tokens; a bare "1042" names INV-1042 only after a word like "invoice"). */
  private async mentionedInvoices(ctx: RequestContext, text: string): Promise<{ id: string; customer_id: string; number: string }[]> {
    const refs = parseReferences(text.slice(0, 20_000)).slice(0, 100);
    if (!refs.length) return [];
    const rows: { id: string; customer_id: string; number: string }[] = await ctx.em.query(
      `SELECT id, customer_id, number FROM invoices WHERE tenant_id = $1 AND status = 'OPEN' AND ${NUMBER_DIGITS_SQL} = ANY($2::text[]) ORDER BY due_date, id LIMIT 200`,
      [ctx.tenantId, refs.map((r) => r.digits)],
    );
    return rows.filter((inv) => {
      const k = numberKeys(inv.number);
      return refs.some((r) => r.full === k.full || (r.digits === k.digits && INVOICE_WORDS.has(r.full.replace(/\d+$/, ''))));
    });
  }

  /** Timeline entry and suggestions for a message that now has its customer (in the caller's transaction). */
  private async applyMatch(tx: RequestContext, id: string): Promise<void> {
    const m = await this.row(tx, id, true);
    if (!m?.customer_id) return;
    const open: { id: string; number: string; currency: string; open_balance_minor: string }[] = m.invoice_ids.length
      ? await tx.em.query(`SELECT id, number, currency, open_balance_minor FROM invoices WHERE tenant_id = $1 AND id = ANY($2::uuid[]) AND status = 'OPEN'`, [tx.tenantId, m.invoice_ids])
      : [];
    const openIds = m.invoice_ids.filter((x) => open.some((o) => o.id === x));
    const from = m.from_name ? `${m.from_name} <${m.from_address}>` : (m.from_address ?? 'unknown sender');
    const summary = `${m.auto_reply ? 'Automatic reply' : 'Reply'} from ${from}${m.subject ? `: ${m.subject}` : ''}${m.text_body ? ` — ${ownText(m.text_body).replace(/\s+/g, ' ').trim().slice(0, 300)}` : ''}`.slice(0, 4000);
    const entry = await this.timeline.record(tx, { kind: 'REPLY', customerId: m.customer_id, invoiceId: m.invoice_ids[0] ?? null, body: summary, occurredOn: m.received_on });
    await tx.em.query(`UPDATE inbound_messages SET interaction_id = $3 WHERE tenant_id = $1 AND id = $2`, [tx.tenantId, id, entry.sourceId]);
    if (m.auto_reply) return;
    const today = await this.tenants.today(tx);
    const c = m.classification;
    if (c.dispute) {
      const invoiceId = openIds[0] ?? null;
      let disputeId: string | null = null;
      let taskId: string | null = null;
      if (invoiceId) {
        const d = await this.disputes.suggest(tx, { invoiceId, reasonCode: c.dispute.reasonCode, detail: `From the reply of ${m.received_on} (phrase "${c.dispute.phrase}"): ${c.dispute.excerpt}`.slice(0, 2000), raisedOn: m.received_on });
        disputeId = d.id;
        const [task] = await tx.em.query(`SELECT id FROM tasks WHERE tenant_id = $1 AND source_kind = 'DISPUTE_CONFIRM' AND source_id = $2`, [tx.tenantId, d.id]);
        taskId = task?.id ?? null;
      }
      const [s] = await tx.em.query(
        `INSERT INTO inbound_suggestions (tenant_id, inbound_message_id, kind, status, language, phrase, excerpt, reason_code, invoice_ids, dispute_id, task_id)
         VALUES ($1, $2, 'DISPUTE', 'PENDING', $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (inbound_message_id, kind) DO NOTHING RETURNING id`,
        [tx.tenantId, id, c.dispute.language, c.dispute.phrase, c.dispute.excerpt.slice(0, 500), c.dispute.reasonCode, invoiceId ? [invoiceId] : [], disputeId, taskId],
      );
      if (s && !invoiceId) {
        // No open invoice threaded: a person names the invoice when confirming.
        const { task } = await this.tasks.create(tx, { customerId: m.customer_id, reasonCode: 'DISPUTE_CONFIRM', nextAction: `Reply from ${from} reads like a ${c.dispute.reasonCode} dispute ("${c.dispute.phrase}"): confirm it on an invoice, or dismiss it`, dueDate: today, priority: 2, source: { kind: 'INBOUND_SUGGESTION', id: s.id } });
        await tx.em.query(`UPDATE inbound_suggestions SET task_id = $3 WHERE tenant_id = $1 AND id = $2`, [tx.tenantId, s.id, task.id]);
      }
    }
    if (c.promise) {
      const currency = c.promise.currency ?? open[0]?.currency ?? null;
      const parsedAmount = c.promise.amount && currency ? parseDecimal(c.promise.amount, currency) : null;
      const amountMinor = parsedAmount?.ok && parsedAmount.minor > 0n ? parsedAmount.minor : null;
      const [s] = await tx.em.query(
        `INSERT INTO inbound_suggestions (tenant_id, inbound_message_id, kind, status, language, phrase, excerpt, promised_date, date_text, amount_minor, currency, invoice_ids)
         VALUES ($1, $2, 'PROMISE', 'PENDING', $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (inbound_message_id, kind) DO NOTHING RETURNING id`,
        [tx.tenantId, id, c.promise.language, c.promise.phrase, c.promise.excerpt.slice(0, 500), c.promise.promisedDate, c.promise.dateText?.slice(0, 100) ?? null, amountMinor?.toString() ?? null, amountMinor ? currency : null, openIds],
      );
      if (s) {
        const what = `${amountMinor ? `${formatMinor(amountMinor, currency!)} ${currency}` : 'payment'}${c.promise.promisedDate ? ` by ${c.promise.promisedDate}` : ''}`;
        const numbers = open.filter((o) => openIds.includes(o.id)).map((o) => o.number);
        const { task } = await this.tasks.create(tx, {
          customerId: m.customer_id,
          invoiceId: openIds[0] ?? null,
          reasonCode: 'PROMISE_CONFIRM',
          nextAction: `Reply from ${from} promises ${what}${numbers.length ? ` on ${numbers.join(', ')}` : ''} ("${c.promise.phrase}"): confirm the promise to pay, or dismiss it`,
          dueDate: today,
          priority: 1,
          source: { kind: 'INBOUND_SUGGESTION', id: s.id },
        });
        await tx.em.query(`UPDATE inbound_suggestions SET task_id = $3 WHERE tenant_id = $1 AND id = $2`, [tx.tenantId, s.id, task.id]);
      }
    }
  }

  // --- a person's decisions ---------------------------------------------------------------------

  /** Threads an UNMATCHED message to a customer (and invoices): timeline and suggestions follow. */
  async assign(ctx: RequestContext, id: string, customerId: string, invoiceIds?: string[] | null): Promise<InboundMessage> {
    if (!UUID.test(id)) throw notFound('InboundMessage', id, 'id');
    if (!UUID.test(customerId)) throw notFound('Customer', customerId, 'customerId');
    await inTransaction(ctx, async (tx) => {
      const [m] = await tx.em.query(`SELECT id, status, from_address, subject, text_body FROM inbound_messages WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, [ctx.tenantId, id]);
      if (!m) throw notFound('InboundMessage', id, 'id');
      if (m.status !== InboundMessageStatus.UNMATCHED) throw badInput('id', `this message is ${m.status}, not UNMATCHED`, InboundErrors.NOT_UNMATCHED);
      const [c] = await tx.em.query(`SELECT id FROM customers WHERE tenant_id = $1 AND id = $2`, [ctx.tenantId, customerId]);
      if (!c) throw notFound('Customer', customerId, 'customerId');
      let ids: string[];
      if (invoiceIds?.length) {
        const bad = invoiceIds.findIndex((x) => !UUID.test(x));
        if (bad >= 0) throw notFound('Invoice', invoiceIds[bad], `invoiceIds.${bad}`);
        const rows: { id: string; customer_id: string }[] = await tx.em.query(`SELECT id, customer_id FROM invoices WHERE tenant_id = $1 AND id = ANY($2::uuid[])`, [ctx.tenantId, invoiceIds]);
        invoiceIds.forEach((x, n) => {
          const r = rows.find((i) => i.id === x);
          if (!r) throw notFound('Invoice', x, `invoiceIds.${n}`);
          if (r.customer_id !== customerId) throw badInput(`invoiceIds.${n}`, "the invoice is another customer's", InboundErrors.OTHER_CUSTOMER);
        });
        ids = [...new Set(invoiceIds)];
      } else {
        ids = (await this.mentionedInvoices(tx, `${m.subject ?? ''}\n${m.text_body ?? ''}`)).filter((i) => i.customer_id === customerId).map((i) => i.id);
      }
      const [contact] = m.from_address ? await tx.em.query(`SELECT id FROM contacts WHERE tenant_id = $1 AND customer_id = $2 AND lower(email) = $3 ORDER BY is_primary DESC, id LIMIT 1`, [ctx.tenantId, customerId, m.from_address]) : [];
      await tx.em.query(
        `UPDATE inbound_messages SET status = 'ASSIGNED', match_method = 'MANUAL', customer_id = $3, invoice_ids = $4, contact_id = $5, assigned_by = $6, assigned_at = now(), match_note = 'assigned by a person'
         WHERE tenant_id = $1 AND id = $2`,
        [ctx.tenantId, id, customerId, ids, contact?.id ?? null, ctx.actor.id.slice(0, 64)],
      );
      await this.audit.record(tx, { action: 'inbound_message.assigned', subjectType: 'Customer', subjectId: customerId, data: { inboundMessageId: id, invoiceIds: ids } });
      await this.applyMatch(tx, id);
    });
    return (await this.get(ctx, id))!;
  }

  /** Confirms a suggestion: a dispute is confirmed (it leaves dunning from now on); a promise is created through PromiseService. */
  async confirm(ctx: RequestContext, id: string, input: { promisedDate?: string | null; amount?: string | null; contactId?: string | null; invoiceIds?: string[] | null; reasonCode?: DisputeReason | null; detail?: string | null; invoiceId?: string | null; asOf?: string | null }): Promise<InboundSuggestion> {
    const s = await this.pendingSuggestion(ctx, id);
    if (s.kind === InboundSuggestionKind.DISPUTE) {
      let disputeId = s.dispute_id;
      if (!disputeId) {
        const invoiceId = input.invoiceId ?? null;
        if (!invoiceId) throw badInput('input.invoiceId', 'no open invoice was threaded: name the disputed invoice', InboundErrors.INVOICE_REQUIRED);
        await this.ownInvoice(ctx, s, invoiceId, 'input.invoiceId');
        const d = await this.disputes.suggest(ctx, { invoiceId, reasonCode: input.reasonCode ?? s.reason_code!, detail: input.detail ?? s.excerpt, amount: input.amount ?? null });
        disputeId = d.id;
        await ctx.em.query(`UPDATE inbound_suggestions SET dispute_id = $3, invoice_ids = $4 WHERE tenant_id = $1 AND id = $2`, [ctx.tenantId, id, d.id, [invoiceId]]);
        await this.tasks.closeBySource(ctx, { kind: 'INBOUND_SUGGESTION', id }, 'dispute confirmed');
      }
      await this.disputes.confirm(ctx, disputeId, { reasonCode: input.reasonCode ?? null, amount: input.amount ?? null, detail: input.detail ?? null });
      await this.decide(ctx, id, InboundSuggestionStatus.CONFIRMED, null);
    } else {
      const [m] = await ctx.em.query(`SELECT customer_id, contact_id, to_char(received_on, 'YYYY-MM-DD') AS received_on FROM inbound_messages WHERE tenant_id = $1 AND id = $2`, [ctx.tenantId, s.inbound_message_id]);
      const promisedDate = input.promisedDate ?? s.promised_date;
      if (!promisedDate) throw badInput('input.promisedDate', 'no date was read from the reply: give the promised day', InboundErrors.DATE_REQUIRED);
      const contactId = input.contactId ?? m.contact_id;
      if (!contactId) throw badInput('input.contactId', 'the sender is not a known contact: name the contact who promised', InboundErrors.CONTACT_REQUIRED);
      let invoiceIds = input.invoiceIds?.length ? input.invoiceIds : s.invoice_ids;
      let open: { id: string; currency: string; open_balance_minor: string }[] = [];
      if (!input.invoiceIds?.length && invoiceIds.length) {
        open = await ctx.em.query(`SELECT id, currency, open_balance_minor FROM invoices WHERE tenant_id = $1 AND id = ANY($2::uuid[]) AND status = 'OPEN' AND open_balance_minor > 0`, [ctx.tenantId, invoiceIds]);
        invoiceIds = invoiceIds.filter((x) => open.some((o) => o.id === x));
      }
      if (!invoiceIds.length) throw badInput('input.invoiceIds', 'no open invoice was threaded: name the invoices promised', InboundErrors.INVOICE_REQUIRED);
      let amount = input.amount ?? null;
      if (!amount) {
        const currency = open[0]?.currency;
        const openTotal = open.reduce((t, o) => t + BigInt(o.open_balance_minor), 0n);
        if (s.amount_minor && s.currency === currency && BigInt(s.amount_minor) <= openTotal) amount = formatMinor(BigInt(s.amount_minor), s.currency);
        else if (currency) amount = formatMinor(openTotal, currency);
        else throw badInput('input.amount', 'give the amount promised', InboundErrors.INVOICE_REQUIRED);
      }
      const [task] = s.task_id ? await ctx.em.query(`SELECT id FROM tasks WHERE tenant_id = $1 AND id = $2 AND status IN ('OPEN','SNOOZED')`, [ctx.tenantId, s.task_id]) : [];
      const promise = await this.promises.create(ctx, {
        invoiceIds,
        amount,
        promisedDate,
        contactId,
        channel: PromiseChannel.EMAIL,
        note: `From an email reply (phrase "${s.phrase}"): ${s.excerpt}`.slice(0, 2000),
        // The promise was made the day the reply was written.
        asOf: input.asOf ?? m.received_on,
        taskId: task?.id ?? null,
      });
      await ctx.em.query(`UPDATE inbound_suggestions SET promise_id = $3 WHERE tenant_id = $1 AND id = $2`, [ctx.tenantId, id, promise.id]);
      await this.decide(ctx, id, InboundSuggestionStatus.CONFIRMED, null);
    }
    return (await this.suggestion(ctx, id))!;
  }

  async dismiss(ctx: RequestContext, id: string, reason: string): Promise<InboundSuggestion> {
    if (!reason?.trim()) throw badInput('reason', 'say why the suggestion is dismissed', InboundErrors.REASON_REQUIRED);
    const s = await this.pendingSuggestion(ctx, id);
    await inTransaction(ctx, async (tx) => {
      if (s.dispute_id) await this.disputes.dismiss(tx, s.dispute_id, reason);
      await this.tasks.closeBySource(tx, { kind: 'INBOUND_SUGGESTION', id }, `suggestion dismissed: ${reason.trim()}`);
      await this.decide(tx, id, InboundSuggestionStatus.DISMISSED, reason.trim());
    });
    return (await this.suggestion(ctx, id))!;
  }

  private async decide(ctx: RequestContext, id: string, status: InboundSuggestionStatus, note: string | null): Promise<void> {
    await ctx.em.query(`UPDATE inbound_suggestions SET status = $3, note = $4, decided_by = $5, decided_at = now() WHERE tenant_id = $1 AND id = $2`, [ctx.tenantId, id, status, note?.slice(0, 2000) ?? null, ctx.actor.id.slice(0, 64)]);
    await this.audit.record(ctx, { action: `inbound_suggestion.${status.toLowerCase()}`, subjectType: 'InboundSuggestion', subjectId: id, reason: note ?? undefined });
  }

  private async pendingSuggestion(ctx: RequestContext, id: string): Promise<SuggestionRow> {
    const s = UUID.test(id) ? await this.suggestionRow(ctx, id) : null;
    if (!s) throw notFound('InboundSuggestion', id, 'id');
    if (s.status !== InboundSuggestionStatus.PENDING) throw badInput('id', `this suggestion is ${s.status}, not PENDING`, InboundErrors.NOT_PENDING);
    return s;
  }

  private async ownInvoice(ctx: RequestContext, s: SuggestionRow, invoiceId: string, field: string): Promise<void> {
    if (!UUID.test(invoiceId)) throw notFound('Invoice', invoiceId, field);
    const [row] = await ctx.em.query(
      `SELECT i.customer_id, m.customer_id AS message_customer FROM invoices i JOIN inbound_messages m ON m.tenant_id = i.tenant_id AND m.id = $3 WHERE i.tenant_id = $1 AND i.id = $2`,
      [ctx.tenantId, invoiceId, s.inbound_message_id],
    );
    if (!row) throw notFound('Invoice', invoiceId, field);
    if (row.customer_id !== row.message_customer) throw badInput(field, "the invoice is another customer's", InboundErrors.OTHER_CUSTOMER);
  }

  // --- reads ------------------------------------------------------------------------------------

  async get(ctx: RequestContext, id: string): Promise<InboundMessage | null> {
    if (!UUID.test(id)) return null;
    const m = await this.row(ctx, id, false);
    return m ? (await this.hydrate(ctx, [m]))[0] : null;
  }

  private async findByMessageId(ctx: RequestContext, messageId: string): Promise<InboundMessage | null> {
    const [row] = await ctx.em.query(`SELECT id FROM inbound_messages WHERE tenant_id = $1 AND message_id = $2`, [ctx.tenantId, messageId]);
    return row ? this.get(ctx, row.id) : null;
  }

  async list(ctx: RequestContext, args: { first: number; after?: string | null; filter?: InboundMessageFilter | null }): Promise<Connection<InboundMessage>> {
    const params: unknown[] = [ctx.tenantId];
    const where = ['m.tenant_id = $1'];
    const f = args.filter ?? {};
    if (f.status?.length) {
      params.push(f.status);
      where.push(`m.status = ANY($${params.length}::text[])`);
    }
    if (f.customerId) {
      if (!UUID.test(f.customerId)) throw badInput('filter.customerId', 'is not a customer id');
      params.push(f.customerId);
      where.push(`m.customer_id = $${params.length}::uuid`);
    }
    if (f.invoiceId) {
      if (!UUID.test(f.invoiceId)) throw badInput('filter.invoiceId', 'is not an invoice id');
      params.push(f.invoiceId);
      where.push(`$${params.length}::uuid = ANY(m.invoice_ids)`);
    }
    if (typeof f.autoReply === 'boolean') {
      params.push(f.autoReply);
      where.push(`m.auto_reply = $${params.length}`);
    }
    if (typeof f.hasPendingSuggestions === 'boolean') {
      where.push(`${f.hasPendingSuggestions ? '' : 'NOT '}EXISTS (SELECT 1 FROM inbound_suggestions s LEFT JOIN disputes d ON d.tenant_id = s.tenant_id AND d.id = s.dispute_id
        WHERE s.tenant_id = m.tenant_id AND s.inbound_message_id = m.id AND s.status = 'PENDING' AND (d.id IS NULL OR d.status = 'SUGGESTED'))`);
    }
    const countParams = [...params];
    const countWhere = [...where];
    if (args.after) {
      const c = decodeCursor(args.after);
      if (!UUID.test(c.id)) throw badInput('after', 'is not a cursor returned by this API', 'INVALID_CURSOR');
      params.push(c.k, c.id);
      where.push(`(m.created_at, m.id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    const rows: MessageRow[] = await ctx.em.query(
      `SELECT ${MESSAGE_COLUMNS} FROM inbound_messages m LEFT JOIN customers c ON c.tenant_id = m.tenant_id AND c.id = m.customer_id
       WHERE ${where.join(' AND ')} ORDER BY m.created_at DESC, m.id DESC LIMIT ${args.first + 1}`,
      params,
    );
    const nodes = await this.hydrate(ctx, rows);
    const conn = toConnection(nodes, args.first, 0, (n) => ({ k: rows.find((r) => r.id === n.id)!.k, id: n.id }), !!args.after);
    let count: Promise<number> | undefined;
    Object.defineProperty(conn, 'totalCount', {
      enumerable: true,
      get: () => (count ??= ctx.em.query(`SELECT count(*)::int AS n FROM inbound_messages m WHERE ${countWhere.join(' AND ')}`, countParams).then((r: { n: number }[]) => r[0].n)),
    });
    return conn;
  }

  async suggestion(ctx: RequestContext, id: string): Promise<InboundSuggestion | null> {
    const s = await this.suggestionRow(ctx, id);
    return s ? toSuggestion(s) : null;
  }

  private async suggestionRow(ctx: RequestContext, id: string): Promise<SuggestionRow | null> {
    const [s] = await ctx.em.query(`SELECT ${SUGGESTION_COLUMNS} FROM inbound_suggestions s LEFT JOIN disputes d ON d.tenant_id = s.tenant_id AND d.id = s.dispute_id WHERE s.tenant_id = $1 AND s.id = $2`, [ctx.tenantId, id]);
    return s ?? null;
  }

  private async row(ctx: RequestContext, id: string, forUpdate: boolean): Promise<MessageRow | null> {
    const [m] = await ctx.em.query(
      `SELECT ${MESSAGE_COLUMNS} FROM inbound_messages m LEFT JOIN customers c ON c.tenant_id = m.tenant_id AND c.id = m.customer_id WHERE m.tenant_id = $1 AND m.id = $2${forUpdate ? ' FOR UPDATE OF m' : ''}`,
      [ctx.tenantId, id],
    );
    return m ?? null;
  }

  private async hydrate(ctx: RequestContext, rows: MessageRow[]): Promise<InboundMessage[]> {
    const suggestions: SuggestionRow[] = rows.length
      ? await ctx.em.query(
          `SELECT ${SUGGESTION_COLUMNS} FROM inbound_suggestions s LEFT JOIN disputes d ON d.tenant_id = s.tenant_id AND d.id = s.dispute_id
           WHERE s.tenant_id = $1 AND s.inbound_message_id = ANY($2::uuid[]) ORDER BY s.created_at, s.kind`,
          [ctx.tenantId, rows.map((r) => r.id)],
        )
      : [];
    return rows.map((r) => ({
      id: r.id,
      messageId: r.message_id,
      inReplyTo: r.in_reply_to,
      references: r.references,
      fromAddress: r.from_address,
      fromName: r.from_name,
      to: r.to_addresses,
      subject: r.subject,
      text: r.text_body ?? '',
      sentAt: r.sent_at,
      receivedOn: r.received_on,
      status: r.status,
      matchMethod: r.match_method,
      matchNote: r.match_note,
      customerId: r.customer_id,
      customerName: r.customer_name,
      invoiceIds: r.invoice_ids,
      invoiceNumbers: r.invoice_numbers,
      actionId: r.action_id,
      contactId: r.contact_id,
      autoReply: r.auto_reply,
      autoReplyReason: r.auto_reply_reason,
      suggestions: suggestions.filter((s) => s.inbound_message_id === r.id).map(toSuggestion),
      timelineEntryId: r.interaction_id ? `int:${r.interaction_id}` : null,
      createdAt: r.created_at,
    }));
  }
}

function toSuggestion(s: SuggestionRow): InboundSuggestion {
  return {
    id: s.id,
    inboundMessageId: s.inbound_message_id,
    kind: s.kind,
    status: s.status,
    language: s.language,
    phrase: s.phrase,
    excerpt: s.excerpt,
    reasonCode: s.reason_code,
    promisedDate: s.promised_date,
    dateText: s.date_text,
    amount: s.amount_minor && s.currency ? Money.of(s.amount_minor, s.currency.trim()) : null,
    invoiceIds: s.invoice_ids,
    disputeId: s.dispute_id,
    promiseId: s.promise_id,
    taskId: s.task_id,
    decidedBy: s.decided_by,
    decidedAt: s.decided_at,
    note: s.note,
    createdAt: s.created_at,
  };
}
