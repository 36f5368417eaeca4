import type { App } from './app';
import { systemActor } from './platform/auth/roles';
import { RequestContext } from './platform/context';
import { todayIn } from './platform/time/dates';

/**
 * First start on an empty database: the first tenant with an admin key and, unless
 * SEED_DEMO=false, a demo AR book. Returns the key when this call created it.
 */
export async function bootstrap(app: App): Promise<{ tenantId: string; secret: string; generated: boolean; seeded: boolean } | null> {
  const { config, logger, dataSource, modules } = app;
  const created = await modules.services.onboarding.bootstrap(dataSource.manager, logger, config.BOOTSTRAP_API_KEY);
  if (!created) return null;
  let seeded = false;
  if (config.SEED_DEMO) {
    const tenant = await dataSource.manager.query('SELECT timezone FROM tenants WHERE id = $1', [created.tenantId]);
    const ctx = new RequestContext(created.tenantId, systemActor(created.tenantId, 'demo-seed'), dataSource.manager, 'seed', logger);
    const started = Date.now();
    const summary = await modules.services.demo.seed(ctx, {
      customers: config.SEED_CUSTOMERS,
      invoices: config.SEED_INVOICES,
      seed: 42,
      asOf: todayIn(tenant[0].timezone),
    });
    logger.info({ ...summary, ms: Date.now() - started }, 'demo AR book loaded');
    seeded = true;
  }
  return { ...created, seeded };
}
