import { Writable, type Duplex, type Readable } from 'node:stream';
import type Docker from 'dockerode';
import type { Logger } from '../../logger.js';
import {
  DEFAULT_STATS_INTERVAL_MS,
  MIB,
  cancelledBeforeStart,
  failedToStart,
  gracePeriodSeconds,
  memoryInUse,
  oomNote,
  outputDecoder,
  stopNote,
  watchForStop,
  type DockerWorkload,
  type Executor,
  type RunResult,
  type RunSink,
  type RunSpec,
} from './executor.js';

export type DockerRunSpec = RunSpec & DockerWorkload;

/**
 * ALWAYS pulls before every run, so a moved tag and revoked registry credentials
 * take effect; IF_NOT_PRESENT uses an image the engine already has (local builds).
 */
export type PullPolicy = 'ALWAYS' | 'IF_NOT_PRESENT';

export interface DockerExecutorOptions {
  docker: Docker;
  log: Logger;
  statsIntervalMs?: number;
  /** Default ALWAYS. */
  pullPolicy?: PullPolicy;
}

/** Marks the containers Daestro made, with their run and the spawn that ran them. */
export const RUN_ID_LABEL = 'io.daestro.run-id';
export const SPAWN_ID_LABEL = 'io.daestro.spawn-id';

/** Docker Hub's address in registry auth, as the docker CLI sends it. */
const DOCKER_HUB_AUTH_ADDRESS = 'https://index.docker.io/v1/';
/** If `docker stop` has not ended the container this long after its grace period, kill it ourselves. */
const KILL_MARGIN_MS = 5_000;
/** After the container exits, how long its attached output may take to drain. */
const OUTPUT_DRAIN_MS = 2_000;
const SIGKILL_EXIT_CODE = 137;

/**
 * Runs a DOCKER definition through the Docker Engine API: pull (with the run's
 * registry credentials, which go to the pull call and nowhere else), create with
 * the limits and flags of the spec, attach before start so no output is lost,
 * start, stream stats, wait. Cancel and timeout `docker stop` the container with
 * the grace period as its timeout (SIGTERM, then SIGKILL). The container is
 * always removed.
 */
export class DockerExecutor implements Executor<DockerRunSpec> {
  private readonly docker: Docker;
  private readonly statsIntervalMs: number;
  private readonly pullPolicy: PullPolicy;

  constructor(private readonly options: DockerExecutorOptions) {
    this.docker = options.docker;
    this.statsIntervalMs = options.statsIntervalMs ?? DEFAULT_STATS_INTERVAL_MS;
    this.pullPolicy = options.pullPolicy ?? 'ALWAYS';
  }

  async run(spec: DockerRunSpec, signal: AbortSignal, sink: RunSink): Promise<RunResult> {
    const pullError = await this.pullIfNeeded(spec, signal);
    if (signal.aborted) return cancelledBeforeStart();
    if (pullError) return failedToStart(`Could not pull the image ${spec.image}: ${pullError}`);

    let container: Docker.Container;
    try {
      container = await this.docker.createContainer(createOptions(spec));
    } catch (error) {
      return failedToStart(`Could not create the container: ${engineMessage(error)}`);
    }
    try {
      return await this.execute(container, spec, signal, sink);
    } finally {
      await container
        .remove({ force: true, v: true })
        .catch((error) => this.options.log.warn({ err: error, runId: spec.runId }, 'container not removed'));
    }
  }

  /** Removes the containers of `spawnId`: a restarted agent runs none yet, so they are a killed one's. */
  async reapLeftovers(spawnId: string): Promise<string[]> {
    const containers = await this.docker.listContainers({
      all: true,
      filters: { label: [`${SPAWN_ID_LABEL}=${spawnId}`] },
    });
    for (const container of containers) {
      await this.docker.getContainer(container.Id).remove({ force: true, v: true });
    }
    return containers.map((container) => container.Labels[RUN_ID_LABEL] ?? container.Id);
  }

  /** The engine's message when the image could not be pulled, else null. */
  private async pullIfNeeded(spec: DockerRunSpec, signal: AbortSignal): Promise<string | null> {
    if (this.pullPolicy === 'IF_NOT_PRESENT' && (await this.hasImage(spec.image))) return null;
    const auth = spec.registryAuth;
    try {
      const progress = await this.docker.pull(spec.image, {
        abortSignal: signal,
        ...(auth && {
          authconfig: {
            username: auth.username,
            password: auth.password,
            serveraddress: auth.serverAddress || DOCKER_HUB_AUTH_ADDRESS,
          },
        }),
      });
      // A pull that fails half-way still answers 200; the failure is a message in the stream.
      const messages = await new Promise<Array<{ error?: string }>>((resolve, reject) =>
        this.docker.modem.followProgress(
          progress,
          (error: Error | null, output: Array<{ error?: string }>) =>
            error ? reject(error) : resolve(output),
        ),
      );
      return messages.find((message) => message.error)?.error ?? null;
    } catch (error) {
      return engineMessage(error);
    }
  }

  private async hasImage(image: string): Promise<boolean> {
    try {
      await this.docker.getImage(image).inspect();
      return true;
    } catch {
      return false;
    }
  }

  private async execute(
    container: Docker.Container,
    spec: DockerRunSpec,
    signal: AbortSignal,
    sink: RunSink,
  ): Promise<RunResult> {
    const output = await this.attachOutput(container, sink);
    try {
      if (signal.aborted) return cancelledBeforeStart();
      try {
        await container.start();
      } catch (error) {
        return failedToStart(`Could not start the container: ${engineMessage(error)}`);
      }
      sink.started();

      let killTimer: NodeJS.Timeout | undefined;
      const grace = gracePeriodSeconds(spec);
      const stop = watchForStop(spec, signal, () => {
        // The engine sends the image's stop signal (SIGTERM), then SIGKILL after t seconds.
        container.stop({ t: grace }).catch(() => undefined); // "already stopped" is fine
        killTimer = setTimeout(() => container.kill().catch(() => undefined), grace * 1000 + KILL_MARGIN_MS);
      });
      const stats = await this.streamStats(container, sink);
      let exitCode: number;
      try {
        exitCode = ((await container.wait()) as { StatusCode: number }).StatusCode;
      } finally {
        stop.disarm();
        clearTimeout(killTimer);
        stats?.destroy();
      }
      await Promise.race([output.ended, new Promise((resolve) => setTimeout(resolve, OUTPUT_DRAIN_MS))]);
      const { State } = await container.inspect();

      if (stop.reason) {
        const killed = exitCode === SIGKILL_EXIT_CODE;
        return { exitCode, outcome: stop.reason, systemNote: stopNote(stop.reason, spec, killed) };
      }
      if (State.OOMKilled && exitCode !== 0)
        return { exitCode, outcome: 'OOM_KILLED', systemNote: oomNote(spec) };
      return { exitCode, outcome: 'EXITED', systemNote: null };
    } finally {
      output.close();
    }
  }

  /** Attaches to the container's stdout and stderr; call before start, or early output is lost. */
  private async attachOutput(container: Docker.Container, sink: RunSink) {
    const attached = (await container.attach({
      stream: true,
      stdout: true,
      stderr: true,
    })) as unknown as Duplex;
    const stdout = outputDecoder(sink, 'STDOUT');
    const stderr = outputDecoder(sink, 'STDERR');
    this.docker.modem.demuxStream(attached, decodingWritable(stdout), decodingWritable(stderr));
    const ended = new Promise<void>((resolve) => {
      attached.once('end', resolve);
      attached.once('close', resolve);
      attached.once('error', () => resolve());
    }).then(() => {
      stdout.end();
      stderr.end();
    });
    return { ended, close: () => attached.destroy() };
  }

  /**
   * The engine's stats stream (one sample a second), reported every interval with
   * CPU measured over that interval. Null when the container is already gone.
   */
  private async streamStats(container: Docker.Container, sink: RunSink) {
    let stream: Readable;
    try {
      stream = (await container.stats({ stream: true })) as unknown as Readable;
    } catch {
      return null;
    }
    let previous: { containerNanos: number; systemNanos: number; at: number } | undefined;
    let buffered = '';
    stream.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (!line) continue;
        const sample = JSON.parse(line) as Docker.ContainerStats;
        const containerNanos = sample.cpu_stats?.cpu_usage?.total_usage;
        const systemNanos = sample.cpu_stats?.system_cpu_usage;
        // Samples of a stopped container carry no usage.
        if (!containerNanos || !systemNanos || !sample.memory_stats?.usage) continue;
        const now = Date.now();
        if (previous && now - previous.at >= this.statsIntervalMs) {
          const cpus = sample.cpu_stats.online_cpus || 1;
          const systemDelta = systemNanos - previous.systemNanos;
          const cpuPercent =
            systemDelta > 0
              ? Math.max(0, ((containerNanos - previous.containerNanos) / systemDelta) * cpus * 100)
              : 0;
          const memory = sample.memory_stats;
          const inactiveFile = memory.stats?.total_inactive_file ?? memory.stats?.inactive_file;
          sink.stats({
            cpuPercent,
            memoryBytes: memoryInUse(memory.usage, inactiveFile),
            memoryLimitBytes: memory.limit,
          });
        }
        if (!previous || now - previous.at >= this.statsIntervalMs)
          previous = { containerNanos, systemNanos, at: now };
      }
    });
    stream.on('error', () => undefined); // ends with the container
    return stream;
  }
}

function createOptions(spec: DockerRunSpec): Docker.ContainerCreateOptions {
  return {
    name: `daestro-run-${spec.runId.replace(/[^A-Za-z0-9_.-]/g, '_')}`,
    Image: spec.image,
    ...(spec.command.length > 0 && { Cmd: spec.command }),
    Env: Object.entries(spec.env).map(([name, value]) => `${name}=${value}`),
    Labels: { [RUN_ID_LABEL]: spec.runId, ...(spec.spawnId && { [SPAWN_ID_LABEL]: spec.spawnId }) },
    AttachStdout: true,
    AttachStderr: true,
    Tty: false, // keeps stdout and stderr apart
    HostConfig: {
      NanoCpus: spec.cpu > 0 ? Math.round(spec.cpu * 1e9) : 0,
      Memory: spec.memoryMiB * MIB,
      // Equal to Memory: no swap beyond the limit (the engine's default would allow as much again).
      MemorySwap: spec.memoryMiB > 0 ? spec.memoryMiB * MIB : 0,
      Privileged: spec.privileged,
      ...(spec.networkMode && { NetworkMode: spec.networkMode }),
    },
  };
}

function decodingWritable(decoder: ReturnType<typeof outputDecoder>): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      decoder.write(chunk);
      callback();
    },
  });
}

/** The engine's own words: dockerode wraps them as "(HTTP code 500) server error - <message>". */
function engineMessage(error: unknown): string {
  const { json, message } = error as { json?: { message?: string }; message?: string };
  return (json?.message ?? message ?? String(error)).replace(/^\(HTTP code \d+\) [^-]*- /, '').trim();
}
