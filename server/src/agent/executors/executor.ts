import { StringDecoder } from 'node:string_decoder';

/**
 * What an agent runs for one JobRun, already resolved by the server: the command
 * has its `Param::` placeholders substituted and `env` holds every variable
 * (definition, overrides, `DAESTRO_*`, decrypted secrets).
 */
export type RunSpec = RunSpecCommon & (BashWorkload | DockerWorkload);

interface RunSpecCommon {
  runId: string;
  /** The spawn (agent) running it: marks what the run leaves on the host, so a restarted agent can clear it. */
  spawnId?: string;
  /** BASH: the script's arguments ($1…). DOCKER: the container's Cmd; empty keeps the image's own. */
  command: string[];
  env: Record<string, string>;
  /** vCPUs, decimal (0.5 = half a CPU); 0 = no limit. */
  cpu: number;
  /** 0 = no limit. */
  memoryMiB: number;
  privileged: boolean;
  /** 0 = no timeout. */
  timeoutSeconds: number;
  /** Between SIGTERM and SIGKILL on cancel and timeout; default 10 s. */
  gracePeriodSeconds?: number;
}

export interface BashWorkload {
  kind: 'BASH';
  script: string;
}

export interface DockerWorkload {
  kind: 'DOCKER';
  image: string;
  /** Decrypted for this pull only; never stored, logged or given to the container. */
  registryAuth?: RegistryCredentials;
  /** The engine's NetworkMode (`none`, `host`, a network name); unset = the engine's default. */
  networkMode?: string;
}

export interface RegistryCredentials {
  /** The registry host (`registry.example.com`, `127.0.0.1:5000`); empty for Docker Hub. */
  serverAddress: string;
  username: string;
  password: string;
}

export type OutputStream = 'STDOUT' | 'STDERR';

export interface ResourceSample {
  /** 100 = one full CPU (as `docker stats` counts). */
  cpuPercent: number;
  memoryBytes: number;
  /** The enforced limit, or the host's memory when there is none. */
  memoryLimitBytes: number;
}

/** Where a run reports while it runs. Callbacks must not throw. */
export interface RunSink {
  /** The process or container is running: the job becomes RUNNING. */
  started(): void;
  /** Output as it arrives, decoded as UTF-8 (a character split across reads is kept whole). Not split into lines. */
  output(stream: OutputStream, text: string): void;
  /** Every few seconds while running. */
  stats(sample: ResourceSample): void;
}

export type RunOutcome =
  /** The workload ended by itself; exitCode says how. */
  | 'EXITED'
  | 'CANCELLED'
  | 'TIMED_OUT'
  /** A process hit the memory limit and was killed by the kernel. */
  | 'OOM_KILLED'
  /** Never ran: image pull, container create or process spawn failed (an infrastructure fault). */
  | 'FAILED_TO_START';

export interface RunResult {
  /** null when the process was ended by a signal (BASH) or never started. */
  exitCode: number | null;
  /** The signal that ended the process (BASH only; a container reports 128+n as its exit code). */
  signal?: NodeJS.Signals;
  outcome: RunOutcome;
  /** For people: why the run ended the way it did, when that is not just an exit code. */
  systemNote: string | null;
}

export interface Executor<Spec extends RunSpec = RunSpec> {
  /**
   * Runs to the end and resolves with how it ended; aborting `signal` cancels the run.
   * Rejects only when the host fails mid-run (the Docker daemon went away).
   */
  run(spec: Spec, signal: AbortSignal, sink: RunSink): Promise<RunResult>;
  /**
   * Clears what runs of `spawnId` left running on the host when their agent was killed
   * (such runs were never reported: the server has failed them over). Resolves with the
   * run ids cleared. Called once at start, before any run is claimed.
   */
  reapLeftovers?(spawnId: string): Promise<string[]>;
}

export const DEFAULT_GRACE_PERIOD_SECONDS = 10;
export const DEFAULT_STATS_INTERVAL_MS = 5_000;

export type StopReason = 'CANCELLED' | 'TIMED_OUT';

/**
 * Arms a run's two early ends, cancel (`signal`) and timeout (from now), and calls
 * `stop` once, for whichever comes first. `reason` tells which one did.
 */
export function watchForStop(
  spec: Pick<RunSpec, 'timeoutSeconds'>,
  signal: AbortSignal,
  stop: (reason: StopReason) => void,
): { readonly reason: StopReason | undefined; disarm(): void } {
  let reason: StopReason | undefined;
  const trigger = (why: StopReason) => {
    if (reason) return;
    reason = why;
    disarm();
    stop(why);
  };
  const onAbort = () => trigger('CANCELLED');
  const timer =
    spec.timeoutSeconds > 0 ? setTimeout(() => trigger('TIMED_OUT'), spec.timeoutSeconds * 1000) : undefined;
  const disarm = () => {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  };
  signal.addEventListener('abort', onAbort);
  if (signal.aborted) trigger('CANCELLED');
  return {
    get reason() {
      return reason;
    },
    disarm,
  };
}

/** The note for a run ended by cancel or timeout. `killed`: SIGKILL was needed after the grace period. */
export function stopNote(reason: StopReason, spec: RunSpec, killed: boolean): string {
  const why = reason === 'TIMED_OUT' ? `Timed out after ${spec.timeoutSeconds} s` : 'Cancelled';
  return killed
    ? `${why}: sent SIGTERM, then SIGKILL because it was still running after the ${gracePeriodSeconds(spec)} s grace period.`
    : `${why}: sent SIGTERM, and it ended within the ${gracePeriodSeconds(spec)} s grace period.`;
}

export function oomNote(spec: RunSpec): string {
  return `Out of memory: a process exceeded the ${spec.memoryMiB} MiB memory limit and the kernel killed it.`;
}

/** A run cancelled while it was being prepared (work dir, image pull): nothing of it ran. */
export function cancelledBeforeStart(): RunResult {
  return { exitCode: null, outcome: 'CANCELLED', systemNote: 'Cancelled before it started.' };
}

export function failedToStart(systemNote: string): RunResult {
  return { exitCode: null, outcome: 'FAILED_TO_START', systemNote };
}

export function gracePeriodSeconds(spec: RunSpec): number {
  return spec.gracePeriodSeconds ?? DEFAULT_GRACE_PERIOD_SECONDS;
}

/** Decodes one output stream's bytes as UTF-8, holding back a character split across chunks. */
export function outputDecoder(sink: RunSink, stream: OutputStream) {
  const decoder = new StringDecoder('utf8');
  return {
    write(chunk: Buffer) {
      const text = decoder.write(chunk);
      if (text) sink.output(stream, text);
    },
    end() {
      const text = decoder.end();
      if (text) sink.output(stream, text);
    },
  };
}

/** Memory in use as `docker stats` shows it: usage minus inactive page cache, which the kernel can reclaim. */
export function memoryInUse(usageBytes: number, inactiveFileBytes: number | undefined): number {
  return inactiveFileBytes !== undefined && inactiveFileBytes < usageBytes
    ? usageBytes - inactiveFileBytes
    : usageBytes;
}

export const MIB = 1024 * 1024;
