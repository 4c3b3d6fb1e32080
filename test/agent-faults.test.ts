import { readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FAST_SERVER_ENV,
  createAgentQueue,
  expectContiguous,
  getJob,
  runLogs,
  startAgent,
  submit,
  waitForEnd,
  waitForJob,
} from './support/agent-runtime.js';
import { waitFor } from '../server/test/support/wait-for.js';
import { signUpPerson, type Person } from './support/people.js';
import { STORED_LOG_LINES } from './support/run-logs.js';
import { startTestServer, type TestServer } from './support/server.js';
import { startTcpProxy } from './support/tcp-proxy.js';
import { ok, sql } from './support/workloads.js';

// Agent faults with real processes: a killed agent, a flapping link, a long partition, a drain on SIGTERM.
// The server's agent lease is 4 s here (FAST_SERVER_ENV).

let server: TestServer;
let owner: Person;
beforeAll(async () => {
  server = await startTestServer({ env: FAST_SERVER_ENV });
  owner = await signUpPerson(server, 'Grace');
  // Room for the many machines (spawns) these tests register; the free plan allows 2.
  await sql(server, "update organization set plan = 'TEAM' where id = ?", [owner.organizationId]);
});
afterAll(() => server?.stop());

const RETRY_ON_INFRA = {
  attempts: 2,
  retryOn: ['INFRA_FAILURE'],
  backoff: 'FIXED',
  baseSeconds: 1,
  capSeconds: 1,
  jitter: false,
};

/** Writes with an agent token over HTTP, as an agent that came back would. */
async function agentWrite(agentToken: string, query: string, variables: Record<string, unknown>) {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${agentToken}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as {
    data?: unknown;
    errors?: { message: string; extensions?: Record<string, unknown> }[];
  };
}

/** Whether `pid` is a process that has not exited (a zombie has: its parent may be gone too). */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function savedAgentToken(stateDir: string): Promise<string> {
  return (JSON.parse(await readFile(path.join(stateDir, 'agent.json'), 'utf8')) as { agentToken: string })
    .agentToken;
}

describe('kill -9 of the agent mid-run', () => {
  it('errors the run within the lease, retries it on a second agent, and the restarted first agent cannot report on it', async () => {
    const { queueId, registrationToken } = await createAgentQueue(owner, { slotsPerSpawn: 1 });
    const first = await startAgent({ url: server.url, token: registrationToken });
    const jobId = await submit(owner, queueId, {
      type: 'BASH',
      script: 'for i in $(seq 1 40); do echo "tick $i"; sleep 0.1; done',
      retryPolicy: RETRY_ON_INFRA,
    });
    const running = await waitForJob(owner.client, jobId, (job) => job.state === 'RUNNING', {
      what: 'RUNNING',
    });
    const firstRun = running.runs[0]!;
    const [held] = await sql<{ lease_token: string }>(
      server,
      'select lease_token from job_run where id = ?',
      [firstRun.id],
    );
    const oldLease = held!.lease_token;

    await first.kill();
    const killedAt = Date.now();
    const failedOver = await waitForJob(owner.client, jobId, (job) => job.runs[0]!.state === 'ERROR', {
      what: 'the first run to be ERROR',
    });
    // The lease (4 s) plus a sweep (0.2 s), with room for a loaded machine.
    expect(Date.now() - killedAt).toBeLessThan(7_500);
    expect(failedOver.runs[0]).toMatchObject({ state: 'ERROR', failureClass: 'INFRA_FAILURE' });
    expect(failedOver.runs[0]!.systemNote).toMatch(/lost/i);

    const second = await startAgent({ url: server.url, token: registrationToken });
    const job = await waitForEnd(owner.client, jobId);
    expect(job.state).toBe('COMPLETED');
    expect(job.runs).toHaveLength(2);
    expect(job.runs[1]).toMatchObject({ attempt: 2, state: 'COMPLETED', exitCode: 0 });
    expect(job.runs[1]!.spawn.id).not.toBe(firstRun.spawn.id);
    expect((await runLogs(owner.client, job.runs[1]!.id)).map((line) => line.text)).toEqual(
      Array.from({ length: 40 }, (_, i) => `tick ${i + 1}`),
    );

    // The first agent comes back with its saved token (same spawn); the old attempt is not its to report.
    const restarted = await startAgent({
      url: server.url,
      token: registrationToken,
      stateDir: first.stateDir,
    });
    const agentToken = await savedAgentToken(first.stateDir);
    expect(restarted.logs.some((line) => line.msg === 'reusing the saved agent token')).toBe(true);
    const lease = { runId: firstRun.id, leaseToken: oldLease };
    const finish = await agentWrite(
      agentToken,
      'mutation F($input: FinishRunInput!) { finishRun(input: $input) { jobState } }',
      { input: { ...lease, outcome: 'COMPLETED', exitCode: 0 } },
    );
    expect(finish.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'STALE_LEASE' });
    const append = await agentWrite(
      agentToken,
      'mutation A($input: AppendRunLogsInput!) { appendRunLogs(input: $input) { storedThrough } }',
      {
        input: {
          ...lease,
          lines: [{ seq: 1000, stream: 'STDOUT', timestamp: new Date().toISOString(), text: 'late' }],
        },
      },
    );
    expect(append.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'STALE_LEASE' });
    expect((await waitForEnd(owner.client, jobId)).state).toBe('COMPLETED');
    await Promise.all([second.kill(), restarted.kill()]);
  });

  it('leaves a silent bash job running until the agent is back as the same machine, which kills it first', async () => {
    const { queueId, registrationToken } = await createAgentQueue(owner, { slotsPerSpawn: 1 });
    const first = await startAgent({ url: server.url, token: registrationToken });
    // A job that prints nothing more never notices its agent is gone (no pipe to break).
    const jobId = await submit(owner, queueId, { type: 'BASH', script: 'echo $$; exec sleep 300' });
    await waitForJob(owner.client, jobId, (job) => job.state === 'RUNNING', { what: 'RUNNING' });
    let pid = 0;
    await waitFor(
      async () => {
        const [line] = await runLogs(owner.client, (await getJob(owner.client, jobId)).runs[0]!.id);
        pid = Number(line?.text ?? 0);
        return pid > 0;
      },
      { what: 'the job to print its pid' },
    );

    await first.kill();
    expect(isAlive(pid)).toBe(true);
    const restarted = await startAgent({
      url: server.url,
      token: registrationToken,
      stateDir: first.stateDir,
    });
    await waitFor(() => !isAlive(pid), { what: 'the left-over job to be killed', timeoutMs: 5_000 });
    expect(
      restarted.logs.some(
        (line) => line.msg === 'removed what runs of an earlier agent process left running',
      ),
    ).toBe(true);
    await restarted.kill();
  });
});

describe('a flapping link', () => {
  it('loses and duplicates nothing: 100,000 lines through 20 cuts are stored once each, in order', async () => {
    const { queueId, registrationToken } = await createAgentQueue(owner);
    const proxy = await startTcpProxy(Number(new URL(server.url).port));
    const agent = await startAgent({ url: proxy.url, token: registrationToken });
    const jobId = await submit(owner, queueId, {
      type: 'BASH',
      // About 10 s of output with pauses, so every cut lands while it prints.
      script:
        'for i in $(seq 1 100000); do echo "number $i"; if (( i % 2500 == 0 )); then sleep 0.2; fi; done',
    });
    await waitForJob(owner.client, jobId, (job) => job.state === 'RUNNING', { what: 'RUNNING' });
    for (let cut = 0; cut < 20; cut += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 100));
      const connections = proxy.accepted;
      proxy.cut(Math.random() * 150);
      await waitFor(() => proxy.accepted > connections, {
        what: `the agent to reconnect after cut ${cut + 1}`,
      });
    }
    expect((await getJob(owner.client, jobId)).state, 'the cuts ended after the job').toBe('RUNNING');
    const job = await waitForEnd(owner.client, jobId, 60_000);
    expect(job.state).toBe('COMPLETED');

    const rows = await sql<{ seq: number; text: string }>(
      server,
      `select seq, text from (${STORED_LOG_LINES}) line where run_id = ? order by seq`,
      [job.runs[0]!.id],
    );
    expect(rows).toHaveLength(100_000);
    const wrong = rows.findIndex((row, index) => row.seq !== index + 1 || row.text !== `number ${index + 1}`);
    expect(wrong).toBe(-1);
    await agent.kill();
    await proxy.close();
  }, 90_000);

  it('a partition longer than the lease: the run fails over, and the agent stops it once it hears its lease is stale', async () => {
    const { queueId, registrationToken } = await createAgentQueue(owner);
    const proxy = await startTcpProxy(Number(new URL(server.url).port));
    const agent = await startAgent({ url: proxy.url, token: registrationToken });
    const pidFile = path.join(agent.stateDir, 'job.pid');
    const jobId = await submit(owner, queueId, {
      type: 'BASH',
      script: `echo $$ > ${pidFile}; echo started; for i in $(seq 1 600); do sleep 0.1; done; echo survived`,
    });
    const running = await waitForJob(owner.client, jobId, (job) => job.state === 'RUNNING', {
      what: 'RUNNING',
    });
    const pid = Number(await readFile(pidFile, 'utf8'));
    proxy.cut(7_000);
    const job = await waitForEnd(owner.client, jobId);
    expect(job.state).toBe('ERROR');
    expect(isAlive(pid), 'the run goes on while the agent cannot hear').toBe(true);
    // Back online, the agent's next write for the run is refused: it kills the run and drops its output.
    await agent.waitForLog(
      (line) => line.msg === 'dropping the run' && line.runId === running.runs[0]!.id,
      20_000,
    );
    await waitFor(() => !isAlive(pid), { what: 'the run to be stopped' });
    const lines = await runLogs(owner.client, running.runs[0]!.id);
    expect(lines.map((line) => line.text)).not.toContain('survived');
    await agent.kill();
    await proxy.close();
  }, 40_000);
});

describe('SIGTERM', () => {
  it('drains: a run that ends within the deadline completes, and the agent goes offline and exits 0', async () => {
    const { queueId, registrationToken, environmentId } = await createAgentQueue(owner);
    const agent = await startAgent({ url: server.url, token: registrationToken });
    const jobId = await submit(owner, queueId, { type: 'BASH', script: 'sleep 1.5; echo finished' });
    await waitForJob(owner.client, jobId, (job) => job.state === 'RUNNING', { what: 'RUNNING' });
    const exit = await agent.stop();
    expect(exit.code).toBe(0);
    const job = await waitForEnd(owner.client, jobId);
    expect(job.state).toBe('COMPLETED');
    const [spawn] = await sql<{ state: string }>(
      server,
      'select state from compute_spawn where compute_environment_id = ?',
      [environmentId],
    );
    expect(spawn!.state).toBe('OFFLINE');
  });

  it('hands back a run that outlives the deadline as ERROR (INFRA_FAILURE) so it is retried elsewhere', async () => {
    const { queueId, registrationToken } = await createAgentQueue(owner);
    const agent = await startAgent({
      url: server.url,
      token: registrationToken,
      env: { DAESTRO_AGENT_DRAIN_SECONDS: '1' },
    });
    const jobId = await submit(owner, queueId, {
      type: 'BASH',
      script: 'echo long; sleep 60',
      retryPolicy: { ...RETRY_ON_INFRA, baseSeconds: 30, capSeconds: 30 },
    });
    await waitForJob(owner.client, jobId, (job) => job.state === 'RUNNING', { what: 'RUNNING' });
    const stoppedAt = Date.now();
    const exit = await agent.stop();
    expect(exit.code).toBe(0);
    // 1 s deadline + 1 s grace + reporting.
    expect(Date.now() - stoppedAt).toBeLessThan(6_000);
    const job = await waitForJob(owner.client, jobId, (view) => view.runs[0]!.state === 'ERROR', {
      what: 'ERROR',
    });
    expect(job.runs[0]).toMatchObject({ state: 'ERROR', failureClass: 'INFRA_FAILURE' });
    expect(job.runs[0]!.systemNote).toMatch(/agent shut down/);
    // Waiting for its retry (30 s backoff), not failed for good.
    expect(job.state).toBe('PENDING');
    expectContiguous(await runLogs(owner.client, job.runs[0]!.id));
  });
});

describe('registration', () => {
  it('refuses a bad token with a clear message and exit code 1', async () => {
    const agent = await startAgent({ url: server.url, token: 'dreg_not-a-real-token', waitConnected: false });
    const exit = await agent.exited;
    expect(exit.code).toBe(1);
    expect(agent.stderr()).toMatch(/refused the registration/);
  });

  it('explains a missing URL or token', async () => {
    const noUrl = await startAgent({ url: '', waitConnected: false });
    expect((await noUrl.exited).code).toBe(2);
    expect(noUrl.stderr()).toMatch(/--url \/ DAESTRO_AGENT_URL is required/);
    const noToken = await startAgent({ url: server.url, waitConnected: false });
    expect((await noToken.exited).code).toBe(1);
    expect(noToken.stderr()).toMatch(/No token: pass --token dreg_/);
  });

  it('an agent whose machine is retired registers again with its registration token, or stops without one', async () => {
    const { registrationToken, environmentId } = await createAgentQueue(owner);
    const RETIRE = `mutation R($spawnId: ID!) { retireComputeSpawn(input: { spawnId: $spawnId }) { computeSpawn { state } } }`;
    const spawnOf = async (stateDir: string) =>
      (JSON.parse(await readFile(path.join(stateDir, 'agent.json'), 'utf8')) as { spawnId: string }).spawnId;

    const withRegistration = await startAgent({ url: server.url, token: registrationToken });
    const retired = await spawnOf(withRegistration.stateDir);
    await ok(owner.client, RETIRE, { spawnId: retired });
    await waitFor(() => withRegistration.logs.filter((line) => line.msg === 'registered').length === 2, {
      what: 'the agent to register again',
    }).catch((error: Error) => {
      throw new Error(
        `${error.message}\n${JSON.stringify(withRegistration.logs)}\n${withRegistration.stderr()}`,
      );
    });
    expect(await spawnOf(withRegistration.stateDir)).not.toBe(retired);

    const withAgentToken = await startAgent({
      url: server.url,
      token: await savedAgentToken(withRegistration.stateDir),
    });
    await ok(owner.client, RETIRE, { spawnId: await spawnOf(withRegistration.stateDir) });
    expect((await withAgentToken.exited).code).toBe(1);
    expect(withAgentToken.stderr()).toMatch(/refused the agent token.*--token dreg_/s);
    // The agent holding the registration token lost the same spawn and registers a third one.
    await waitFor(() => withRegistration.logs.filter((line) => line.msg === 'registered').length === 3, {
      what: 'the agent with a registration token to register a third time',
    });
    const states = await sql<{ state: string }>(
      server,
      'select state from compute_spawn where compute_environment_id = ?',
      [environmentId],
    );
    expect(states.map((row) => row.state).sort()).toEqual(['ONLINE', 'TERMINATED', 'TERMINATED']);
    await withRegistration.kill();
  });

  it('keeps its agent token in the state dir, readable by its owner only', async () => {
    const { registrationToken } = await createAgentQueue(owner);
    const agent = await startAgent({ url: server.url, token: registrationToken });
    expect((await stat(path.join(agent.stateDir, 'agent.json'))).mode & 0o777).toBe(0o600);
    expect((await stat(agent.stateDir)).mode & 0o777).toBe(0o700);
    expect(await savedAgentToken(agent.stateDir)).toMatch(/^dagt_/);
    expect(JSON.stringify(agent.logs)).not.toContain(await savedAgentToken(agent.stateDir));
    expect(JSON.stringify(agent.logs)).not.toContain(registrationToken);
    await agent.kill();
  });
});
