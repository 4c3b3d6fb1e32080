import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrations } from '../server/src/db/migrations/index.js';
import { useMissingDatabase } from './support/database.js';
import { startDaestro, spawnDaestro } from './support/daestro-process.js';
import { postGraphQL, wsClient } from './support/graphql-client.js';

const INFO = '{ serverInfo { installationId database { mode serverVersion } } }';
type Info = { serverInfo: { installationId: string; database: { mode: string; serverVersion: string } } };

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'daestro-cli-'));
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

function postmasterPid(): number | undefined {
  const file = path.join(dataDir, 'pg', 'postmaster.pid');
  return existsSync(file) ? Number(readFileSync(file, 'utf8').split('\n')[0]) : undefined;
}
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('daestro server on embedded PostgreSQL', () => {
  let installationId: string;

  it('starts on a fresh data dir, serves GraphQL, and stops cleanly on Ctrl-C', async () => {
    const started = Date.now();
    const daestro = await startDaestro({ DAESTRO_DATA_DIR: dataDir });
    const readyMs = Date.now() - started;
    expect(daestro.logs.some((l) => l.msg === 'initialising embedded PostgreSQL (first start)')).toBe(true);

    const { body } = await postGraphQL<Info>(daestro.url, INFO);
    expect(body.data?.serverInfo.database.mode).toBe('EMBEDDED');
    installationId = body.data!.serverInfo.installationId;
    const pgPid = postmasterPid();
    expect(pgPid).toBeGreaterThan(0);
    const state = JSON.parse(await readFile(path.join(dataDir, 'embedded-postgres.json'), 'utf8')) as object;
    expect(state).toHaveProperty('port');

    const stopAsked = Date.now();
    daestro.child.kill('SIGINT');
    expect(await daestro.exited).toEqual({ code: 0, signal: null });
    const stopMs = Date.now() - stopAsked;
    expect(stopMs).toBeLessThan(5_000);
    expect(isAlive(pgPid!)).toBe(false);
    expect(postmasterPid()).toBeUndefined();
    console.info(`first start ready in ${readyMs} ms, stopped in ${stopMs} ms`);
  });

  it('restarts on the same data without initialising again', async () => {
    const started = Date.now();
    const daestro = await startDaestro({ DAESTRO_DATA_DIR: dataDir });
    const readyMs = Date.now() - started;
    expect(daestro.logs.some((l) => l.msg.startsWith('initialising'))).toBe(false);
    const { body } = await postGraphQL<Info>(daestro.url, INFO);
    expect(body.data?.serverInfo.installationId).toBe(installationId);
    daestro.child.kill('SIGTERM');
    expect((await daestro.exited).code).toBe(0);
    console.info(`warm start ready in ${readyMs} ms`);
  });

  it('survives being killed mid-subscription: the next start takes over the orphaned cluster, data intact', async () => {
    const first = await startDaestro({ DAESTRO_DATA_DIR: dataDir });
    const client = wsClient(first.url.replace(/^http/, 'ws') + '/graphql');
    const ticking = new Promise<void>((resolve) => {
      client.subscribe(
        { query: 'subscription { serverTicks(intervalMs: 100) { sequence } }' },
        { next: () => resolve(), error: () => {}, complete: () => {} },
      );
    });
    await ticking;
    const orphan = postmasterPid()!;
    first.child.kill('SIGKILL');
    await first.exited;
    await client.dispose();
    expect(isAlive(orphan)).toBe(true); // PostgreSQL runs detached, so it outlives a SIGKILL

    const second = await startDaestro({ DAESTRO_DATA_DIR: dataDir });
    expect(
      second.logs.some((l) => String(l.msg).startsWith('stopping the embedded PostgreSQL left running')),
    ).toBe(true);
    expect(isAlive(orphan)).toBe(false);
    const { body } = await postGraphQL<Info>(second.url, INFO);
    expect(body.data?.serverInfo.installationId).toBe(installationId);
    second.child.kill('SIGINT');
    expect((await second.exited).code).toBe(0);
  });

  it('exits at once on a second signal while draining a slow request', async () => {
    const daestro = await startDaestro({ DAESTRO_DATA_DIR: dataDir });
    const { port } = new URL(daestro.url);
    // A request whose body never finishes keeps the HTTP drain waiting.
    const socket = net.connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{',
    );
    await new Promise((resolve) => setTimeout(resolve, 200));

    daestro.child.kill('SIGINT');
    await daestro.waitForLog((l) => l.msg === 'shutting down: draining connections');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(daestro.child.exitCode).toBeNull(); // still draining
    daestro.child.kill('SIGINT');
    expect((await daestro.exited).code).toBe(130);
    socket.destroy();
  });
});

describe('daestro CLI', () => {
  it('`migrate` creates a missing database on DATABASE_URL’s server, migrates it, and is idempotent', async () => {
    const url = useMissingDatabase();
    const first = spawnDaestro(['migrate'], { DATABASE_URL: url });
    expect((await first.exited).code).toBe(0);
    expect(first.logs.some((l) => l.msg === 'created the database')).toBe(true);
    expect(first.logs.find((l) => l.msg === 'applied database migrations')?.migrations).toEqual(
      migrations.map((migration) => migration.name),
    );
    const second = spawnDaestro(['migrate'], { DATABASE_URL: url });
    expect((await second.exited).code).toBe(0);
    expect(second.logs.some((l) => l.msg === 'applied database migrations')).toBe(false);
  });

  it('refuses bad configuration with every problem listed and no stack trace', async () => {
    const daestro = spawnDaestro([], { PORT: 'http', LOG_LEVEL: 'chatty' });
    expect((await daestro.exited).code).toBe(2);
    expect(daestro.stderr()).toContain('PORT must be an integer from 0 to 65535, got "http"');
    expect(daestro.stderr()).toContain('LOG_LEVEL must be one of');
    expect(daestro.stderr()).not.toMatch(/\n\s+at /);
  });

  it('explains an unreachable DATABASE_URL without a stack trace in the message', async () => {
    const daestro = spawnDaestro([], { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
    expect((await daestro.exited).code).toBe(1);
    const fatal = daestro.logs.find((l) => l.level === 60);
    expect(fatal?.msg).toMatch(/ECONNREFUSED|connect/);
  });

  it('prints usage for --help and refuses unknown commands', async () => {
    const help = spawnDaestro(['--help'], {});
    expect((await help.exited).code).toBe(0);
    expect(help.logs.map((l) => l.msg).join('\n')).toContain('migrate   apply pending database migrations');
    const unknown = spawnDaestro(['frobnicate'], {});
    expect((await unknown.exited).code).toBe(2);
    expect(unknown.stderr()).toContain('Unknown command: frobnicate');
  });
});
