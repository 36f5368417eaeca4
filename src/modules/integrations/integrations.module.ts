import type { DataSource } from 'typeorm';
import { DEV_INTEGRATIONS_SECRET_KEY, secretKeyBytes, type Config } from '../../platform/config/config';
import type { RequestContext } from '../../platform/context';
import type { PubSub } from '../../platform/events/event-bus';
import type { Logger } from '../../platform/logging/logger';
import type { JobRegistry } from '../../platform/queue/job-registry';
import type { QueueRuntime } from '../../platform/queue/queue-runtime';
import type { AuditService } from '../audit/audit.service';
import type { CustomerService } from '../customers/customer.service';
import type { InvoiceService } from '../invoices/invoice.service';
import type { CreditService } from '../payments/credit.service';
import type { PaymentApplicationService } from '../payments/payment-application.service';
import type { PaymentService } from '../payments/payment.service';
import { registerWebhookJobs } from '../webhooks/jobs/webhook.jobs';
import { WebhookEventSource } from '../webhooks/webhook-events';
import { WebhookResolver } from '../webhooks/webhook.resolver';
import { WebhookService } from '../webhooks/webhook.service';
import { BankImportService } from './bank-import.service';
import { ConnectionService } from './connection.service';
import { FileImportService } from './file-import.service';
import { IntegrationResolver } from './integration.resolver';
import { registerIntegrationJobs } from './jobs/integration.jobs';
import { SecretBox } from './secret-box';
import { SyncService } from './sync.service';
import { WriteBackService } from './writeback.service';

interface Needs {
  audit: AuditService;
  customers: CustomerService;
  invoices: InvoiceService;
  payments: PaymentService;
  paymentApplication: PaymentApplicationService;
  credits: CreditService;
  disputes: { onChange: (ctx: RequestContext, customerIds: string[]) => void };
}

/** Integrations and webhooks, wired on their own so the composition root only plugs them in. */
/** `config` is the app's Config; callers that build modules from a partial config get the development key. */
export function createIntegrations(appConfig: object, needs: Needs) {
  const config = appConfig as Partial<Pick<Config, 'integrationsKey' | 'WEBHOOK_RETRY_BASE_MS'>>;
  const box = new SecretBox(config.integrationsKey ?? secretKeyBytes(DEV_INTEGRATIONS_SECRET_KEY)!);
  const connections = new ConnectionService(box, needs.audit);
  const sync = new SyncService(connections, needs.customers, needs.invoices, needs.payments, needs.paymentApplication, needs.credits);
  const writeBacks = new WriteBackService(connections);
  const fileImports = new FileImportService(needs.customers, needs.invoices, needs.payments, needs.paymentApplication);
  const bankImports = new BankImportService(needs.payments, needs.paymentApplication);
  const webhooks = new WebhookService(box, needs.audit);
  webhooks.retryBaseMs = config.WEBHOOK_RETRY_BASE_MS ?? 10_000;
  let dataSource: DataSource | null = null;
  let logger: Logger | null = null;
  const webhookEvents = new WebhookEventSource(webhooks, () => dataSource!, () => logger!);

  const services = { connections, sync, writeBacks, fileImports, bankImports, webhooks, webhookEvents };
  const resolvers: [unknown, unknown][] = [
    [IntegrationResolver, new IntegrationResolver(connections, sync, writeBacks, fileImports, bankImports)],
    [WebhookResolver, new WebhookResolver(webhooks)],
  ];

  function registerJobs(registry: JobRegistry, deps: { dataSource: DataSource; queues: () => QueueRuntime; logger: Logger }): void {
    dataSource = deps.dataSource;
    logger = deps.logger;
    registerIntegrationJobs(registry, { ...deps, sync, writeBacks });
    registerWebhookJobs(registry, { ...deps, webhooks, events: webhookEvents });
    // Disputes name the customers whose disputes changed; the webhook source finds which opened or closed.
    const before = needs.disputes.onChange;
    needs.disputes.onChange = (ctx, customerIds) => {
      before(ctx, customerIds);
      webhookEvents.disputesChanged(ctx, customerIds).catch((err) => deps.logger.warn({ err }, 'could not announce dispute webhooks'));
    };
  }

  /** Domain events (after commit, from every process) into webhook events. */
  function attach(pubSub: PubSub): void {
    webhookEvents.attach(pubSub);
  }

  return { services, resolvers, registerJobs, attach };
}

export const integrationResolverClasses = [IntegrationResolver, WebhookResolver] as const;
