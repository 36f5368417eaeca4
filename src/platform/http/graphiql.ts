/**
 * Self-hosted GraphiQL IDE.
 *
 * Everything the browser loads comes from node_modules — no CDN, no network at runtime:
 *  - `@graphql-yoga/graphiql` ships a self-contained UMD bundle (React 19 + GraphiQL 5 + explorer
 *    plugin + Monaco), its CSS (fonts inlined as data: URIs) and the three Monaco web workers.
 *  - `graphql-ws` (already a runtime dependency of the server) ships a UMD client used for
 *    subscriptions over ws(s)://<same host><endpoint>.
 *  - A small boot script (below) wires a same-origin fetcher: queries/mutations are POSTed to the
 *    endpoint with the headers typed into GraphiQL's headers editor; subscriptions go over graphql-ws
 *    with those same headers sent as `connectionParams` (e.g. `{ "Authorization": "Bearer …" }`).
 *
 * See docs/decisions/010-graphiql-local.md.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';

export interface GraphiqlOptions {
  /** Public path of the GraphQL endpoint, e.g. '/graphql'. Used for HTTP POSTs and the WebSocket URL. */
  endpoint: string;
  /** Page title and label shown in the IDE's logo area. */
  title?: string;
}

/** Where the static assets are served from (relative to where the router is mounted). */
export const GRAPHIQL_ASSETS_PATH = '/graphiql-assets';

/** Prefilled into the headers editor; a header still holding this placeholder is not sent. */
const API_KEY_PLACEHOLDER = '<paste your API key>';
const DEFAULT_HEADERS = `{\n  "Authorization": "Bearer ${API_KEY_PLACEHOLDER}"\n}`;

interface PackageDir {
  dir: string;
  version: string;
}

function packageDir(name: string): PackageDir {
  const pkgJson = require.resolve(`${name}/package.json`);
  const { version } = JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string };
  return { dir: path.dirname(pkgJson), version };
}

/** Monaco worker labels → file name inside dist/monacoeditorwork (file names are not stable across releases). */
function discoverWorkers(workerDir: string): Record<string, string> {
  const files = readdirSync(workerDir).filter((f) => f.endsWith('.js'));
  const pick = (prefix: string): string => {
    const file = files.find((f) => f.startsWith(prefix));
    if (!file) {
      throw new Error(`graphiql: no Monaco worker starting with "${prefix}" in ${workerDir}`);
    }
    return file;
  };
  return { editorWorkerService: pick('editor.worker'), json: pick('json.worker'), graphql: pick('graphql.worker') };
}

/**
 * Runs in the browser (served as a same-origin script so a `script-src 'self'` CSP works).
 * Plain ES2017, no build step. Reads its settings from <script id="graphiql-config" type="application/json">.
 */
const BOOT_SCRIPT = `(function () {
  'use strict';
  var cfg = JSON.parse(document.getElementById('graphiql-config').textContent);
  var PLACEHOLDER = cfg.placeholder;

  // Monaco editor workers, served from the same origin.
  self.MonacoEnvironment = {
    globalAPI: false,
    getWorkerUrl: function (_moduleId, label) {
      return cfg.workers[label] || cfg.workers.editorWorkerService;
    }
  };

  var httpUrl = new URL(cfg.endpoint, location.href);
  var wsUrl = new URL(httpUrl.href);
  wsUrl.protocol = httpUrl.protocol === 'https:' ? 'wss:' : 'ws:';

  function cleanHeaders(headers) {
    var out = {};
    if (!headers || typeof headers !== 'object') return out;
    Object.keys(headers).forEach(function (name) {
      var value = headers[name];
      if (value === undefined || value === null) return;
      value = String(value);
      if (value.indexOf(PLACEHOLDER) !== -1) return; // the prefilled hint is not a credential
      out[name] = value;
    });
    return out;
  }

  function operationType(params, opts) {
    var doc = opts && opts.documentAST;
    if (doc && Array.isArray(doc.definitions)) {
      var ops = doc.definitions.filter(function (d) { return d.kind === 'OperationDefinition'; });
      var op = params.operationName
        ? ops.filter(function (d) { return d.name && d.name.value === params.operationName; })[0]
        : ops[0];
      if (op) return op.operation;
    }
    var src = String(params.query || '').replace(/#[^\\n\\r]*/g, '');
    if (params.operationName) {
      var named = new RegExp('\\\\b(query|mutation|subscription)\\\\s+' + params.operationName + '\\\\b').exec(src);
      if (named) return named[1];
    }
    var first = /(?:^|\\})\\s*(query|mutation|subscription)\\b/.exec(src);
    return first ? first[1] : 'query';
  }

  function httpFetch(params, headers) {
    return fetch(httpUrl.href, {
      method: 'POST',
      credentials: 'same-origin',
      headers: Object.assign(
        { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
        headers
      ),
      body: JSON.stringify({
        query: params.query,
        variables: params.variables || undefined,
        operationName: params.operationName || undefined
      })
    }).then(function (res) {
      return res.text().then(function (text) {
        try {
          return JSON.parse(text);
        } catch (e) {
          return { errors: [{ message: 'HTTP ' + res.status + ' ' + res.statusText + ': ' + text.slice(0, 500) }] };
        }
      });
    });
  }

  // One graphql-ws client per distinct set of headers (they travel as connectionParams on connection_init).
  var ws = { client: null, key: null };
  function wsClient(headers) {
    var key = JSON.stringify(headers);
    if (ws.client && ws.key === key) return ws.client;
    if (ws.client) ws.client.dispose();
    ws.key = key;
    ws.client = graphqlWs.createClient({ url: wsUrl.href, lazy: true, retryAttempts: 0, connectionParams: headers });
    return ws.client;
  }

  // Plain { message } objects: GraphiQL shows them without a (useless) browser stack trace.
  function toError(err) {
    if (Array.isArray(err)) return err; // GraphQL errors from the server
    if (err && typeof err.code === 'number') {
      return { message: 'WebSocket closed (' + err.code + ')' + (err.reason ? ': ' + err.reason : '') };
    }
    if (err && err.type === 'error') return { message: 'WebSocket connection to ' + wsUrl.href + ' failed' };
    return { message: err && err.message ? err.message : String(err) };
  }

  function wsSubscribe(params, headers) {
    return {
      subscribe: function (observer) {
        var sink = typeof observer === 'function' ? { next: observer } : observer || {};
        var dispose = wsClient(headers).subscribe(
          {
            query: params.query,
            variables: params.variables || undefined,
            operationName: params.operationName || undefined
          },
          {
            next: function (value) { if (sink.next) sink.next(value); },
            error: function (err) { if (sink.error) sink.error(toError(err)); },
            complete: function () { if (sink.complete) sink.complete(); }
          }
        );
        return { unsubscribe: dispose };
      }
    };
  }

  function fetcher(params, opts) {
    var headers = cleanHeaders(opts && opts.headers);
    return operationType(params, opts) === 'subscription' ? wsSubscribe(params, headers) : httpFetch(params, headers);
  }

  YogaGraphiQL.renderYogaGraphiQL(document.getElementById('root'), {
    fetcher: fetcher,
    title: cfg.titleHtml,
    logo: '',
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: false, // API keys stay out of localStorage
    initialHeaders: cfg.defaultHeaders,
    defaultHeaders: cfg.defaultHeaders,
    defaultEditorToolsVisibility: 'headers',
    // The bundle mirrors the query into ?query=… by default; a reload would then be a GraphQL GET.
    onEditQuery: function () {}
  });
})();
`;

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

/** JSON safe to embed inside a <script> element. */
const scriptJson = (value: unknown): string =>
  JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');

function wantsGraphiql(req: Request): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const accept = req.get('accept') ?? '';
  if (!accept.toLowerCase().includes('text/html')) return false;
  const query = req.query as Record<string, unknown> | undefined;
  return !(query && query['query'] !== undefined);
}

/** Express middleware: answers GET /graphql from browsers (Accept: text/html) with GraphiQL; everything else falls through via next(). */
export function graphiqlRouter(opts: { endpoint: string; title?: string }): Router {
  const endpoint = opts.endpoint;
  const title = opts.title ?? 'Recoup GraphiQL';

  const yoga = packageDir('@graphql-yoga/graphiql');
  const yogaDist = path.join(yoga.dir, 'dist');
  const workers = discoverWorkers(path.join(yogaDist, 'monacoeditorwork'));
  const gqlWs = packageDir('graphql-ws');
  const gqlWsFile = path.join(gqlWs.dir, 'umd', 'graphql-ws.min.js');
  const bootHash = createHash('sha256').update(BOOT_SCRIPT).digest('hex').slice(0, 12);

  // Versioned paths: the content behind a URL never changes, so it may be cached for long.
  const yogaPrefix = `${GRAPHIQL_ASSETS_PATH}/yoga-graphiql@${yoga.version}`;
  const gqlWsPath = `${GRAPHIQL_ASSETS_PATH}/graphql-ws@${gqlWs.version}/graphql-ws.min.js`;
  const bootPath = `${GRAPHIQL_ASSETS_PATH}/boot.${bootHash}.js`;
  const longCache = { maxAge: '365d', immutable: true } as const;

  const router = express.Router();

  router.use(
    yogaPrefix,
    express.static(yogaDist, { ...longCache, index: false, redirect: false, dotfiles: 'ignore', fallthrough: true }),
  );
  router.get(gqlWsPath, (_req, res, next) => {
    res.type('application/javascript');
    res.sendFile(gqlWsFile, longCache, (err) => err && next(err));
  });
  router.get(bootPath, (_req, res) => {
    res.type('application/javascript').set('Cache-Control', 'public, max-age=31536000, immutable').send(BOOT_SCRIPT);
  });

  router.get(endpoint, (req: Request, res: Response, next: NextFunction) => {
    if (!wantsGraphiql(req)) {
      next();
      return;
    }
    // Asset URLs follow the router's mount point; the endpoint is the public API path as given.
    const base = req.baseUrl;
    const config = {
      endpoint: base + endpoint,
      titleHtml: escapeHtml(title),
      placeholder: API_KEY_PLACEHOLDER,
      defaultHeaders: DEFAULT_HEADERS,
      workers: Object.fromEntries(
        Object.entries(workers).map(([label, file]) => [label, `${base}${yogaPrefix}/monacoeditorwork/${file}`]),
      ),
    };
    const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${base}${yogaPrefix}/graphiql.css">
<style>html,body,#root{height:100%;margin:0}</style>
</head>
<body class="no-focus-outline">
<noscript>You need to enable JavaScript to use GraphiQL.</noscript>
<div id="root">Loading ${escapeHtml(title)}…</div>
<script id="graphiql-config" type="application/json">${scriptJson(config)}</script>
<script src="${base}${gqlWsPath}"></script>
<script src="${base}${yogaPrefix}/yoga-graphiql.umd.js"></script>
<script src="${base}${bootPath}"></script>
</body>
</html>
`;
    res
      .status(200)
      .type('html')
      .set('Cache-Control', 'no-cache')
      .set('Vary', 'Accept')
      .set('X-Content-Type-Options', 'nosniff')
      .send(html);
  });

  return router;
}
