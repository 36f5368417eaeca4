import { buildSchema, type NonEmptyArray } from 'type-graphql';
import type { GraphQLSchema } from 'graphql';
import { authChecker } from './auth-checker';
import { DateTimeScalar } from './scalars';
import { createEventPubSub, type PubSub } from '../events/event-bus';

/**
 * Builds the executable schema from resolver classes. `instances` supplies the constructed
 * resolvers (services injected by the composition root); emitting the schema needs none.
 */
export function buildAppSchema(resolvers: readonly (new (...args: never[]) => unknown)[], instances?: Map<unknown, unknown>, pubSub: PubSub = createEventPubSub()): Promise<GraphQLSchema> {
  return buildSchema({
    // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
    resolvers: resolvers as unknown as NonEmptyArray<Function>,
    authChecker,
    container: instances
      ? {
          get: (cls) => {
            const r = instances.get(cls);
            if (!r) throw new Error(`resolver ${(cls as { name: string }).name} not constructed`);
            return r;
          },
        }
      : undefined,
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    validate: { forbidUnknownValues: false },
    pubSub: pubSub as never,
  });
}
