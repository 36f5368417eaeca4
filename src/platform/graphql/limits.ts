import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, GraphQLSchema, ValidationRule } from 'graphql';
import depthLimit from 'graphql-depth-limit';
import { fieldExtensionsEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity';

export function depthRule(maxDepth: number): ValidationRule {
  return depthLimit(maxDepth) as ValidationRule;
}

/** Computes the cost of an operation with its variables; list fields declare their own cost. */
export function operationComplexity(schema: GraphQLSchema, document: Parameters<typeof getComplexity>[0]['query'], variables: Record<string, unknown>, operationName?: string | null) {
  return getComplexity({
    schema,
    query: document,
    variables,
    operationName: operationName ?? undefined,
    estimators: [fieldExtensionsEstimator(), simpleEstimator({ defaultComplexity: 1 })],
  });
}

export function complexityPlugin(schema: GraphQLSchema, max: number): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document }) {
          let cost: number;
          try {
            cost = operationComplexity(schema, document, request.variables ?? {}, request.operationName);
          } catch {
            // Variables that do not coerce: execution reports them as BAD_USER_INPUT.
            return;
          }
          if (cost > max) {
            throw new GraphQLError(`Query is too complex: ${cost}, the limit is ${max}. Ask for fewer items or fields.`, {
              extensions: { code: 'QUERY_TOO_COMPLEX', complexity: cost, maximumComplexity: max },
            });
          }
        },
      };
    },
  };
}

/** Cost of a paged list field: its page size (capped at the maximum page) times its children. */
export function pageComplexity({ args, childComplexity }: { args: Record<string, unknown>; childComplexity: number }): number {
  const first = typeof args.first === 'number' ? Math.min(Math.max(args.first, 1), 500) : 50;
  return 1 + first * childComplexity;
}
