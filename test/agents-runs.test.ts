import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../server/test/support/wait-for.js';
import {
  APPEND_LOGS,
  APPEND_METRICS,
  CLAIM_RUNS,
  FINISH_RUN,
  GOING_OFFLINE,
  HEARTBEAT,
  MARK_STARTED,
  WAKEUPS,
  agentSocket,
  collect,
  overSocket,
  registeredAgent,
  selfHostedQueue,
  type ClaimedRunView,
} from './support/agent-protocol.js';
import type { CookieClient } from './support/http-session.js';
import { apiTokenClient, signUpPerson, type Person } from './support/people.js';
import { STORED_LOG_LINES } from './support/run-logs.js';
import { startTestServer, type TestServer } from './support/server.js';
import {
  CANCEL,
  CREATE_DEFINITION,
  createBashDefinition,
  firstError,
  gql,
  LINK,
  ok,
  sql,
  submitJob,
  uniqueName,
} from './support/workloads.js';

// Runs through the full server, with the test speaking the agent's side of the protocol:
// doorbell, claim, start, logs, metrics, finish, cancel, and every write under a stale lease.

let server: TestServer;
let owner: Person;
beforeAll(async () => {
  server = await startTestServer();
  owner = await signUpPerson(server, 'Rue');
  await sql(server, "update organization set plan = 'TEAM' where id = ?", [owner.organizationId]);
});
afterAll(() => server?.stop());

const JOB_STATE = 'query J($id: ID!) { job(id: $id) { state runs { id state exitCode logStoredThrough } } }';
const RUN_LOGS = `query L($runId: ID!, $after: Int, $first: Int, $stream: LogStream) {
  jobRunLogs(runId: $runId, after: $after, first: $first, stream: $stream) {
    lines { seq stream timestamp text } cursor hasMore } }`;
const RUN_METRICS = `query M($runId: ID!, $from: DateTimeISO, $to: DateTimeISO) {
  jobRunMetrics(runId: $runId, from: $from, to: $to) { timestamp cpuPercent memoryBytes memoryLimitBytes } }`;

/** A registered agent on a new environment and queue, connected over its socket with the doorbell on. */
async function idleAgent(person: Person = owner) {
  const { queue, environment } = await selfHostedQueue(person);
  const agent = await registeredAgent(server, environment.registrationToken);
  const { client } = agentSocket(server, agent.agentToken);
  const wakeups = collect<{ agentWakeups: { reason: string; runId: string | null } }>(client, WAKEUPS);
  // Over the same socket: by the time this answers, the doorbell subscription is in place.
  expect((await overSocket(client, HEARTBEAT, { input: { slotsUsed: 0 } })).errors).toBeUndefined();
  return { queue, environment, agent, client, wakeups };
}

async function claimOne(client: Parameters<typeof overSocket>[0]): Promise<ClaimedRunView> {
  let claimed: ClaimedRunView[] = [];
  await waitFor(
    async () => {
      const result = await overSocket<{ claimRuns: ClaimedRunView[] }>(client, CLAIM_RUNS, { max: 5 });
      expect(result.errors).toBeUndefined();
      claimed = result.data!.claimRuns;
      return claimed.length > 0;
    },
    { what: 'a run to claim' },
  );
  expect(claimed).toHaveLength(1);
  return claimed[0]!;
}

async function jobState(jobId: string) {
  return (
    await ok<{
      job: {
        state: string;
        runs: { id: string; state: string; exitCode: number | null; logStoredThrough: number }[];
      };
    }>(owner.client, JOB_STATE, { id: jobId })
  ).job;
}

function lines(from: number, to: number, stream = 'STDOUT') {
  return Array.from({ length: to - from + 1 }, (_, index) => ({
    seq: from + index,
    stream,
    timestamp: new Date(Date.UTC(2026, 10, 27, 15, 0, 0, from + index)).toISOString(),
    text: `line ${from + index}`,
  }));
}

describe('a run, end to end', () => {
  it('rings an idle agent on submit; claim, start, logs, metrics and finish; then every write is stale', async () => {
    const { queue, environment, agent, client, wakeups } = await idleAgent();
    const definition = await createBashDefinition(owner.client, owner.projectId, {
      script: 'echo "$MODE"',
      command: ['Param::who'],
      parameters: [{ key: 'who', value: 'world' }],
      env: [
        { name: 'API_KEY', value: 'very-secret-value', sensitive: true },
        { name: 'MODE', value: 'fast' },
      ],
    });
    const job = await submitJob(owner.client, { definition: definition.id, queue: queue.id });

    await waitFor(() => wakeups.results.length > 0, { what: 'the doorbell' });
    expect(wakeups.results[0]).toEqual({ data: { agentWakeups: { reason: 'RUNS_PLACED', runId: null } } });

    const run = await claimOne(client);
    const env = Object.fromEntries(run.env.map((variable) => [variable.name, variable]));
    expect(run).toMatchObject({
      jobId: job.id,
      jobName: job.name,
      attempt: 1,
      type: 'BASH',
      script: 'echo "$MODE"',
      command: ['world'],
      image: null,
      registryCredential: null,
      queueName: queue.name,
      computeEnvironmentName: environment.name,
      definitionVersion: 1,
    });
    expect(run.leaseToken).toMatch(/^[0-9a-f-]{36}$/);
    expect(env.API_KEY).toEqual({ name: 'API_KEY', value: 'very-secret-value', sensitive: true });
    expect(env.MODE).toEqual({ name: 'MODE', value: 'fast', sensitive: false });
    expect(env.DAESTRO_JOB_ID?.value).toBe(job.id);
    expect(env.DAESTRO_JOB_RUN_ID?.value).toBe(run.runId);
    expect(env.DAESTRO_COMPUTE_SPAWN_ID?.value).toBe(agent.spawnId);
    expect(env.DAESTRO_COMPUTE_ENV_NAME?.value).toBe(environment.name);
    expect(env.DAESTRO_JOB_QUEUE_NAME?.value).toBe(queue.name);
    // Handed out once.
    expect(
      (await overSocket<{ claimRuns: unknown[] }>(client, CLAIM_RUNS, { max: 5 })).data!.claimRuns,
    ).toEqual([]);

    const lease = { runId: run.runId, leaseToken: run.leaseToken };
    expect((await overSocket(client, MARK_STARTED, { input: lease })).data).toEqual({ markRunStarted: true });
    expect((await jobState(job.id)).state).toBe('RUNNING');

    const append = async (batch: ReturnType<typeof lines>) => {
      const result = await overSocket<{ appendRunLogs: { storedThrough: number } }>(client, APPEND_LOGS, {
        input: { ...lease, lines: batch },
      });
      expect(result.errors).toBeUndefined();
      return result.data!.appendRunLogs.storedThrough;
    };
    expect(await append(lines(1, 3))).toBe(3);
    expect(await append(lines(1, 3))).toBe(3);
    expect(await append([...lines(5, 5), ...lines(6, 6, 'STDERR')])).toBe(3);
    expect(await append(lines(4, 4))).toBe(6);
    const logs = await ok<{
      jobRunLogs: { lines: { seq: number; stream: string; text: string; timestamp: string }[] };
    }>(owner.client, RUN_LOGS, { runId: run.runId });
    expect(logs.jobRunLogs.lines.map((line) => `${line.seq}:${line.stream}:${line.text}`)).toEqual([
      '1:STDOUT:line 1',
      '2:STDOUT:line 2',
      '3:STDOUT:line 3',
      '4:STDOUT:line 4',
      '5:STDOUT:line 5',
      '6:STDERR:line 6',
    ]);
    expect(logs.jobRunLogs.lines[0]!.timestamp).toBe('2026-11-27T15:00:00.001Z');

    const samples = [0, 5].map((second) => ({
      timestamp: new Date(Date.UTC(2026, 10, 27, 15, 0, second)).toISOString(),
      cpuPercent: 50 + second,
      memoryBytes: 100_000_000 + second,
      memoryLimitBytes: 268_435_456,
    }));
    expect((await overSocket(client, APPEND_METRICS, { input: { ...lease, samples } })).data).toEqual({
      appendRunMetrics: true,
    });
    expect(await ok(owner.client, RUN_METRICS, { runId: run.runId })).toEqual({ jobRunMetrics: samples });

    const finish = { ...lease, outcome: 'COMPLETED', exitCode: 0 };
    expect((await overSocket(client, FINISH_RUN, { input: finish })).data).toEqual({
      finishRun: { jobState: 'COMPLETED' },
    });
    // An agent whose answer was lost says it again: same answer.
    expect((await agent.http.graphql(FINISH_RUN, { input: finish })).data).toEqual({
      finishRun: { jobState: 'COMPLETED' },
    });
    expect(await jobState(job.id)).toMatchObject({
      state: 'COMPLETED',
      runs: [{ id: run.runId, state: 'COMPLETED', exitCode: 0, logStoredThrough: 6 }],
    });

    const stale = [
      [MARK_STARTED, { input: lease }],
      [APPEND_LOGS, { input: { ...lease, lines: lines(7, 7) } }],
      [
        APPEND_METRICS,
        { input: { ...lease, samples: [{ ...samples[0]!, timestamp: new Date().toISOString() }] } },
      ],
      [FINISH_RUN, { input: { ...lease, outcome: 'FAILED', exitCode: 1 } }],
      [
        FINISH_RUN,
        { input: { ...lease, leaseToken: crypto.randomUUID(), outcome: 'COMPLETED', exitCode: 0 } },
      ],
    ] as const;
    for (const [query, variables] of stale) {
      const refused = await overSocket(client, query, variables);
      expect(refused.errors?.[0]?.extensions, query).toMatchObject({
        code: 'CONFLICT',
        reason: 'STALE_LEASE',
      });
    }
    expect((await jobState(job.id)).runs[0]!.logStoredThrough).toBe(6);
    expect(
      await sql(server, 'select count(*)::int as n from run_metric_sample where run_id = ?', [run.runId]),
    ).toEqual([{ n: 2 }]);
    wakeups.stop();
    await client.dispose();
  });

  it('refuses oversized and foreign batches, storing none of them', async () => {
    const { queue, client } = await idleAgent();
    const other = await idleAgent();
    const definition = await createBashDefinition(owner.client, owner.projectId);
    await submitJob(owner.client, { definition: definition.id, queue: queue.id });
    const run = await claimOne(client);
    const lease = { runId: run.runId, leaseToken: run.leaseToken };

    const refusals: [string, CookieClient | Parameters<typeof overSocket>[0], unknown[], string, RegExp][] = [
      ['2001 lines', client, lines(1, 2001), 'BAD_USER_INPUT', /at most 2000 lines/],
      [
        '5 MiB',
        client,
        lines(1, 350).map((line) => ({ ...line, text: 'z'.repeat(15_000) })),
        'BAD_USER_INPUT',
        /4194304 bytes/,
      ],
      [
        'a 17 KiB line',
        client,
        [{ ...lines(1, 1)[0]!, text: 'w'.repeat(17 * 1024) }],
        'BAD_USER_INPUT',
        /16384/,
      ],
      ['seq 0', client, [{ ...lines(1, 1)[0]!, seq: 0 }], 'BAD_USER_INPUT', /seq starts at 1/],
      ["another agent's run", other.client, lines(1, 2), 'CONFLICT', /not held with this lease/],
    ];
    for (const [what, via, batch, code, message] of refusals) {
      const result = await overSocket(via as Parameters<typeof overSocket>[0], APPEND_LOGS, {
        input: { ...lease, lines: batch },
      });
      expect(result.errors?.[0]?.extensions, what).toMatchObject({ code });
      expect(result.errors?.[0]?.message, what).toMatch(message);
    }
    expect(
      await sql(server, `select count(*)::int as n from (${STORED_LOG_LINES}) line where run_id = ?`, [
        run.runId,
      ]),
    ).toEqual([{ n: 0 }]);
    await client.dispose();
    await other.client.dispose();
  });

  it('cancelling a running job rings its agent, which finishes the run as CANCELLED', async () => {
    const { queue, agent, client, wakeups } = await idleAgent();
    const definition = await createBashDefinition(owner.client, owner.projectId);
    const job = await submitJob(owner.client, { definition: definition.id, queue: queue.id });
    const run = await claimOne(client);
    const lease = { runId: run.runId, leaseToken: run.leaseToken };
    await overSocket(client, MARK_STARTED, { input: lease });

    const retire = `mutation R($spawnId: ID!) { retireComputeSpawn(input: { spawnId: $spawnId }) { computeSpawn { id } } }`;
    const busy = firstError(await gql(owner.client, retire, { spawnId: agent.spawnId }));
    expect(busy.extensions).toMatchObject({ code: 'CONFLICT' });
    expect(busy.message).toMatch(/still running jobs/);

    await ok(owner.client, CANCEL, { job: job.id });
    await waitFor(
      () => wakeups.results.some((result) => result.data?.agentWakeups.reason === 'CANCEL_REQUESTED'),
      { what: 'the cancel ring' },
    );
    expect(wakeups.results.at(-1)).toEqual({
      data: { agentWakeups: { reason: 'CANCEL_REQUESTED', runId: run.runId } },
    });
    const beat = await overSocket<{ agentHeartbeat: { cancelRunIds: string[] } }>(client, HEARTBEAT, {
      input: { slotsUsed: 1, cpuPercent: 12.5, memoryUsedMiB: 512 },
    });
    expect(beat.data!.agentHeartbeat.cancelRunIds).toEqual([run.runId]);
    const finished = await overSocket(client, FINISH_RUN, {
      input: { ...lease, outcome: 'CANCELLED', exitCode: 143 },
    });
    expect(finished.data).toEqual({ finishRun: { jobState: 'CANCELLED' } });
    wakeups.stop();
    await client.dispose();
  });

  it('an agent going offline while it holds a run hands the run back at once', async () => {
    const { queue, agent, client } = await idleAgent();
    const definition = await createBashDefinition(owner.client, owner.projectId);
    const job = await submitJob(owner.client, { definition: definition.id, queue: queue.id });
    const run = await claimOne(client);
    await overSocket(client, MARK_STARTED, { input: { runId: run.runId, leaseToken: run.leaseToken } });

    expect((await overSocket(client, GOING_OFFLINE)).data).toEqual({ agentGoingOffline: true });
    // Its lease ended now: the next sweep finds the machine LOST, and the run fails over by its retry policy.
    await waitFor(async () => (await jobState(job.id)).runs[0]!.state === 'ERROR', {
      what: 'the run to fail over',
    });
    const [spawn] = await sql<{ state: string }>(server, 'select state from compute_spawn where id = ?', [
      agent.spawnId,
    ]);
    expect(spawn!.state).toBe('LOST');
    await client.dispose();
  });

  it('a run whose claim never reached the agent fails over once its heartbeats leave it out', async () => {
    const { queue, client } = await idleAgent();
    const definition = await createBashDefinition(owner.client, owner.projectId, {
      retryPolicy: { attempts: 2, backoff: 'FIXED', baseSeconds: 1, retryOn: ['INFRA_FAILURE'] },
    });
    const job = await submitJob(owner.client, { definition: definition.id, queue: queue.id });
    // The claim's answer is lost on its way: the agent holds nothing.
    const run = await claimOne(client);
    const heartbeat = (heldRunIds: string[]) =>
      overSocket(client, HEARTBEAT, { input: { slotsUsed: heldRunIds.length, heldRunIds } });

    expect((await heartbeat([])).errors).toBeUndefined();
    expect((await jobState(job.id)).runs[0]!.state).toBe('STARTING');
    // Past the grace (AGENT_CLAIM_GRACE_SECONDS, 30 s by default).
    await sql(server, `update job_run set claimed_at = now() - interval '31 seconds' where id = ?`, [
      run.runId,
    ]);
    expect((await heartbeat([])).errors).toBeUndefined();

    const { state, runs } = await jobState(job.id);
    expect(runs[0]!.state).toBe('ERROR');
    expect(state).toBe('PENDING');
    const [note] = await sql<{ system_note: string }>(
      server,
      'select system_note from job_run where id = ?',
      [run.runId],
    );
    expect(note!.system_note).toMatch(/^the agent did not hold this run/);
    const tooMany = firstError(await heartbeat(Array.from({ length: 1001 }, () => run.runId)));
    expect(tooMany.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'heldRunIds' });
    await client.dispose();
  });

  it('deletes a compute environment once nothing runs on it; its runs keep where they ran', async () => {
    const { queue, environment, client } = await idleAgent();
    const definition = await createBashDefinition(owner.client, owner.projectId);
    await submitJob(owner.client, { definition: definition.id, queue: queue.id });
    const run = await claimOne(client);
    const lease = { runId: run.runId, leaseToken: run.leaseToken };
    await overSocket(client, MARK_STARTED, { input: lease });
    await ok(owner.client, LINK, { queue: queue.id, environments: [] });
    const DELETE =
      'mutation D($id: ID!) { deleteComputeEnvironment(input: { computeEnvironment: $id }) { deletedComputeEnvironmentId } }';
    const audited = async () =>
      (
        await sql<{ action: string }>(
          server,
          `select action from audit_event where details->>'computeEnvironmentId' = ? and action like 'compute_environment.%'
           order by created_at`,
          [environment.id],
        )
      ).map((event) => event.action);

    const busy = firstError(await gql(owner.client, DELETE, { id: environment.id }));
    expect(busy.extensions).toMatchObject({ code: 'CONFLICT' });
    expect(busy.message).toMatch(/is still running a job: cancel them or let them finish first/);
    expect(await audited()).toEqual(['compute_environment.created']);

    await overSocket(client, FINISH_RUN, { input: { ...lease, outcome: 'COMPLETED', exitCode: 0 } });
    expect(await ok(owner.client, DELETE, { id: environment.id })).toEqual({
      deleteComputeEnvironment: { deletedComputeEnvironmentId: environment.id },
    });
    expect(await audited()).toEqual(['compute_environment.created', 'compute_environment.deleted']);
    const RUN =
      'query R($id: ID!) { jobRun(id: $id) { state spawn { id } spawnHostname computeEnvironmentName } }';
    expect(await ok(owner.client, RUN, { id: run.runId })).toEqual({
      jobRun: {
        state: 'COMPLETED',
        spawn: null,
        spawnHostname: 'test-machine',
        computeEnvironmentName: environment.name,
      },
    });
    await client.dispose();
  });

  it('opens a DOCKER run’s registry login for the claiming agent', async () => {
    const { queue, client } = await idleAgent();
    const registry = await ok<{ createRegistryAuth: { registryAuth: { id: string } } }>(
      owner.client,
      `mutation C($input: CreateRegistryAuthInput!) { createRegistryAuth(input: $input) { registryAuth { id } } }`,
      {
        input: {
          projectId: owner.projectId,
          name: uniqueName('registry'),
          registryUrl: 'registry.example.test:5000',
          username: 'robot',
          password: 'registry-password-1234',
        },
      },
    );
    const definition = await ok<{ createJobDefinition: { jobDefinition: { id: string } } }>(
      owner.client,
      CREATE_DEFINITION,
      {
        input: {
          projectId: owner.projectId,
          name: uniqueName('def'),
          type: 'DOCKER',
          image: 'registry.example.test:5000/private/app:1',
          registryAuthId: registry.createRegistryAuth.registryAuth.id,
        },
      },
    );
    await submitJob(owner.client, {
      definition: definition.createJobDefinition.jobDefinition.id,
      queue: queue.id,
    });
    const run = await claimOne(client);
    expect(run).toMatchObject({
      type: 'DOCKER',
      image: 'registry.example.test:5000/private/app:1',
      registryCredential: {
        serverAddress: 'registry.example.test:5000',
        username: 'robot',
        token: 'registry-password-1234',
      },
    });
    await client.dispose();
  });
});

describe('jobRunLogs', () => {
  it('pages in order for whoever may read the project, and is NOT_FOUND to anyone else', async () => {
    const { queue, client } = await idleAgent();
    const definition = await createBashDefinition(owner.client, owner.projectId);
    await submitJob(owner.client, { definition: definition.id, queue: queue.id });
    const run = await claimOne(client);
    await overSocket(client, APPEND_LOGS, {
      input: {
        runId: run.runId,
        leaseToken: run.leaseToken,
        lines: [...lines(1, 4), ...lines(5, 7, 'STDERR')],
      },
    });

    const reader = await apiTokenClient(server, owner, ['READ']);
    type Page = { jobRunLogs: { lines: { seq: number }[]; cursor: number; hasMore: boolean } };
    const seqs = (page: Page) => page.jobRunLogs.lines.map((line) => line.seq);
    const first = await ok<Page>(reader, RUN_LOGS, { runId: run.runId, first: 3 });
    expect(seqs(first)).toEqual([1, 2, 3]);
    expect(first.jobRunLogs).toMatchObject({ cursor: 3, hasMore: true });
    const rest = await ok<Page>(reader, RUN_LOGS, { runId: run.runId, after: 3, first: 10 });
    expect(seqs(rest)).toEqual([4, 5, 6, 7]);
    expect(rest.jobRunLogs).toMatchObject({ cursor: 7, hasMore: false });
    expect(seqs(await ok<Page>(reader, RUN_LOGS, { runId: run.runId, stream: 'STDERR' }))).toEqual([5, 6, 7]);
    expect(firstError(await gql(reader, RUN_LOGS, { runId: run.runId, first: 0 })).extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
    });

    const stranger = await signUpPerson(server, 'Nosy');
    for (const query of [RUN_LOGS, RUN_METRICS]) {
      const hidden = firstError(await gql(stranger.client, query, { runId: run.runId }));
      expect(hidden.extensions).toMatchObject({ code: 'NOT_FOUND' });
    }
    await client.dispose();
  });
});
