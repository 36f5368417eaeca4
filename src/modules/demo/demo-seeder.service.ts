import type { RequestContext } from '../../platform/context';
import type { IsoDate } from '../../platform/time/dates';
import type { CustomerService } from '../customers/customer.service';
import type { InvoiceService } from '../invoices/invoice.service';
import type { LegalEntityService } from '../legal-entities/legal-entity.service';
import type { UserService } from '../tenants/user.service';

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

export class DemoSeeder {
  constructor(
    private readonly entities: LegalEntityService,
    private readonly users: UserService,
    private readonly customers: CustomerService,
    private readonly invoices: InvoiceService,
  ) {}

  async seed(_ctx: RequestContext, _opts: SeedOptions): Promise<SeedSummary> {
    void this.entities;
    void this.users;
    void this.customers;
    void this.invoices;
    throw new Error('demo seeder not written yet');
  }
}
