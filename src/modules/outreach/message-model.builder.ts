import type { RequestContext } from '../../platform/context';
import { notFound } from '../../platform/errors';
import { daysBetween, type IsoDate } from '../../platform/time/dates';
import type { CustomerService } from '../customers/customer.service';
import { InvoiceOrderField } from '../invoices/dto/invoice.inputs';
import { InvoiceStatus, type Invoice } from '../invoices/invoice.entity';
import type { InvoiceService } from '../invoices/invoice.service';
import type { TenantService } from '../tenants/tenant.service';
import type { UserService } from '../tenants/user.service';
import { totalsOf, type MessageInvoice, type MessageModel } from './message-model';
import { stepFor } from './sample-model';
import { canonicalLocale } from './template-files';

const MAX_INVOICES = 500;

/** `2.5000` → `2.5`, `1.0000` → `1` (quantities are numeric(18,4) in the database). */
const trimDecimal = (q: string) => (q.includes('.') ? q.replace(/0+$/, '').replace(/\.$/, '') : q);

const BILLING_TEAM: Record<string, string> = { en: 'Accounts Receivable', de: 'Debitorenbuchhaltung', fr: 'Service comptabilité clients' };

export interface CustomerModelOptions {
  /** Template key (gives the default step when `step` is not given). */
  key: string;
  locale: string;
  /** Only these invoices (the engine's decision); default: every open invoice with a balance. */
  invoiceIds?: string[];
  /** What is asked for per invoice id when it differs from the open balance (disputed lines). */
  amountDue?: ReadonlyMap<string, bigint>;
  asOf?: IsoDate;
  step?: MessageModel['step'];
  dispute?: MessageModel['dispute'];
  links?: MessageModel['links'];
  withLines?: boolean;
}

/**
 * Builds the MessageModel of a real customer from the customers, invoices and tenants
 * services (no other module's tables). The engine can use it too, passing its own invoices,
 * amounts due, step and links.
 */
export class MessageModelBuilder {
  constructor(
    private readonly customers: CustomerService,
    private readonly invoices: InvoiceService,
    private readonly tenants: TenantService,
    private readonly users: UserService,
    private readonly emailFrom: string,
    /** Until the portal module exists, links point at this base (see ADR 011). */
    private readonly portalBaseUrl = 'https://portal.recoup.local',
  ) {}

  async forCustomer(ctx: RequestContext, customerId: string, opts: CustomerModelOptions): Promise<MessageModel> {
    const customer = await this.customers.get(ctx, customerId);
    if (!customer) throw notFound('Customer', customerId, 'customerId');
    // Sequential: the dispatcher calls this inside a transaction (one connection).
    const tenant = await this.tenants.current(ctx);
    const asOf = opts.asOf ?? (await this.tenants.today(ctx));
    const contacts = await this.customers.contactsLoader(ctx).load(customer.id);
    const owner = customer.ownerUserId ? await this.users.loader(ctx).load(customer.ownerUserId) : null;
    const invoices = await this.openInvoices(ctx, customer.id, asOf, opts.invoiceIds);
    const lines = opts.withLines ?? opts.key.startsWith('dispute') ? await this.invoices.linesLoader(ctx).loadMany(invoices.map((i) => i.id)) : null;
    const items: MessageInvoice[] = invoices.map((inv, i) => {
      const ls = lines?.[i];
      return {
        number: inv.number,
        issueDate: inv.issueDate,
        dueDate: inv.dueDate,
        daysPastDue: daysBetween(inv.dueDate, asOf),
        total: inv.totalMinor,
        openBalance: inv.openBalanceMinor,
        amountDue: opts.amountDue?.get(inv.id) ?? inv.openBalanceMinor,
        currency: inv.currency,
        ...(Array.isArray(ls) ? { lines: ls.map((l) => ({ description: l.description, quantity: trimDecimal(String(l.quantity)), amount: l.amountMinor })) } : {}),
      };
    });
    const contact = contacts.find((c) => c.isPrimary && c.email) ?? contacts.find((c) => c.email) ?? contacts[0];
    const language = opts.locale.split('-')[0];
    const base = `${this.portalBaseUrl}/${tenant.id}/${customer.id}`;
    return {
      customer: { name: customer.name, externalId: customer.externalId },
      contact: { name: contact?.name ?? customer.name, email: contact?.email ?? null },
      sender: owner ? { name: owner.name, email: owner.email, phone: null } : { name: BILLING_TEAM[language] ?? BILLING_TEAM.en, email: this.emailFrom, phone: null },
      invoices: items,
      ...totalsOf(items),
      step: opts.step ?? stepFor(opts.key),
      links: opts.links ?? { payment: `${base}/pay`, portal: base },
      tenant: { name: tenant.name },
      dispute: opts.dispute ?? null,
    };
  }

  /** The customer's message locale, canonical; null when the customer does not exist or its tag is not BCP 47. */
  async customerLocale(ctx: RequestContext, customerId: string): Promise<string | null> {
    const customer = await this.customers.get(ctx, customerId);
    return customer ? canonicalLocale(customer.locale) : null;
  }

  private async openInvoices(ctx: RequestContext, customerId: string, asOf: IsoDate, ids?: string[]): Promise<Invoice[]> {
    if (ids) {
      const found = (await this.invoices.loader(ctx).loadMany(ids)).filter((i): i is Invoice => !!i && !(i instanceof Error));
      return found.filter((i): i is Invoice => !!i && i.customerId === customerId).sort((a, b) => a.dueDate.localeCompare(b.dueDate));
    }
    const page = await this.invoices.list(ctx, {
      first: MAX_INVOICES,
      filter: { customerIds: [customerId], status: [InvoiceStatus.OPEN] },
      orderBy: InvoiceOrderField.DUE_DATE,
      direction: 'ASC',
      asOf,
    });
    return page.nodes.filter((i) => i.openBalanceMinor > 0n);
  }
}
