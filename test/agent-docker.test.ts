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
import {
  startDockerEngine,
  startRegistry,
  type DockerEngine,
  type LocalRegistry,
} from './support/docker-engine.js';
import { signUpPerson, type Person } from './support/people.js';
import { startTestServer, type TestServer } from './support/server.js';
import { CANCEL, ok, sql } from './support/workloads.js';

// DOCKER jobs end to end: the server, a real `daestro agent` process, a private dockerd, a local registry.

const REGISTRY_USER = { username: 'daestro-ci', password: 'registry-pass-8d1f2c' };

let server: TestServer;
let engine: DockerEngine;
let registry: LocalRegistry;
let owner: Person;
let queueId: string;
let agent: AgentProcess;
beforeAll(async () => {
  [server, engine] = await Promise.all([
    // A run its restarted agent does not list is failed over 3 s after its claim (kill -9 test).
    startTestServer({ env: { ...FAST_SERVER_ENV, AGENT_CLAIM_GRACE_SECONDS: '3' } }),
    startDockerEngine(),
  ]);
  registry = await startRegistry(engine, REGISTRY_USER);
  owner = await signUpPerson(server, 'Kat');
  // Two registry auths (right and wrong password); the free plan allows one.
  await sql(server, "update organization set plan = 'TEAM' where id = ?", [owner.organizationId]);
  const queue = await createAgentQueue(owner, { slotsPerSpawn: 2 });
  queueId = queue.queueId;
  agent = await startAgent({
    url: server.url,
    token: queue.registrationToken,
    env: {
      DOCKER_HOST: `unix://${engine.socketPath}`,
      // Local images only (no registry is reachable from here) unless a test removes one first.
      DAESTRO_AGENT_PULL_POLICY: 'if-not-present',
      DAESTRO_AGENT_DOCKER_NETWORK: 'none',
    },
  });
}, 120_000);
afterAll(async () => {
  await agent?.kill();
  await registry?.stop();
  await Promise.all([server?.stop(), engine?.stop()]);
});

function dockerJob(command: string[], definition: Record<string, unknown> = {}) {
  return submit(owner, queueId, { type: 'DOCKER', image: engine.busyboxImage, command, ...definition });
}

describe('a docker job on a real agent', () => {
  it('completes with its exit code, both streams in order, DAESTRO_* variables, metrics, and secrets masked', async () => {
    const secret = 'container-secret-93b7f1';
    const jobId = await dockerJob(
      [
        'sh',
        '-c',
        'for i in $(seq 1 100); do echo "c $i"; done; echo oops >&2; env | grep ^DAESTRO_ | sort; ' +
          'echo "key=$KEY"; echo "$KEY" | base64; sleep 2; echo bye',
      ],
      { env: [{ name: 'KEY', value: secret, sensitive: true }] },
    );
    const job = await waitForEnd(owner.client, jobId);
    expect(job.state).toBe('COMPLETED');
    const [run] = job.runs;
    expect(run).toMatchObject({ state: 'COMPLETED', exitCode: 0 });

    const lines = await runLogs(owner.client, run!.id);
    expectContiguous(lines);
    const stdout = lines.filter((line) => line.stream === 'STDOUT').map((line) => line.text);
    expect(stdout.slice(0, 100)).toEqual(Array.from({ length: 100 }, (_, i) => `c ${i + 1}`));
    expect(stdout).toContain(`DAESTRO_JOB_ID=${jobId}`);
    expect(stdout).toContain(`DAESTRO_JOB_RUN_ID=${run!.id}`);
    expect(stdout).toContain('key=***');
    expect(stdout.at(-1)).toBe('bye');
    expect(lines.filter((line) => line.stream === 'STDERR').map((line) => line.text)).toEqual(['oops']);
    const all = lines.map((line) => line.text).join('\n');
    expect(all).not.toContain(secret);
    expect(all).not.toContain(Buffer.from(`${secret}\n`).toString('base64').slice(0, 20));

    const metrics = await runMetrics(owner.client, run!.id);
    expect(metrics.length).toBeGreaterThan(0);
    expect(metrics[0]!.memoryLimitBytes).toBe(256 * 1024 * 1024);
    expect(metrics.some((sample) => sample.memoryBytes > 0)).toBe(true);
  });

  it('fails with the container’s exit code', async () => {
    const job = await waitForEnd(owner.client, await dockerJob(['sh', '-c', 'exit 7']));
    expect(job.state).toBe('FAILED');
    expect(job.runs[0]).toMatchObject({ state: 'FAILED', exitCode: 7, failureClass: 'APP_FAILURE' });
  });

  it('reports a container killed for its memory limit as out of memory', async () => {
    const job = await waitForEnd(
      owner.client,
      await dockerJob(['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=200M', 'count=1'], { memoryMiB: 64 }),
    );
    expect(job.state).toBe('FAILED');
    expect(job.runs[0]).toMatchObject({ state: 'FAILED', exitCode: 137 });
    expect(job.runs[0]!.systemNote).toMatch(/Out of memory: a process exceeded the 64 MiB memory limit/);
  });

  it('cancels a busy container that ignores SIGTERM within the grace period', async () => {
    const jobId = await dockerJob(['sh', '-c', 'trap "" TERM; echo ready; while true; do sleep 0.1; done']);
    await waitForJob(owner.client, jobId, (job) => job.state === 'RUNNING', { what: 'RUNNING' });
    const cancelledAt = Date.now();
    await ok(owner.client, CANCEL, { job: jobId });
    const job = await waitForEnd(owner.client, jobId);
    expect(job.state).toBe('CANCELLED');
    expect(job.runs[0]!.systemNote).toMatch(/then SIGKILL/);
    // 1 s grace, plus the engine's stop and the report.
    expect(Date.parse(job.runs[0]!.finishedAt!) - cancelledAt).toBeLessThan(5_000);
    expect(await engine.docker.listContainers({ all: true })).toEqual([]);
  });

  describe('from a private registry', () => {
    const CREATE_REGISTRY = `mutation C($input: CreateRegistryAuthInput!) { createRegistryAuth(input: $input) { registryAuth { id } } }`;

    async function registryAuth(password: string): Promise<string> {
      const data = await ok<{ createRegistryAuth: { registryAuth: { id: string } } }>(
        owner.client,
        CREATE_REGISTRY,
        {
          input: {
            projectId: owner.projectId,
            name: `registry-${password.slice(-4)}-${Date.now()}`,
            registryUrl: registry.address,
            username: REGISTRY_USER.username,
            password,
          },
        },
      );
      return data.createRegistryAuth.registryAuth.id;
    }

    it('pulls a private image with the stored registry credentials', async () => {
      const image = await registry.push(engine.busyboxImage, 'team/private', 'v1');
      await engine.docker.getImage(image).remove();
      const jobId = await submit(owner, queueId, {
        type: 'DOCKER',
        image,
        registryAuthId: await registryAuth(REGISTRY_USER.password),
        command: ['echo', 'pulled and ran'],
      });
      const job = await waitForEnd(owner.client, jobId, 60_000);
      expect(job.state).toBe('COMPLETED');
      expect((await runLogs(owner.client, job.runs[0]!.id)).map((line) => line.text)).toEqual([
        'pulled and ran',
      ]);
    });

    it('errors (INFRA_FAILURE) with the registry’s reason when the credentials are wrong', async () => {
      const image = await registry.push(engine.busyboxImage, 'team/private', 'v2');
      await engine.docker.getImage(image).remove();
      const jobId = await submit(owner, queueId, {
        type: 'DOCKER',
        image,
        registryAuthId: await registryAuth('wrong-password-0000'),
        command: ['echo', 'never'],
      });
      const job = await waitForEnd(owner.client, jobId, 60_000);
      expect(job.state).toBe('ERROR');
      expect(job.runs[0]).toMatchObject({ state: 'ERROR', failureClass: 'INFRA_FAILURE' });
      expect(job.runs[0]!.systemNote).toMatch(/Could not pull the image .*unauthorized/i);
      expect(job.runs[0]!.systemNote).not.toContain('wrong-password-0000');
    });
  });
});

describe('kill -9 of a docker agent mid-run', () => {
  it('leaves the container running until the agent is back, which removes it before taking work', async () => {
    const queue = await createAgentQueue(owner, { slotsPerSpawn: 1 });
    const env = { DOCKER_HOST: `unix://${engine.socketPath}`, DAESTRO_AGENT_PULL_POLICY: 'if-not-present' };
    const first = await startAgent({ url: server.url, token: queue.registrationToken, env });
    const jobId = await submit(owner, queue.queueId, {
      type: 'DOCKER',
      image: engine.busyboxImage,
      command: ['sleep', '300'],
    });
    const running = await waitForJob(owner.client, jobId, (job) => job.state === 'RUNNING', {
      what: 'RUNNING',
    });
    const { id: runId, spawn } = running.runs[0]!;
    const ofThisSpawn = () =>
      engine.docker.listContainers({ all: true, filters: { label: [`io.daestro.spawn-id=${spawn.id}`] } });

    await first.kill();
    // Nothing stops a container whose agent died.
    expect(
      (await ofThisSpawn()).map((container) => [container.Labels['io.daestro.run-id'], container.State]),
    ).toEqual([[runId, 'running']]);

    const restarted = await startAgent({
      url: server.url,
      token: queue.registrationToken,
      stateDir: first.stateDir,
      env,
    });
    expect(await ofThisSpawn()).toEqual([]);
    const reaped = restarted.logs.find(
      (line) => line.msg === 'removed what runs of an earlier agent process left running',
    );
    expect(reaped).toMatchObject({ runIds: [runId] });
    const job = await waitForEnd(owner.client, jobId);
    expect(job.runs[0]).toMatchObject({ state: 'ERROR', failureClass: 'INFRA_FAILURE' });
    await restarted.kill();
    expect(await engine.docker.listContainers({ all: true })).toEqual([]);
  });
});
