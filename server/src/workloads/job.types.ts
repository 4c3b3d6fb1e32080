import { ArrayMaxSize, MaxLength } from 'class-validator';
import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { ConnectionType } from '../graphql/connection.js';
import { EnvVarInput } from './env-vars.js';
import { JobState } from './job-state.js';
import { Job } from './job.entity.js';
import { ParameterInput } from './workloads.types.js';

@InputType()
export class SubmitJobInput {
  @Field(() => ID, {
    description: 'An id, or a reference `project::name` (newest active version) or `project::name:version`.',
  })
  definition!: string;

  @Field(() => ID, { description: 'A queue of the same project: an id or `project::name`.' })
  queue!: string;

  @Field(() => String, { nullable: true, description: 'Unique in the queue; generated when left out.' })
  @MaxLength(200)
  name?: string | null;

  @Field(() => [String], { nullable: true, description: "Replaces the definition's command." })
  command?: string[] | null;

  @Field(() => [ParameterInput], {
    description: "Values of `Param::<key>` placeholders, over the definition's defaults.",
  })
  parameters: ParameterInput[] = [];

  @Field(() => [EnvVarInput], { description: "Over the definition's variables, by name." })
  env: EnvVarInput[] = [];

  @Field(() => Date, { nullable: true, description: 'Not run before this time.' })
  scheduleAt?: Date | null;
}

@InputType()
export class JobRefInput {
  @Field(() => ID)
  job!: string;
}

@InputType()
export class JobFilter {
  @Field(() => [JobState], { nullable: true, description: 'Any of these states.' })
  @ArrayMaxSize(20)
  states?: JobState[] | null;

  @Field(() => ID, { nullable: true, description: 'A queue: id or `project::name`.' })
  queueId?: string | null;

  @Field(() => ID, { nullable: true, description: 'One definition version: id or `project::name:version`.' })
  definitionId?: string | null;

  @Field(() => String, { nullable: true, description: 'Every version of the definition of this name.' })
  @MaxLength(200)
  definitionName?: string | null;

  @Field(() => String, { nullable: true, description: 'Part of the job name, any case.' })
  @MaxLength(200)
  text?: string | null;

  @Field(() => Date, { nullable: true, description: 'Created at or after this time.' })
  createdAfter?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Created before this time.' })
  createdBefore?: Date | null;
}

@InputType()
export class JobEventFilter {
  @Field(() => [JobState], { nullable: true, description: 'Only transitions into these states.' })
  @ArrayMaxSize(20)
  states?: JobState[] | null;

  @Field(() => ID, { nullable: true, description: 'Only jobs of this queue (id or `project::name`).' })
  queueId?: string | null;
}

@ObjectType()
export class JobConnection extends ConnectionType(Job, 'Job') {}

@ObjectType({ description: 'How many of a project’s jobs are in one state.' })
export class JobStateCount {
  @Field(() => JobState)
  state!: JobState;

  @Field(() => Int)
  count!: number;
}

@ObjectType()
export class JobPayload {
  @Field(() => Job)
  job!: Job;
}

@ObjectType('JobEvent', { description: 'A job changed state.' })
export class JobEventType {
  @Field(() => ID)
  jobId!: string;

  @Field(() => ID)
  projectId!: string;

  @Field(() => ID)
  queueId!: string;

  @Field(() => JobState)
  from!: JobState;

  @Field(() => JobState)
  to!: JobState;

  @Field({ description: 'When the transition happened.' })
  at!: Date;

  @Field(() => String, { nullable: true })
  systemNote!: string | null;
}
