import type { App } from './app';
import { systemActor } from './platform/auth/roles';
import { RequestContext } from './platform/context';
import { todayIn } from './platform/time/dates';

/**
 * First start on an empty database: the first tenant with an admin + partner key (the
 * operator's BOOTSTRAP_API_KEY, or a generated one returned so it can be printed once).
 */
export async function bootstrapTenant(app: App): Promise<{ tenantId: string; secret: string; generated: boolean } | null> {
  return app.modules.services.onboarding.bootstrap(app.dataSource.manager, app.logger, app.config.BOOTSTRAP_API_KEY);
}

/**
 * Loads the demo AR book into the first tenant when SEED_DEMO is on and that tenant has no
 * customers yet, so a seed that failed half-way is simply retried on the next start.
 */
export async function seedDemoIfEmpty(app: App): Promise<{ customers: number; invoices: number } | null> {
  const { config, logger, dataSource, modules } = app;
  if (!config.SEED_DEMO) return null;
  const [first] = await dataSource.query(
    `SELECT t.id, t.timezone FROM tenants t WHERE t.parent_tenant_id IS NULL ORDER BY t.created_at LIMIT 1`,
  );
  if (!first) return null;
  const [{ n }] = await dataSource.query('SELECT count(*)::int AS n FROM customers WHERE tenant_id = $1', [first.id]);
  if (n > 0) return null;
  const ctx = new RequestContext(first.id, systemActor(first.id, 'demo-seed'), dataSource.manager, 'seed', logger);
  const started = Date.now();
  const summary = await modules.services.demo.seed(ctx, { customers: config.SEED_CUSTOMERS, invoices: config.SEED_INVOICES, seed: 42, asOf: todayIn(first.timezone) });
  logger.info({ ...summary, ms: Date.now() - started }, 'demo AR book loaded');
  return summary;
}
