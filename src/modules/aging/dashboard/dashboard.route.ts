import { readFileSync } from 'node:fs';
import path from 'node:path';
import express, { type Router } from 'express';
import { DASHBOARD_HTML, DASHBOARD_SCRIPT } from './dashboard.page';

/**
 * `/dashboard`: the aging grid with DSO and CEI, live over graphql-ws. Plain HTML, one small
 * script and the graphql-ws browser bundle from node_modules; no framework, no CDN. The API key
 * typed into the page stays in sessionStorage and travels in the connection parameters.
 */
export function dashboardRouter(opts: { endpoint: string }): Router {
  const router = express.Router();
  const wsPkg = path.dirname(require.resolve('graphql-ws/package.json'));
  const wsBundle = readFileSync(path.join(wsPkg, 'umd', 'graphql-ws.min.js'));
  const script = DASHBOARD_SCRIPT;
  const html = DASHBOARD_HTML.replace('__ENDPOINT__', JSON.stringify(opts.endpoint).replace(/</g, '\\u003c'));
  const cacheable = (res: express.Response, type: string) => {
    res.setHeader('content-type', type);
    res.setHeader('cache-control', 'no-cache');
  };
  router.get('/dashboard', (_req, res) => {
    cacheable(res, 'text/html; charset=utf-8');
    res.setHeader('content-security-policy', "default-src 'self'; connect-src 'self' ws: wss:; style-src 'self' 'unsafe-inline'; script-src 'self'");
    res.send(html);
  });
  router.get('/dashboard/app.js', (_req, res) => {
    cacheable(res, 'text/javascript; charset=utf-8');
    res.send(script);
  });
  router.get('/dashboard/graphql-ws.min.js', (_req, res) => {
    cacheable(res, 'text/javascript; charset=utf-8');
    res.send(wsBundle);
  });
  return router;
}
