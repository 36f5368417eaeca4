import { inTransaction, type RequestContext } from '../../platform/context';
import type { IsoDate } from '../../platform/time/dates';
import type { CustomerService } from '../customers/customer.service';
import type { InvoiceService } from '../invoices/invoice.service';
import type { LegalEntityService } from '../legal-entities/legal-entity.service';
import { UserRole } from '../tenants/user.entity';
import type { UserService } from '../tenants/user.service';
import { bookCustomer, customerBatches, generateEntities, generateUsers, invoiceBatches, type BookCustomer } from './demo-book';

export interface SeedOptions {
  customers: number;
  invoices: number;
  seed: number;
  /** The day the book is "as of": invoices spread over every aging bucket relative to it. */
  asOf: IsoDate;
  onProgress?: (p: { customers: number; invoices: number }) => void;
}

export interface SeedSummary {
  entities: number;
  users: number;
  customers: number;
  invoices: number;
}

/** Rows per write, and per transaction. */
export const SEED_BATCH = 1000;

/**
 * Loads the deterministic demo AR book (see demo-book.ts) through the same write paths as the
 * API and importers. Idempotent: rerunning with the same seed updates the same external ids.
 */
export class DemoSeeder {
  constructor(
    private readonly entities: LegalEntityService,
    private readonly users: UserService,
    private readonly customers: CustomerService,
    private readonly invoices: InvoiceService,
  ) {}

  async seed(ctx: RequestContext, opts: SeedOptions): Promise<SeedSummary> {
    if (opts.customers === 0 && opts.invoices > 0) throw new Error('invoices need at least one customer');
    const book = { seed: opts.seed, customers: opts.customers, invoices: opts.invoices, asOf: opts.asOf };

    const entities = await this.entities.upsert(ctx, generateEntities());
    const entityIdByCode = new Map(entities.map((e) => [e.code, e.id]));

    // Users: create the ones whose email is not there yet, so a rerun adds nobody.
    const team = generateUsers(opts.seed);
    const byEmail = new Map((await this.users.list(ctx)).map((u) => [u.email.toLowerCase(), u.id]));
    let usersCreated = 0;
    for (const u of team) {
      if (byEmail.has(u.email)) continue;
      const created = await this.users.create(ctx, u);
      byEmail.set(created.email, created.id);
      usersCreated++;
    }
    const collectorIds = team.filter((u) => u.role === UserRole.COLLECTOR).map((u) => byEmail.get(u.email)!);

    // Customers: kept as light records (id + payment profile) for the invoices that follow.
    const customers: BookCustomer[] = [];
    for (const batch of customerBatches(book, { entityIdByCode, collectorIds }, SEED_BATCH)) {
      const written = await inTransaction(ctx, (tx) => this.customers.write(tx, batch.map((c) => c.row), { audit: false }));
      for (const c of batch) {
        const w = written.get(c.row.externalId);
        if (!w) throw new Error(`customer ${c.row.externalId} was not written`);
        customers.push(bookCustomer(c, w.id));
      }
      opts.onProgress?.({ customers: customers.length, invoices: 0 });
    }

    // Invoices: streamed, one batch in memory at a time.
    let invoicesWritten = 0;
    let invoicesDone = 0;
    const rejected: { externalId: string; codes: string[] }[] = [];
    if (opts.invoices > 0) {
      for (const rows of invoiceBatches(book, customers, SEED_BATCH)) {
        const result = await inTransaction(ctx, (tx) => this.invoices.write(tx, rows, { audit: false }));
        invoicesWritten += result.written.size;
        invoicesDone += rows.length;
        for (const [externalId, problems] of result.rejected) {
          if (rejected.length < 20) rejected.push({ externalId, codes: problems.map((p) => p.code) });
        }
        opts.onProgress?.({ customers: customers.length, invoices: invoicesDone });
      }
    }
    if (invoicesWritten < invoicesDone) {
      // Only invoices changed since an earlier seed (voided, or repriced in another currency after payment) end up here.
      ctx.logger.warn({ rejected: invoicesDone - invoicesWritten, examples: rejected }, 'demo seed: some invoices kept their stored state');
    }
    ctx.logger.info({ usersCreated, usersExisting: team.length - usersCreated }, 'demo seed: users');

    return { entities: entities.length, users: team.length, customers: customers.length, invoices: invoicesWritten };
  }
}
