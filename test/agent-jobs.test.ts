import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FAST_SERVER_ENV,
  createAgentQueue,
  expectContiguous,
  runLogs,
  runMetrics,
  startAgent,
  submit,
  waitForEnd,
  waitForJob,
  type AgentProcess,
} from './support/agent-runtime.js';
import { signUpPerson, type Person } from './support/people.js';
import { startTestServer, type TestServer } from './support/server.js';
import { CANCEL, ok } from './support/workloads.js';

// Bash jobs end to end: the server, a real `daestro agent` process, real bash.

let server: TestServer;
let owner: Person;
let queueId: string;
let agent: AgentProcess;
beforeAll(async () => {
  server = await startTestServer({ env: FAST_SERVER_ENV });
  owner = await signUpPerson(server, 'Ada');
  const queue = await createAgentQueue(owner, { slotsPerSpawn: 4 });
  queueId = queue.queueId;
  agent = await startAgent({ url: server.url, token: queue.registrationToken });
});
afterAll(async () => {
  await agent?.kill();
  await server?.stop();
});

const SECRET = 'sk-live-4f9a2c71e0b3d8a6';

describe('a bash job on a real agent', () => {
  it('completes with its output in order, both streams, DAESTRO_* variables, metrics, and secrets masked', async () => {
    const script = `
echo "hello $1 from $GREETING"
for i in $(seq 1 300); do echo "line $i"; done
echo "to stderr" >&2
env | grep '^DAESTRO_' | sort
printf 'split: %s' "\${API_KEY:0:7}"; sleep 0.3; printf '%s\\n' "\${API_KEY:7}"
echo "base64: $(printf 'token=%s' "$API_KEY" | base64 -w0)"
echo "plain: $API_KEY"
sleep 1.5
echo done`;
    const jobId = await submit(owner, queueId, {
      type: 'BASH',
      script,
      command: ['world'],
      env: [
        { name: 'GREETING', value: 'bash' },
        { name: 'API_KEY', value: SECRET, sensitive: true },
      ],
    });
    const job = await waitForEnd(owner.client, jobId);
    expect(job.state).toBe('COMPLETED');
    const [run] = job.runs;
    expect(run).toMatchObject({ state: 'COMPLETED', exitCode: 0, attempt: 1 });

    const lines = await runLogs(owner.client, run!.id);
    expectContiguous(lines);
    const stdout = lines.filter((line) => line.stream === 'STDOUT').map((line) => line.text);
    expect(stdout[0]).toBe('hello world from bash');
    expect(stdout.slice(1, 301)).toEqual(Array.from({ length: 300 }, (_, i) => `line ${i + 1}`));
    expect(stdout.at(-1)).toBe('done');
    expect(lines.filter((line) => line.stream === 'STDERR').map((line) => line.text)).toEqual(['to stderr']);

    const variables = Object.fromEntries(
      stdout.filter((text) => text.startsWith('DAESTRO_')).map((text) => text.split('=') as [string, string]),
    );
    expect(variables).toMatchObject({
      DAESTRO_JOB_ID: jobId,
      DAESTRO_JOB_RUN_ID: run!.id,
      DAESTRO_COMPUTE_SPAWN_ID: run!.spawn.id,
    });
    expect(variables.DAESTRO_JOB_QUEUE_NAME).toMatch(/^queue-/);
    expect(variables.DAESTRO_COMPUTE_ENV_NAME).toMatch(/^env-/);

    const all = lines.map((line) => line.text).join('\n');
    expect(all).not.toContain(SECRET);
    expect(all).not.toContain(SECRET.slice(0, 7) + SECRET.slice(7, 12));
    // The secret's own base64 characters (not those shared with "token=") never appear.
    expect(all).not.toContain(Buffer.from(`token=${SECRET}`).toString('base64').slice(10, 30));
    expect(stdout).toContain('split: ***');
    expect(stdout).toContain('plain: ***');
    expect(stdout.find((text) => text.startsWith('base64: '))).toContain('***');

    const metrics = await runMetrics(owner.client, run!.id);
    expect(metrics.length).toBeGreaterThan(0);
    expect(metrics.some((sample) => sample.memoryBytes > 0)).toBe(true);
    expect(metrics[0]!.memoryLimitBytes).toBe(256 * 1024 * 1024);
  });

  it('fails with the exit code of a failing script', async () => {
    const jobId = await submit(owner, queueId, { type: 'BASH', script: 'echo about to fail; exit 3' });
    const job = await waitForEnd(owner.client, jobId);
    expect(job.state).toBe('FAILED');
    expect(job.runs[0]).toMatchObject({ state: 'FAILED', exitCode: 3, failureClass: 'APP_FAILURE' });
    expect((await runLogs(owner.client, job.runs[0]!.id)).map((line) => line.text)).toEqual([
      'about to fail',
    ]);
  });

  it('times out a busy job that ignores SIGTERM, killing it after the grace period', async () => {
    const jobId = await submit(owner, queueId, {
      type: 'BASH',
      timeoutSeconds: 1,
      script: `trap 'echo got TERM' TERM; echo busy; while true; do sleep 0.1; done`,
    });
    const job = await waitForEnd(owner.client, jobId);
    expect(job.state).toBe('TIMEOUT');
    const [run] = job.runs;
    expect(run).toMatchObject({ state: 'TIMEOUT', failureClass: 'TIMEOUT' });
    expect(run!.systemNote).toMatch(/Timed out after 1 s: sent SIGTERM, then SIGKILL/);
    // 1 s timeout + 1 s grace, with room for a loaded machine; the server's own backstop would take 5 s more.
    const ranMs = Date.parse(run!.finishedAt!) - Date.parse(run!.startedAt!);
    expect(ranMs).toBeGreaterThanOrEqual(1_900);
    expect(ranMs).toBeLessThan(5_000);
    const stdout = (await runLogs(owner.client, run!.id)).filter((line) => line.stream === 'STDOUT');
    expect(stdout.map((line) => line.text)).toEqual(['busy', 'got TERM']);
  });

  it('cancels a busy job: the agent stops its process group within the grace period', async () => {
    const jobId = await submit(owner, queueId, {
      type: 'BASH',
      script: `echo ready; sleep 300 & wait`,
    });
    const running = await waitForJob(owner.client, jobId, (job) => job.state === 'RUNNING', {
      what: 'RUNNING',
    });
    const runId = running.runs[0]!.id;
    await waitForLine(runId, 'ready');
    const cancelledAt = Date.now();
    await ok(owner.client, CANCEL, { job: jobId });
    const job = await waitForEnd(owner.client, jobId);
    expect(job.state).toBe('CANCELLED');
    expect(job.runs[0]).toMatchObject({ state: 'CANCELLED' });
    expect(job.runs[0]!.systemNote).toMatch(/^Cancelled/);
    expect(Date.parse(job.runs[0]!.finishedAt!) - cancelledAt).toBeLessThan(4_000);
  });

  it('runs several jobs at once up to its slots', async () => {
    const jobIds = await Promise.all(
      [1, 2, 3, 4].map((n) => submit(owner, queueId, { type: 'BASH', script: `sleep 1; echo job ${n}` })),
    );
    const started = Date.now();
    const jobs = await Promise.all(jobIds.map((id) => waitForEnd(owner.client, id)));
    expect(jobs.map((job) => job.state)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED']);
    // Four 1 s jobs on four slots overlap.
    expect(Date.now() - started).toBeLessThan(3_500);
  });
});

async function waitForLine(runId: string, text: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await runLogs(owner.client, runId)).some((line) => line.text === text)) {
    if (Date.now() > deadline) throw new Error(`no "${text}" in the log of ${runId}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
