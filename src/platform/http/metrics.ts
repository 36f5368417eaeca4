import type { ApolloServerPlugin } from '@apollo/server';
import type { RequestHandler } from 'express';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly graphqlOperations = new Counter({
    name: 'graphql_operations_total',
    help: 'GraphQL operations by name, type and outcome',
    labelNames: ['operation', 'type', 'outcome'],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  httpMiddleware(): RequestHandler {
    return (req, res, next) => {
      const end = this.httpDuration.startTimer({ method: req.method });
      // First path segment only: bounded label cardinality, independent of which router answered.
      res.on('finish', () => end({ route: `/${(req.originalUrl.split('?')[0] ?? '').split('/')[1] ?? ''}`, status: String(res.statusCode) }));
      next();
    };
  }

  apolloPlugin(): ApolloServerPlugin {
    const counter = this.graphqlOperations;
    return {
      async requestDidStart() {
        return {
          async willSendResponse({ operationName, operation, errors }) {
            counter.inc({ operation: operationName ?? 'anonymous', type: operation?.operation ?? 'unknown', outcome: errors?.length ? 'error' : 'ok' });
          },
        };
      },
    };
  }
}
