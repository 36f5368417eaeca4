import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import type { DataSource } from 'typeorm';
import { migrations } from '../migrations';
import { type Config } from './platform/config/config';
import { migrate, provisionDatabase } from './platform/db/database';
import { createDataSource } from './platform/db/data-source';
import { createEventPubSub, EventListener, type PubSub } from './platform/events/event-bus';
import { buildAppSchema } from './platform/graphql/build-schema';
import { Metrics } from './platform/http/metrics';
import { startHttpServer, type RunningHttpServer } from './platform/http/server';
import { Lifecycle } from './platform/lifecycle';
import type { Logger } from './platform/logging/logger';
import { JobRegistry } from './platform/queue/job-registry';
import { QueueRuntime } from './platform/queue/queue-runtime';
import { createModules, entities, resolverClasses, type Modules } from './modules';

export interface App {
  config: Config;
  logger: Logger;
  dataSource: DataSource;
  databaseUrl: string;
  queues: QueueRuntime;
  jobs: JobRegistry;
  pubSub: PubSub;
  schema: GraphQLSchema;
  modules: Modules;
  lifecycle: Lifecycle;
  http: RunningHttpServer | null;
  /** Starts the HTTP API (and the workers when RUN_WORKERS). */
  listen(port?: number): Promise<RunningHttpServer>;
  stop(): Promise<void>;
}

/**
 * The composition root: the same business code in every mode; only where PostgreSQL and the
 * queue live differs (embedded vs DATABASE_URL, BullMQ on Redis vs on PostgreSQL).
 */
export async function createApp(config: Config, logger: Logger): Promise<App> {
  const lifecycle = new Lifecycle(logger);
  try {
    const db = await provisionDatabase(config, logger);
    if (db.embedded) lifecycle.onStop('embedded-postgres', () => db.embedded!.stop());

    const dataSource = createDataSource({ url: db.url, entities, migrations, poolSize: config.DB_POOL_SIZE, logger });
    await dataSource.initialize();
    lifecycle.onStop('database', () => dataSource.destroy());
    await migrate(dataSource, logger);

    const modules = createModules(config);
    const jobs = new JobRegistry();
    let queues: QueueRuntime | null = null;
    modules.registerJobs(jobs, { dataSource, queues: () => queues!, logger });
    queues = await QueueRuntime.create({ redisUrl: config.REDIS_URL, databaseUrl: db.url, prefix: config.QUEUE_PREFIX, logger, registry: jobs });
    lifecycle.onStop('queues', () => queues!.close());

    const pubSub = createEventPubSub();
    modules.services.agingFeeds.attach(pubSub, logger);
    modules.integrations.attach(pubSub);
    const listener = new EventListener(db.url, pubSub, logger);
    await listener.start();
    lifecycle.onStop('event-listener', () => listener.stop());

    const schema = await buildAppSchema(resolverClasses, modules.resolvers, pubSub);
    const metrics = new Metrics();

    const app: App = {
      config,
      logger,
      dataSource,
      databaseUrl: db.url,
      queues,
      jobs,
      pubSub,
      schema,
      modules,
      lifecycle,
      http: null,
      async listen(port = config.PORT) {
        if (config.RUN_WORKERS) {
          await queues!.registerSchedules();
          queues!.startWorkers();
        }
        const http = await startHttpServer(
          {
            schema,
            logger,
            metrics,
            pubSub,
            em: dataSource.manager,
            authenticate: (token) => modules.services.apiKeys.authenticate(dataSource.manager, token),
            readiness: async () => ({
              database: await dataSource.query('SELECT 1').then(() => true, () => false),
              queue: await queues!.ping(),
            }),
            maxDepth: config.GRAPHQL_MAX_DEPTH,
            maxComplexity: config.GRAPHQL_MAX_COMPLEXITY,
            routes: modules.routes,
          },
          port,
          config.HOST,
        );
        lifecycle.onStop('http', () => http.close());
        app.http = http;
        return http;
      },
      stop: () => lifecycle.stop(),
    };
    return app;
  } catch (err) {
    await lifecycle.stop();
    throw err;
  }
}
