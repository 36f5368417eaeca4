import { createHash } from 'node:crypto';
import { apiJson, expectShape, type ApiErrorDetail } from '../core/api-json';
import { ConnectorError, ConnectorErrorKind } from '../core/connector-error';
import type { CrmAccount, CrmActivity, CrmConnector } from '../crm/crm-connector';
import type { ReconcileResult } from '../erp/erp-connector';

export interface HubSpotConfig {
  baseUrl: string;
  timeoutMs: number;
  /** How a company finds its Recoup customer: a company property holding the ERP customer number, or the company domain. */
  matchBy: 'PROPERTY' | 'DOMAIN';
  /** The company property holding the ERP customer number (matching, and finding the company of a write-back). */
  customerNumberProperty: string;
  ownerProperty: string;
  renewalDateProperty: string | null;
  tierProperty: string | null;
}

/** A CRM account as HubSpot gives it: the contract's fields plus what Recoup matches on. */
export interface HubSpotAccount extends CrmAccount {
  companyId: string;
  /** Set when matching by domain (customerExternalId is then empty). */
  domain?: string | null;
  /** The HubSpot owner id had no owner record with an email (archived or deactivated owner). */
  unknownOwnerId?: string | null;
  /** Values that could not be read (left unchanged in Recoup, reported on the sync run). */
  problems?: { field: string; message: string }[];
}

interface HubSpotObject {
  id: string;
  properties: Record<string, string | null>;
  archived?: boolean;
}

interface HubSpotPage<T> {
  results: T[];
  paging?: { next?: { after: string; link?: string } };
}

interface HubSpotOwner {
  id: string;
  email?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  archived?: boolean;
}

/** HubSpot's association type id for note → company (HUBSPOT_DEFINED). */
export const NOTE_TO_COMPANY = 190;

/**
 * The marker written into every note Recoup creates, and searched for before a retry. One
 * token (letters and digits only) so that HubSpot's CONTAINS_TOKEN search finds it whole.
 */
export function idempotencyMarker(key: string): string {
  return `recoup${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
}

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * HubSpot CRM (kind `HUBSPOT`, private-app access token):
 * - accounts in: `GET /crm/v3/objects/companies?properties=…&after=` page by page
 *   (`paging.next.after`); the owner id is turned into an email through `GET /crm/v3/owners`
 *   (all pages, once per connector); renewal date and tier from configurable properties.
 * - activities out: a note (`POST /crm/v3/objects/notes`) associated to the company found by
 *   the customer-number property, its body ending with an idempotency marker; `reconcile`
 *   searches the company's notes for that marker (`POST /crm/v3/objects/notes/search`).
 */
export class HubSpotConnector implements CrmConnector {
  readonly kind = 'HUBSPOT';
  private owners: Map<string, string> | null = null;

  constructor(
    private readonly config: HubSpotConfig,
    private readonly credentials: { accessToken: string },
  ) {}

  private call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    return apiJson<T>(
      'HubSpot',
      { method, url: `${this.config.baseUrl.replace(/\/$/, '')}${path}`, body, timeoutMs: this.config.timeoutMs, headers: { authorization: `Bearer ${this.credentials.accessToken}` } },
      describeHubSpotError,
    );
  }

  private page<T>(body: unknown, what: string): HubSpotPage<T> {
    expectShape(isObj(body) && Array.isArray(body.results), `HubSpot ${what}: expected { results: [], paging }`, body);
    const b = body as unknown as HubSpotPage<T>;
    expectShape(b.paging === undefined || b.paging === null || (isObj(b.paging) && (b.paging.next === undefined || typeof b.paging.next?.after === 'string')), `HubSpot ${what}: paging.next.after must be a string`, b.paging);
    return b;
  }

  async check(): Promise<void> {
    await this.call('GET', '/crm/v3/objects/companies?limit=1');
  }

  /** Owner id → email, from every page of `GET /crm/v3/owners` (archived owners included: their companies keep a name). */
  private async ownerEmails(): Promise<Map<string, string>> {
    if (this.owners) return this.owners;
    const out = new Map<string, string>();
    for (const archived of [false, true]) {
      let after: string | null = null;
      for (;;) {
        const qs = new URLSearchParams({ limit: '100', archived: String(archived), ...(after ? { after } : {}) });
        const page: HubSpotPage<HubSpotOwner> = this.page<HubSpotOwner>(await this.call('GET', `/crm/v3/owners?${qs}`), 'owners');
        for (const o of page.results) if (o && typeof o.id === 'string' && o.email) out.set(o.id, o.email.trim().toLowerCase());
        after = page.paging?.next?.after ?? null;
        if (!after) break;
      }
    }
    this.owners = out;
    return out;
  }

  /**
   * One page of companies. The cursor is HubSpot's `after` within a pass over all companies;
   * a finished pass stores null, so each sync re-reads every company (CRM facts are few and
   * small, and a full pass puts back anything an ERP update of the customer overwrote).
   */
  async pullAccounts(cursor: string | null, opts: { pageSize: number }): Promise<{ items: HubSpotAccount[]; nextCursor: string | null; hasMore: boolean }> {
    const c = this.config;
    const props = [c.customerNumberProperty, 'domain', 'name', c.ownerProperty, c.renewalDateProperty, c.tierProperty].filter((p): p is string => !!p);
    const qs = new URLSearchParams({ limit: String(Math.min(Math.max(opts.pageSize, 1), 100)), properties: [...new Set(props)].join(','), archived: 'false', ...(cursor ? { after: cursor } : {}) });
    const page = this.page<HubSpotObject>(await this.call('GET', `/crm/v3/objects/companies?${qs}`), 'companies');
    const owners = await this.ownerEmails();
    const items: HubSpotAccount[] = [];
    for (const co of page.results) {
      expectShape(isObj(co) && typeof co.id === 'string' && isObj(co.properties), 'HubSpot companies: each result has an id and properties', co);
      const p = co.properties;
      const key = c.matchBy === 'PROPERTY' ? p[c.customerNumberProperty]?.trim() : null;
      const domain = p.domain?.trim().toLowerCase() || null;
      if (c.matchBy === 'PROPERTY' ? !key : !domain) continue; // not linked to the ERP: nothing to match
      const ownerId = p[c.ownerProperty]?.trim() || null;
      const account: HubSpotAccount = { companyId: co.id, customerExternalId: key ?? '', domain };
      if (ownerId === null) account.ownerEmail = null;
      else if (owners.has(ownerId)) account.ownerEmail = owners.get(ownerId)!;
      else account.unknownOwnerId = ownerId;
      if (c.renewalDateProperty) {
        try {
          account.renewalDate = hubSpotDate(p[c.renewalDateProperty]);
        } catch (err) {
          account.problems = [{ field: 'renewalDate', message: (err as Error).message }];
        }
      }
      if (c.tierProperty) account.tier = p[c.tierProperty]?.trim() || null;
      items.push(account);
    }
    const next = page.paging?.next?.after ?? null;
    return { items, nextCursor: next, hasMore: !!next };
  }

  /** The company whose customer-number property equals the ERP customer id (search API). */
  private async companyOf(customerExternalId: string): Promise<string> {
    const body = await this.call<unknown>('POST', '/crm/v3/objects/companies/search', {
      filterGroups: [{ filters: [{ propertyName: this.config.customerNumberProperty, operator: 'EQ', value: customerExternalId }] }],
      properties: [this.config.customerNumberProperty],
      limit: 2,
    });
    const page = this.page<HubSpotObject>(body, 'company search');
    if (page.results.length !== 1) {
      throw new ConnectorError(ConnectorErrorKind.PERMANENT, `HubSpot has ${page.results.length ? 'several companies' : 'no company'} with ${this.config.customerNumberProperty} = ${customerExternalId}`);
    }
    return page.results[0].id;
  }

  async logActivity(activity: CrmActivity): Promise<{ remoteRef?: string | null }> {
    const companyId = await this.companyOf(activity.customerExternalId);
    const body = [`<p><strong>${escapeHtml(activity.subject)}</strong></p>`, activity.body ? `<p>${escapeHtml(activity.body).replace(/\n/g, '<br>')}</p>` : '', `<p>[${idempotencyMarker(activity.idempotencyKey)}]</p>`].join('');
    const created = await this.call<{ id?: unknown }>('POST', '/crm/v3/objects/notes', {
      properties: { hs_timestamp: activity.occurredAt, hs_note_body: body },
      associations: [{ to: { id: companyId }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: NOTE_TO_COMPANY }] }],
    });
    return { remoteRef: typeof created?.id === 'string' ? created.id : null };
  }

  /**
   * Whether a note with this activity's marker exists on the company. HubSpot's search index
   * trails writes by a few seconds: the outbox retries only after its backoff (retryBaseMs),
   * which is longer than that on the default settings.
   */
  async reconcileActivity(activity: CrmActivity): Promise<ReconcileResult> {
    const companyId = await this.companyOf(activity.customerExternalId);
    const marker = idempotencyMarker(activity.idempotencyKey);
    const body = await this.call<unknown>('POST', '/crm/v3/objects/notes/search', {
      filterGroups: [{ filters: [{ propertyName: 'hs_note_body', operator: 'CONTAINS_TOKEN', value: marker }, { propertyName: 'associations.company', operator: 'EQ', value: companyId }] }],
      properties: ['hs_note_body'],
      limit: 10,
    });
    const page = this.page<HubSpotObject>(body, 'note search');
    return page.results.some((n) => typeof n?.properties?.hs_note_body === 'string' && n.properties.hs_note_body.includes(marker)) ? 'APPLIED' : 'NOT_APPLIED';
  }
}

/** HubSpot date properties come as YYYY-MM-DD, as midnight-UTC epoch milliseconds, or as ISO date-times. */
export function hubSpotDate(v: string | null | undefined): string | null {
  const s = v?.trim();
  if (!s) return null;
  if (/^\d{4}-\d{2}-\d{2}/.test(s)) return s.slice(0, 10);
  if (/^\d{10,}$/.test(s)) return new Date(Number(s)).toISOString().slice(0, 10);
  throw new ConnectorError(ConnectorErrorKind.INVALID_RESPONSE, `HubSpot date "${s.slice(0, 40)}" is neither YYYY-MM-DD nor epoch milliseconds`);
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** `{ status: "error", message, correlationId, category }`; 429s carry `policyName` (SECONDLY, DAILY). */
export function describeHubSpotError(status: number, body: unknown): ApiErrorDetail | null {
  if (!isObj(body) || typeof body.message !== 'string') return null;
  const category = typeof body.category === 'string' ? body.category : null;
  return {
    message: body.message,
    type: category,
    code: typeof body.subCategory === 'string' ? body.subCategory : typeof body.policyName === 'string' ? body.policyName : null,
    requestId: typeof body.correlationId === 'string' ? body.correlationId : null,
  };
}
