import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { waitFor } from '../server/test/support/wait-for.js';
import { createDefinition, runLogs, waitForEnd } from './support/agent-runtime.js';
import { signUpPerson, type Person } from './support/people.js';
import { startTestServer, type TestServer } from './support/server.js';
import { sql, submitJob } from './support/workloads.js';

// The embedded agent (DAESTRO_EMBEDDED_AGENT): the server runs an agent on compute environment `local`
// of the first account's organization, waiting for that account when there is none yet.

let dataDir: string;
let server: TestServer | undefined;
let owner: Person;
beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'daestro-embedded-agent-'));
});
afterAll(async () => {
  await server?.stop();
  await fs.rm(dataDir, { recursive: true, force: true });
});

function startWithEmbeddedAgent(port?: string) {
  return startTestServer({
    env: { DAESTRO_EMBEDDED_AGENT: 'true', DAESTRO_DATA_DIR: dataDir, ...(port && { PORT: port }) },
  });
}

async function localSpawns() {
  return sql<{ id: string; state: string }>(
    server!,
    `select s.id, s.state from compute_spawn s join compute_environment e on e.id = s.compute_environment_id
     where e.name = 'local' order by s.created_at`,
  );
}

it('starts after the first sign-up and runs a bash job on queue default::default', async () => {
  server = await startWithEmbeddedAgent();
  owner = await signUpPerson(server, 'Ines');
  // Created within the agent's poll for a first account (2 s).
  await waitFor(async () => (await localSpawns()).length === 1, { what: 'the embedded agent to register' });
  const definition = await createDefinition(owner, {
    type: 'BASH',
    script: 'echo "hello from $DAESTRO_COMPUTE_ENV_NAME"',
  });
  const job = await submitJob(owner.client, { definition, queue: 'default::default' });
  const done = await waitForEnd(owner.client, job.id);
  expect(done.state).toBe('COMPLETED');
  expect((await runLogs(owner.client, done.runs[0]!.id)).map((line) => line.text)).toEqual([
    'hello from local',
  ]);
  const spawns = await localSpawns();
  expect(spawns).toHaveLength(1);
  expect((await fs.stat(path.join(dataDir, 'agent', 'agent.json'))).mode & 0o777).toBe(0o600);
});

it('comes back as the same machine after a restart, and hands its spawn offline on shutdown', async () => {
  const [before] = await localSpawns();
  const { url, database } = server!;
  await server!.stop();
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  const { rows } = await client.query('select state from compute_spawn where id = $1', [before!.id]);
  await client.end();
  expect(rows).toEqual([{ state: 'OFFLINE' }]);

  // Same port: the person's client keeps talking to "the" server.
  server = await startWithEmbeddedAgent(new URL(url).port);
  await waitFor(async () => (await localSpawns())[0]!.state === 'ONLINE', { what: 'the agent to come back' });
  expect((await localSpawns()).map((spawn) => spawn.id)).toEqual([before!.id]);
  const definition = await createDefinition(owner, { type: 'BASH', script: 'echo again' });
  const job = await submitJob(owner.client, { definition, queue: 'default::default' });
  expect((await waitForEnd(owner.client, job.id)).state).toBe('COMPLETED');
  expect((await localSpawns()).map((spawn) => spawn.id)).toEqual([before!.id]);
});
