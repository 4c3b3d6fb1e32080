import { afterAll, beforeAll, expect, it } from 'vitest';
import { findFreePort } from '../server/src/db/embedded-postgres.js';
import { formatMasterKey, generateMasterKey } from '../server/src/secrets/master-keys.js';
import { waitFor } from '../server/test/support/wait-for.js';
import {
  FAST_SERVER_ENV,
  createAgentQueue,
  expectContiguous,
  runLogs,
  startAgent,
  submit,
  waitForEnd,
  waitForJob,
} from './support/agent-runtime.js';
import { startDaestro, type DaestroProcess } from './support/daestro-process.js';
import { signUpPerson, type Person } from './support/people.js';
import { STORED_LOG_LINES } from './support/run-logs.js';
import { startTestServer, type TestServer } from './support/server.js';
import { sql } from './support/workloads.js';

// kill -9 of the server the agent talks to, mid-run. Two replicas share the database: this file's
// in-process server (people, queries) and a `daestro` process, the agent's server, which is killed
// and started again on the same port. The lease is long enough to outlast the outage.

const MASTER_KEYS = formatMasterKey(generateMasterKey());
const SERVER_ENV = { ...FAST_SERVER_ENV, AGENT_LEASE_SECONDS: '20', DAESTRO_MASTER_KEYS: MASTER_KEYS };

let server: TestServer;
let owner: Person;
let agentServer: DaestroProcess | undefined;
let port: number;
beforeAll(async () => {
  server = await startTestServer({ env: SERVER_ENV });
  owner = await signUpPerson(server, 'Lin');
  port = await findFreePort();
});
afterAll(async () => {
  agentServer?.child.kill('SIGKILL');
  await server?.stop();
});

function startAgentServer() {
  return startDaestro({
    ...SERVER_ENV,
    DATABASE_URL: server.database.url,
    PORT: String(port),
    HOST: '127.0.0.1',
  });
}

it('the agent reconnects to the restarted server and the run completes with its whole log', async () => {
  agentServer = await startAgentServer();
  const { queueId, registrationToken } = await createAgentQueue(owner);
  const agent = await startAgent({ url: `http://127.0.0.1:${port}`, token: registrationToken });
  const jobId = await submit(owner, queueId, {
    type: 'BASH',
    script: 'for i in $(seq 1 5000); do echo "n $i"; if (( i % 250 == 0 )); then sleep 0.3; fi; done',
  });
  const running = await waitForJob(owner.client, jobId, (job) => job.state === 'RUNNING', {
    what: 'RUNNING',
  });
  const runId = running.runs[0]!.id;
  await waitFor(
    async () => {
      const [row] = await sql<{ count: number }>(
        server,
        `select count(*)::int as count from (${STORED_LOG_LINES}) line where run_id = ?`,
        [runId],
      );
      return row!.count > 0;
    },
    { what: 'the first lines to be stored' },
  );

  agentServer.child.kill('SIGKILL');
  await agentServer.exited;
  await agent.waitForLog((line) => line.msg.startsWith('lost the connection to the server'));
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  agentServer = await startAgentServer();
  await waitFor(() => agent.logs.filter((line) => line.msg === 'connected to the server').length >= 2, {
    what: 'the agent to reconnect',
  });

  const job = await waitForEnd(owner.client, jobId, 60_000);
  expect(job.state).toBe('COMPLETED');
  expect(job.runs).toHaveLength(1);
  const lines = await runLogs(owner.client, runId);
  expectContiguous(lines);
  expect(lines.map((line) => line.text)).toEqual(Array.from({ length: 5000 }, (_, i) => `n ${i + 1}`));
  await agent.kill();
}, 90_000);
