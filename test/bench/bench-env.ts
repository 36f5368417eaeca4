import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { createApp, type App } from '../../src/app';
import { bootstrapTenant } from '../../src/bootstrap';
import { systemActor } from '../../src/platform/auth/roles';
import { loadConfig } from '../../src/platform/config/config';
import { RequestContext } from '../../src/platform/context';
import { startEmbeddedPostgres } from '../../src/platform/db/embedded-postgres';
import { createLogger } from '../../src/platform/logging/logger';

export const BENCH_KEY = 'bench-bootstrap-key-0123456789abcdef';

export interface BenchEnv {
  app: App;
  url: string;
  tenantId: string;
  ctx: RequestContext;
  close(): Promise<void>;
}

/**
 * A fresh database on the server in DATABASE_URL (benchmarks are meant for real PostgreSQL),
 * or on an embedded one when it is unset; the real app on top, API listening on a free port.
 */
export async function benchEnv(name: string): Promise<BenchEnv> {
  const logger = createLogger(process.env.LOG_LEVEL ?? 'warn', `bench-${name}`);
  let admin = process.env.DATABASE_URL;
  let stopEmbedded: (() => Promise<void>) | null = null;
  if (!admin) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recoup-bench-'));
    const pg = await startEmbeddedPostgres({ dataDir: dir, port: 46000 + Math.floor(Math.random() * 1000), logger });
    admin = pg.adminUrl;
    stopEmbedded = async () => {
      await pg.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    };
  }
  const db = `recoup_bench_${name.replace(/\W/g, '_')}_${Date.now().toString(36)}`;
  const u = new URL(admin);
  const c = new Client({ connectionString: admin });
  await c.connect();
  await c.query(`CREATE DATABASE "${db}"`);
  await c.end();
  u.pathname = `/${db}`;
  const config = loadConfig({ ...process.env, DATABASE_URL: u.toString(), PORT: '0', HOST: '127.0.0.1', SEED_DEMO: 'false', LOG_LEVEL: 'warn', BOOTSTRAP_API_KEY: BENCH_KEY, RUN_WORKERS: 'false', QUEUE_PREFIX: db });
  const app = await createApp(config, logger);
  const boot = await bootstrapTenant(app);
  const http = await app.listen(0);
  const tenantId = boot!.tenantId;
  return {
    app,
    url: `http://127.0.0.1:${http.port}/graphql`,
    tenantId,
    ctx: new RequestContext(tenantId, systemActor(tenantId, 'bench'), app.dataSource.manager, 'bench', logger),
    async close() {
      await app.stop();
      const c2 = new Client({ connectionString: admin });
      await c2.connect();
      // BENCH_KEEP_DB=1 keeps the database for a look at plans afterwards (drop it by hand).
      if (process.env.BENCH_KEEP_DB) process.stdout.write(`kept database ${db}\n`);
      else await c2.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
      await c2.end();
      await stopEmbedded?.();
    },
  };
}

/** The machine's load average (1, 5, 15 min) and core count, printed beside every measurement. */
export const loadAverage = (): string => `${os.loadavg().map((l) => l.toFixed(2)).join(', ')} on ${os.cpus().length} cores`;

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Runs `fn` `n` times after a warm-up; returns p50/p95 in ms. */
export async function latency(n: number, fn: () => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  for (let i = 0; i < Math.min(10, n); i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p95: percentile(times, 95) };
}

export function gqlPost(url: string, query: string, variables: Record<string, unknown> = {}) {
  return async () => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_KEY}` }, body: JSON.stringify({ query, variables }) });
    const body = (await res.json()) as { errors?: unknown };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body;
  };
}

export function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
