import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../logger.js';
import { RunCgroup, killQuietly, type UsageReading } from './cgroup.js';
import {
  DEFAULT_STATS_INTERVAL_MS,
  cancelledBeforeStart,
  failedToStart,
  gracePeriodSeconds,
  oomNote,
  outputDecoder,
  stopNote,
  watchForStop,
  type BashWorkload,
  type Executor,
  type RunResult,
  type RunSink,
  type RunSpec,
} from './executor.js';
import { readProcessGroupUsage } from './process-group.js';
import { sampleUsage } from './usage-sampler.js';

export type BashRunSpec = RunSpec & BashWorkload;

export interface ProcessExecutorOptions {
  /** Each run gets a fresh directory under it (its script and its work dir), removed afterwards. */
  workRoot: string;
  log: Logger;
  statsIntervalMs?: number;
  /** false: never use cgroups, so no limits and usage read from /proc. Default: use them where the host allows. */
  cgroups?: boolean;
}

/**
 * Of the agent's own environment a run sees only these (when set); the rest, the
 * agent's credential included, stays with the agent. The run's `env` overrides them.
 */
const INHERITED_ENV = ['PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR'];

/** After the main process exits, how long its output may take to drain before the pipes are closed. */
const OUTPUT_DRAIN_MS = 2_000;

/**
 * Runs a BASH definition: `bash <script> <command…>` in a fresh work dir, in its
 * own process group (and, where the host allows, its own cgroup: see cgroup.ts).
 * Cancel and timeout send SIGTERM to the whole group, then SIGKILL after the
 * grace period. When the script exits, whatever it left running is killed.
 */
export class ProcessExecutor implements Executor<BashRunSpec> {
  private readonly statsIntervalMs: number;

  constructor(private readonly options: ProcessExecutorOptions) {
    this.statsIntervalMs = options.statsIntervalMs ?? DEFAULT_STATS_INTERVAL_MS;
  }

  /**
   * Kills what runs of `spawnId` left running (through their cgroups; without cgroups
   * there is no trace of them) and deletes every leftover work dir: the work root is
   * this agent's own, and it runs nothing yet.
   */
  async reapLeftovers(spawnId: string): Promise<string[]> {
    const reaped = this.options.cgroups === false ? [] : await RunCgroup.reapSpawn(spawnId);
    const workDirs = await fs.readdir(this.options.workRoot).catch(() => []);
    for (const name of workDirs.filter((entry) => entry.startsWith('run-'))) {
      await fs.rm(path.join(this.options.workRoot, name), { recursive: true, force: true });
    }
    return reaped;
  }

  async run(spec: BashRunSpec, signal: AbortSignal, sink: RunSink): Promise<RunResult> {
    if (signal.aborted) return cancelledBeforeStart();
    const runName = spec.runId.replace(/[^A-Za-z0-9-]/g, '_');
    let runDir: string;
    try {
      await fs.mkdir(this.options.workRoot, { recursive: true, mode: 0o700 });
      runDir = await fs.mkdtemp(path.join(this.options.workRoot, `run-${runName}-`));
    } catch (error) {
      return failedToStart(`Could not create the work dir: ${(error as Error).message}`);
    }
    const cgroup =
      this.options.cgroups === false
        ? { unavailable: 'cgroups are turned off for this agent' }
        : await RunCgroup.create(runName, spec);
    try {
      const workDir = path.join(runDir, 'work');
      const scriptFile = path.join(runDir, 'script.sh');
      try {
        await fs.mkdir(workDir);
        // Beside the work dir, not in it: `ls` in the job shows only what the job made.
        await fs.writeFile(scriptFile, spec.script, { mode: 0o600 });
      } catch (error) {
        return failedToStart(`Could not write the script: ${(error as Error).message}`);
      }
      const result = await this.execute(spec, signal, sink, { workDir, scriptFile, cgroup });
      const limitsNote =
        'unavailable' in cgroup && (spec.cpu > 0 || spec.memoryMiB > 0)
          ? `CPU and memory limits were not enforced: ${cgroup.unavailable}.`
          : null;
      return { ...result, systemNote: [result.systemNote, limitsNote].filter(Boolean).join(' ') || null };
    } finally {
      if (cgroup instanceof RunCgroup) {
        await cgroup
          .remove()
          .catch((error) => this.options.log.warn({ err: error, runId: spec.runId }, 'cgroup left'));
      }
      await fs.rm(runDir, { recursive: true, force: true });
    }
  }

  private async execute(
    spec: BashRunSpec,
    signal: AbortSignal,
    sink: RunSink,
    {
      workDir,
      scriptFile,
      cgroup,
    }: { workDir: string; scriptFile: string; cgroup: RunCgroup | { unavailable: string } },
  ): Promise<RunResult> {
    const bashArgs = [scriptFile, ...spec.command];
    // The run joins its cgroups before bash reads a line of the script: a shell
    // writes its own pid to each cgroup.procs, then execs bash in place.
    const args =
      cgroup instanceof RunCgroup
        ? [
            '-c',
            'for f in "$1" "$2" "$3"; do echo $$ > "$f" || exit 125; done; shift 3; exec bash "$@"',
            'daestro-run',
            ...cgroup.procsFiles,
            ...bashArgs,
          ]
        : bashArgs;
    const child = spawn('bash', args, {
      cwd: workDir,
      env: { ...inheritedEnv(), ...spec.env },
      detached: true, // a process group of its own (setsid), so one signal reaches all of it
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, exitSignal) => resolve({ code, signal: exitSignal })),
    );
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const spawnError = await new Promise<Error | null>((resolve) => {
      child.once('spawn', () => resolve(null));
      child.once('error', resolve);
    });
    if (spawnError || child.pid === undefined)
      return failedToStart(`Could not start bash: ${spawnError?.message}`);
    const processGroupId = child.pid;
    sink.started();

    const stdout = outputDecoder(sink, 'STDOUT');
    const stderr = outputDecoder(sink, 'STDERR');
    child.stdout!.on('data', stdout.write).on('end', stdout.end);
    child.stderr!.on('data', stderr.write).on('end', stderr.end);

    let killTimer: NodeJS.Timeout | undefined;
    let killed = false;
    const killAll = async () => {
      killQuietly(-processGroupId, 'SIGKILL');
      if (cgroup instanceof RunCgroup) await cgroup.killAll();
    };
    const stop = watchForStop(spec, signal, () => {
      killQuietly(-processGroupId, 'SIGTERM');
      killTimer = setTimeout(
        () => {
          killed = true;
          void killAll();
        },
        gracePeriodSeconds(spec) * 1000,
      );
    });
    const sampler = sampleUsage(
      (): Promise<UsageReading> =>
        cgroup instanceof RunCgroup ? cgroup.read() : readProcessGroupUsage(processGroupId),
      this.statsIntervalMs,
      sink,
    );

    const exit = await exited;
    stop.disarm();
    clearTimeout(killTimer);
    sampler.stop();
    // Background jobs end with the script; they would also hold its output open.
    await killAll();
    await drained(child, closed);

    const oomKilled = cgroup instanceof RunCgroup && exit.code !== 0 && (await cgroup.oomKills()) > 0;
    const ended = { exitCode: exit.code, ...(exit.signal ? { signal: exit.signal } : {}) };
    if (stop.reason)
      return { ...ended, outcome: stop.reason, systemNote: stopNote(stop.reason, spec, killed) };
    if (oomKilled) return { ...ended, outcome: 'OOM_KILLED', systemNote: oomNote(spec) };
    return { ...ended, outcome: 'EXITED', systemNote: null };
  }
}

function inheritedEnv(): Record<string, string> {
  return Object.fromEntries(
    INHERITED_ENV.flatMap((name) => (process.env[name] === undefined ? [] : [[name, process.env[name]]])),
  );
}

/** Waits for the end of the child's output; a process that escaped every kill gets its pipes closed. */
async function drained(child: ChildProcess, closed: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>(
    (resolve) => (timer = setTimeout(() => resolve(true), OUTPUT_DRAIN_MS)),
  );
  if (await Promise.race([closed.then(() => false), timedOut])) {
    child.stdout?.destroy();
    child.stderr?.destroy();
  }
  clearTimeout(timer);
}
