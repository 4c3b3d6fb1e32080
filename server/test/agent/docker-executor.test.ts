import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startDockerEngine, startRegistry, type DockerEngine } from '../../../test/support/docker-engine.js';
import {
  DockerExecutor,
  RUN_ID_LABEL,
  type DockerRunSpec,
  type PullPolicy,
} from '../../src/agent/executors/docker.js';
import { MIB } from '../../src/agent/executors/executor.js';
import { createLogger } from '../../src/logger.js';
import { recordRun } from '../support/run-recorder.js';

// One private dockerd for the whole file (about 1 s to start with its busybox image).
let engine: DockerEngine;
beforeAll(async () => {
  engine = await startDockerEngine();
});
afterAll(() => engine?.stop());

afterEach(async () => {
  // Every run removes its container, whatever its end.
  expect(await engine.docker.listContainers({ all: true })).toEqual([]);
});

const log = createLogger('silent');

function dockerSpec(command: string[], overrides: Partial<DockerRunSpec> = {}): DockerRunSpec {
  return {
    runId: randomUUID(),
    kind: 'DOCKER',
    image: engine.busyboxImage,
    command,
    env: {},
    cpu: 0,
    memoryMiB: 0,
    privileged: false,
    timeoutSeconds: 0,
    ...overrides,
  };
}

/** Starts a run; `cancel()` aborts it, `done` is its result. */
function start(spec: DockerRunSpec, pullPolicy: PullPolicy = 'IF_NOT_PRESENT') {
  const executor = new DockerExecutor({ docker: engine.docker, log, statsIntervalMs: 1_000, pullPolicy });
  const recorder = recordRun();
  const controller = new AbortController();
  const done = executor.run(spec, controller.signal, recorder.sink);
  return { recorder, done, cancel: () => controller.abort() };
}

async function execute(spec: DockerRunSpec, pullPolicy?: PullPolicy) {
  const { recorder, done } = start(spec, pullPolicy);
  return { result: await done, recorder };
}

const sh = (script: string, ...args: string[]) => ['sh', '-c', script, 'sh', ...args];

describe('docker executor', () => {
  it('reports the exit code and keeps stdout and stderr apart', async () => {
    const { result, recorder } = await execute(
      dockerSpec(sh('echo to-out; echo to-err >&2; echo more-out; exit 7')),
    );

    expect(result).toEqual({ exitCode: 7, outcome: 'EXITED', systemNote: null });
    expect(recorder.stdout()).toBe('to-out\nmore-out\n');
    expect(recorder.stderr()).toBe('to-err\n');
    expect(recorder.startedAt()).toBeDefined();
  });

  it('runs the command with the env', async () => {
    const { result, recorder } = await execute(
      dockerSpec(
        sh(`printf '[%s]' "$@"; echo; printf '%s|%s\\n' "$GREETING" "$QUOTED"`, 'one two', '$HOME', ''),
        {
          env: { GREETING: 'hello wörld', QUOTED: `it's "quoted" $NOT_EXPANDED` },
        },
      ),
    );

    expect(result.exitCode).toBe(0);
    expect(recorder.stdout()).toBe(`[one two][$HOME][]\nhello wörld|it's "quoted" $NOT_EXPANDED\n`);
  });

  it('decodes a UTF-8 character split across two writes as one character', async () => {
    const { recorder } = await execute(dockerSpec(sh(`printf 'caf\\303'; sleep 0.3; printf '\\251\\n'`)));

    // The first frame ended inside "é": its text came out without the half character.
    expect(recorder.chunks).toEqual([
      { stream: 'STDOUT', text: 'caf' },
      { stream: 'STDOUT', text: 'é\n' },
    ]);
  });

  it('cancel stops the container: a process that handles SIGTERM ends within the grace period', async () => {
    const run = start(
      dockerSpec(sh(`trap 'echo got TERM; exit 3' TERM; echo ready; while :; do sleep 0.1; done`), {
        gracePeriodSeconds: 5,
      }),
    );
    await run.recorder.waitForStdout('ready');
    const cancelledAt = performance.now();
    run.cancel();
    const result = await run.done;

    expect(performance.now() - cancelledAt).toBeLessThan(2_500);
    expect(result).toEqual({
      exitCode: 3,
      outcome: 'CANCELLED',
      systemNote: 'Cancelled: sent SIGTERM, and it ended within the 5 s grace period.',
    });
    expect(run.recorder.stdout()).toBe('ready\ngot TERM\n');
  });

  it('cancel kills the container after the grace period when SIGTERM is ignored', async () => {
    const run = start(
      dockerSpec(sh(`trap '' TERM; echo ready; while :; do sleep 0.1; done`), { gracePeriodSeconds: 1 }),
    );
    await run.recorder.waitForStdout('ready');
    const cancelledAt = performance.now();
    run.cancel();
    const result = await run.done;
    const elapsed = performance.now() - cancelledAt;

    expect(elapsed).toBeGreaterThanOrEqual(1_000);
    expect(elapsed).toBeLessThan(3_500);
    expect(result).toEqual({
      exitCode: 137,
      outcome: 'CANCELLED',
      systemNote:
        'Cancelled: sent SIGTERM, then SIGKILL because it was still running after the 1 s grace period.',
    });
  });

  it('times out', async () => {
    // sleep as PID 1 has no SIGTERM handler, so the kernel ignores TERM: it ends at SIGKILL.
    const startedAt = performance.now();
    const { result } = await execute(
      dockerSpec(['sleep', '30'], { timeoutSeconds: 1, gracePeriodSeconds: 1 }),
    );

    expect(performance.now() - startedAt).toBeLessThan(5_000);
    expect(result).toEqual({
      exitCode: 137,
      outcome: 'TIMED_OUT',
      systemNote:
        'Timed out after 1 s: sent SIGTERM, then SIGKILL because it was still running after the 1 s grace period.',
    });
  });

  it('reports a container killed for exceeding its memory limit as OOM_KILLED', async () => {
    // exec: the allocator is PID 1, so its death is the container's exit (137).
    const { result, recorder } = await execute(
      dockerSpec(sh('echo allocating; exec dd if=/dev/zero of=/dev/null bs=200M count=1'), { memoryMiB: 64 }),
    );

    expect(result).toEqual({
      exitCode: 137,
      outcome: 'OOM_KILLED',
      systemNote: 'Out of memory: a process exceeded the 64 MiB memory limit and the kernel killed it.',
    });
    expect(recorder.stdout()).toBe('allocating\n');
  });

  it('creates the container with the limits, network mode and label of the spec, and reports stats', async () => {
    const spec = dockerSpec(sh('echo busy; timeout 3 sh -c "while :; do :; done"; ls /sys/class/net'), {
      cpu: 0.5,
      memoryMiB: 64,
      networkMode: 'none',
    });
    const run = start(spec);
    await run.recorder.waitForStdout('busy');
    // all: the engine's container list may show "created" for a moment after the start.
    const [listed] = await engine.docker.listContainers({
      all: true,
      filters: { label: [`${RUN_ID_LABEL}=${spec.runId}`] },
    });
    const { HostConfig } = await engine.docker.getContainer(listed!.Id).inspect();
    const result = await run.done;

    expect(HostConfig).toMatchObject({
      NanoCpus: 500_000_000,
      Memory: 64 * MIB,
      MemorySwap: 64 * MIB,
      Privileged: false,
      NetworkMode: 'none',
    });
    expect(result).toEqual({ exitCode: 0, outcome: 'EXITED', systemNote: null });
    expect(run.recorder.stdout()).toBe('busy\nlo\n');
    const { stats } = run.recorder;
    expect(stats.length).toBeGreaterThanOrEqual(2);
    expect(stats.every((sample) => sample.memoryLimitBytes === 64 * MIB && sample.memoryBytes > 0)).toBe(
      true,
    );
    // Half a CPU: busy, but held to about 50 %.
    const busiest = Math.max(...stats.map((sample) => sample.cpuPercent));
    expect(busiest).toBeGreaterThan(10);
    expect(busiest).toBeLessThan(75);
  });

  it('runs privileged containers only when asked', async () => {
    const mount = sh('mount -t tmpfs none /mnt && echo mounted');
    const { result: privileged, recorder } = await execute(dockerSpec(mount, { privileged: true }));
    expect(privileged).toEqual({ exitCode: 0, outcome: 'EXITED', systemNote: null });
    expect(recorder.stdout()).toBe('mounted\n');

    const { result: unprivileged } = await execute(dockerSpec(mount));
    expect(unprivileged.outcome).toBe('EXITED');
    expect(unprivileged.exitCode).not.toBe(0);
  });

  it('reports a command the image does not have as FAILED_TO_START', async () => {
    const { result, recorder } = await execute(dockerSpec(['no-such-program']));

    expect(result.outcome).toBe('FAILED_TO_START');
    expect(result.exitCode).toBeNull();
    expect(result.systemNote).toMatch(/^Could not start the container: .*no-such-program.*not found/);
    expect(recorder.startedAt()).toBeUndefined();
  });

  describe('from a private registry', () => {
    const credentials = { username: 'daestro', password: 'correct horse battery' };
    let image: string;
    let registryAddress: string;
    let stopRegistry: () => Promise<void>;
    beforeAll(async () => {
      const registry = await startRegistry(engine, credentials);
      stopRegistry = registry.stop;
      registryAddress = registry.address;
      image = await registry.push(engine.busyboxImage, 'team/private', '1');
    });
    afterAll(() => stopRegistry?.());
    afterEach(async () => {
      // Make the next run pull again.
      await engine.docker
        .getImage(image)
        .remove()
        .catch(() => undefined);
    });

    it('pulls with the registry credentials', async () => {
      await engine.docker.getImage(image).remove();
      const { result, recorder } = await execute(
        dockerSpec(['echo', 'pulled and ran'], {
          image,
          registryAuth: { serverAddress: registryAddress, ...credentials },
        }),
        'ALWAYS',
      );

      expect(result).toEqual({ exitCode: 0, outcome: 'EXITED', systemNote: null });
      expect(recorder.stdout()).toBe('pulled and ran\n');
    });

    it('reports a pull refused for a wrong password as FAILED_TO_START, with the registry’s reason', async () => {
      const { result, recorder } = await execute(
        dockerSpec(['echo', 'never'], {
          image,
          registryAuth: {
            serverAddress: registryAddress,
            username: credentials.username,
            password: 'wrong password',
          },
        }),
        'ALWAYS',
      );

      expect(result).toEqual({
        exitCode: null,
        outcome: 'FAILED_TO_START',
        systemNote: `Could not pull the image ${image}: unauthorized: authentication required`,
      });
      expect(recorder.startedAt()).toBeUndefined();
      await expect(engine.docker.getImage(image).inspect()).rejects.toThrow(/no such image/i);
    });

    it('does not reach a private image without credentials', async () => {
      const { result } = await execute(dockerSpec(['echo', 'never'], { image }), 'ALWAYS');

      expect(result.outcome).toBe('FAILED_TO_START');
      expect(result.systemNote).toBe(
        `Could not pull the image ${image}: Head "http://${registryAddress}/v2/team/private/manifests/1": no basic auth credentials`,
      );
    });
  });
});
