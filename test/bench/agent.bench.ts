// The agent with real processes: the full server (in this process) and a real `daestro agent`.
// Claim latency: a job submitted to an idle agent → RUNNING (the run's startedAt minus the job's
// createdAt, both stamped by the server). Baseline in the same run: what a claim cannot avoid —
// two graphql-ws mutation round trips with the agent's token (claimRuns, markRunStarted) and
// spawning bash. Log throughput: a job printing 200,000 lines as fast as bash can, until the last
// one is stored; baseline: the same script into a pipe Node reads (the producer's own speed).
// Run with `pnpm bench`.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { waitFor } from '../../server/test/support/wait-for.js';
import {
  FAST_SERVER_ENV,
  createAgentQueue,
  createDefinition,
  getJob,
  startAgent,
  waitForEnd,
  type AgentProcess,
} from '../support/agent-runtime.js';
import { signUpPerson, type Person } from '../support/people.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { sql, submitJob } from '../support/workloads.js';

const LATENCY_SAMPLES = 40;
const LOG_LINES = 200_000;
const LOG_SCRIPT = `seq 1 ${LOG_LINES} | sed 's/^/line number /'`;

let server: TestServer;
let owner: Person;
let queueId: string;
let agent: AgentProcess;
beforeAll(async () => {
  server = await startTestServer({ env: FAST_SERVER_ENV });
  owner = await signUpPerson(server, 'Bench');
  const queue = await createAgentQueue(owner);
  queueId = queue.queueId;
  // The default poll (10 s): a claim is driven by the server's ring, not by polling.
  agent = await startAgent({
    url: server.url,
    token: queue.registrationToken,
    env: { DAESTRO_AGENT_POLL_SECONDS: '10', LOG_LEVEL: 'warn' },
    waitConnected: false,
  });
  await waitFor(async () => (await sql(server, 'select 1 from compute_spawn')).length === 1, {
    what: 'registration',
  });
});
afterAll(async () => {
  await agent?.kill();
  await server?.stop();
});

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

it('measures claim latency (submit → RUNNING on an idle agent) against its unavoidable round trips', async () => {
  const definition = await createDefinition(owner, { type: 'BASH', script: 'true' });
  const latencies: number[] = [];
  for (let i = 0; i < LATENCY_SAMPLES; i += 1) {
    const job = await submitJob(owner.client, { definition, queue: queueId });
    await waitForEnd(owner.client, job.id);
    const [row] = await sql<{ ms: number }>(
      server,
      'select extract(epoch from r.started_at - j.created_at) * 1000 as ms from job j join job_run r on r.job_id = j.id where j.id = ?',
      [job.id],
    );
    latencies.push(Number(row!.ms));
  }

  const agentToken = (
    JSON.parse(await readFile(path.join(agent.stateDir, 'agent.json'), 'utf8')) as { agentToken: string }
  ).agentToken;
  const agentSocket = createClient({
    url: `${server.url.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { agentToken },
  });
  const roundTrip = () =>
    new Promise<void>((resolve, reject) =>
      agentSocket.subscribe(
        { query: 'mutation { claimRuns(max: 1) { runId } }' },
        { next: () => undefined, error: reject, complete: resolve },
      ),
    );
  await roundTrip();
  const raw: number[] = [];
  for (let i = 0; i < LATENCY_SAMPLES; i += 1) {
    const started = performance.now();
    await roundTrip();
    await new Promise<void>((resolve, reject) =>
      spawn('bash', ['-c', 'true']).once('spawn', resolve).once('error', reject),
    );
    await roundTrip();
    raw.push(performance.now() - started);
  }
  await agentSocket.dispose();

  const p50 = percentile(latencies, 50);
  const rawP50 = percentile(raw, 50);
  console.info(
    [
      `claim latency, ${LATENCY_SAMPLES} jobs one at a time on an idle agent (server-stamped createdAt → startedAt)`,
      `submit → RUNNING            p50 ${p50.toFixed(1)} ms  p99 ${percentile(latencies, 99).toFixed(1)} ms`,
      `raw: 2 ws round trips + bash p50 ${rawP50.toFixed(1)} ms  p99 ${percentile(raw, 99).toFixed(1)} ms`,
      `ratio p50 ${(p50 / rawP50).toFixed(2)}x`,
    ].join('\n'),
  );
  expect(p50).toBeGreaterThan(0);
});

it('measures the log lines per second one agent ships against the producer alone', async () => {
  const producedStarted = performance.now();
  const produced = await new Promise<number>((resolve, reject) => {
    let lines = 0;
    const child = spawn('bash', ['-c', LOG_SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.on('data', (chunk: Buffer) => {
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines += 1;
    });
    child.once('error', reject).once('close', () => resolve(lines));
  });
  const rawSeconds = (performance.now() - producedStarted) / 1000;
  expect(produced).toBe(LOG_LINES);

  const definition = await createDefinition(owner, { type: 'BASH', script: LOG_SCRIPT });
  const job = await submitJob(owner.client, { definition, queue: queueId });
  const done = await waitForEnd(owner.client, job.id, 300_000);
  expect(done.state).toBe('COMPLETED');
  const runId = (await getJob(owner.client, job.id)).runs[0]!.id;
  // Until the run finished: the agent sends finishRun only once every line is acknowledged.
  const [row] = await sql<{ seconds: number; stored: number }>(
    server,
    'select extract(epoch from finished_at - started_at) as seconds, log_stored_through as stored from job_run where id = ?',
    [runId],
  );
  expect(row!.stored).toBe(LOG_LINES);
  const shippedSeconds = Number(row!.seconds);
  console.info(
    [
      `log throughput, ${LOG_LINES.toLocaleString('en')} lines of ~18 bytes from one run`,
      `bash into a pipe (raw)          ${Math.round(LOG_LINES / rawSeconds).toLocaleString('en')} lines/s`,
      `agent: masked, shipped, stored  ${Math.round(LOG_LINES / shippedSeconds).toLocaleString('en')} lines/s`,
      `ratio raw/shipped ${(shippedSeconds / rawSeconds).toFixed(2)}x`,
    ].join('\n'),
  );
});
