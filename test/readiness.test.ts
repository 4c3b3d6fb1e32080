import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../server/src/db/embedded-postgres.js';
import { createLogger } from '../server/src/logger.js';
import { postGraphQL } from './support/graphql-client.js';
import { startTestServer, type TestServer } from './support/server.js';

// This file needs a database it may stop, so it runs its own PostgreSQL cluster.
const log = createLogger('silent');
let dataDir: string;
let postgres: EmbeddedPostgres;
let server: TestServer;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'daestro-readyz-'));
  postgres = await startEmbeddedPostgres({ dataDir, log, settings: { fsync: 'off' } });
  server = await startTestServer({ env: { DATABASE_URL: postgres.url } });
});

afterAll(async () => {
  await server?.stop();
  await postgres?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

async function readiness(): Promise<number> {
  return (await fetch(`${server.url}/readyz`)).status;
}

async function waitFor(expected: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await readiness()) !== expected) {
    if (Date.now() > deadline) throw new Error(`/readyz never answered ${expected}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

it('/readyz fails while the database is down and recovers when it is back; /healthz stays up', async () => {
  expect(await readiness()).toBe(200);

  await postgres.stop();
  await waitFor(503);
  expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  const whileDown = await postGraphQL(server.url, '{ serverInfo { installationId } }');
  expect(whileDown.body.errors?.[0]?.message).toBe('An unexpected error occurred.');
  expect(JSON.stringify(whileDown.body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|stack/);

  // Same data dir: the cluster comes back on the same port with the same credentials.
  const restarted = await startEmbeddedPostgres({ dataDir, log, settings: { fsync: 'off' } });
  expect(restarted.url).toBe(postgres.url);
  postgres = restarted;
  await waitFor(200);
  const afterRecovery = await postGraphQL(server.url, '{ serverInfo { installationId } }');
  expect(afterRecovery.body.errors).toBeUndefined();
});
