import { afterAll, beforeAll, expect, it } from 'vitest';
import { signUpPerson, type Person } from './support/people.js';
import { startTestServer, type TestServer } from './support/server.js';
import {
  CANCEL,
  createBashDefinition,
  createQueue,
  firstError,
  gql,
  ok,
  sql,
  submitJob,
} from './support/workloads.js';

// jobStateCounts: what the overview shows per project.

let server: TestServer;
let owner: Person;
let stranger: Person;
beforeAll(async () => {
  server = await startTestServer();
  [owner, stranger] = await Promise.all([signUpPerson(server, 'Counts'), signUpPerson(server, 'Stranger')]);
});
afterAll(() => server?.stop());

const COUNTS = 'query C($projectId: ID!) { jobStateCounts(projectId: $projectId) { state count } }';

it('counts a project’s jobs by state, leaving out states with none', async () => {
  const definition = await createBashDefinition(owner.client, owner.projectId);
  // A disabled queue: its jobs wait in PENDING.
  const queue = await createQueue(owner.client, owner.projectId);
  const jobs = [];
  for (let index = 0; index < 4; index++) {
    jobs.push(await submitJob(owner.client, { definition: definition.id, queue: queue.id }));
  }
  await ok(owner.client, CANCEL, { job: jobs[0]!.id });
  // As the scheduler would have moved it.
  await sql(server, "update job set state = 'FAILED'::job_state where id = ?", [jobs[1]!.id]);

  const { jobStateCounts } = await ok<{ jobStateCounts: { state: string; count: number }[] }>(
    owner.client,
    COUNTS,
    { projectId: owner.projectId },
  );
  const byState = Object.fromEntries(jobStateCounts.map(({ state, count }) => [state, count]));
  const waiting = (byState.SUBMITTED ?? 0) + (byState.PENDING ?? 0);
  expect({ CANCELLED: byState.CANCELLED, FAILED: byState.FAILED, waiting }).toEqual({
    CANCELLED: 1,
    FAILED: 1,
    waiting: 2,
  });
  expect(jobStateCounts.every(({ count }) => count > 0)).toBe(true);

  // Nothing in another person's project.
  const theirs = await ok<{ jobStateCounts: unknown[] }>(stranger.client, COUNTS, {
    projectId: stranger.projectId,
  });
  expect(theirs.jobStateCounts).toEqual([]);
});

it('treats a project of another organization as not found', async () => {
  const refused = firstError(await gql(stranger.client, COUNTS, { projectId: owner.projectId }));
  expect(refused.extensions).toMatchObject({ code: 'NOT_FOUND' });
});
