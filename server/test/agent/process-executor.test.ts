import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIB } from '../../src/agent/executors/executor.js';
import { ProcessExecutor, type BashRunSpec } from '../../src/agent/executors/process.js';
import { createLogger } from '../../src/logger.js';
import { recordRun } from '../support/run-recorder.js';
import { waitFor } from '../support/wait-for.js';

let workRoot: string;
beforeAll(async () => {
  workRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'daestro-process-executor-'));
});
afterAll(() => fs.rm(workRoot, { recursive: true, force: true }));

const log = createLogger('silent');

function bashSpec(script: string, overrides: Partial<BashRunSpec> = {}): BashRunSpec {
  return {
    runId: randomUUID(),
    kind: 'BASH',
    script,
    command: [],
    env: {},
    cpu: 0,
    memoryMiB: 0,
    privileged: false,
    timeoutSeconds: 0,
    ...overrides,
  };
}

/** Starts a run; `cancel()` aborts it, `done` is its result. */
function start(spec: BashRunSpec, options: { cgroups?: boolean } = {}) {
  const executor = new ProcessExecutor({ workRoot, log, statsIntervalMs: 200, cgroups: options.cgroups });
  const recorder = recordRun();
  const controller = new AbortController();
  const done = executor.run(spec, controller.signal, recorder.sink);
  return { recorder, done, cancel: () => controller.abort() };
}

async function execute(spec: BashRunSpec, options: { cgroups?: boolean } = {}) {
  const { recorder, done } = start(spec, options);
  return { result: await done, recorder };
}

/** Whether `pid` is a process that has not exited (a zombie has). */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** SIGKILL takes effect asynchronously: a killed process is gone a moment later. */
function isGoneSoon(pid: number) {
  return waitFor(() => !isAlive(pid), { timeoutMs: 2_000, what: `process ${pid} to end` });
}

describe('process executor', () => {
  it('reports the exit code and keeps stdout and stderr apart', async () => {
    const { result, recorder } = await execute(
      bashSpec('echo to-out; echo to-err >&2; echo more-out; exit 7'),
    );

    expect(result).toEqual({ exitCode: 7, outcome: 'EXITED', systemNote: null });
    expect(recorder.stdout()).toBe('to-out\nmore-out\n');
    expect(recorder.stderr()).toBe('to-err\n');
    expect(recorder.startedAt()).toBeDefined();

    const { result: success } = await execute(bashSpec('true'));
    expect(success).toEqual({ exitCode: 0, outcome: 'EXITED', systemNote: null });
  });

  it('passes the command as arguments and env as variables, and none of the agent’s own environment', async () => {
    process.env.DAESTRO_AGENT_CREDENTIAL_FOR_TEST = 'agent-secret';
    try {
      const { result, recorder } = await execute(
        bashSpec(
          `printf '[%s]' "$@"; echo
printf '%s|%s|%s\\n' "$GREETING" "$QUOTED" "\${DAESTRO_AGENT_CREDENTIAL_FOR_TEST-unset}"
command -v sh >/dev/null && echo path-ok`,
          {
            command: ['one two', '$HOME', 'ünïcode', ''],
            env: { GREETING: 'hello world', QUOTED: `it's "quoted" $NOT_EXPANDED` },
          },
        ),
      );
      expect(result.exitCode).toBe(0);
      expect(recorder.stdout()).toBe(
        `[one two][$HOME][ünïcode][]\nhello world|it's "quoted" $NOT_EXPANDED|unset\npath-ok\n`,
      );
    } finally {
      delete process.env.DAESTRO_AGENT_CREDENTIAL_FOR_TEST;
    }
  });

  it('decodes a UTF-8 character split across two writes as one character', async () => {
    // "é" is C3 A9; the pause makes the two bytes arrive in separate reads.
    const { recorder } = await execute(
      bashSpec(
        `printf 'caf\\303'; sleep 0.3; printf '\\251\\n'; printf '\\342\\202' >&2; sleep 0.3; printf '\\254' >&2`,
      ),
    );

    expect(recorder.stdout()).toBe('café\n');
    expect(recorder.stderr()).toBe('€');
    // The first read ended inside "é": its text came out without the half character.
    expect(recorder.chunks).toEqual([
      { stream: 'STDOUT', text: 'caf' },
      { stream: 'STDOUT', text: 'é\n' },
      { stream: 'STDERR', text: '€' },
    ]);
  });

  it('runs in a fresh, empty work dir that is removed afterwards, script included', async () => {
    const { result, recorder } = await execute(bashSpec('pwd; echo "$0"; ls -A; touch made-by-job'));

    expect(result.exitCode).toBe(0);
    const [workDir, scriptFile, ...listing] = recorder.stdout().trim().split('\n');
    expect(listing).toEqual([]); // `ls -A` found nothing
    expect(workDir!.startsWith(workRoot)).toBe(true);
    await expect(fs.stat(workDir!)).rejects.toThrow(/ENOENT/);
    await expect(fs.stat(scriptFile!)).rejects.toThrow(/ENOENT/);
    expect(await fs.readdir(workRoot)).toEqual([]);
  });

  it('cancel sends SIGTERM to the process group; a script that traps it ends within the grace period', async () => {
    const run = start(
      bashSpec(`trap 'echo got TERM; exit 3' TERM; echo ready; while :; do sleep 0.1; done`, {
        gracePeriodSeconds: 5,
      }),
    );
    await run.recorder.waitForStdout('ready');
    const cancelledAt = performance.now();
    run.cancel();
    const result = await run.done;

    expect(performance.now() - cancelledAt).toBeLessThan(2_000);
    expect(result).toEqual({
      exitCode: 3,
      outcome: 'CANCELLED',
      systemNote: 'Cancelled: sent SIGTERM, and it ended within the 5 s grace period.',
    });
    expect(run.recorder.stdout()).toBe('ready\ngot TERM\n');
  });

  it('cancel sends SIGKILL after the grace period when SIGTERM is ignored, to every process of the group', async () => {
    // An ignored signal stays ignored in children, so the background sleeper ignores TERM too.
    const run = start(
      bashSpec(`trap '' TERM; sleep 300 & echo "ready $$ $!"; while :; do sleep 0.1; done`, {
        gracePeriodSeconds: 1,
      }),
    );
    await run.recorder.waitForStdout('ready');
    const [, shellPid, sleeperPid] = run.recorder.stdout().trim().split(' ').map(Number);
    const cancelledAt = performance.now();
    run.cancel();
    const result = await run.done;
    const elapsed = performance.now() - cancelledAt;

    expect(elapsed).toBeGreaterThanOrEqual(1_000);
    expect(elapsed).toBeLessThan(2_500);
    expect(result).toEqual({
      exitCode: null,
      signal: 'SIGKILL',
      outcome: 'CANCELLED',
      systemNote:
        'Cancelled: sent SIGTERM, then SIGKILL because it was still running after the 1 s grace period.',
    });
    expect(isAlive(shellPid!)).toBe(false); // the executor waited for it
    await isGoneSoon(sleeperPid!);
  });

  it('does not start a run cancelled before it began', async () => {
    const executor = new ProcessExecutor({ workRoot, log });
    const recorder = recordRun();
    const result = await executor.run(bashSpec('echo never'), AbortSignal.abort(), recorder.sink);

    expect(result).toEqual({
      exitCode: null,
      outcome: 'CANCELLED',
      systemNote: 'Cancelled before it started.',
    });
    expect(recorder.startedAt()).toBeUndefined();
    expect(recorder.stdout()).toBe('');
  });

  it('times out', async () => {
    const startedAt = performance.now();
    const { result, recorder } = await execute(bashSpec('echo started; sleep 30', { timeoutSeconds: 1 }));

    expect(performance.now() - startedAt).toBeLessThan(3_000);
    expect(result).toMatchObject({ outcome: 'TIMED_OUT', exitCode: null, signal: 'SIGTERM' });
    expect(result.systemNote).toBe(
      'Timed out after 1 s: sent SIGTERM, and it ended within the 10 s grace period.',
    );
    expect(recorder.stdout()).toBe('started\n');
  });

  it('does not start when the work dir cannot be made', async () => {
    const notADirectory = path.join(workRoot, 'a-file');
    await fs.writeFile(notADirectory, '');
    const executor = new ProcessExecutor({ workRoot: path.join(notADirectory, 'runs'), log });
    const recorder = recordRun();
    const result = await executor.run(bashSpec('echo never'), new AbortController().signal, recorder.sink);

    expect(result.outcome).toBe('FAILED_TO_START');
    expect(result.systemNote).toMatch(/^Could not create the work dir: /);
    expect(recorder.startedAt()).toBeUndefined();
    await fs.rm(notADirectory);
  });

  describe.each([
    { cgroups: true, what: 'cgroup' },
    { cgroups: false, what: 'process group from /proc' },
  ])('with usage read from the $what', ({ cgroups }) => {
    it('samples CPU and memory while the script runs', async () => {
      const { result, recorder } = await execute(
        bashSpec(`end=$((SECONDS + 2)); while [ $SECONDS -lt $end ]; do :; done`, { memoryMiB: 256 }),
        { cgroups },
      );

      expect(result.exitCode).toBe(0);
      expect(recorder.stats.length).toBeGreaterThanOrEqual(3);
      expect(Math.max(...recorder.stats.map((sample) => sample.cpuPercent))).toBeGreaterThan(20);
      expect(recorder.stats.every((sample) => sample.memoryBytes > 0)).toBe(true);
      expect(recorder.stats[0]!.memoryLimitBytes).toBe(cgroups ? 256 * MIB : os.totalmem());
      expect(result.systemNote).toBe(
        cgroups ? null : 'CPU and memory limits were not enforced: cgroups are turned off for this agent.',
      );
    });

    it('kills what the script left running when it exits', async () => {
      const { result, recorder } = await execute(bashSpec('sleep 300 & echo $!'), { cgroups });

      expect(result).toMatchObject({ exitCode: 0, outcome: 'EXITED' });
      await isGoneSoon(Number(recorder.stdout()));
    });
  });

  it('kills, through the cgroup, a process that left the process group', async () => {
    const { result, recorder } = await execute(
      bashSpec('setsid sleep 300 </dev/null >/dev/null 2>&1 & echo $!'),
    );

    expect(result).toMatchObject({ exitCode: 0, outcome: 'EXITED' });
    await isGoneSoon(Number(recorder.stdout()));
  });

  it('clears, for its spawn restarted, what a killed agent left: processes in the cgroup and work dirs', async () => {
    const spawnId = randomUUID();
    // What a killed agent leaves: a run of its spawn still going, one that escaped the process group too.
    const spec = bashSpec('setsid sleep 300 </dev/null >/dev/null 2>&1 & echo $!; sleep 300', { spawnId });
    const leftover = start(spec);
    await waitFor(() => leftover.recorder.stdout().trim() !== '', { what: 'the run to start' });
    const escaped = Number(leftover.recorder.stdout());
    // Another spawn's run on the same host is not touched.
    const other = start(bashSpec('echo $$; sleep 300', { spawnId: randomUUID() }));
    await waitFor(() => other.recorder.stdout().trim() !== '', { what: 'the other run to start' });
    const otherShell = Number(other.recorder.stdout());

    const restarted = new ProcessExecutor({ workRoot, log });
    expect(await restarted.reapLeftovers(spawnId)).toEqual([spec.runId]);
    await isGoneSoon(escaped);
    await leftover.done;
    expect(isAlive(otherShell)).toBe(true);
    expect(await restarted.reapLeftovers(spawnId)).toEqual([]);
    other.cancel();
    await other.done;
  });

  it('holds the run to its CPU and memory limits (cgroup v1)', async () => {
    // Two busy loops for 1.5 s would use 3 CPU-seconds unchecked; half a CPU allows 0.75.
    const { result, recorder } = await execute(
      bashSpec(
        `cgroup() { awk -F: -v c="$1" '{ n = split($2, cs, ","); for (i = 1; i <= n; i++) if (cs[i] == c) print $3 }' /proc/self/cgroup; }
cat "/sys/fs/cgroup/memory$(cgroup memory)/memory.limit_in_bytes" "/sys/fs/cgroup/cpu$(cgroup cpu)/cpu.cfs_quota_us"
for i in 1 2; do timeout 1.5 bash -c 'while :; do :; done' & done; wait
cat "/sys/fs/cgroup/cpuacct$(cgroup cpuacct)/cpuacct.usage"`,
        { memoryMiB: 64, cpu: 0.5 },
      ),
    );

    expect(result).toEqual({ exitCode: 0, outcome: 'EXITED', systemNote: null });
    const [memoryLimit, cpuQuota, cpuNanos] = recorder.stdout().trim().split('\n').map(Number);
    expect(memoryLimit).toBe(64 * MIB);
    expect(cpuQuota).toBe(50_000);
    expect(cpuNanos! / 1e9).toBeGreaterThan(0.1); // they ran (the machine may be busy)
    expect(cpuNanos! / 1e9).toBeLessThan(1.0);
  });

  it('reports a run killed for exceeding its memory limit as OOM_KILLED', async () => {
    // dd allocates and fills a 200 MiB buffer; the script's exit status is dd's.
    const { result, recorder } = await execute(
      bashSpec('echo allocating; dd if=/dev/zero of=/dev/null bs=200M count=1', { memoryMiB: 64 }),
    );

    expect(result).toEqual({
      exitCode: 137,
      outcome: 'OOM_KILLED',
      systemNote: 'Out of memory: a process exceeded the 64 MiB memory limit and the kernel killed it.',
    });
    expect(recorder.stdout()).toBe('allocating\n');
  });
});
