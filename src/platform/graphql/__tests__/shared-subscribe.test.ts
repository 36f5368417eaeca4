import { GraphQLObjectType, GraphQLSchema, GraphQLString, parse, type ExecutionResult } from 'graphql';
import { LiveQueue } from '../../events/live-queue';
import { sharedSubscribe } from '../shared-subscribe';

interface Event {
  value: string;
}

/** A schema whose subscription field counts how often it is executed and can show the caller's role. */
function fixture() {
  const sources: LiveQueue<Event>[] = [];
  let executions = 0;
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLString } } }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: {
        changed: {
          type: GraphQLString,
          subscribe: () => {
            const q = new LiveQueue<Event>(() => undefined);
            sources.push(q);
            return q;
          },
          resolve: (e: Event, _args, ctx: { actor: { role: string } }) => {
            executions++;
            return `${e.value} for ${ctx.actor.role}`;
          },
        },
      },
    }),
  });
  const subscribe = async (role: string, query = 'subscription { changed }') => {
    const it = (await sharedSubscribe({
      schema,
      document: parse(query),
      contextValue: { actor: { tenantId: 't1', role, partner: false } },
    })) as AsyncIterableIterator<ExecutionResult>;
    return it;
  };
  return { sources, subscribe, executions: () => executions };
}

describe('sharedSubscribe', () => {
  it('executes one event object pushed to many subscribers once per operation and role', async () => {
    const f = fixture();
    const a = await f.subscribe('VIEWER');
    const b = await f.subscribe('VIEWER');
    const c = await f.subscribe('MANAGER');
    const event = { value: 'v1' };
    for (const s of f.sources) s.push(event);
    expect(await a.next()).toEqual({ done: false, value: { data: { changed: 'v1 for VIEWER' } } });
    expect(await b.next()).toEqual({ done: false, value: { data: { changed: 'v1 for VIEWER' } } });
    expect(await c.next()).toEqual({ done: false, value: { data: { changed: 'v1 for MANAGER' } } });
    expect(f.executions()).toBe(2);

    // Distinct event objects (built per subscriber) are executed per subscriber.
    f.sources[0].push({ value: 'v2' });
    f.sources[1].push({ value: 'v2' });
    expect((await a.next()).value).toEqual({ data: { changed: 'v2 for VIEWER' } });
    expect((await b.next()).value).toEqual({ data: { changed: 'v2 for VIEWER' } });
    expect(f.executions()).toBe(4);
    await Promise.all([a.return?.(), b.return?.(), c.return?.()]);
  });

  it('keeps operations apart: another selection of the same event is executed on its own', async () => {
    const f = fixture();
    const a = await f.subscribe('VIEWER', 'subscription { changed }');
    const b = await f.subscribe('VIEWER', 'subscription Named { changed __typename }');
    const event = { value: 'v1' };
    for (const s of f.sources) s.push(event);
    expect((await a.next()).value).toEqual({ data: { changed: 'v1 for VIEWER' } });
    expect((await b.next()).value).toEqual({ data: { changed: 'v1 for VIEWER', __typename: 'Subscription' } });
    expect(f.executions()).toBe(2);
    await Promise.all([a.return?.(), b.return?.()]);
  });

  it('returns the errors of an operation that cannot subscribe', async () => {
    const r = (await sharedSubscribe({ schema: fixtureSchemaWithout(), document: parse('subscription { missing }') })) as ExecutionResult;
    expect(r.errors?.[0].message).toMatch(/missing/);
  });
});

function fixtureSchemaWithout(): GraphQLSchema {
  return new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLString } } }),
    subscription: new GraphQLObjectType({ name: 'Subscription', fields: { other: { type: GraphQLString } } }),
  });
}
