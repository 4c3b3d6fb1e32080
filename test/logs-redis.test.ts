import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { formatMasterKey, generateMasterKey } from '../server/src/secrets/master-keys.js';
import { waitFor } from '../server/test/support/wait-for.js';
import { collect } from './support/agent-protocol.js';
import { useTestDatabase } from './support/database.js';
import { spawnDaestro, type DaestroProcess } from './support/daestro-process.js';
import { signUpPerson, type Person } from './support/people.js';
import {
  RUN_LOG_STREAM,
  appendLines,
  finishStartedRun,
  numberedLines,
  startedRun,
  type LogBatchResult,
  type StartedRun,
} from './support/run-logs.js';
import { startTestServer, type TestServer } from './support/server.js';
import { ok, socketFor, sql } from './support/workloads.js';

// Two server processes on one database and the machine's Redis (started by .ci/run):
// the agent appends on one, a person subscribes on the other, and the lines cross over Redis.

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

let masterKeys: string;
let dataDir: string;
let writer: TestServer;
let reader: DaestroProcess | undefined;
let readerUrl: string;
let owner: Person;
let run: StartedRun | undefined;
let spy: Redis;
beforeAll(async () => {
  masterKeys = formatMasterKey(generateMasterKey());
  dataDir = await mkdtemp(path.join(tmpdir(), 'daestro-redis-'));
  writer = await startTestServer({ env: { REDIS_URL, DAESTRO_MASTER_KEYS: masterKeys } });
  // Spawned first and awaited after, so that afterAll stops it even when it never comes up.
  reader = spawnDaestro([], {
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: await useTestDatabase(),
    REDIS_URL,
    DAESTRO_MASTER_KEYS: masterKeys,
    DAESTRO_DATA_DIR: dataDir,
    DAESTRO_EMBEDDED_AGENT: 'false',
  });
  readerUrl = String((await reader.waitForLog((line) => line.msg === 'Daestro is listening')).url);
  owner = await signUpPerson(writer, 'Ines');
  await sql(writer, "update organization set plan = 'TEAM' where id = ?", [owner.organizationId]);
  spy = new Redis(REDIS_URL);
});
afterAll(async () => {
  await run?.stop();
  spy?.disconnect();
  reader?.child.kill('SIGTERM');
  await reader?.exited;
  await writer?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

it('serves a subscription on one server with lines an agent appends on another, over Redis', async () => {
  run = await startedRun(writer, owner);
  await appendLines(run, numberedLines(1, 100));
  const published: string[] = [];
  spy.on('message', (channel: string) => published.push(channel));
  await spy.subscribe(`run.log:${run.runId}`);

  const { createApiToken } = await ok<{ createApiToken: { secret: string } }>(
    owner.client,
    'mutation T($input: CreateApiTokenInput!) { createApiToken(input: $input) { secret } }',
    { input: { name: 'reader', organizationId: owner.organizationId, scopes: ['READ'] } },
  );
  const onReader = socketFor(
    { ...writer, url: readerUrl, wsUrl: `${readerUrl.replace(/^http/, 'ws')}/graphql` },
    { authToken: createApiToken.secret },
  );
  const stream = collect<LogBatchResult>(onReader, RUN_LOG_STREAM, { runId: run.runId });
  const seqs = () =>
    stream.results.flatMap((result) => result.data?.jobRunLogs.lines.map((line) => line.seq) ?? []);
  await waitFor(() => seqs().length === 100, { what: 'the replay on the reader' });
  for (let from = 101; from <= 1_000; from += 100) await appendLines(run, numberedLines(from, from + 99));
  await waitFor(() => seqs().length === 1_000, { what: 'the live lines on the reader' });
  await finishStartedRun(run);
  await stream.done;
  await onReader.dispose();

  expect(stream.results.every((result) => !result.errors)).toBe(true);
  expect(seqs()).toEqual(Array.from({ length: 1_000 }, (_, i) => i + 1));
  expect(stream.results.at(-1)!.data!.jobRunLogs.complete).toBe(true);
  // The writer published every batch through Redis, where the reader's bus heard it.
  expect(published.filter((channel) => channel === `run.log:${run!.runId}`)).toHaveLength(9);
});
