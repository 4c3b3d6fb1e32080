import { ArrayType, Entity, Enum, ManyToOne, PrimaryKey, PrimaryKeyProp, Property } from '@mikro-orm/core';
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
 * Consecutive lines of a run's output, firstSeq..lastSeq, stored as one row:
 * line seq is element seq - firstSeq + 1 of each array. An ingested batch
 * becomes one chunk (more only when it has gaps), so a 2,000-line batch costs
 * one row, one index entry and one foreign-key check instead of 2,000 of each,
 * and its text is compressed together. Chunks of a run never overlap, so
 * ordering by lastSeq orders them by line, and `lastSeq > after` finds where a
 * read starts with one index probe. Only LogService and LogRetentionService
 * read or write this table.
 */
@Entity({ tableName: 'run_log_chunk' })
export class RunLogChunk {
  [PrimaryKeyProp]?: ['run', 'lastSeq'];

  @ManyToOne(() => JobRun, { primary: true, deleteRule: 'cascade' })
  run!: JobRun;

  @PrimaryKey({ type: 'integer' })
  lastSeq!: number;

  @Property({ type: 'integer' })
  firstSeq!: number;

  @Enum({ items: () => LogStream, array: true, nativeEnumName: 'log_stream' })
  streams!: LogStream[];

  /** When the agent read each line. */
  @Property({ type: ArrayType, columnType: 'timestamptz[]' })
  timestamps!: Date[];

  @Property({ type: ArrayType, columnType: 'text[]' })
  texts!: string[];
}
