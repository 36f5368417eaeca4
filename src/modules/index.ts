import type { DataSource } from 'typeorm';
import { loadConfig, type Config } from '../platform/config/config';
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
import { createChannelRegistry } from './outreach/channels/channel-registry';
import { MessageModelBuilder } from './outreach/message-model.builder';
import { TenantMessageTemplate } from './outreach/message-template.entity';
import { OutboundMessage } from './outreach/outbound-message.entity';
import { OutreachResolver } from './outreach/outreach.resolver';
import { OutreachService } from './outreach/outreach.service';
import { TemplateService } from './outreach/template.service';
import { ApiKey } from './tenants/api-key.entity';
import { ApiKeyService } from './tenants/api-key.service';
import { registerTenantHeartbeatJobs } from './tenants/jobs/tenant-heartbeat.job';
import { Tenant } from './tenants/tenant.entity';
import { TenantOnboarding } from './tenants/tenant-onboarding.service';
import { TenantService } from './tenants/tenant.service';
import { TenantsResolver } from './tenants/tenants.resolver';
import { User } from './tenants/user.entity';
import { UserService } from './tenants/user.service';
import type { RequestContext } from '../platform/context';
import type { Logger } from '../platform/logging/logger';
import { Action } from './actions/action.entity';
import { ActionResolver } from './actions/action.resolver';
import { ActionService } from './actions/action.service';
import { HookRegistry, RecordingConnector, type WriteBackConnector } from './actions/connectors';
import { EngineWriteBacks } from './integrations/engine-write-backs';
import { DispatchService } from './actions/dispatch.service';
import type { Messenger } from './actions/messenger';
import { Task } from './actions/task.entity';
import { TierActionExecutor } from './actions/tier-action-executor';
import { Dispute } from './disputes/dispute.entity';
import { DisputeResolver } from './disputes/dispute.resolver';
import { DisputeService } from './disputes/dispute.service';
import { DunningPause } from './engine/dunning-pause.entity';
import { DunningCounters } from './engine/escalations';
import { EngineResolver } from './engine/engine.resolver';
import { EvaluationRun } from './engine/evaluation-run.entity';
import { EvaluationService } from './engine/evaluation.service';
import { approvalPacketBuilder } from './engine/approval-packet';
import { customersChanged, registerDunningJobs } from './engine/jobs/dunning.jobs';
import { PauseService } from './engine/pause.service';
import { PreviewService } from './engine/preview.service';
import type { MessageModel } from './outreach/message-model';
import { MessageChannel } from './outreach/outreach.enums';
import { PermanentSendError } from './outreach/channels/send-errors';
import { DunningPolicy, PolicyAssignment, PolicyVersion } from './policies/policy.entities';
import { PolicyResolver } from './policies/policy.resolver';
import { PolicyService } from './policies/policy.service';
import { AgingFeeds } from './aging/aging-feed';
import { AgingResolver } from './aging/aging.resolver';
import { AgingService } from './aging/aging.service';
import { dashboardRouter } from './aging/dashboard/dashboard.route';
import { AgingChangeReason } from './aging/dto/aging.types';
import { registerAgingJobs } from './aging/jobs/aging-rollover.job';
import { MetricsResolver } from './aging/metrics.resolver';
import { MetricsService } from './aging/metrics.service';
import type express from 'express';
import { ApprovalKind, ApprovalRequest } from './approvals/approval-request.entity';
import { ApprovalResolver } from './approvals/approval.resolver';
import { ApprovalService } from './approvals/approval.service';
import { CreditHoldService } from './approvals/credit-hold.service';
import { registerApprovalJobs } from './approvals/jobs/expire-approvals.job';
import { AuditChainService } from './audit/audit-chain.service';
import { AuditResolver } from './audit/audit.resolver';
import { registerAuditJobs } from './audit/jobs/seal-audit-chain.job';
import { disputeNudgeSender } from './disputes/dispute-nudge.sender';
import { ActionKind } from './actions/action.entity';
import { JournalEntry, JournalLine } from './ledger/journal.entity';
import { JournalLineResolver, LedgerResolver } from './ledger/ledger.resolver';
import { LedgerService } from './ledger/ledger.service';
import { Allocation } from './payments/allocation.entity';
import { ApplicationRulesService } from './payments/application-rules.service';
import { ArDocument } from './payments/ar-document.entity';
import { CreditService } from './payments/credit.service';
import { paymentsRecorded, registerPaymentJobs } from './payments/jobs/apply-payments.job';
import { PaymentApplicationService } from './payments/payment-application.service';
import { Payment } from './payments/payment.entity';
import { PaymentHookRegistry } from './payments/payment-hooks';
import { AllocationResolver, ArDocumentResolver, PaymentResolver, PaymentSuggestionResolver } from './payments/payment.resolver';
import { PaymentService } from './payments/payment.service';
import { PaymentSuggestion } from './payments/payment-suggestion.entity';
import { PromiseToPay } from './promises/promise-to-pay.entity';
import { CustomerPromiseResolver, PromiseResolver } from './promises/promise.resolver';
import { PromiseService } from './promises/promise.service';
import { TimelineResolver } from './timeline/timeline.resolver';
import { TimelineService } from './timeline/timeline.service';
import { TaskService } from './worklists/task.service';
import { WorklistRulesService } from './worklists/worklist-rules.service';
import { WorklistResolver } from './worklists/worklist.resolver';
import { WorklistService } from './worklists/worklist.service';
import { createIntegrations, integrationResolverClasses } from './integrations/integrations.module';
import { InboundResolver } from './inbound/inbound.resolver';
import { inboundRouter } from './inbound/inbound.route';
import { InboundService } from './inbound/inbound.service';
import { BacktestResolver } from './backtest/backtest.resolver';
import { BacktestService } from './backtest/backtest.service';
import { BehaviourResolver, CustomerBehaviourResolver } from './behaviour/behaviour.resolver';
import { BehaviourService } from './behaviour/behaviour.service';
import { registerBehaviourJobs } from './behaviour/jobs/behaviour.jobs';
import { RecommendationService } from './behaviour/recommendation.service';
import { SegmentationService, type SegmentOverrideInput } from './behaviour/segmentation.service';

/** Every TypeORM entity of every module. */
export const entities = [
  Tenant,
  ApiKey,
  User,
  LegalEntity,
  Customer,
  Contact,
  Invoice,
  InvoiceLine,
  AuditEvent,
  TenantMessageTemplate,
  OutboundMessage,
  DunningPolicy,
  PolicyVersion,
  PolicyAssignment,
  Action,
  Task,
  EvaluationRun,
  DunningPause,
  Dispute,
  Payment,
  Allocation,
  PaymentSuggestion,
  ArDocument,
  ApprovalRequest,
  JournalEntry,
  JournalLine,
  PromiseToPay,
];

/** Every resolver class, in the order the schema lists them. */
export const resolverClasses = [
  TenantsResolver,
  LegalEntityResolver,
  CustomerResolver,
  InvoiceResolver,
  CustomerBalanceResolver,
  OutreachResolver,
  PolicyResolver,
  EngineResolver,
  ActionResolver,
  DisputeResolver,
  AgingResolver,
  MetricsResolver,
  PaymentResolver,
  AllocationResolver,
  PaymentSuggestionResolver,
  ArDocumentResolver,
  ApprovalResolver,
  AuditResolver,
  LedgerResolver,
  JournalLineResolver,
  WorklistResolver,
  PromiseResolver,
  CustomerPromiseResolver,
  TimelineResolver,
  ...integrationResolverClasses,
  InboundResolver,
  CustomerBehaviourResolver,
  BehaviourResolver,
  BacktestResolver,
] as const;

/** Internal recipients: the customer's owner, or the managers and directors. */
async function managerOrOwnerEmails(ctx: RequestContext, customerId: string, to: 'owner' | 'managers'): Promise<string[]> {
  const rows: { email: string }[] =
    to === 'owner'
      ? await ctx.em.query(`SELECT u.email FROM customers c JOIN users u ON u.id = c.owner_user_id WHERE c.tenant_id = $1 AND c.id = $2`, [ctx.tenantId, customerId])
      : await ctx.em.query(`SELECT email FROM users WHERE tenant_id = $1 AND active AND role IN ('MANAGER','DIRECTOR') ORDER BY email`, [ctx.tenantId]);
  return rows.map((r) => r.email);
}

/**
 * Wires the services of every module together (constructor injection, no container magic).
 * `config` gives the outreach channels (SMTP, SMS provider, sender); without it they are read
 * from the environment.
 */
export function createModules(config: Pick<Config, 'SMTP_URL' | 'SMS_PROVIDER_URL' | 'SMS_PROVIDER_TOKEN' | 'EMAIL_FROM' | 'EVALUATION_HOUR' | 'PORTAL_BASE_URL'> = loadConfig()) {
  const audit = new AuditService();
  const tenants = new TenantService(audit);
  const apiKeys = new ApiKeyService(tenants, audit);
  const users = new UserService(audit);
  const onboarding = new TenantOnboarding(tenants, apiKeys, audit);
  const legalEntities = new LegalEntityService(audit);
  const customers = new CustomerService(legalEntities, users, audit);
  const invoices = new InvoiceService(tenants, customers, legalEntities, audit);
  const demo = new DemoSeeder(legalEntities, users, customers, invoices);
  const messageModels = new MessageModelBuilder(customers, invoices, tenants, users, config.EMAIL_FROM, config.PORTAL_BASE_URL);
  const templates = new TemplateService(audit, messageModels);
  const outreach = new OutreachService(createChannelRegistry(config), customers, config.EMAIL_FROM);

  // Dunning: policies, the engine and its scheduler, the action outbox and its dispatcher.
  const policies = new PolicyService(audit, tenants, (ctx, keys) => templates.unknownKeys(ctx, keys));
  const evaluation = new EvaluationService(policies);
  evaluation.packetBuilder = approvalPacketBuilder(async (ctx, i) => {
    const locale = (await messageModels.customerLocale(ctx, i.customerId)) ?? 'en';
    const model = await messageModels.forCustomer(ctx, i.customerId, { key: i.templateKey, locale, invoiceIds: [i.invoiceId], amountDue: new Map([[i.invoiceId, i.amountDueMinor]]), asOf: i.asOf, step: i.step });
    const r = await templates.render(ctx, { key: i.templateKey, locale, channel: MessageChannel.EMAIL, model });
    return { subject: r.subject, body: r.body };
  });
  const previews = new PreviewService(policies, evaluation);
  const pauses = new PauseService(audit);
  const approvals = new ApprovalService(audit);
  // Publishing a policy that reaches strategic accounts goes through POLICY_PUBLISH approvals when the tenant's rules say so.
  policies.approvals = {
    required: async (ctx) => (await approvals.plan(ctx, ApprovalKind.POLICY_PUBLISH, { amountMinor: null, currency: null, customerTier: null })).outcome !== 'NOT_REQUIRED',
    request: (ctx, i) =>
      approvals.request(ctx, { kind: ApprovalKind.POLICY_PUBLISH, subjectType: 'DunningPolicy', subjectId: i.policyId, payload: { policyId: i.policyId, versionId: i.versionId, effectiveFrom: i.effectiveFrom }, reason: i.reason }),
  };
  approvals.registerHandler(ApprovalKind.POLICY_PUBLISH, {
    onApproved: async (tx, req) => {
      await policies.publishNow(tx, String(req.payload.policyId), String(req.payload.versionId), (req.payload.effectiveFrom as string | null) ?? null);
    },
  });
  // Worklists (task lifecycle, scoring, assignment): every producer raises its tasks through TaskService.
  const worklistRules = new WorklistRulesService(audit);
  const tasks = new TaskService(worklistRules, audit);
  const disputes = new DisputeService(audit, approvals, (ctx) => tenants.today(ctx), tasks);
  const actions = new ActionService(audit);
  const hooks = new HookRegistry();
  const messenger: Messenger = {
    render: (ctx, i) => templates.render(ctx, { key: i.key, locale: i.locale, channel: i.channel as MessageChannel, model: i.model as MessageModel }),
    send: (ctx, i) => outreach.send(ctx, { ...i, channel: i.channel as MessageChannel }),
    // A provider's definite no fails at once; anything else (timeouts, 5xx, a deadlock) is retried with backoff.
    isRetryable: (err) => !(err instanceof PermanentSendError),
  };
  // Outcomes for the ERP and CRM: recorded, and queued to the tenant's connection once the integrations module is built (below).
  const writeBackTo = (name: 'erp' | 'crm') => {
    const c: WriteBackConnector & { target: WriteBackConnector } = { name, target: new RecordingConnector(name), send: (ctx, call) => c.target.send(ctx, call) };
    return c;
  };
  const erpOut = writeBackTo('erp');
  const crmOut = writeBackTo('crm');
  const tierActions = new TierActionExecutor(hooks, erpOut, crmOut, audit, async (ctx, action, to) => {
    const locale = (await messageModels.customerLocale(ctx, action.customerId)) ?? 'en';
    const model = await messageModels.forCustomer(ctx, action.customerId, { key: 'internal-escalation', locale, step: { key: `tier-${action.tier}`, tone: 'FIRM', offsetDays: 0 } });
    const rendered = await templates.render(ctx, { key: 'internal-escalation', locale, channel: MessageChannel.INTERNAL, model });
    const addresses = Array.isArray(to) ? to : await managerOrOwnerEmails(ctx, action.customerId, to);
    if (addresses.length) await outreach.send(ctx, { actionId: action.id, customerId: action.customerId, channel: MessageChannel.INTERNAL, to: addresses, subject: rendered.subject, body: rendered.body });
  });
  const dispatch = new DispatchService(messenger, tierActions, {
    buildModel: (ctx, customerId, o) => messageModels.forCustomer(ctx, customerId, { key: o.key, locale: o.locale, invoiceIds: o.invoiceIds, amountDue: o.amountDue, asOf: o.asOf, step: o.step }),
  });
  // Payments and the ledger: intake, matching, credits, write-offs through approvals.
  const ledger = new LedgerService();
  const paymentHooks = new PaymentHookRegistry();
  const paymentRules = new ApplicationRulesService(legalEntities, paymentHooks, audit);
  const paymentApplication = new PaymentApplicationService(audit, actions, disputes, ledger, paymentRules, paymentHooks, new DunningCounters());
  const payments = new PaymentService(tenants, audit, ledger, paymentApplication);
  const credits = new CreditService(tenants, invoices, actions, approvals, ledger, audit);
  // Disputes, approvals and audit: resolutions through approvals, credit holds under the tenant's
  // rules, dispute nudges through the outbox, every send audited, the audit hash chain.
  disputes.credits = credits;
  const creditHolds = new CreditHoldService(approvals, actions, erpOut, audit);
  tierActions.gates.set('CREDIT_HOLD', (ctx, action) => creditHolds.gate(ctx, action));
  dispatch.audit = audit;
  const sendNudge = disputeNudgeSender({ messageModels, templates, outreach });
  dispatch.kindSenders.set(ActionKind.DISPUTE_NUDGE, (tx, action, asOf) => disputes.sendNudge(tx, action, asOf, sendNudge));
  evaluation.batchHooks.push((tx, b) => disputes.planNudges(tx, b));
  const auditChain = new AuditChainService();
  // Aging, DSO and CEI from rollups kept by triggers; live feeds for subscriptions.
  const aging = new AgingService(invoices, audit);
  const metrics = new MetricsService(aging);
  const agingFeeds = new AgingFeeds(aging, apiKeys);
  // Worklists, promises to pay, timelines.
  const worklists = new WorklistService(worklistRules);
  const promises = new PromiseService(tasks, audit);
  const timeline = new TimelineService(audit);
  tierActions.taskSink = async (ctx, t) => {
    await tasks.create(ctx, { customerId: t.customerId, invoiceId: t.invoiceId, reasonCode: t.reasonCode, nextAction: t.nextAction, priority: t.priority, dueDate: t.dueDate, source: { kind: 'ACTION', id: t.actionId } });
  };
  // Before a day is evaluated: promises judged as of that day; on whole-book runs, snoozed tasks wake and unapplied cash and pending approvals get tasks.
  evaluation.beforeEvaluation.push(async (ctx, asOf, customerIds) => {
    await promises.resolveDue(ctx, asOf, customerIds);
    if (customerIds) return;
    await tasks.wakeSnoozed(ctx, asOf);
    await tasks.sweepSources(ctx, asOf);
  });
  const worklistServices = { worklistRules, tasks, worklists, promises, timeline };
  // Payment behaviour, segmentation, recommendations (drafts through PolicyService) and backtests.
  const behaviour = new BehaviourService();
  const segmentation = new SegmentationService(audit, behaviour);
  // Segment overrides are manual overrides: under the MANUAL_OVERRIDE rule, below its role they go through an approval.
  segmentation.approvals = {
    requiredRole: async (ctx) => {
      const plan = await approvals.plan(ctx, ApprovalKind.MANUAL_OVERRIDE, { amountMinor: null, currency: null, customerTier: null });
      return plan.outcome === 'PENDING' ? plan.requiredRole : null;
    },
    request: (ctx, i) => approvals.request(ctx, { kind: ApprovalKind.MANUAL_OVERRIDE, subjectType: 'Customer', subjectId: i.customerId, payload: { override: 'SEGMENT', ...i }, reason: i.reason }),
  };
  approvals.registerHandler(ApprovalKind.MANUAL_OVERRIDE, {
    appliesTo: (req) => req.payload.override === 'SEGMENT',
    onApproved: async (tx, req) => {
      const p = req.payload as unknown as SegmentOverrideInput;
      await segmentation.override(tx, { customerId: p.customerId, segment: p.segment, until: p.until, reason: p.reason, asOf: p.asOf }, { approved: true });
    },
  });
  const recommendations = new RecommendationService(audit, policies, behaviour);
  const backtests = new BacktestService(policies);
  const behaviourServices = { behaviour, segmentation, recommendations, backtests };
  const services = { ...behaviourServices, ...worklistServices, aging, metrics, agingFeeds, ledger, approvals, paymentHooks, paymentRules, paymentApplication, payments, credits, creditHolds, auditChain, audit, tenants, apiKeys, users, onboarding, legalEntities, customers, invoices, demo, messageModels, templates, outreach, policies, evaluation, previews, pauses, disputes, actions, hooks, dispatch };
  const integrations = createIntegrations(config, { audit, customers, invoices, payments, paymentApplication, credits, disputes });
  erpOut.target = new EngineWriteBacks('erp', integrations.services.writeBacks);
  crmOut.target = new EngineWriteBacks('crm', integrations.services.writeBacks);
  promises.onBroken.push((tx, p) => integrations.services.webhookEvents.promiseBroken(tx, p));

  const resolvers = new Map<unknown, unknown>([
    [TenantsResolver, new TenantsResolver(tenants, apiKeys, users, onboarding)],
    [LegalEntityResolver, new LegalEntityResolver(legalEntities)],
    [CustomerResolver, new CustomerResolver(customers, legalEntities, users)],
    [InvoiceResolver, new InvoiceResolver(invoices, customers, legalEntities, tenants)],
    [CustomerBalanceResolver, new CustomerBalanceResolver(invoices)],
    [OutreachResolver, new OutreachResolver(templates, outreach, customers)],
    [PolicyResolver, new PolicyResolver(policies, tenants)],
    [EngineResolver, new EngineResolver(evaluation, previews, pauses, dispatch, tenants)],
    [ActionResolver, new ActionResolver(actions, customers, invoices)],
    [DisputeResolver, new DisputeResolver(disputes)],
    [AgingResolver, new AgingResolver(aging)],
    [MetricsResolver, new MetricsResolver(metrics)],
    [PaymentResolver, new PaymentResolver(payments, paymentApplication, paymentRules, credits)],
    [AllocationResolver, new AllocationResolver(invoices)],
    [PaymentSuggestionResolver, new PaymentSuggestionResolver(invoices)],
    [ArDocumentResolver, new ArDocumentResolver()],
    [ApprovalResolver, new ApprovalResolver(approvals, credits, creditHolds)],
    [AuditResolver, new AuditResolver(auditChain)],
    [LedgerResolver, new LedgerResolver(ledger)],
    [JournalLineResolver, new JournalLineResolver()],
    [WorklistResolver, new WorklistResolver(tasks, worklists, worklistRules, tenants, customers, invoices, users, apiKeys)],
    [PromiseResolver, new PromiseResolver(promises, tenants, customers, invoices)],
    [CustomerPromiseResolver, new CustomerPromiseResolver(promises)],
    [TimelineResolver, new TimelineResolver(timeline, tenants)],
  ]);
  for (const [cls, resolver] of integrations.resolvers) resolvers.set(cls, resolver);
  // Inbound replies: threaded, on the timeline, disputes and promises suggested for a person.
  const inbound = new InboundService(disputes, promises, tasks, timeline, tenants, audit);
  let inboundDb: { dataSource: DataSource; logger: Logger } | null = null;
  resolvers.set(InboundResolver, new InboundResolver(inbound));
  resolvers.set(CustomerBehaviourResolver, new CustomerBehaviourResolver(behaviour, segmentation));
  resolvers.set(BehaviourResolver, new BehaviourResolver(behaviour, segmentation, recommendations, tenants));
  resolvers.set(BacktestResolver, new BacktestResolver(backtests));

  function registerJobs(registry: JobRegistry, deps: { dataSource: DataSource; queues: () => QueueRuntime; logger: Logger }): void {
    registerTenantHeartbeatJobs(registry, { ...deps, tenants });
    registerDunningJobs(registry, { ...deps, tenants, evaluation, dispatch, evaluationHour: config.EVALUATION_HOUR });
    // Events that change what a customer owes re-evaluate that customer right away.
    const reevaluate = customersChanged(deps.queues, deps.logger);
    invoices.onCustomersChanged = reevaluate;
    // A dispute moves invoices in and out of the DISPUTED cut of live aging reports.
    disputes.onChange = (ctx, customerIds) => {
      reevaluate(ctx, customerIds);
      aging.announce(ctx, AgingChangeReason.DISPUTES).catch((err) => deps.logger.warn({ err }, 'could not announce a dispute change to aging subscribers'));
    };
    registerAgingJobs(registry, { ...deps, aging, metrics });
    registerPaymentJobs(registry, { ...deps, application: paymentApplication });
    registerAuditJobs(registry, { ...deps, chain: auditChain });
    registerApprovalJobs(registry, { ...deps, approvals });
    paymentApplication.onCustomersChanged = reevaluate;
    credits.onCustomersChanged = reevaluate;
    promises.onChange = reevaluate;
    payments.onRecorded = paymentsRecorded(deps.queues, deps.logger);
    integrations.registerJobs(registry, deps);
    inboundDb = { dataSource: deps.dataSource, logger: deps.logger };
    registerBehaviourJobs(registry, { ...deps, segmentation, recommendations, backtests });
    // A segment change re-evaluates the customer: policies assigned by segment follow.
    segmentation.onCustomersChanged = reevaluate;
  }

  /** Extra HTTP pages mounted by the server (the live aging dashboard). */
  function routes(app: express.Express): void {
    app.use(dashboardRouter({ endpoint: '/graphql' }));
    app.use(inboundRouter({ inbound, authenticate: (token) => apiKeys.authenticate(inboundDb!.dataSource.manager, token), em: () => inboundDb!.dataSource.manager, logger: () => inboundDb!.logger }));
  }

  return { services, resolvers, registerJobs, routes, integrations };
}

export type Modules = ReturnType<typeof createModules>;
