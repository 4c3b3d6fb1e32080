import { Entity, Enum, ManyToOne, PrimaryKey, PrimaryKeyProp, Property } from '@mikro-orm/core';
import { registerEnumType } from 'type-graphql';
import { JobRun } from '../workloads/job-run.entity.js';

export enum LogStream {
  STDOUT = 'STDOUT',
  STDERR = 'STDERR',
  /** Written by Daestro itself (the agent or the server), not by the job. */
  SYSTEM = 'SYSTEM',
}
registerEnumType(LogStream, {
  name: 'LogStream',
  description: "STDOUT and STDERR: the job's own output. SYSTEM: notes from Daestro (agent or server).",
});

/**
 * One line of a run's output, keyed by the run and the agent's per-run sequence
 * number (from 1). Only LogService reads or writes this table: issue 7 may
 * re-lay it out (partitions, chunks) without touching callers.
 */
@Entity({ tableName: 'run_log_line' })
export class RunLogLine {
  [PrimaryKeyProp]?: ['run', 'seq'];

  @ManyToOne(() => JobRun, { primary: true, deleteRule: 'cascade' })
  run!: JobRun;

  @PrimaryKey({ type: 'integer' })
  seq!: number;

  @Enum({ items: () => LogStream, nativeEnumName: 'log_stream' })
  stream!: LogStream;

  /** When the agent read the line. */
  @Property({ type: 'timestamptz' })
  loggedAt!: Date;

  @Property({ type: 'text' })
  text!: string;
}
