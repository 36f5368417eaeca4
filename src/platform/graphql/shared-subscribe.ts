import { createSourceEventStream, execute, print, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { flatMapEvents } from '../events/flat-map';
import type { GqlContext } from './gql-context';

/** Per event object, the result of each distinct (caller's tenant and role, operation, variables). */
const resultsByEvent = new WeakMap<object, Map<string, Promise<ExecutionResult>>>();
const printed = new WeakMap<DocumentNode, string>();

function operationKey(args: ExecutionArgs): string | null {
  const gql = args.contextValue as GqlContext | undefined;
  const actor = gql?.actor;
  if (!actor) return null;
  let text = printed.get(args.document);
  if (text === undefined) {
    text = print(args.document);
    printed.set(args.document, text);
  }
  return JSON.stringify([actor.tenantId, actor.role, actor.partner, text, args.operationName ?? null, args.variableValues ?? {}]);
}

/**
 * graphql-ws' `subscribe`: graphql-js's, except that one event object handed to many
 * subscribers (a live aging feed pushes the same change to each of them) is executed once per
 * distinct operation, tenant and role, not once per subscriber. What a resolver may show depends
 * on the caller's tenant and role only (field authorization is by role), so subscribers that
 * agree on those and on the operation get the same result; events built per subscriber are
 * executed per subscriber, as before.
 */
export async function sharedSubscribe(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const source = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in source)) return source as ExecutionResult;
  const key = operationKey(args);
  return flatMapEvents(source as AsyncIterable<unknown>, async (event) => {
    const run = () => execute({ ...args, rootValue: event }) as Promise<ExecutionResult> | ExecutionResult;
    if (key === null || event === null || typeof event !== 'object') return [await run()];
    let results = resultsByEvent.get(event);
    if (!results) {
      results = new Map();
      resultsByEvent.set(event, results);
    }
    let result = results.get(key);
    if (!result) {
      result = Promise.resolve(run());
      results.set(key, result);
    }
    return [await result];
  });
}
