import type { AgentPrincipal } from '../../src/agents/agent-principal.js';
import type { RunLease } from '../../src/agents/run-lease.js';
import { PlanCode } from '../../src/billing/plans.js';
import type { LogLine, WireLogLine } from '../../src/logs/log.service.js';
import { LogStream } from '../../src/logs/run-log-chunk.entity.js';
import { runDispatchPass } from '../../src/scheduler/dispatcher.js';
import { JobRunState } from '../../src/workloads/job-state.js';
import type { Project } from '../../src/workloads/project.entity.js';
import type { Testbed } from '../scheduler/fixtures.js';

/** A held run: the agent holding it and its lease, and the project's organization. */
export interface HeldRun {
  agent: AgentPrincipal;
  lease: RunLease;
  organizationId: string;
  project: Project;
}

/**
 * A run placed, claimed and started on a fresh spawn, and the agent that holds it; in `project`, or
 * in a new organization on `plan`.
 */
export async function heldRun(
  testbed: Testbed,
  where: { plan?: PlanCode; project?: Project } = {},
): Promise<HeldRun> {
  const project = where.project ?? (await testbed.project(where.plan ?? PlanCode.TEAM));
  const environment = await testbed.environment(project);
  const spawn = await testbed.spawn(environment);
  const queue = await testbed.queue(project, [environment]);
  await testbed.job(queue, await testbed.definition(project));
  await runDispatchPass(testbed.orm.em, { pubSub: testbed.pubSub, limits: testbed.limits });
  const lifecycle = testbed.lifecycle();
  const [claimed] = await lifecycle.claimRuns(spawn.id, 1);
  await lifecycle.markRunning(claimed!.runId, claimed!.leaseToken);
  return {
    agent: { spawnId: spawn.id, computeEnvironmentId: environment.id, projectId: project.id },
    lease: { runId: claimed!.runId, leaseToken: claimed!.leaseToken },
    organizationId: project.organization.id,
    project,
  };
}

/** The run finishes COMPLETED, as its agent reports it. */
export async function finishRun(testbed: Testbed, lease: RunLease): Promise<void> {
  await testbed
    .lifecycle()
    .finishRun(lease.runId, lease.leaseToken, { outcome: JobRunState.COMPLETED, exitCode: 0 });
}

/** Lines `line <seq>` for seqs from..to, a millisecond apart, as an agent sends them. */
export function logLines(from: number, to: number, stream = LogStream.STDOUT): WireLogLine[] {
  const made: WireLogLine[] = [];
  for (let seq = from; seq <= to; seq += 1) {
    made.push({
      seq,
      stream,
      timestamp: new Date(Date.UTC(2026, 10, 27, 12, 0, 0, seq)).toISOString(),
      text: `line ${seq}`,
    });
  }
  return made;
}

/** Lines as reads return them. */
export function asRead(lines: readonly WireLogLine[]): LogLine[] {
  return lines.map((line) => ({ ...line, timestamp: new Date(line.timestamp) }));
}

/**
 * Stored lines one row each (run_id, seq, stream, logged_at, text), unnested from their chunks:
 * use as `from (${STORED_LOG_LINES}) line`.
 */
export const STORED_LOG_LINES = `select c.run_id, (c.first_seq + line.n - 1)::int as seq, line.stream, line.logged_at, line.text
  from run_log_chunk c, unnest(c.streams, c.timestamps, c.texts) with ordinality as line(stream, logged_at, text, n)`;

/** The seqs of a run's stored lines, in order. */
export async function storedLineSeqs(testbed: Testbed, runId: string): Promise<number[]> {
  const rows = await testbed.sql<{ seq: number }>(
    `select seq from (${STORED_LOG_LINES}) line where run_id = ? order by seq`,
    [runId],
  );
  return rows.map((row) => row.seq);
}
