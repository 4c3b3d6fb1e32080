import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiTokenClient, signUpPerson, type Person } from './support/people.js';
import { startTestServer, type TestServer } from './support/server.js';
import {
  CANCEL,
  CREATE_ENVIRONMENT,
  LINK,
  SET_ENABLED,
  SUBMIT,
  createBashDefinition,
  createQueue,
  createSelfHostedEnvironment,
  firstError,
  gql,
  ok,
  socketFor,
  sql,
  submitJob,
  uniqueName,
} from './support/workloads.js';

// Queues, compute environments, jobs and cron schedules through the full server.

let server: TestServer;
let owner: Person;
beforeAll(async () => {
  server = await startTestServer();
  owner = await signUpPerson(server, 'Jo');
});
afterAll(() => server?.stop());

const JOB_VIEW = `id name state systemNote canCancel canResubmit attempts command
  definition { id version } queue { id } resubmittedFrom { id }
  parameters { key value } environment { name sensitive value maskedValue source }`;
const JOB = `query J($id: ID!) { job(id: $id) { ${JOB_VIEW} } }`;
const RESUBMIT = `mutation R($job: ID!) { resubmitJob(input: { job: $job }) { job { ${JOB_VIEW} } } }`;

/** Puts a job straight into a state, as the scheduler would have. */
async function forceState(jobId: string, state: string): Promise<void> {
  await sql(server, 'update job set state = ?::job_state where id = ?', [state, jobId]);
}

describe('job queues', () => {
  it('start disabled, cannot be enabled without a compute environment, and disable when the last is unlinked', async () => {
    const queue = await createQueue(owner.client, owner.projectId);
    expect(queue).toMatchObject({ enabled: false });
    const refused = firstError(await gql(owner.client, SET_ENABLED, { queue: queue.id, enabled: true }));
    expect(refused.extensions).toMatchObject({ code: 'CONFLICT' });
    expect(refused.message).toMatch(/no compute environment to run on: link one/);

    const first = await createSelfHostedEnvironment(owner.client, owner.projectId);
    const second = await createSelfHostedEnvironment(owner.client, owner.projectId);
    const linked = await ok<{
      setJobQueueComputeEnvironments: { jobQueue: { computeEnvironments: { id: string }[] } };
    }>(
      owner.client,
      LINK,
      // Order matters (placement tries them in turn); references work as well as ids.
      { queue: queue.id, environments: [`default::${second.name}`, first.id] },
    );
    expect(
      linked.setJobQueueComputeEnvironments.jobQueue.computeEnvironments.map((environment) => environment.id),
    ).toEqual([second.id, first.id]);
    expect(await ok(owner.client, SET_ENABLED, { queue: queue.id, enabled: true })).toMatchObject({
      setJobQueueEnabled: { jobQueue: { enabled: true } },
    });
    const twice = firstError(
      await gql(owner.client, LINK, { queue: queue.id, environments: [first.id, first.id] }),
    );
    expect(twice.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'computeEnvironments' });

    const unlinked = await ok(owner.client, LINK, { queue: queue.id, environments: [] });
    expect(unlinked).toMatchObject({
      setJobQueueComputeEnvironments: { jobQueue: { enabled: false, computeEnvironments: [] } },
    });
  });

  it('validates settings and refuses deletion while jobs are unfinished', async () => {
    const UPDATE = `mutation U($input: UpdateJobQueueInput!) { updateJobQueue(input: $input) {
      jobQueue { priority maxConcurrency maxIdleSeconds description } } }`;
    const queue = await createQueue(owner.client, owner.projectId);
    for (const [input, field] of [
      [{ priority: 0 }, 'priority'],
      [{ priority: 1001 }, 'priority'],
      [{ maxConcurrency: -1 }, 'maxConcurrency'],
      [{ maxIdleSeconds: -5 }, 'maxIdleSeconds'],
    ] as const) {
      const error = firstError(await gql(owner.client, UPDATE, { input: { queue: queue.id, ...input } }));
      expect(error.extensions, field).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    expect(
      await ok(owner.client, UPDATE, {
        input: { queue: `default::${queue.name}`, priority: 5, description: ' nightly ' },
      }),
    ).toMatchObject({
      updateJobQueue: { jobQueue: { priority: 5, maxConcurrency: 0, description: 'nightly' } },
    });

    const definition = await createBashDefinition(owner.client, owner.projectId);
    const job = await submitJob(owner.client, { definition: definition.id, queue: queue.id });
    const DELETE =
      'mutation D($queue: ID!) { deleteJobQueue(input: { queue: $queue }) { deletedJobQueueId } }';
    const refused = firstError(await gql(owner.client, DELETE, { queue: queue.id }));
    expect(refused.extensions).toMatchObject({ code: 'CONFLICT' });
    expect(refused.message).toMatch(/1 unfinished job/);
    await ok(owner.client, CANCEL, { job: job.id });
    expect(await ok(owner.client, DELETE, { queue: queue.id })).toEqual({
      deleteJobQueue: { deletedJobQueueId: queue.id },
    });
  });
});

describe('compute environments', () => {
  it('returns a self-hosted registration token once and stores only its hash; rotation replaces it', async () => {
    const environment = await createSelfHostedEnvironment(owner.client, owner.projectId, {
      slotsPerSpawn: 4,
    });
    expect(environment.registrationToken).toMatch(/^dreg_[A-Za-z0-9_-]{43}$/);
    expect(environment.registrationTokenPrefix).toBe(environment.registrationToken.slice(0, 12));
    const hashOf = async () =>
      (
        await sql<{ hash: string }>(
          server,
          'select registration_token_hash as hash from compute_environment where id = ?',
          [environment.id],
        )
      )[0]!.hash;
    expect(await hashOf()).toBe(createHash('sha256').update(environment.registrationToken).digest('hex'));
    const read = await gql(
      owner.client,
      'query E($id: ID!) { computeEnvironment(id: $id) { id kind slotsPerSpawn registrationTokenPrefix spawns { id } queues { id } } }',
      { id: environment.id },
    );
    expect(JSON.stringify(read)).not.toContain(environment.registrationToken);
    expect(read.data).toMatchObject({
      computeEnvironment: { kind: 'SELF_HOSTED', slotsPerSpawn: 4, spawns: [], queues: [] },
    });

    const rotated = await ok<{ rotateRegistrationToken: { registrationToken: string } }>(
      owner.client,
      'mutation R($id: ID!) { rotateRegistrationToken(input: { computeEnvironment: $id }) { registrationToken } }',
      { id: environment.id },
    );
    expect(rotated.rotateRegistrationToken.registrationToken).not.toBe(environment.registrationToken);
    expect(await hashOf()).toBe(
      createHash('sha256').update(rotated.rotateRegistrationToken.registrationToken).digest('hex'),
    );
  });

  it('checks the fields of each kind and the plan limit on cloud spawns', async () => {
    const create = (input: Record<string, unknown>) =>
      gql(owner.client, CREATE_ENVIRONMENT, {
        input: { projectId: owner.projectId, name: uniqueName('env'), ...input },
      });
    const cloud = {
      kind: 'CLOUD',
      cloudAuthId: '0190a000-0000-7000-8000-000000000000',
      region: 'fra1',
      instanceType: 's-1vcpu-1gb',
      maxSpawns: 1,
    };
    const cases: [Record<string, unknown>, string, string][] = [
      [{ kind: 'SELF_HOSTED', slotsPerSpawn: 0 }, 'BAD_USER_INPUT', 'slotsPerSpawn'],
      [{ kind: 'SELF_HOSTED', slotsPerSpawn: 257 }, 'BAD_USER_INPUT', 'slotsPerSpawn'],
      [{ kind: 'SELF_HOSTED', region: 'fra1' }, 'BAD_USER_INPUT', 'region'],
      [{ ...cloud, cloudAuthId: null }, 'BAD_USER_INPUT', 'cloudAuthId'],
      [{ ...cloud, region: '  ' }, 'BAD_USER_INPUT', 'region'],
      [{ ...cloud, instanceType: '' }, 'BAD_USER_INPUT', 'instanceType'],
      [{ ...cloud, maxSpawns: 0 }, 'BAD_USER_INPUT', 'maxSpawns'],
      // The FREE plan allows 2 compute spawns.
      [{ ...cloud, maxSpawns: 3 }, 'LIMIT_EXCEEDED', 'computeSpawns'],
      [{ ...cloud }, 'NOT_FOUND', ''],
    ];
    for (const [input, code, field] of cases) {
      const error = firstError(await create(input));
      expect(error.extensions?.code, JSON.stringify(input)).toBe(code);
      if (code === 'BAD_USER_INPUT') expect(error.extensions?.field, JSON.stringify(input)).toBe(field);
      if (code === 'LIMIT_EXCEEDED') expect(error.extensions).toMatchObject({ name: field, limit: 2 });
    }
  });

  it('refuses deletion while a queue links it', async () => {
    const environment = await createSelfHostedEnvironment(owner.client, owner.projectId);
    const queue = await createQueue(owner.client, owner.projectId);
    await ok(owner.client, LINK, { queue: queue.id, environments: [environment.id] });
    const DELETE =
      'mutation D($id: ID!) { deleteComputeEnvironment(input: { computeEnvironment: $id }) { deletedComputeEnvironmentId } }';
    const refused = firstError(await gql(owner.client, DELETE, { id: environment.id }));
    expect(refused.extensions).toMatchObject({ code: 'CONFLICT' });
    expect(refused.message).toContain(queue.name);
    await ok(owner.client, LINK, { queue: queue.id, environments: [] });
    expect(await ok(owner.client, DELETE, { id: environment.id })).toEqual({
      deleteComputeEnvironment: { deletedComputeEnvironmentId: environment.id },
    });
    const audited = await sql<{ action: string }>(
      server,
      `select action from audit_event where details->>'computeEnvironmentId' = ? order by created_at`,
      [environment.id],
    );
    expect(audited.map((event) => event.action)).toEqual([
      'compute_environment.created',
      'compute_environment.deleted',
    ]);
  });
});

describe('jobs', () => {
  it('submits with parameters merged over defaults, and names every missing Param:: key', async () => {
    const definition = await createBashDefinition(owner.client, owner.projectId, {
      command: ['Param::greeting', 'Param::who', '--count=Param::count'],
      parameters: [{ key: 'who', value: 'world' }],
    });
    const queue = await createQueue(owner.client, owner.projectId);
    const missing = firstError(
      await gql(owner.client, SUBMIT, { input: { definition: definition.id, queue: queue.id } }),
    );
    expect(missing.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'parameters',
      missing: ['greeting', 'count'],
    });
    expect(missing.message).toMatch(/Param::greeting, Param::count/);

    const job = await submitJob(owner.client, {
      definition: `default::${definition.name}`,
      queue: `default::${queue.name}`,
      parameters: [
        { key: 'greeting', value: 'hello' },
        { key: 'count', value: '3' },
      ],
      env: [{ name: 'TOKEN', value: 'job-secret-value-0123456789', sensitive: true }],
    });
    expect(job.name).toMatch(new RegExp(`^${definition.name}-[0-9a-f]{8}$`));
    const read = await gql<{ job: Record<string, unknown> }>(owner.client, JOB, { id: job.id });
    expect(JSON.stringify(read)).not.toContain('job-secret-value-0123456789');
    expect(read.data!.job).toMatchObject({
      command: ['hello', 'world', '--count=3'],
      canCancel: true,
      canResubmit: false,
      environment: [{ name: 'TOKEN', sensitive: true, value: null, maskedValue: '••••6789', source: 'JOB' }],
    });
    // Why it waits comes from the scheduler's own rules.
    const waiting = await ok<{ job: { waitingReason: { code: string; message: string } } }>(
      owner.client,
      'query W($id: ID!) { job(id: $id) { waitingReason { code message } } }',
      { id: job.id },
    );
    expect(waiting.job.waitingReason).toMatchObject({
      code: 'QUEUE_DISABLED',
      message: expect.stringContaining(queue.name),
    });
  });

  it('keeps job names unique per queue and refuses what cannot run', async () => {
    const definition = await createBashDefinition(owner.client, owner.projectId);
    const queue = await createQueue(owner.client, owner.projectId);
    const other = await createQueue(owner.client, owner.projectId);
    await submitJob(owner.client, { definition: definition.id, queue: queue.id, name: 'nightly' });
    await submitJob(owner.client, { definition: definition.id, queue: other.id, name: 'nightly' });
    const again = firstError(
      await gql(owner.client, SUBMIT, {
        input: { definition: definition.id, queue: queue.id, name: 'nightly' },
      }),
    );
    expect(again.extensions).toMatchObject({ code: 'CONFLICT', field: 'name' });
    const badName = firstError(
      await gql(owner.client, SUBMIT, {
        input: { definition: definition.id, queue: queue.id, name: 'no spaces' },
      }),
    );
    expect(badName.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });

    await ok(
      owner.client,
      'mutation X($id: ID!) { deactivateJobDefinition(input: { definition: $id }) { jobDefinitions { id } } }',
      {
        id: definition.id,
      },
    );
    const inactive = firstError(
      await gql(owner.client, SUBMIT, { input: { definition: definition.id, queue: queue.id } }),
    );
    expect(inactive.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'definition' });
    expect(inactive.message).toMatch(/deactivated/);
  });

  it('needs a verified address and the WRITE scope to submit', async () => {
    const unverified = await signUpPerson(server, 'Una', { verify: false });
    const definition = await createBashDefinition(unverified.client, unverified.projectId);
    const queue = await createQueue(unverified.client, unverified.projectId);
    const refused = firstError(
      await gql(unverified.client, SUBMIT, { input: { definition: definition.id, queue: queue.id } }),
    );
    expect(refused.extensions).toMatchObject({ code: 'FORBIDDEN' });
    expect(refused.message).toMatch(/Verify your email/);

    const readOnly = await apiTokenClient(server, owner, ['READ']);
    const ownDefinition = await createBashDefinition(owner.client, owner.projectId);
    const ownQueue = await createQueue(owner.client, owner.projectId);
    const scoped = firstError(
      await gql(readOnly, SUBMIT, { input: { definition: ownDefinition.id, queue: ownQueue.id } }),
    );
    expect(scoped).toMatchObject({
      extensions: { code: 'FORBIDDEN' },
      message: expect.stringMatching(/WRITE scope/),
    });
    const writer = await apiTokenClient(server, owner, ['READ', 'WRITE']);
    const submitted = await submitJob(writer, { definition: ownDefinition.id, queue: ownQueue.id });
    const [row] = await sql<{ created_by_token_id: string | null }>(
      server,
      'select created_by_token_id from job where id = ?',
      [submitted.id],
    );
    expect(row!.created_by_token_id).not.toBeNull();
  });

  it('cancels from every state before a run at once, and through CANCELLING once one started', async () => {
    const definition = await createBashDefinition(owner.client, owner.projectId);
    const queue = await createQueue(owner.client, owner.projectId);
    for (const [state, after] of [
      ['SUBMITTED', 'CANCELLED'],
      ['PENDING', 'CANCELLED'],
      ['RUNNABLE', 'CANCELLED'],
      ['STARTING', 'CANCELLING'],
      ['RUNNING', 'CANCELLING'],
    ] as const) {
      const job = await submitJob(owner.client, { definition: definition.id, queue: queue.id });
      await forceState(job.id, state);
      const cancelled = await ok<{ cancelJob: { job: Record<string, unknown> } }>(owner.client, CANCEL, {
        job: job.id,
      });
      expect(cancelled.cancelJob.job, state).toMatchObject({
        state: after,
        systemNote: 'Cancelled by Jo.',
        canCancel: false,
      });
      // A second cancel of a cancelling job changes nothing; of a cancelled one, it says why not.
      const again = await gql<{ cancelJob: { job: { state: string } } }>(owner.client, CANCEL, {
        job: job.id,
      });
      if (after === 'CANCELLING') expect(again.data!.cancelJob.job.state).toBe('CANCELLING');
      else expect(firstError(again).extensions).toMatchObject({ code: 'CONFLICT' });
    }
  });

  it('resubmits finished jobs only, with the same version and overrides', async () => {
    const definition = await createBashDefinition(owner.client, owner.projectId, { command: ['Param::n'] });
    const queue = await createQueue(owner.client, owner.projectId);
    const job = await submitJob(owner.client, {
      definition: definition.id,
      queue: queue.id,
      parameters: [{ key: 'n', value: '7' }],
      env: [{ name: 'SECRET', value: 'resubmitted-secret-value', sensitive: true }],
    });
    const unfinished = firstError(await gql(owner.client, RESUBMIT, { job: job.id }));
    expect(unfinished).toMatchObject({
      extensions: { code: 'CONFLICT' },
      message: expect.stringMatching(/still SUBMITTED/),
    });

    await ok(
      owner.client,
      'mutation U($id: ID!) { updateJobDefinition(input: { definition: $id, cpu: 2 }) { jobDefinition { id } } }',
      {
        id: definition.id,
      },
    );
    await forceState(job.id, 'FAILED');
    expect(await ok(owner.client, JOB, { id: job.id })).toMatchObject({
      job: { canResubmit: true, canCancel: false },
    });
    const resubmitted = await gql<{ resubmitJob: { job: Record<string, unknown> } }>(owner.client, RESUBMIT, {
      job: job.id,
    });
    expect(JSON.stringify(resubmitted)).not.toContain('resubmitted-secret-value');
    expect(resubmitted.data!.resubmitJob.job).toMatchObject({
      state: 'SUBMITTED',
      definition: { id: definition.id, version: 1 },
      resubmittedFrom: { id: job.id },
      command: ['7'],
      environment: [{ name: 'SECRET', sensitive: true, value: null }],
    });
    // Its sealed values are its own: they open under the new job's id.
    const [row] = await sql<{ overrides: { env: { value: { ciphertext: string } }[] } }>(
      server,
      'select overrides from job where id = ? or id = ? order by created_at',
      [job.id, (resubmitted.data!.resubmitJob.job as { id: string }).id],
    );
    expect(row!.overrides.env).toHaveLength(1);
  });

  it('pages jobs newest first with filters, without gaps or repeats', async () => {
    const person = await signUpPerson(server, 'Paz');
    const definition = await createBashDefinition(person.client, person.projectId);
    const queue = await createQueue(person.client, person.projectId);
    const submitted: string[] = [];
    for (let index = 0; index < 23; index += 1) {
      submitted.push(
        (await submitJob(person.client, { definition: definition.id, queue: queue.id, name: `job-${index}` }))
          .id,
      );
    }
    // Several jobs created in the same millisecond must still page in a stable order.
    await sql(server, 'update job set created_at = ? where id = any(?::uuid[])', [
      new Date('2026-01-01T00:00:00Z'),
      `{${submitted.slice(5, 15).join(',')}}`,
    ]);
    const JOBS = `query P($projectId: ID!, $after: String, $filter: JobFilter) {
      jobs(projectId: $projectId, first: 4, after: $after, filter: $filter) {
        edges { cursor node { id name createdAt } } pageInfo { hasNextPage hasPreviousPage endCursor } } }`;
    const all = async (filter?: Record<string, unknown>) => {
      const seen: { id: string; name: string; createdAt: string }[] = [];
      let after: string | null = null;
      for (;;) {
        const page: {
          jobs: {
            edges: { node: { id: string; name: string; createdAt: string } }[];
            pageInfo: { hasNextPage: boolean; endCursor: string };
          };
        } = await ok(person.client, JOBS, { projectId: person.projectId, after, filter });
        seen.push(...page.jobs.edges.map((edge) => edge.node));
        if (!page.jobs.pageInfo.hasNextPage) return seen;
        after = page.jobs.pageInfo.endCursor;
      }
    };
    const everything = await all();
    expect(new Set(everything.map((job) => job.id)).size).toBe(23);
    expect(everything.map((job) => job.id).sort()).toEqual([...submitted].sort());
    const order = everything.map((job) => [Date.parse(job.createdAt), job.id] as const);
    expect(order).toEqual([...order].sort((a, b) => b[0] - a[0] || (a[1] < b[1] ? 1 : -1)));

    expect((await all({ text: 'job-1' })).map((job) => job.name).sort()).toEqual(
      ['job-1', ...Array.from({ length: 10 }, (_, index) => `job-1${index}`)].sort(),
    );
    expect(await all({ states: ['COMPLETED'] })).toEqual([]);
    expect(await all({ createdBefore: '2026-06-01T00:00:00Z' })).toHaveLength(10);
    expect(await all({ queueId: `default::${queue.name}`, definitionName: definition.name })).toHaveLength(
      23,
    );
    const bad = firstError(await gql(person.client, JOBS, { projectId: person.projectId, after: 'garbage' }));
    expect(bad.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  });

  it('publishes a cancel to jobEvents subscribers of the project', async () => {
    const definition = await createBashDefinition(owner.client, owner.projectId);
    const queue = await createQueue(owner.client, owner.projectId);
    const token = await ok<{ createApiToken: { secret: string } }>(
      owner.client,
      'mutation T($input: CreateApiTokenInput!) { createApiToken(input: $input) { secret } }',
      { input: { name: 'events', organizationId: owner.organizationId, scopes: ['READ'] } },
    );
    const socket = socketFor(server, { authToken: token.createApiToken.secret });
    type Event = { data?: { jobEvents: { jobId: string } & Record<string, unknown> } };
    try {
      const first = new Promise<Event>((resolve, reject) => {
        socket.subscribe(
          {
            query: `subscription E($projectId: ID!, $filter: JobEventFilter) {
              jobEvents(projectId: $projectId, filter: $filter) { jobId queueId from to systemNote job { id state } } }`,
            variables: { projectId: owner.projectId, filter: { states: ['CANCELLED'], queueId: queue.id } },
          },
          { next: (event) => resolve(event as Event), error: reject, complete: () => undefined },
        );
      });
      // The server starts listening a moment after the subscribe message: cancel jobs until one is seen.
      const cancelled = new Map<string, string>();
      let event: Event | undefined;
      first.then(
        (value) => (event = value),
        () => undefined,
      );
      for (let round = 0; !event && round < 50; round += 1) {
        const job = await submitJob(owner.client, { definition: definition.id, queue: queue.id });
        const before = (await ok<{ job: { state: string } }>(owner.client, JOB, { id: job.id })).job.state;
        await ok(owner.client, CANCEL, { job: job.id });
        cancelled.set(job.id, before);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const received = (await first).data!.jobEvents;
      expect(cancelled.has(received.jobId)).toBe(true);
      expect(received).toMatchObject({
        queueId: queue.id,
        to: 'CANCELLED',
        systemNote: 'Cancelled by Jo.',
        job: { id: received.jobId, state: 'CANCELLED' },
      });
      expect(['SUBMITTED', 'PENDING']).toContain(received.from);
    } finally {
      await socket.dispose();
    }
  });
});

describe('cron schedules', () => {
  const CREATE = `mutation C($input: CreateCronScheduleInput!) { createCronSchedule(input: $input) {
    cronSchedule { id expression timezone enabled nextFireAt nextFireTimes(count: 5) } } }`;

  it('shows the next fire times in the schedule’s timezone and keeps nextFireAt in step', async () => {
    const person = await signUpPerson(server, 'Cora');
    const definition = await createBashDefinition(person.client, person.projectId);
    const queue = await createQueue(person.client, person.projectId);
    const created = await ok<{
      createCronSchedule: { cronSchedule: { id: string; nextFireAt: string; nextFireTimes: string[] } };
    }>(person.client, CREATE, {
      input: {
        name: 'weekday-mornings',
        expression: '30 9 * * 1-5',
        timezone: 'Europe/Berlin',
        definition: definition.id,
        queue: queue.id,
      },
    });
    const { nextFireAt, nextFireTimes } = created.createCronSchedule.cronSchedule;
    expect(nextFireTimes).toHaveLength(5);
    const inBerlin = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/Berlin',
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hour12: false,
    });
    for (const time of nextFireTimes) {
      const parts = Object.fromEntries(
        inBerlin.formatToParts(new Date(time)).map((part) => [part.type, part.value]),
      );
      expect(`${parts.hour}:${parts.minute}`).toBe('09:30');
      expect(['Mon', 'Tue', 'Wed', 'Thu', 'Fri']).toContain(parts.weekday);
    }
    const times = nextFireTimes.map((time) => Date.parse(time));
    expect(times[0]).toBeGreaterThan(Date.now());
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(nextFireAt).toBe(nextFireTimes[0]);

    const UPDATE = `mutation U($input: UpdateCronScheduleInput!) { updateCronSchedule(input: $input) {
      cronSchedule { enabled nextFireAt timezone nextFireTimes(count: 1) } } }`;
    const id = created.createCronSchedule.cronSchedule.id;
    expect(await ok(person.client, UPDATE, { input: { schedule: id, enabled: false } })).toMatchObject({
      updateCronSchedule: { cronSchedule: { enabled: false, nextFireAt: null } },
    });
    const tokyo = await ok<{
      updateCronSchedule: { cronSchedule: { nextFireAt: string; nextFireTimes: string[] } };
    }>(person.client, UPDATE, { input: { schedule: id, enabled: true, timezone: 'Asia/Tokyo' } });
    expect(tokyo.updateCronSchedule.cronSchedule.nextFireAt).toBe(
      tokyo.updateCronSchedule.cronSchedule.nextFireTimes[0],
    );
    // 09:30 in Tokyo is 00:30 UTC.
    expect(new Date(tokyo.updateCronSchedule.cronSchedule.nextFireAt).toISOString()).toMatch(
      /T00:30:00\.000Z$/,
    );

    // The FREE plan allows one schedule.
    const second = firstError(
      await gql(person.client, CREATE, {
        input: { name: 'another', expression: '0 * * * *', definition: definition.id, queue: queue.id },
      }),
    );
    expect(second.extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', name: 'cronSchedules' });
  });

  it('refuses expressions and timezones it cannot read, and schedules that could not run', async () => {
    const definition = await createBashDefinition(owner.client, owner.projectId, { command: ['Param::x'] });
    const queue = await createQueue(owner.client, owner.projectId);
    const base = {
      name: uniqueName('cron'),
      definition: definition.id,
      queue: queue.id,
      parameters: [{ key: 'x', value: '1' }],
    };
    for (const [input, field, message] of [
      [{ expression: '* * * * * *' }, 'expression', /five fields/],
      [{ expression: '61 * * * *' }, 'expression', /minute/],
      [{ expression: '0 0 31 2 *' }, 'expression', /never fires/],
      [{ expression: '0 * * * *', timezone: 'Mars/Olympus' }, 'timezone', /IANA name/],
      [{ expression: '0 * * * *', parameters: [] }, 'parameters', /Param::x/],
    ] as const) {
      const error = firstError(await gql(owner.client, CREATE, { input: { ...base, ...input } }));
      expect(error.extensions, field).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(error.message).toMatch(message);
    }
  });
});

describe('organizations see only their own workloads', () => {
  it('answers NOT_FOUND for another organization’s ids and references, in every query and mutation', async () => {
    const stranger = await signUpPerson(server, 'Stan');
    const definition = await createBashDefinition(owner.client, owner.projectId);
    const queue = await createQueue(owner.client, owner.projectId);
    const environment = await createSelfHostedEnvironment(owner.client, owner.projectId);
    const job = await submitJob(owner.client, { definition: definition.id, queue: queue.id });
    const schedule = await ok<{ createCronSchedule: { cronSchedule: { id: string } } }>(
      owner.client,
      `mutation C($input: CreateCronScheduleInput!) { createCronSchedule(input: $input) { cronSchedule { id } } }`,
      {
        input: {
          name: uniqueName('cron'),
          expression: '0 3 * * *',
          definition: definition.id,
          queue: queue.id,
        },
      },
    );
    const scheduleId = schedule.createCronSchedule.cronSchedule.id;
    const [spawn] = await sql<{ id: string }>(
      server,
      `insert into compute_spawn (id, compute_environment_id, state, hostname, slots, slots_used, created_at)
       values (gen_random_uuid(), ?, 'ONLINE', 'box', 1, 0, now()) returning id`,
      [environment.id],
    );
    const [run] = await sql<{ id: string }>(
      server,
      `insert into job_run (id, job_id, attempt, state, spawn_id, spawn_hostname, compute_environment_name, created_at)
       values (gen_random_uuid(), ?, 1, 'RUNNING', ?, 'box', ?, now()) returning id`,
      [job.id, spawn!.id, environment.name],
    );
    const strangerDefinition = await createBashDefinition(stranger.client, stranger.projectId);
    const strangerQueue = await createQueue(stranger.client, stranger.projectId);

    const project = owner.projectId;
    const operations: [string, string, Record<string, unknown>][] = [
      ['jobDefinition', 'query Q($id: ID!) { jobDefinition(id: $id) { id } }', { id: definition.id }],
      [
        'jobDefinition by reference',
        'query Q($id: ID!) { jobDefinition(id: $id) { id } }',
        { id: `default::${definition.name}` },
      ],
      [
        'jobDefinitions',
        'query Q($p: ID!) { jobDefinitions(projectId: $p) { edges { cursor } } }',
        { p: project },
      ],
      [
        'jobDefinitionVersions',
        'query Q($p: ID!) { jobDefinitionVersions(projectId: $p, name: "x") { id } }',
        { p: project },
      ],
      ['jobQueues', 'query Q($p: ID!) { jobQueues(projectId: $p) { id } }', { p: project }],
      ['jobQueue', 'query Q($id: ID!) { jobQueue(id: $id) { id } }', { id: queue.id }],
      [
        'computeEnvironments',
        'query Q($p: ID!) { computeEnvironments(projectId: $p) { id } }',
        { p: project },
      ],
      [
        'computeEnvironment',
        'query Q($id: ID!) { computeEnvironment(id: $id) { id } }',
        { id: environment.id },
      ],
      ['jobs', 'query Q($p: ID!) { jobs(projectId: $p) { edges { cursor } } }', { p: project }],
      ['job', 'query Q($id: ID!) { job(id: $id) { id } }', { id: job.id }],
      ['jobRun', 'query Q($id: ID!) { jobRun(id: $id) { id } }', { id: run!.id }],
      ['cronSchedules', 'query Q($p: ID!) { cronSchedules(projectId: $p) { id } }', { p: project }],
      ['cronSchedule', 'query Q($id: ID!) { cronSchedule(id: $id) { id } }', { id: scheduleId }],
      [
        'createJobDefinition',
        'mutation M($p: ID!) { createJobDefinition(input: { projectId: $p, name: "x", type: BASH, script: "true" }) { warnings } }',
        { p: project },
      ],
      [
        'updateJobDefinition',
        'mutation M($id: ID!) { updateJobDefinition(input: { definition: $id, cpu: 2 }) { warnings } }',
        { id: definition.id },
      ],
      [
        'deactivateJobDefinition',
        'mutation M($id: ID!) { deactivateJobDefinition(input: { definition: $id }) { jobDefinitions { id } } }',
        { id: definition.id },
      ],
      [
        'createJobQueue',
        'mutation M($p: ID!) { createJobQueue(input: { projectId: $p, name: "x" }) { jobQueue { id } } }',
        { p: project },
      ],
      [
        'updateJobQueue',
        'mutation M($id: ID!) { updateJobQueue(input: { queue: $id, priority: 2 }) { jobQueue { id } } }',
        { id: queue.id },
      ],
      ['setJobQueueEnabled', SET_ENABLED, { queue: queue.id, enabled: false }],
      ['setJobQueueComputeEnvironments', LINK, { queue: queue.id, environments: [] }],
      [
        'link another organization’s environment',
        LINK,
        { queue: strangerQueue.id, environments: [environment.id] },
      ],
      [
        'deleteJobQueue',
        'mutation M($id: ID!) { deleteJobQueue(input: { queue: $id }) { deletedJobQueueId } }',
        { id: queue.id },
      ],
      [
        'createComputeEnvironment',
        'mutation M($p: ID!) { createComputeEnvironment(input: { projectId: $p, name: "x", kind: SELF_HOSTED }) { registrationToken } }',
        { p: project },
      ],
      [
        'rotateRegistrationToken',
        'mutation M($id: ID!) { rotateRegistrationToken(input: { computeEnvironment: $id }) { registrationToken } }',
        { id: environment.id },
      ],
      [
        'deleteComputeEnvironment',
        'mutation M($id: ID!) { deleteComputeEnvironment(input: { computeEnvironment: $id }) { deletedComputeEnvironmentId } }',
        { id: environment.id },
      ],
      ['submitJob', SUBMIT, { input: { definition: definition.id, queue: queue.id } }],
      [
        'submitJob to another organization’s queue',
        SUBMIT,
        { input: { definition: strangerDefinition.id, queue: queue.id } },
      ],
      ['cancelJob', CANCEL, { job: job.id }],
      ['resubmitJob', RESUBMIT, { job: job.id }],
      [
        'createCronSchedule',
        'mutation M($d: ID!, $q: ID!) { createCronSchedule(input: { name: "x", expression: "0 * * * *", definition: $d, queue: $q }) { cronSchedule { id } } }',
        { d: definition.id, q: queue.id },
      ],
      [
        'updateCronSchedule',
        'mutation M($id: ID!) { updateCronSchedule(input: { schedule: $id, enabled: false }) { cronSchedule { id } } }',
        { id: scheduleId },
      ],
      [
        'deleteCronSchedule',
        'mutation M($id: ID!) { deleteCronSchedule(input: { schedule: $id }) { deletedCronScheduleId } }',
        { id: scheduleId },
      ],
    ];
    for (const [label, query, variables] of operations) {
      const error = firstError(await gql(stranger.client, query, variables));
      expect(error.extensions?.code, label).toBe('NOT_FOUND');
    }

    const socket = socketFor(server, { cookie: stranger.client.cookieHeader() });
    try {
      const error = await new Promise<unknown>((resolve) => {
        socket.subscribe(
          {
            query: 'subscription S($p: ID!) { jobEvents(projectId: $p) { jobId } }',
            variables: { p: project },
          },
          { next: (result) => resolve(result), error: resolve, complete: () => undefined },
        );
      });
      expect(JSON.stringify(error)).toContain('NOT_FOUND');
    } finally {
      await socket.dispose();
    }

    // Nothing of the owner's changed (the scheduler may have moved the job on, but nobody cancelled it).
    const after = await ok<{ job: { state: string; systemNote: string | null } }>(owner.client, JOB, {
      id: job.id,
    });
    expect(['SUBMITTED', 'PENDING']).toContain(after.job.state);
    expect(after.job.systemNote).toBeNull();

    // Its own owner cannot delete the environment either while a job runs on it.
    const kept = firstError(
      await gql(
        owner.client,
        'mutation M($id: ID!) { deleteComputeEnvironment(input: { computeEnvironment: $id }) { deletedComputeEnvironmentId } }',
        { id: environment.id },
      ),
    );
    expect(kept).toMatchObject({
      extensions: { code: 'CONFLICT' },
      message: expect.stringMatching(/is still running a job/),
    });
    expect(
      await ok(owner.client, 'query Q($id: ID!) { computeEnvironment(id: $id) { id } }', {
        id: environment.id,
      }),
    ).toEqual({ computeEnvironment: { id: environment.id } });
  });
});
