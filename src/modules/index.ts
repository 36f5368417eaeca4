import type { DataSource } from 'typeorm';
import type { JobRegistry } from '../platform/queue/job-registry';
import type { QueueRuntime } from '../platform/queue/queue-runtime';
import { AuditEvent } from './audit/audit-event.entity';
import { AuditService } from './audit/audit.service';
import { Contact } from './customers/contact.entity';
import { Customer } from './customers/customer.entity';
import { CustomerResolver } from './customers/customer.resolver';
import { CustomerService } from './customers/customer.service';
import { DemoSeeder } from './demo/demo-seeder.service';
import { CustomerBalanceResolver, InvoiceResolver } from './invoices/invoice.resolver';
import { Invoice } from './invoices/invoice.entity';
import { InvoiceLine } from './invoices/invoice-line.entity';
import { InvoiceService } from './invoices/invoice.service';
import { LegalEntity } from './legal-entities/legal-entity.entity';
import { LegalEntityResolver } from './legal-entities/legal-entity.resolver';
import { LegalEntityService } from './legal-entities/legal-entity.service';
import { ApiKey } from './tenants/api-key.entity';
import { ApiKeyService } from './tenants/api-key.service';
import { registerTenantHeartbeatJobs } from './tenants/jobs/tenant-heartbeat.job';
import { Tenant } from './tenants/tenant.entity';
import { TenantOnboarding } from './tenants/tenant-onboarding.service';
import { TenantService } from './tenants/tenant.service';
import { TenantsResolver } from './tenants/tenants.resolver';
import { User } from './tenants/user.entity';
import { UserService } from './tenants/user.service';

/** Every TypeORM entity of every module. */
export const entities = [Tenant, ApiKey, User, LegalEntity, Customer, Contact, Invoice, InvoiceLine, AuditEvent];

/** Every resolver class, in the order the schema lists them. */
export const resolverClasses = [TenantsResolver, LegalEntityResolver, CustomerResolver, InvoiceResolver, CustomerBalanceResolver] as const;

/** Wires the services of every module together (constructor injection, no container magic). */
export function createModules() {
  const audit = new AuditService();
  const tenants = new TenantService(audit);
  const apiKeys = new ApiKeyService(tenants, audit);
  const users = new UserService(audit);
  const onboarding = new TenantOnboarding(tenants, apiKeys, audit);
  const legalEntities = new LegalEntityService(audit);
  const customers = new CustomerService(legalEntities, users, audit);
  const invoices = new InvoiceService(tenants, customers, legalEntities, audit);
  const demo = new DemoSeeder(legalEntities, users, customers, invoices);
  const services = { audit, tenants, apiKeys, users, onboarding, legalEntities, customers, invoices, demo };

  const resolvers = new Map<unknown, unknown>([
    [TenantsResolver, new TenantsResolver(tenants, apiKeys, users, onboarding)],
    [LegalEntityResolver, new LegalEntityResolver(legalEntities)],
    [CustomerResolver, new CustomerResolver(customers, legalEntities, users)],
    [InvoiceResolver, new InvoiceResolver(invoices, customers, legalEntities, tenants)],
    [CustomerBalanceResolver, new CustomerBalanceResolver(invoices)],
  ]);

  function registerJobs(registry: JobRegistry, deps: { dataSource: DataSource; queues: () => QueueRuntime }): void {
    registerTenantHeartbeatJobs(registry, { ...deps, tenants });
  }

  return { services, resolvers, registerJobs };
}

export type Modules = ReturnType<typeof createModules>;
