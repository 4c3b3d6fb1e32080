import {
  Entity,
  Enum,
  ManyToOne,
  OptionalProps,
  PrimaryKey,
  Property,
  Unique,
  type Rel,
} from '@mikro-orm/core';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { v7 as uuidv7 } from 'uuid';
import { User } from '../accounts/user.entity.js';
import { JobDefinition } from './job-definition.entity.js';
import { JobQueue } from './job-queue.entity.js';
import type { JobOverrides } from './job.entity.js';
import { Job } from './job.entity.js';
import { Project } from './project.entity.js';

export enum CronOverlapPolicy {
  /** Fire even while the previous job is still running. */
  ALLOW = 'ALLOW',
  /** Skip a slot while the previous job is not finished. */
  FORBID = 'FORBID',
  /** Cancel the previous unfinished job, then fire. */
  REPLACE = 'REPLACE',
}
registerEnumType(CronOverlapPolicy, {
  name: 'CronOverlapPolicy',
  description:
    "What a slot does while the schedule's previous job is unfinished: ALLOW fires anyway, FORBID skips the slot, " +
    'REPLACE cancels the previous job and fires.',
});

/** Submits a job at each slot of a 5-field cron expression in an IANA timezone. */
@ObjectType({ description: 'Submits a job at every slot of a cron expression, in a timezone.' })
@Entity({ tableName: 'cron_schedule' })
@Unique({ properties: ['project', 'name'] })
export class CronSchedule {
  [OptionalProps]?: 'createdAt' | 'enabled';

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string = uuidv7();

  @ManyToOne(() => Project, { deleteRule: 'cascade' })
  project!: Project;

  @Field({ description: 'Unique in the project.' })
  @Property({ type: 'text' })
  name!: string;

  @Field({ description: 'Five fields: minute hour day-of-month month day-of-week.' })
  @Property({ type: 'text' })
  expression!: string;

  /** IANA name, e.g. Europe/Berlin. */
  @Field({ description: 'The IANA timezone the expression is read in, e.g. Europe/Berlin.' })
  @Property({ type: 'text' })
  timezone!: string;

  @Field(() => CronOverlapPolicy)
  @Enum({ items: () => CronOverlapPolicy, nativeEnumName: 'cron_overlap_policy' })
  overlapPolicy!: CronOverlapPolicy;

  @Field()
  @Property({ type: 'boolean' })
  enabled: boolean = true;

  @ManyToOne(() => JobDefinition, { deleteRule: 'restrict' })
  definition!: JobDefinition;

  @ManyToOne(() => JobQueue, { deleteRule: 'cascade' })
  queue!: JobQueue;

  @Property({ type: 'json' })
  overrides!: JobOverrides;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  lastFiredAt?: Date;

  /** The next slot; the scheduler fires schedules whose nextFireAt has passed. */
  @Field(() => Date, { nullable: true, description: 'The next slot; null while disabled.' })
  @Property({ type: 'timestamptz', nullable: true, index: true })
  nextFireAt?: Date;

  @ManyToOne(() => User, { nullable: true, deleteRule: 'set null' })
  createdBy?: User;

  @Field()
  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}

/**
 * One fired slot. Its primary key (schedule, slot) makes each slot fire exactly
 * once, whatever the number of scheduler processes or restarts.
 */
@Entity({ tableName: 'cron_fire' })
export class CronFire {
  @ManyToOne(() => CronSchedule, { primary: true, deleteRule: 'cascade' })
  schedule!: CronSchedule;

  @PrimaryKey({ type: 'timestamptz' })
  slot!: Date;

  /** Null when the slot was skipped (FORBID overlap) — the reason goes in `note`. */
  @ManyToOne(() => Job, { nullable: true, deleteRule: 'set null' })
  /** Rel<>: see Job.createdBySchedule (the two modules import each other). */
  job?: Rel<Job>;

  @Property({ type: 'text', nullable: true })
  note?: string;

  @Property({ type: 'timestamptz' })
  firedAt: Date = new Date();
}
