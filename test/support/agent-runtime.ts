import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect } from 'vitest';
import { spawnDaestro, type DaestroProcess } from './daestro-process.js';
import type { Person } from './people.js';
import type { CookieClient } from './http-session.js';
import {
  LINK,
  SET_ENABLED,
  createSelfHostedEnvironment,
  ok,
  submitJob,
  uniqueName,
  CREATE_DEFINITION,
  CREATE_QUEUE,
} from './workloads.js';

/** Server settings that make agent faults show within seconds. */
export const FAST_SERVER_ENV = {
  AGENT_LEASE_SECONDS: '4',
  SCHEDULER_SWEEP_MS: '200',
  RUN_TIMEOUT_GRACE_SECONDS: '5',
};

/** Agent tuning for tests: quick polls, reconnects, pings and metrics; a 1 s kill grace. */
export const FAST_AGENT_ENV = {
  DAESTRO_AGENT_POLL_SECONDS: '0.5',
  DAESTRO_AGENT_RECONNECT_MIN_MS: '50',
  DAESTRO_AGENT_RECONNECT_MAX_MS: '300',
  DAESTRO_AGENT_KEEPALIVE_MS: '1000',
  DAESTRO_AGENT_STATS_SECONDS: '0.5',
  DAESTRO_AGENT_GRACE_SECONDS: '1',
  DAESTRO_AGENT_DRAIN_SECONDS: '5',
};

export interface AgentProcess extends DaestroProcess {
  stateDir: string;
  /** SIGTERM, then wait for the exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL, then wait for the exit. */
  kill(): Promise<void>;
}

const agents = new Set<AgentProcess>();
const stateDirs = new Set<string>();
afterAll(async () => {
  await Promise.all([...agents].map((agent) => agent.kill()));
  await Promise.all([...stateDirs].map((dir) => fs.rm(dir, { recursive: true, force: true })));
});

export async function newStateDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'daestro-agent-state-'));
  stateDirs.add(dir);
  return dir;
}

/** `daestro agent` as a user runs it; resolves once it is connected (or with `waitConnected: false`, at once). */
export async function startAgent(options: {
  url: string;
  token?: string;
  stateDir?: string;
  env?: Record<string, string>;
  waitConnected?: boolean;
}): Promise<AgentProcess> {
  const stateDir = options.stateDir ?? (await newStateDir());
  const args = [
    'agent',
    '--url',
    options.url,
    '--state-dir',
    stateDir,
    ...(options.token ? ['--token', options.token] : []),
  ];
  const daestro = spawnDaestro(args, { HOME: os.tmpdir(), ...FAST_AGENT_ENV, ...options.env });
  const agent: AgentProcess = Object.assign(daestro, {
    stateDir,
    async stop() {
      if (daestro.child.exitCode === null && daestro.child.signalCode === null) daestro.child.kill('SIGTERM');
      return daestro.exited;
    },
    async kill() {
      if (daestro.child.exitCode === null && daestro.child.signalCode === null) daestro.child.kill('SIGKILL');
      await daestro.exited;
      agents.delete(agent);
    },
  });
  agents.add(agent);
  if (options.waitConnected !== false)
    await agent.waitForLog((line) => line.msg === 'connected to the server');
  return agent;
}

/** A project's queue linked to a new SELF_HOSTED environment, enabled; the environment's registration token. */
export async function createAgentQueue(
  person: Person,
  environmentInput: Record<string, unknown> = {},
): Promise<{ queueId: string; environmentId: string; registrationToken: string }> {
  const environment = await createSelfHostedEnvironment(person.client, person.projectId, environmentInput);
  const queue = await ok<{ createJobQueue: { jobQueue: { id: string } } }>(person.client, CREATE_QUEUE, {
    input: { projectId: person.projectId, name: uniqueName('queue') },
  });
  const queueId = queue.createJobQueue.jobQueue.id;
  await ok(person.client, LINK, { queue: queueId, environments: [environment.id] });
  await ok(person.client, SET_ENABLED, { queue: queueId, enabled: true });
  return { queueId, environmentId: environment.id, registrationToken: environment.registrationToken };
}

export async function createDefinition(person: Person, input: Record<string, unknown>): Promise<string> {
  const data = await ok<{ createJobDefinition: { jobDefinition: { id: string } } }>(
    person.client,
    CREATE_DEFINITION,
    {
      input: { projectId: person.projectId, name: uniqueName('def'), cpu: 0.5, memoryMiB: 256, ...input },
    },
  );
  return data.createJobDefinition.jobDefinition.id;
}

/** Defines a job from `definition`, submits it to `queueId`, returns the job id. */
export async function submit(
  person: Person,
  queueId: string,
  definition: Record<string, unknown>,
  overrides: Record<string, unknown> = {},
): Promise<string> {
  const definitionId = await createDefinition(person, definition);
  const job = await submitJob(person.client, { definition: definitionId, queue: queueId, ...overrides });
  return job.id;
}

export interface RunView {
  id: string;
  attempt: number;
  state: string;
  exitCode: number | null;
  failureClass: string | null;
  systemNote: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  spawn: { id: string; hostname: string };
}

export interface JobView {
  id: string;
  state: string;
  systemNote: string | null;
  runs: RunView[];
}

const JOB = `query J($id: ID!) { job(id: $id) { id state systemNote
  runs { id attempt state exitCode failureClass systemNote startedAt finishedAt spawn { id hostname } } } }`;

export async function getJob(client: CookieClient, jobId: string): Promise<JobView> {
  return (await ok<{ job: JobView }>(client, JOB, { id: jobId })).job;
}

/** Polls the job until `done` holds; fails with the job as it last was. */
export async function waitForJob(
  client: CookieClient,
  jobId: string,
  done: (job: JobView) => boolean,
  { timeoutMs = 30_000, what = 'the job' } = {},
): Promise<JobView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await getJob(client, jobId);
    if (done(job)) return job;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; last seen: ${JSON.stringify(job, null, 1)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export const TERMINAL_STATES = ['COMPLETED', 'FAILED', 'TIMEOUT', 'CANCELLED', 'ERROR'];

export function waitForEnd(client: CookieClient, jobId: string, timeoutMs = 30_000): Promise<JobView> {
  return waitForJob(client, jobId, (job) => TERMINAL_STATES.includes(job.state), {
    timeoutMs,
    what: 'the job to end',
  });
}

export interface StoredLine {
  seq: number;
  stream: string;
  text: string;
}

/** Every stored line of a run, paging through jobRunLogs. */
export async function runLogs(client: CookieClient, runId: string): Promise<StoredLine[]> {
  const lines: StoredLine[] = [];
  for (let after = 0; ;) {
    const page = await ok<{ jobRunLogs: { lines: StoredLine[]; cursor: number; hasMore: boolean } }>(
      client,
      `query L($run: ID!, $after: Int) { jobRunLogs(runId: $run, after: $after, first: 250) {
        lines { seq stream text } cursor hasMore } }`,
      { run: runId, after },
    );
    lines.push(...page.jobRunLogs.lines);
    if (!page.jobRunLogs.hasMore) return lines;
    after = page.jobRunLogs.cursor;
  }
}

export async function runMetrics(
  client: CookieClient,
  runId: string,
): Promise<{ timestamp: string; cpuPercent: number; memoryBytes: number; memoryLimitBytes: number }[]> {
  const data = await ok<{
    jobRunMetrics: { timestamp: string; cpuPercent: number; memoryBytes: number; memoryLimitBytes: number }[];
  }>(
    client,
    `query M($run: ID!) { jobRunMetrics(runId: $run) { timestamp cpuPercent memoryBytes memoryLimitBytes } }`,
    {
      run: runId,
    },
  );
  return data.jobRunMetrics;
}

/** Asserts lines are numbered 1..n with no gap or repeat. */
export function expectContiguous(lines: StoredLine[]): void {
  expect(lines.map((line) => line.seq)).toEqual(
    Array.from({ length: lines.length }, (_, index) => index + 1),
  );
}
