import {
  BigIntType,
  Entity,
  Enum,
  Index,
  ManyToOne,
  OptionalProps,
  PrimaryKey,
  Property,
  Unique,
} from '@mikro-orm/core';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { v7 as uuidv7 } from 'uuid';
import { ComputeSpawn } from './compute-spawn.entity.js';
import { Job } from './job.entity.js';
import { FailureClass, JobRunState } from './job-state.js';

/** One attempt of a job on one spawn; owns its logs and metric samples. */
@ObjectType({ description: 'One attempt of a job on one machine.' })
@Entity({ tableName: 'job_run' })
@Unique({ properties: ['job', 'attempt'] })
@Index({ properties: ['spawn', 'state'] })
// The retention purge's scan: finished runs whose logs and metrics are still held, oldest first.
@Index({
  name: 'job_run_retention_index',
  expression:
    'create index "job_run_retention_index" on "job_run" ("finished_at") where "data_purged_at" is null',
})
export class JobRun {
  [OptionalProps]?: 'createdAt' | 'state' | 'logStoredThrough' | 'logBytes';

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string = uuidv7();

  @ManyToOne(() => Job, { deleteRule: 'cascade' })
  job!: Job;

  /** 1 for the first attempt. */
  @Field(() => Int, { description: '1 for the first attempt.' })
  @Property({ type: 'integer' })
  attempt!: number;

  @Field(() => JobRunState)
  @Enum({ items: () => JobRunState, nativeEnumName: 'job_run_state' })
  state: JobRunState = JobRunState.STARTING;

  /** Where it was placed; null once that machine's compute environment was deleted (the snapshot below stays). */
  @ManyToOne(() => ComputeSpawn, { nullable: true, deleteRule: 'set null' })
  spawn?: ComputeSpawn;

  /** Snapshot at placement: the machine's name, kept when the machine is gone. */
  @Field({ description: 'The machine it was placed on, by name; kept after the machine is deleted.' })
  @Property({ type: 'text' })
  spawnHostname!: string;

  /** Snapshot at placement: the compute environment's name, kept when the environment is deleted. */
  @Field({ description: 'The compute environment it was placed in, by name; kept after it is deleted.' })
  @Property({ type: 'text' })
  computeEnvironmentName!: string;

  /**
   * Issued when an agent claims the run; every later write for the run must carry
   * it, so an agent whose run was re-queued cannot finish it. Null until claimed.
   */
  @Property({ type: 'uuid', nullable: true, hidden: true })
  leaseToken?: string;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  claimedAt?: Date;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  startedAt?: Date;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  finishedAt?: Date;

  /** Server-side timeout backstop: startedAt + the definition's timeout. */
  @Field(() => Date, { nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  deadlineAt?: Date;

  @Field(() => Int, { nullable: true })
  @Property({ type: 'integer', nullable: true })
  exitCode?: number;

  @Field(() => FailureClass, { nullable: true })
  @Enum({ items: () => FailureClass, nativeEnumName: 'failure_class', nullable: true })
  failureClass?: FailureClass;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  systemNote?: string;

  /** Highest log seq such that every line 1..seq is stored (LogService advances it). */
  @Field(() => Int, { description: 'Every log line up to this sequence number is stored (0: none yet).' })
  @Property({ type: 'integer', default: 0 })
  logStoredThrough: number = 0;

  /** UTF-8 bytes of log text stored for the run: what counts against the plan's log storage (logs/). */
  @Property({ type: new BigIntType('number'), default: 0 })
  logBytes: number = 0;

  /** When the organization's log quota made room by replacing this run's lines with one SYSTEM note. */
  @Property({ type: 'timestamptz', nullable: true })
  logEvictedAt?: Date;

  /** When the plan's retention deleted the run's logs and metrics. */
  @Property({ type: 'timestamptz', nullable: true })
  dataPurgedAt?: Date;

  @Field()
  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
