import express from 'express';
import request from 'supertest';
import { graphiqlRouter } from '../graphiql';

function makeApp(): express.Express {
  const app = express();
  app.use(graphiqlRouter({ endpoint: '/graphql', title: 'Recoup <API>' }));
  // Stand-in for the GraphQL handler: proves non-IDE requests fall through.
  app.get('/graphql', (req, res) => {
    res.json({ fellThrough: true, query: req.query['query'] ?? null });
  });
  return app;
}

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

/** Every src="…" / href="…" value in the document. */
function assetRefs(html: string): string[] {
  return [...html.matchAll(/\b(?:src|href)\s*=\s*["']([^"']+)["']/gi)].map((m) => m[1] as string);
}

describe('graphiqlRouter', () => {
  const app = makeApp();

  it('serves the GraphiQL HTML to browsers with only local asset references', async () => {
    const res = await request(app).get('/graphql').set('Accept', BROWSER_ACCEPT);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    const html = res.text;
    expect(html).toContain('<div id="root">');
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/\/\/(?:unpkg|cdn|esm\.sh|jsdelivr)/i);
    // title is escaped
    expect(html).toContain('<title>Recoup &lt;API&gt;</title>');
    // headers editor prefilled with the Authorization placeholder
    expect(html).toContain('Bearer <paste your API key>'.replace(/</g, '\\u003c').replace(/>/g, '\\u003e'));

    const refs = assetRefs(html);
    expect(refs.length).toBeGreaterThanOrEqual(4);
    for (const ref of refs) {
      expect(ref).not.toMatch(/^(?:[a-z]+:)?\/\//i);
    }
  });

  it('serves every referenced asset (scripts, stylesheet, Monaco workers) locally', async () => {
    const res = await request(app).get('/graphql').set('Accept', BROWSER_ACCEPT);
    const html = res.text;
    const refs = assetRefs(html).filter((ref) => !ref.startsWith('data:'));
    const configJson = /<script id="graphiql-config" type="application\/json">([\s\S]*?)<\/script>/.exec(html)?.[1];
    expect(configJson).toBeDefined();
    const config = JSON.parse(configJson as string) as { endpoint: string; workers: Record<string, string> };
    expect(config.endpoint).toBe('/graphql');
    expect(Object.keys(config.workers).sort()).toEqual(['editorWorkerService', 'graphql', 'json']);

    const urls = [...refs, ...Object.values(config.workers)];
    expect(urls.some((u) => u.endsWith('.css'))).toBe(true);
    expect(urls.filter((u) => u.endsWith('.js')).length).toBeGreaterThanOrEqual(6);

    for (const url of urls) {
      expect(url.startsWith('/graphiql-assets/')).toBe(true);
      const asset = await request(app).get(url).buffer(true).parse((r, cb) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => cb(null, Buffer.concat(chunks)));
      });
      expect({ url, status: asset.status }).toEqual({ url, status: 200 });
      const body = asset.body as Buffer;
      expect(body.length).toBeGreaterThan(1000);
      expect(asset.headers['content-type']).toMatch(url.endsWith('.css') ? /text\/css/ : /javascript/);
      if (url.endsWith('.js')) {
        // no asset pulls code from a CDN at runtime
        expect(body.toString('utf8')).not.toMatch(/unpkg\.com|cdn\.jsdelivr|esm\.sh/);
      }
    }
  });

  it('falls through for Accept: application/json', async () => {
    const res = await request(app).get('/graphql').set('Accept', 'application/json');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ fellThrough: true, query: null });
  });

  it('falls through for a GraphQL GET (query parameter) even from a browser', async () => {
    const res = await request(app).get('/graphql').query({ query: '{ __typename }' }).set('Accept', BROWSER_ACCEPT);
    expect(res.body).toEqual({ fellThrough: true, query: '{ __typename }' });
  });

  it('falls through for POST', async () => {
    const res = await request(app).post('/graphql').set('Accept', BROWSER_ACCEPT).send({ query: '{ __typename }' });
    expect(res.status).toBe(404);
  });

  it('falls through to a 404 on a bare app when not asking for HTML', async () => {
    const bare = express();
    bare.use(graphiqlRouter({ endpoint: '/graphql' }));
    const res = await request(bare).get('/graphql').set('Accept', 'application/json');
    expect(res.status).toBe(404);
    const missing = await request(bare).get('/graphiql-assets/nope.js');
    expect(missing.status).toBe(404);
  });
});
