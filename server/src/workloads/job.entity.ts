import {
  Entity,
  Enum,
  Index,
  ManyToOne,
  OptionalProps,
  PrimaryKey,
  Property,
  Unique,
  type Rel,
} from '@mikro-orm/core';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { v7 as uuidv7 } from 'uuid';
import { ApiToken } from '../accounts/api-token.entity.js';
import { User } from '../accounts/user.entity.js';
import { CronSchedule } from './cron-schedule.entity.js';
import type { StoredEnvVar } from './job-definition.entity.js';
import { JobDefinition } from './job-definition.entity.js';
import { JobQueue } from './job-queue.entity.js';
import { JobState } from './job-state.js';
import { Project } from './project.entity.js';

/** What a submit may change about its definition; resubmit copies these. */
export interface JobOverrides {
  /** Replaces the definition's command when set. */
  command?: string[];
  /** Merged over the definition's parameter defaults. */
  parameters: Record<string, string>;
  /** Merged over the definition's env by name. */
  env: StoredEnvVar[];
}

/**
 * A request to run a pinned definition version on a queue. Its attempts are
 * JobRuns; `state` only ever moves through a guarded update (JOB_TRANSITIONS).
 */
@ObjectType({
  description:
    'A request to run one version of a job definition on a queue; each attempt is a JobRun. ' +
    'See JobState for its life.',
})
@Entity({ tableName: 'job' })
@Unique({ properties: ['queue', 'name'] })
@Index({ properties: ['queue', 'state', 'createdAt'] })
@Index({ properties: ['project', 'createdAt'] })
@Index({ properties: ['project', 'state'] })
// A schedule's unfinished jobs, for its overlap policy (scheduler/cron.ts).
@Index({ properties: ['createdBySchedule', 'state'] })
export class Job {
  [OptionalProps]?: 'createdAt' | 'updatedAt' | 'attempts' | 'state';

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string = uuidv7();

  @ManyToOne(() => Project, { deleteRule: 'cascade' })
  project!: Project;

  @ManyToOne(() => JobQueue, { deleteRule: 'cascade' })
  queue!: JobQueue;

  @ManyToOne(() => JobDefinition, { deleteRule: 'restrict' })
  definition!: JobDefinition;

  /** Unique per queue; generated when the submitter gives none. */
  @Field({ description: 'Unique in its queue.' })
  @Property({ type: 'text' })
  name!: string;

  @Property({ type: 'json' })
  overrides!: JobOverrides;

  /** Not before this time (run-at scheduling). */
  @Field(() => Date, { nullable: true, description: 'Not run before this time.' })
  @Property({ type: 'timestamptz', nullable: true })
  scheduleAt?: Date;

  @Field(() => JobState)
  @Enum({ items: () => JobState, nativeEnumName: 'job_state' })
  state: JobState = JobState.SUBMITTED;

  /** Why the platform did what it did (lost agent, pull failure, cancelled by whom…). */
  @Field(() => String, {
    nullable: true,
    description: 'Why the platform did what it did: a lost agent, an image pull failure, who cancelled…',
  })
  @Property({ type: 'text', nullable: true })
  systemNote?: string;

  /** Runs created so far. */
  @Field(() => Int, { description: 'Runs created so far.' })
  @Property({ type: 'integer' })
  attempts: number = 0;

  /** Set while PENDING for a retry: the backoff ends then. */
  @Field(() => Date, { nullable: true, description: 'While waiting to retry: when the backoff ends.' })
  @Property({ type: 'timestamptz', nullable: true })
  retryAt?: Date;

  @ManyToOne(() => User, { nullable: true, deleteRule: 'set null' })
  createdBy?: User;

  @ManyToOne(() => ApiToken, { nullable: true, deleteRule: 'set null' })
  createdByToken?: ApiToken;

  @ManyToOne(() => CronSchedule, { nullable: true, deleteRule: 'set null' })
  // Rel<>: job and cron-schedule entities import each other; a plain class type here would be
  // read (as design:type metadata) before that module has finished loading.
  createdBySchedule?: Rel<CronSchedule>;

  /** The job this one re-submits, if any. */
  @ManyToOne(() => Job, { nullable: true, deleteRule: 'set null' })
  resubmittedFrom?: Job;

  @Field()
  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  @Field()
  @Property({ type: 'timestamptz', onUpdate: () => new Date() })
  updatedAt: Date = new Date();

  @Field(() => Date, { nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  startedAt?: Date;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  finishedAt?: Date;
}
