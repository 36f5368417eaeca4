import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * The newcomer path, as a real process: `npm start` with nothing configured runs an embedded
 * PostgreSQL in DATA_DIR, seeds a demo book, prints an API key once, serves it, shuts down cleanly
 * on SIGTERM (PostgreSQL included), and comes back on the same data without a new key.
 * Always embedded: DATABASE_URL and REDIS_URL are removed from the child's environment.
 */

const ROOT = path.resolve(__dirname, '../..');
const START_MS = 90_000;
const STOP_MS = 30_000;

/** Every variable the app's config reads: the child gets only what each test sets. */
const CONFIG_VARS = [
  'NODE_ENV', 'DATABASE_URL', 'REDIS_URL', 'PORT', 'HOST', 'DATA_DIR', 'EMBEDDED_PG_PORT', 'BOOTSTRAP_API_KEY', 'SEED_DEMO', 'SEED_CUSTOMERS',
  'SEED_INVOICES', 'LOG_LEVEL', 'RUN_WORKERS', 'QUEUE_PREFIX', 'DB_POOL_SIZE', 'GRAPHQL_MAX_DEPTH', 'GRAPHQL_MAX_COMPLEXITY', 'SHUTDOWN_GRACE_MS',
];

interface Running {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  hasExited(): boolean;
}

const children: Running[] = [];
const tempDirs: string[] = [];

function startMain(env: Record<string, string>): Running {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const k of CONFIG_VARS) delete childEnv[k];
  for (const k of Object.keys(childEnv)) if (k.startsWith('RECOUP_TEST_')) delete childEnv[k];
  Object.assign(childEnv, env);
  const child = spawn(process.execPath, ['-r', './bin/register.js', 'src/main.ts'], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let done = false;
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    }),
  );
  const r: Running = { child, stdout: () => out, stderr: () => err, exited, hasExited: () => done };
  children.push(r);
  return r;
}

async function waitForOutput(r: Running, pattern: RegExp, timeoutMs = START_MS): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = r.stdout().match(pattern);
    if (m) return m;
    if (r.hasExited() || Date.now() > deadline) {
      const why = r.hasExited() ? `the process exited (${JSON.stringify(await r.exited)})` : `timed out after ${timeoutMs} ms`;
      throw new Error(`waiting for ${pattern} on stdout: ${why}\n--- stdout ---\n${r.stdout().slice(-4000)}\n--- stderr ---\n${r.stderr().slice(-4000)}`);
    }
    await new Promise((res) => setTimeout(res, 100));
  }
}

async function waitForExit(r: Running, timeoutMs = STOP_MS) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the process did not exit within ${timeoutMs} ms\n--- stderr ---\n${r.stderr().slice(-4000)}`)), timeoutMs);
  });
  try {
    return await Promise.race([r.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The PostgreSQL postmaster pid recorded in the data directory, when it is there. */
function postmasterPid(dataDir: string): number | null {
  const file = path.join(dataDir, 'pg', 'postmaster.pid');
  if (!fs.existsSync(file)) return null;
  const pid = Number(fs.readFileSync(file, 'utf8').split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

async function freePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = 30000 + Math.floor(Math.random() * 15000);
    const free = await new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port found in 30000-45000');
}

function freshDataDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recoup-lifecycle-'));
  // Embedded PostgreSQL runs as the `postgres` user when we are root: it must reach the dir.
  fs.chmodSync(dir, 0o755);
  tempDirs.push(dir);
  return dir;
}

async function gql(url: string, key: string, query: string) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ query }) });
  return { status: res.status, body: (await res.json()) as { data?: Record<string, unknown> | null; errors?: { message: string }[] } };
}

const BOOK_QUERY = '{ me { role } invoices(first: 5) { totalCount } customers(first: 1) { totalCount } }';
const RUNNING = /Recoup is running: (http:\/\/\S+\/graphql)/;
const KEY_LINE = /API key \(shown once, store it now\): (rk_\S+)/;
/** The last line of the start-up banner: once it is there, the whole banner is. */
const BANNER_END = /-d '\{"query":.*\}'\n/;

afterAll(async () => {
  for (const r of children) {
    if (r.hasExited()) continue;
    r.child.kill('SIGTERM');
    await waitForExit(r, STOP_MS).catch(() => {
      r.child.kill('SIGKILL');
    });
  }
  for (const dir of tempDirs) {
    // A child killed without shutdown may leave its PostgreSQL running: stop that server.
    const pid = postmasterPid(dir);
    if (pid && isAlive(pid)) {
      process.kill(pid, 'SIGINT');
      const deadline = Date.now() + 20_000;
      while (isAlive(pid) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);

describe('process lifecycle: npm start with nothing configured', () => {
  let dataDir: string;
  let pgPort: number;
  let key: string;

  const env = () => ({
    DATA_DIR: dataDir,
    EMBEDDED_PG_PORT: String(pgPort),
    PORT: '0',
    HOST: '127.0.0.1',
    SEED_CUSTOMERS: '30',
    SEED_INVOICES: '300',
    LOG_LEVEL: 'warn',
  });

  beforeAll(async () => {
    dataDir = freshDataDir();
    pgPort = await freePort();
  });

  it('first start: embedded PostgreSQL, demo book, a key printed once; SIGTERM stops everything and exits 0', async () => {
    const r = startMain(env());
    await waitForOutput(r, BANNER_END);
    const url = r.stdout().match(RUNNING)![1];
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
    expect(url).not.toMatch(/:0\//);
    key = r.stdout().match(KEY_LINE)?.[1] ?? '';
    expect(key).toMatch(/^rk_/);
    expect(r.stdout()).toContain(`embedded PostgreSQL (data in ${dataDir})`);
    expect(r.stdout()).toContain('Demo book loaded: 30 customers, 300 invoices');
    // The printed curl example carries the key.
    expect(r.stdout()).toContain(`Bearer ${key}`);

    const res = await gql(url, key, BOOK_QUERY);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toEqual({ me: { role: 'ADMIN' }, invoices: { totalCount: 300 }, customers: { totalCount: 30 } });

    const pgPid = postmasterPid(dataDir);
    expect(pgPid).not.toBeNull();
    expect(isAlive(pgPid!)).toBe(true);

    r.child.kill('SIGTERM');
    expect(await waitForExit(r)).toEqual({ code: 0, signal: null });
    expect(r.stderr()).not.toMatch(/Recoup failed to start|unhandled|grace period over/i);
    // PostgreSQL was stopped by the shutdown (it removes its pid file), not left running.
    expect(isAlive(pgPid!)).toBe(false);
    expect(postmasterPid(dataDir)).toBeNull();
    // The HTTP port is closed.
    await expect(fetch(url, { method: 'POST' })).rejects.toThrow();
  }, START_MS + STOP_MS + 30_000);

  it('second start on the same DATA_DIR: no new key, no reseed, the first key still works; SIGTERM exits 0', async () => {
    expect(key).toMatch(/^rk_/); // set by the first start
    const r = startMain(env());
    await waitForOutput(r, BANNER_END);
    const url = r.stdout().match(RUNNING)![1];
    expect(r.stdout()).not.toMatch(/API key \(shown once/);
    expect(r.stdout()).not.toMatch(/\brk_/);
    expect(r.stdout()).not.toContain('Demo book loaded');

    const res = await gql(url, key, BOOK_QUERY);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toEqual({ me: { role: 'ADMIN' }, invoices: { totalCount: 300 }, customers: { totalCount: 30 } });

    const pgPid = postmasterPid(dataDir);
    expect(pgPid).not.toBeNull();
    r.child.kill('SIGTERM');
    expect(await waitForExit(r)).toEqual({ code: 0, signal: null });
    expect(isAlive(pgPid!)).toBe(false);
    expect(postmasterPid(dataDir)).toBeNull();
  }, START_MS + STOP_MS + 30_000);
});

describe('process lifecycle: a bad configuration', () => {
  it('exits 1 naming the variable, without starting anything', async () => {
    const dataDir = freshDataDir();
    const r = startMain({ PORT: 'notaport', DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(await freePort()), HOST: '127.0.0.1', LOG_LEVEL: 'warn' });
    const exit = await waitForExit(r, START_MS);
    expect(exit).toEqual({ code: 1, signal: null });
    expect(r.stderr()).toMatch(/^\s*- PORT: .*notaport/m);
    expect(r.stdout()).not.toMatch(/Recoup is running/);
    expect(fs.existsSync(path.join(dataDir, 'pg'))).toBe(false);
  }, START_MS + 10_000);
});
