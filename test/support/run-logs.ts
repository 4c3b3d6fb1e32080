import type { Client } from 'graphql-ws';
import { expect } from 'vitest';
import { waitFor } from '../../server/test/support/wait-for.js';
import {
  APPEND_LOGS,
  CLAIM_RUNS,
  FINISH_RUN,
  HEARTBEAT,
  MARK_STARTED,
  agentSocket,
  overSocket,
  registeredAgent,
  selfHostedQueue,
  type ClaimedRunView,
} from './agent-protocol.js';
import type { Person } from './people.js';
import type { TestServer } from './server.js';
import { createBashDefinition, submitJob } from './workloads.js';

/** Stored lines one row each, for checks in SQL: `from (${STORED_LOG_LINES}) line`. */
export { STORED_LOG_LINES } from '../../server/test/logs/fixtures.js';

/** A run of `person`'s, claimed and started by an agent the test speaks for over its socket. */
export interface StartedRun {
  runId: string;
  jobId: string;
  lease: { runId: string; leaseToken: string };
  /** The agent's own token (dagt_…), for another connection as the same agent. */
  agentToken: string;
  /** The agent's graphql-ws connection. */
  agent: Client;
  /** Stops the agent's heartbeats and closes its socket. */
  stop(): Promise<void>;
}

/** Submits a job to a new self-hosted queue of `person` and plays the agent: claim, then markRunStarted. */
export async function startedRun(server: TestServer, person: Person): Promise<StartedRun> {
  const { queue, environment } = await selfHostedQueue(person);
  const registration = await registeredAgent(server, environment.registrationToken);
  const { client: agent } = agentSocket(server, registration.agentToken);
  const definition = await createBashDefinition(person.client, person.projectId, { script: 'true' });
  const job = await submitJob(person.client, { definition: definition.id, queue: queue.id });
  let claimed: ClaimedRunView | undefined;
  await waitFor(
    async () => {
      const result = await overSocket<{ claimRuns: ClaimedRunView[] }>(agent, CLAIM_RUNS, { max: 1 });
      expect(result.errors).toBeUndefined();
      claimed = result.data!.claimRuns[0];
      return claimed !== undefined;
    },
    { what: 'a run to claim' },
  );
  const lease = { runId: claimed!.runId, leaseToken: claimed!.leaseToken };
  expect((await overSocket(agent, MARK_STARTED, { input: lease })).errors).toBeUndefined();
  // A silent agent would be LOST after its lease: keep it alive for long tests.
  const heartbeat = setInterval(
    () => void overSocket(agent, HEARTBEAT, { input: { slotsUsed: 1 } }).catch(() => undefined),
    5_000,
  );
  return {
    runId: lease.runId,
    jobId: job.id,
    lease,
    agentToken: registration.agentToken,
    agent,
    async stop() {
      clearInterval(heartbeat);
      await agent.dispose();
    },
  };
}

/** Lines `line <seq>` for seqs from..to, as the agent sends them. */
export function numberedLines(from: number, to: number, stream = 'STDOUT') {
  return Array.from({ length: to - from + 1 }, (_, index) => ({
    seq: from + index,
    stream,
    timestamp: new Date().toISOString(),
    text: `line ${from + index}`,
  }));
}

/** appendRunLogs as the agent: resolves with storedThrough, or fails on any error. */
export async function appendLines(run: StartedRun, lines: ReturnType<typeof numberedLines>): Promise<number> {
  const result = await overSocket<{ appendRunLogs: { storedThrough: number } }>(run.agent, APPEND_LOGS, {
    input: { ...run.lease, lines },
  });
  expect(result.errors).toBeUndefined();
  return result.data!.appendRunLogs.storedThrough;
}

/** The agent reports the run COMPLETED. */
export async function finishStartedRun(run: StartedRun): Promise<void> {
  const result = await overSocket(run.agent, FINISH_RUN, {
    input: { ...run.lease, outcome: 'COMPLETED', exitCode: 0 },
  });
  expect(result.errors).toBeUndefined();
}

export const RUN_LOG_STREAM = `subscription S($runId: ID!, $after: Int) {
  jobRunLogs(runId: $runId, after: $after) { lines { seq stream text } cursor complete } }`;

export interface LogBatchResult {
  jobRunLogs: { lines: { seq: number; stream: string; text: string }[]; cursor: number; complete: boolean };
}
