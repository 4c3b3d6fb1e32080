// What the overview page computes from the API's answers, kept free of Vue so it can be tested alone.
import type { JobState } from '../gql/graphql';

/** The plan's limits, as the API's Plan.limits gives them. */
export interface PlanLimits {
  concurrentRuns: number;
  computeSpawns: number;
  cloudAuths: number;
  registryAuths: number;
  cronSchedules: number;
  logStorageMiB: number;
  members: number;
}

/** Admitted and unfinished: what counts against the plan's concurrent runs (as the scheduler counts). */
export const ADMITTED_STATES: readonly JobState[] = ['RUNNABLE', 'STARTING', 'RUNNING', 'CANCELLING'];
/** What the overview lists as running. */
export const ACTIVE_STATES: readonly JobState[] = ['STARTING', 'RUNNING', 'CANCELLING'];
export const FAILED_STATES: readonly JobState[] = ['FAILED', 'ERROR', 'TIMEOUT'];

/** A project's share of what the plan limits; summed over the organization's projects. */
export interface ProjectUsage {
  concurrentRuns: number;
  computeSpawns: number;
  cronSchedules: number;
  cloudAuths: number;
  registryAuths: number;
}

export const NO_USAGE: ProjectUsage = {
  concurrentRuns: 0,
  computeSpawns: 0,
  cronSchedules: 0,
  cloudAuths: 0,
  registryAuths: 0,
};

export function addUsage(a: ProjectUsage, b: ProjectUsage): ProjectUsage {
  return {
    concurrentRuns: a.concurrentRuns + b.concurrentRuns,
    computeSpawns: a.computeSpawns + b.computeSpawns,
    cronSchedules: a.cronSchedules + b.cronSchedules,
    cloudAuths: a.cloudAuths + b.cloudAuths,
    registryAuths: a.registryAuths + b.registryAuths,
  };
}

export function countInStates(
  counts: readonly { state: JobState; count: number }[],
  states: readonly JobState[],
) {
  return counts.reduce((sum, { state, count }) => (states.includes(state) ? sum + count : sum), 0);
}

export interface UsageRow {
  label: string;
  used: number;
  limit: number;
  /** used / limit, 0 to 1 (more when over). */
  share: number;
  /** 'full' at or past the limit, 'high' from 80 %. */
  level: 'ok' | 'high' | 'full';
  /** How `used` reads, e.g. "12.5 MiB". */
  usedText: string;
  limitText: string;
}

function row(
  label: string,
  used: number,
  limit: number,
  format: (value: number) => string = String,
): UsageRow {
  const share = limit > 0 ? used / limit : used > 0 ? Infinity : 0;
  return {
    label,
    used,
    limit,
    share,
    level: share >= 1 ? 'full' : share >= 0.8 ? 'high' : 'ok',
    usedText: format(used),
    limitText: format(limit),
  };
}

const MIB = 1024 * 1024;

export function formatMiB(bytes: number): string {
  const mib = bytes / MIB;
  if (mib >= 1024) return `${(mib / 1024).toFixed(1)} GiB`;
  return `${mib < 10 ? mib.toFixed(1) : Math.round(mib)} MiB`;
}

/** The plan's limits next to what the organization uses, in the order a person reads them. */
export function usageRows(
  limits: PlanLimits,
  usage: ProjectUsage,
  members: number,
  logBytes: number,
): UsageRow[] {
  return [
    row('Concurrent runs', usage.concurrentRuns, limits.concurrentRuns),
    row('Machines (agents and VMs)', usage.computeSpawns, limits.computeSpawns),
    row('Cron schedules', usage.cronSchedules, limits.cronSchedules),
    row('Cloud auths', usage.cloudAuths, limits.cloudAuths),
    row('Registry auths', usage.registryAuths, limits.registryAuths),
    row('Members', members, limits.members),
    row('Log storage', logBytes, limits.logStorageMiB * MIB, formatMiB),
  ];
}

interface FailedJob {
  state: JobState;
  systemNote?: string | null;
  runs: readonly { exitCode?: number | null; systemNote?: string | null }[];
}

/** Why a job failed, in a few words: the platform's note, else its last run's exit. */
export function failureReason(job: FailedJob): string {
  const run = job.runs.at(-1);
  const note = job.systemNote ?? run?.systemNote;
  if (job.state === 'TIMEOUT') return note ? `Timed out: ${note}` : 'Timed out';
  if (note) return note;
  if (run?.exitCode != null) return `Exited with code ${run.exitCode}`;
  return job.state === 'ERROR' ? 'Failed on the platform' : 'Failed';
}

/** How long ago a heartbeat was, or that none came. */
export function heartbeatAge(lastHeartbeatAt: string | null | undefined, now: number): string {
  if (!lastHeartbeatAt) return 'no heartbeat yet';
  const seconds = Math.max(0, Math.round((now - Date.parse(lastHeartbeatAt)) / 1000));
  if (seconds < 60) return `heartbeat ${seconds} s ago`;
  const minutes = Math.round(seconds / 60);
  return minutes < 60 ? `heartbeat ${minutes} min ago` : `heartbeat ${Math.round(minutes / 60)} h ago`;
}
