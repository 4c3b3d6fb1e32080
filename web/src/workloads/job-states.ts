// How the dashboard names and colours job and run states, and the timeline of a job.
import type { JobRunState, JobState } from '../gql/graphql';

export const JOB_STATES: readonly JobState[] = [
  'SUBMITTED',
  'PENDING',
  'RUNNABLE',
  'STARTING',
  'RUNNING',
  'CANCELLING',
  'COMPLETED',
  'FAILED',
  'TIMEOUT',
  'CANCELLED',
  'ERROR',
];

export const STATE_LABELS: Record<JobState | JobRunState, string> = {
  SUBMITTED: 'Submitted',
  PENDING: 'Pending',
  RUNNABLE: 'Runnable',
  STARTING: 'Starting',
  RUNNING: 'Running',
  CANCELLING: 'Cancelling',
  COMPLETED: 'Completed',
  FAILED: 'Failed',
  TIMEOUT: 'Timed out',
  CANCELLED: 'Cancelled',
  ERROR: 'Error',
};

/** What each state means, for the state filter and tooltips. */
export const STATE_HINTS: Record<JobState, string> = {
  SUBMITTED: 'accepted, not yet looked at by the scheduler',
  PENDING: 'waiting for its time, its queue or a concurrency limit',
  RUNNABLE: 'waiting for a free slot on a machine',
  STARTING: 'placed on a machine, starting',
  RUNNING: 'running',
  CANCELLING: 'being stopped',
  COMPLETED: 'exited 0',
  FAILED: 'exited non-zero',
  TIMEOUT: 'stopped after its timeout',
  CANCELLED: 'stopped on request',
  ERROR: 'failed by the platform (see its note)',
};

const TERMINAL = new Set<JobState | JobRunState>(['COMPLETED', 'FAILED', 'TIMEOUT', 'CANCELLED', 'ERROR']);

export function isTerminal(state: JobState | JobRunState): boolean {
  return TERMINAL.has(state);
}

/** The badge class (styles.css) of a state: green done, red failed, accent moving, grey waiting. */
export function stateBadge(state: JobState | JobRunState): string {
  switch (state) {
    case 'COMPLETED':
      return 'badge--ok';
    case 'FAILED':
    case 'TIMEOUT':
    case 'ERROR':
      return 'badge--danger';
    case 'STARTING':
    case 'RUNNING':
      return 'badge--accent';
    case 'CANCELLING':
    case 'CANCELLED':
      return 'badge--warn';
    default:
      return 'badge--muted';
  }
}

export interface TimelineRun {
  attempt: number;
  state: JobRunState;
  exitCode?: number | null;
  createdAt: string;
  startedAt?: string | null;
  finishedAt?: string | null;
  systemNote?: string | null;
}

export interface TimelineJob {
  state: JobState;
  createdAt: string;
  scheduleAt?: string | null;
  finishedAt?: string | null;
  systemNote?: string | null;
  runs: readonly TimelineRun[];
}

export interface TimelineEntry {
  at: string;
  title: string;
  detail?: string;
  /** A badge class (stateBadge) for the dot. */
  tone: string;
}

function exitText(run: TimelineRun): string | undefined {
  const parts = [run.exitCode != null ? `exit code ${run.exitCode}` : undefined, run.systemNote ?? undefined];
  const text = parts.filter(Boolean).join(' — ');
  return text || undefined;
}

/**
 * The job's life from what the server stores: submitted, each attempt placed, started and
 * ended, then the job's end. Oldest first; entries with the same time keep this order.
 */
export function jobTimeline(job: TimelineJob): TimelineEntry[] {
  const entries: TimelineEntry[] = [{ at: job.createdAt, title: 'Submitted', tone: 'badge--muted' }];
  if (job.scheduleAt) {
    entries.push({ at: job.scheduleAt, title: 'Scheduled to start', tone: 'badge--muted' });
  }
  for (const run of job.runs) {
    const attempt = `Attempt ${run.attempt}`;
    entries.push({ at: run.createdAt, title: `${attempt} placed on a machine`, tone: 'badge--muted' });
    if (run.startedAt)
      entries.push({ at: run.startedAt, title: `${attempt} started`, tone: 'badge--accent' });
    if (run.finishedAt) {
      entries.push({
        at: run.finishedAt,
        title: `${attempt} ${STATE_LABELS[run.state].toLowerCase()}`,
        detail: exitText(run),
        tone: stateBadge(run.state),
      });
    }
  }
  if (job.finishedAt && isTerminal(job.state)) {
    entries.push({
      at: job.finishedAt,
      title: `Job ${STATE_LABELS[job.state].toLowerCase()}`,
      detail: job.systemNote ?? undefined,
      tone: stateBadge(job.state),
    });
  }
  // A stable sort: equal times keep the order above (placed before started before ended).
  return entries
    .map((entry, index) => ({ entry, index, time: Date.parse(entry.at) }))
    .sort((left, right) => left.time - right.time || left.index - right.index)
    .map(({ entry }) => entry);
}
