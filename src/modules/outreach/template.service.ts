import { inTransaction, type RequestContext } from '../../platform/context';
import { AppError, ErrorCode, badInput } from '../../platform/errors';
import type { AuditService } from '../audit/audit.service';
import type { MessageModel } from './message-model';
import type { MessageModelBuilder } from './message-model.builder';
import { TenantMessageTemplate } from './message-template.entity';
import { HTML_CHANNELS, MessageChannel, SUBJECT_CHANNELS, TemplateSource } from './outreach.enums';
import { OutreachErrors } from './outreach.errors';
import { sampleModel } from './sample-model';
import { canonicalLocale, loadTemplateFiles, localeChain, TEMPLATE_KEY_RE, type TemplateFile } from './template-files';
import { renderSource } from './template-engine';
import { validateTemplate, type TemplateProblem } from './template-validation';

/** A template as it applies to the tenant: its override when it has one, else the shipped file. */
export interface EffectiveTemplate {
  key: string;
  locale: string;
  channel: MessageChannel;
  subject: string | null;
  body: string;
  source: TemplateSource;
  /** 0 for a shipped file; 1, 2, … for the tenant's saves. */
  version: number;
  updatedAt: Date | null;
  updatedBy: string | null;
}

export interface ResolvedTemplate extends EffectiveTemplate {
  /** The locale that was asked for (the template's own `locale` may be a fallback). */
  requestedLocale: string;
}

export interface RenderedMessage {
  subject: string | null;
  body: string;
  /** The locale of the template used (after fallback). */
  locale: string;
  /** FILE or TENANT. */
  source: TemplateSource;
  version: number;
}

export interface TemplateFilter {
  key?: string | null;
  locale?: string | null;
  channel?: MessageChannel | null;
}

export interface UpsertTemplateInput {
  key: string;
  locale: string;
  channel: MessageChannel;
  subject?: string | null;
  body: string;
}

/** A template refused at save: the first problem as field/reason, all of them in `problems`. */
export class TemplateInvalidError extends AppError {
  constructor(readonly problems: TemplateProblem[]) {
    const [first] = problems;
    super(ErrorCode.BAD_USER_INPUT, first.message, { field: first.field, reason: first.reason });
    (this.extensions as Record<string, unknown>).problems = problems;
  }
}

const id = (t: { key: string; locale: string; channel: string }) => `${t.key}|${t.locale}|${t.channel}`;

export class TemplateService {
  private fileIndex: Map<string, TemplateFile> | null = null;

  constructor(
    private readonly audit: AuditService,
    private readonly models: MessageModelBuilder,
    private readonly loadFiles: () => TemplateFile[] = () => loadTemplateFiles(),
  ) {}

  /** The shipped files, read once (they are part of the release). */
  private files(): Map<string, TemplateFile> {
    return (this.fileIndex ??= new Map(this.loadFiles().map((f) => [id(f), f])));
  }

  /** Effective templates (files merged with the tenant's overrides), exact locale match when filtered. */
  async list(ctx: RequestContext, filter: TemplateFilter = {}): Promise<EffectiveTemplate[]> {
    const locale = filter.locale ? this.locale(filter.locale) : null;
    const match = (t: { key: string; locale: string; channel: string }) =>
      (!filter.key || t.key === filter.key) && (!locale || t.locale === locale) && (!filter.channel || t.channel === filter.channel);
    const merged = new Map<string, EffectiveTemplate>();
    for (const f of this.files().values()) if (match(f)) merged.set(id(f), fromFile(f));
    const qb = ctx.em.getRepository(TenantMessageTemplate).createQueryBuilder('t').where('t.tenant_id = :tenantId', { tenantId: ctx.tenantId });
    if (filter.key) qb.andWhere('t.key = :key', { key: filter.key });
    if (locale) qb.andWhere('t.locale = :locale', { locale });
    if (filter.channel) qb.andWhere('t.channel = :channel', { channel: filter.channel });
    for (const row of await qb.getMany()) merged.set(id(row), fromRow(row));
    return [...merged.values()].sort((a, b) => a.key.localeCompare(b.key) || a.channel.localeCompare(b.channel) || a.locale.localeCompare(b.locale));
  }

  /**
   * The template for a locale with fallback exact → language → en; at each locale the
   * tenant's override wins over the file. `locale` in the answer says which one was used.
   */
  async get(ctx: RequestContext, key: string, locale: string, channel: MessageChannel): Promise<ResolvedTemplate> {
    this.key(key);
    const requested = this.locale(locale);
    const chain = localeChain(requested);
    const rows = await ctx.em
      .getRepository(TenantMessageTemplate)
      .createQueryBuilder('t')
      .where('t.tenant_id = :tenantId AND t.key = :key AND t.channel = :channel AND t.locale IN (:...chain)', { tenantId: ctx.tenantId, key, channel, chain })
      .getMany();
    const found = pickTemplate(chain, rows.map(fromRow), (l) => this.files().get(id({ key, locale: l, channel })));
    if (found) return { ...found, requestedLocale: requested };
    throw new AppError(ErrorCode.NOT_FOUND, `no ${channel} template "${key}" for ${chain.join(', ')}`, { field: 'key', reason: OutreachErrors.TEMPLATE_NOT_FOUND });
  }

  /** The keys that have no template at all (no file, no override, in any locale or channel): for policy checks. */
  async unknownKeys(ctx: RequestContext, keys: string[]): Promise<string[]> {
    const known = new Set([...this.files().values()].map((f) => f.key));
    const missing = [...new Set(keys)].filter((k) => !known.has(k));
    if (missing.length === 0) return [];
    const rows: { key: string }[] = await ctx.em.query('SELECT DISTINCT key FROM message_templates WHERE tenant_id = $1 AND key = ANY($2::text[])', [ctx.tenantId, missing]);
    const saved = new Set(rows.map((r) => r.key));
    return missing.filter((k) => !saved.has(k));
  }

  /** Saves the tenant's version (validated first; nothing is written when it is refused). */
  async upsert(ctx: RequestContext, input: UpsertTemplateInput): Promise<EffectiveTemplate> {
    this.key(input.key);
    const locale = this.locale(input.locale);
    const problems = validateTemplate(input);
    if (problems.length) throw new TemplateInvalidError(problems);
    const subject = SUBJECT_CHANNELS.has(input.channel) && input.subject?.trim() ? input.subject : null;
    return inTransaction(ctx, async (tx) => {
      const [row]: Record<string, unknown>[] = await tx.em.query(
        `INSERT INTO message_templates AS t (tenant_id, key, locale, channel, subject, body, version, updated_by)
         VALUES ($1, $2, $3, $4, $5, $6, 1, $7)
         ON CONFLICT (tenant_id, key, locale, channel)
         DO UPDATE SET subject = EXCLUDED.subject, body = EXCLUDED.body, version = t.version + 1, updated_at = now(), updated_by = EXCLUDED.updated_by
         RETURNING id, version, updated_at`,
        [ctx.tenantId, input.key, locale, input.channel, subject, input.body, ctx.actor.id],
      );
      const saved = { key: input.key, locale, channel: input.channel, subject, body: input.body, source: TemplateSource.TENANT, version: Number(row.version), updatedAt: new Date(row.updated_at as string), updatedBy: ctx.actor.id };
      await this.audit.record(tx, {
        action: 'message_template.saved',
        subjectType: 'MessageTemplate',
        subjectId: String(row.id),
        data: { key: input.key, locale, channel: input.channel, version: saved.version },
      });
      return saved;
    });
  }

  /** Renders the effective template with a model (HTML-escaped for email, plain text otherwise). */
  async render(ctx: RequestContext, args: { key: string; locale: string; channel: MessageChannel; model: MessageModel }): Promise<RenderedMessage> {
    const t = await this.get(ctx, args.key, args.locale, args.channel);
    return renderTemplate(t, args.model);
  }

  /** Renders against a sample model, or against a real customer's open invoices. */
  async preview(ctx: RequestContext, args: { key: string; locale?: string | null; channel: MessageChannel; sample?: boolean | null; customerId?: string | null }): Promise<RenderedMessage> {
    if (args.customerId) {
      const locale = args.locale ? this.locale(args.locale) : ((await this.models.customerLocale(ctx, args.customerId)) ?? 'en');
      const model = await this.models.forCustomer(ctx, args.customerId, { key: args.key, locale });
      return this.render(ctx, { key: args.key, locale, channel: args.channel, model });
    }
    if (args.sample === false) throw badInput('customerId', 'give a customerId, or sample: true', OutreachErrors.MODEL_REQUIRED);
    const locale = this.locale(args.locale ?? 'en');
    return this.render(ctx, { key: args.key, locale, channel: args.channel, model: sampleModel({ key: args.key, locale }) });
  }

  private key(key: string): void {
    if (!TEMPLATE_KEY_RE.test(key)) throw badInput('key', `"${key}" is not a template key (1-63 lowercase letters, digits or -)`, OutreachErrors.INVALID_TEMPLATE_KEY);
  }

  private locale(locale: string): string {
    const c = canonicalLocale(locale.trim());
    if (!c) throw badInput('locale', `"${locale}" is not a BCP 47 locale such as en, de or fr-CA`, OutreachErrors.INVALID_LOCALE);
    return c;
  }
}

/** Renders one template; the money and date formats follow the requested locale when it shares the template's language. */
export function renderTemplate(t: ResolvedTemplate, model: MessageModel): RenderedMessage {
  const sameLanguage = t.requestedLocale.split('-')[0] === t.locale.split('-')[0];
  const locale = sameLanguage ? t.requestedLocale : t.locale;
  const body = renderSource(t.body, model, { html: HTML_CHANNELS.has(t.channel), locale }).trim();
  const subject = t.subject ? renderSource(t.subject, model, { html: false, locale }).replace(/\s+/g, ' ').trim() : null;
  return { subject, body, locale: t.locale, source: t.source, version: t.version };
}

/**
 * Walks the locale chain (exact → language → en); at each locale the tenant's override wins
 * over the file, so a fr-CA customer gets the French file before the tenant's English override.
 */
export function pickTemplate(chain: string[], overrides: EffectiveTemplate[], fileFor: (locale: string) => TemplateFile | undefined): EffectiveTemplate | null {
  for (const locale of chain) {
    const own = overrides.find((o) => o.locale === locale);
    if (own) return own;
    const file = fileFor(locale);
    if (file) return fromFile(file);
  }
  return null;
}

export function fromFile(f: TemplateFile): EffectiveTemplate {
  return { key: f.key, locale: f.locale, channel: f.channel, subject: f.subject, body: f.body, source: TemplateSource.FILE, version: 0, updatedAt: null, updatedBy: null };
}

function fromRow(r: TenantMessageTemplate): EffectiveTemplate {
  return { key: r.key, locale: r.locale, channel: r.channel, subject: r.subject, body: r.body, source: TemplateSource.TENANT, version: r.version, updatedAt: r.updatedAt, updatedBy: r.updatedBy };
}
