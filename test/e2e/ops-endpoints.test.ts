import { MeDocument } from '../generated/graphql';
import { dataOf, startTestApp, type TestApp } from '../support/test-app';

/**
 * What operators and load balancers see: health, readiness, metrics, request ids, the GraphiQL
 * page, and the guards in front of GraphQL (parse errors without stacks, depth and cost limits).
 */

const base = (t: TestApp) => t.url.replace(/\/graphql$/, '');

/** A raw POST to /graphql; returns status, content type and the parsed (or raw) body. */
async function post(t: TestApp, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(t.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${t.adminKey}`, ...headers },
    body,
  });
  const text = await res.text();
  let json: { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] } | null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text, json };
}

const expectNoStack = (text: string) => {
  expect(text).not.toMatch(/stacktrace/i);
  expect(text).not.toMatch(/\bat [^\n]*[\\/][^\n]*\.[jt]s:\d+/);
  expect(text).not.toMatch(/node_modules/);
};

describe('ops endpoints (e2e over HTTP)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('GET /healthz answers 200 {status: ok}', async () => {
    const res = await fetch(`${base(t)}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('GET /readyz answers 200 with the database and the queue reachable', async () => {
    const res = await fetch(`${base(t)}/readyz`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; checks: Record<string, boolean> };
    expect(body.status).toBe('ready');
    expect(body.checks).toEqual({ database: true, queue: true });
  });

  it('GET /metrics exposes HTTP durations and, after an operation, GraphQL operation counts', async () => {
    const first = await fetch(`${base(t)}/metrics`);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await first.text()).toMatch(/^# HELP http_request_duration_seconds /m);

    expect(dataOf(await t.gql(MeDocument, {})).me.role).toBe('ADMIN');

    const after = await (await fetch(`${base(t)}/metrics`)).text();
    expect(after).toMatch(/^http_request_duration_seconds_count\{[^}]*method="POST"[^}]*\} [1-9]/m);
    expect(after).toMatch(/^graphql_operations_total\{[^}]*operation="Me"[^}]*type="query"[^}]*outcome="ok"[^}]*\} [1-9]/m);
  });

  it('every response carries an x-request-id; a valid given id is echoed, an invalid one replaced', async () => {
    const plain = await fetch(`${base(t)}/healthz`);
    expect(plain.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);

    const echoed = await fetch(`${base(t)}/healthz`, { headers: { 'x-request-id': 'lb-req.42_abc' } });
    expect(echoed.headers.get('x-request-id')).toBe('lb-req.42_abc');

    const gql = await post(t, JSON.stringify({ query: '{ __typename }' }), { 'x-request-id': 'trace-0001' });
    expect(gql.status).toBe(200);
    expect(gql.json?.data).toEqual({ __typename: 'Query' });

    const replaced = await fetch(`${base(t)}/healthz`, { headers: { 'x-request-id': 'not a valid id <script>' } });
    const id = replaced.headers.get('x-request-id');
    expect(id).not.toBe('not a valid id <script>');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('GET /graphql from a browser is the GraphiQL page; a GET with a query is handled by GraphQL', async () => {
    const page = await fetch(t.url, { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toMatch(/<!doctype html>/i);
    expect(html).toMatch(/graphiql/i);

    const query = `${t.url}?query=${encodeURIComponent('{ __typename }')}`;
    const ok = await fetch(query, { headers: { accept: 'application/json', 'apollo-require-preflight': 'true' } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^application\/(graphql-response\+)?json/);
    expect(await ok.json()).toEqual({ data: { __typename: 'Query' } });

    // A browser asking for HTML but carrying a query is not given the IDE either.
    const withQuery = await fetch(query, { headers: { accept: 'text/html', 'apollo-require-preflight': 'true' } });
    expect(withQuery.headers.get('content-type')).not.toMatch(/text\/html/);

    // Without a preflight-forcing header GraphQL still answers (in JSON): the CSRF guard refuses it.
    const simple = await fetch(query, { headers: { accept: 'application/json' } });
    expect(simple.status).toBe(400);
    expect(simple.headers.get('content-type')).toMatch(/json/);
    const refused = (await simple.json()) as { data?: unknown; errors: { extensions: { code: string } }[] };
    expect(refused.data).toBeUndefined();
    expect(refused.errors[0].extensions.code).toBe('BAD_REQUEST');
  });

  it('a GraphQL syntax error is GRAPHQL_PARSE_FAILED with no stack trace', async () => {
    const r = await post(t, JSON.stringify({ query: '{ me { role ' }));
    expect(r.json?.errors?.[0].extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    expect(r.json?.data).toBeUndefined();
    expectNoStack(r.text);
  });

  it('a malformed JSON body is a GraphQL error (GRAPHQL_PARSE_FAILED) with no stack trace', async () => {
    const r = await post(t, '{"query": "{ me { role } }"');
    expect(r.status).toBe(400);
    expectNoStack(r.text);
    expect(r.contentType).toMatch(/json/);
    expect(r.json?.errors?.[0].extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
  });

  it('the default depth limit lets a normal nested query through', async () => {
    const r = await post(t, JSON.stringify({ query: '{ invoices(first: 1) { nodes { customer { entity { code } } } } }' }));
    expect(r.json?.errors).toBeUndefined();
    expect(r.json?.data).toEqual({ invoices: { nodes: [] } });
  });
});

describe('GraphQL limits from the environment (GRAPHQL_MAX_DEPTH=3, GRAPHQL_MAX_COMPLEXITY=100)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { GRAPHQL_MAX_DEPTH: '3', GRAPHQL_MAX_COMPLEXITY: '100' } });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('a query within both limits runs', async () => {
    const r = await post(t, JSON.stringify({ query: '{ me { role tenant { name } } invoices(first: 5) { totalCount nodes { id number } } }' }));
    expect(r.json?.errors).toBeUndefined();
    expect(r.json?.data).toEqual({ me: { role: 'ADMIN', tenant: { name: 'Demo Company' } }, invoices: { totalCount: 0, nodes: [] } });
  });

  it('a query nested deeper than GRAPHQL_MAX_DEPTH is refused before it runs', async () => {
    const r = await post(t, JSON.stringify({ query: '{ invoices(first: 1) { nodes { customer { entity { code } } } } }' }));
    expect(r.json?.data).toBeUndefined();
    expect(r.json?.errors?.[0].message).toMatch(/exceeds maximum operation depth of 3/);
    expect(r.json?.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expectNoStack(r.text);
  });

  it('a query costing more than GRAPHQL_MAX_COMPLEXITY is QUERY_TOO_COMPLEX', async () => {
    const r = await post(t, JSON.stringify({ query: '{ invoices(first: 500) { nodes { id number } } }' }));
    expect(r.json?.data).toBeUndefined();
    expect(r.json?.errors?.[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', maximumComplexity: 100 });
    expect(r.json?.errors?.[0].extensions?.complexity).toBeGreaterThan(100);
    expectNoStack(r.text);
  });
});
