import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { GraphQLError, parse, specifiedRules, validate, type GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { pinoHttp } from 'pino-http';
import type { EntityManager } from 'typeorm';
import { WebSocketServer } from 'ws';
import type { Actor } from '../auth/roles';
import type { PubSub } from '../events/event-bus';
import { formatError } from '../graphql/format-error';
import { buildGqlContext, type GqlContext } from '../graphql/gql-context';
import { sharedSubscribe } from '../graphql/shared-subscribe';
import { complexityPlugin, depthRule, operationComplexity } from '../graphql/limits';
import type { Logger } from '../logging/logger';
import { graphiqlRouter } from './graphiql';
import type { Metrics } from './metrics';

export interface HttpServerOptions {
  schema: GraphQLSchema;
  logger: Logger;
  metrics: Metrics;
  pubSub: PubSub;
  em: EntityManager;
  /** Resolves a bearer token to who is calling, or null. */
  authenticate(token: string): Promise<Actor | null>;
  /** Each dependency reachable? */
  readiness(): Promise<Record<string, boolean>>;
  maxDepth: number;
  maxComplexity: number;
  /** Extra routes (e.g. a dashboard page), mounted before GraphQL. */
  routes?: (app: express.Express) => void;
}

export interface RunningHttpServer {
  server: http.Server;
  url: string;
  port: number;
  close(): Promise<void>;
}

function bearer(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(value);
  return m ? m[1] : null;
}

/** Express 5 + Apollo Server 5 over HTTP, graphql-ws on the same port and path. */
export async function startHttpServer(opts: HttpServerOptions, port: number, host: string): Promise<RunningHttpServer> {
  const { logger } = opts;
  const app = express();
  app.disable('x-powered-by');
  const httpServer = http.createServer(app);

  app.use(
    pinoHttp({
      logger,
      genReqId: (req, res) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
        res.setHeader('x-request-id', id);
        return id;
      },
      autoLogging: { ignore: (req) => ['/healthz', '/readyz', '/metrics'].includes(req.url ?? '') },
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : 'info'),
    }),
  );
  app.use(opts.metrics.httpMiddleware());

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const checks = await opts.readiness();
    const ok = Object.values(checks).every(Boolean);
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not ready', checks });
  });
  app.get('/metrics', async (_req, res) => {
    res.setHeader('content-type', opts.metrics.registry.contentType);
    res.send(await opts.metrics.registry.metrics());
  });
  opts.routes?.(app);
  app.use(graphiqlRouter({ endpoint: '/graphql', title: 'Recoup GraphQL' }));

  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql' });
  const wsCleanup = useServer<Record<string, unknown>, { gql?: GqlContext }>(
    {
      schema: opts.schema,
      // An event pushed to many subscribers is executed once per distinct operation, tenant and role.
      subscribe: sharedSubscribe,
      onConnect: async (ctx) => {
        const p = ctx.connectionParams ?? {};
        const token = bearer(p.Authorization ?? p.authorization) ?? (typeof p.apiKey === 'string' ? p.apiKey : null);
        const actor = token ? await opts.authenticate(token) : null;
        if (!actor) return false; // closes with 4403 Forbidden
        ctx.extra.gql = buildGqlContext(actor, opts.em, `ws-${randomUUID()}`, logger, opts.pubSub);
        return true;
      },
      context: (ctx) => ctx.extra.gql!,
      // The same depth and complexity limits as over HTTP.
      onSubscribe: (ctx, _id, payload) => {
        let document;
        try {
          document = parse(payload.query);
        } catch (err) {
          return [err as GraphQLError];
        }
        const errors = validate(opts.schema, document, [...specifiedRules, depthRule(opts.maxDepth)]);
        if (errors.length) return errors;
        const cost = operationComplexity(opts.schema, document, payload.variables ?? {}, payload.operationName);
        if (cost > opts.maxComplexity) {
          return [new GraphQLError(`Query is too complex: ${cost}, the limit is ${opts.maxComplexity}`, { extensions: { code: 'QUERY_TOO_COMPLEX' } })];
        }
        return { schema: opts.schema, document, variableValues: payload.variables, operationName: payload.operationName, contextValue: ctx.extra.gql };
      },
    },
    wsServer,
  );

  const apollo = new ApolloServer<GqlContext>({
    schema: opts.schema,
    introspection: true,
    includeStacktraceInErrorResponses: false,
    stopOnTerminationSignals: false,
    formatError: formatError(logger),
    validationRules: [depthRule(opts.maxDepth)],
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ApolloServerPluginLandingPageDisabled(),
      // No cache hints are used; Apollo's default cache-control plugin would hook every field resolution.
      ApolloServerPluginCacheControlDisabled(),
      complexityPlugin(opts.schema, opts.maxComplexity),
      opts.metrics.apolloPlugin(),
      {
        async serverWillStart() {
          return {
            async drainServer() {
              await wsCleanup.dispose();
            },
          };
        },
      },
    ],
  });
  await apollo.start();

  app.use(
    '/graphql',
    express.json({ limit: '10mb' }),
    expressMiddleware(apollo, {
      context: async ({ req, res }) => {
        const token = bearer(req.headers.authorization);
        const actor = token ? await opts.authenticate(token) : null;
        return buildGqlContext(actor, opts.em, String(req.id ?? res.getHeader('x-request-id')), req.log ?? logger, opts.pubSub);
      },
    }),
  );

  // Body-parser failures happen before Apollo; answer them as GraphQL errors, never as HTML with a stack.
  app.use((err: { type?: string; status?: number; message?: string }, req: express.Request, res: express.Response, _next: express.NextFunction) => {
    const [status, code, message] =
      err?.type === 'entity.parse.failed'
        ? [400, 'GRAPHQL_PARSE_FAILED', 'Malformed JSON body']
        : err?.type === 'entity.too.large'
          ? [413, 'BAD_REQUEST', 'Request body too large']
          : (err?.status ?? 500) < 500
            ? [err.status!, 'BAD_REQUEST', err.message ?? 'Bad request']
            : [500, 'INTERNAL_SERVER_ERROR', 'Internal server error'];
    if (status >= 500) (req.log ?? logger).error({ err }, 'unhandled HTTP error');
    res.status(status).json({ errors: [{ message, extensions: { code } }] });
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, host, () => resolve());
  });
  const addr = httpServer.address();
  const actualPort = typeof addr === 'object' && addr ? addr.port : port;
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return {
    server: httpServer,
    port: actualPort,
    url: `http://${shownHost}:${actualPort}/graphql`,
    // Apollo's drain plugin stops accepting connections and waits for in-flight requests.
    close: () => apollo.stop(),
  };
}
