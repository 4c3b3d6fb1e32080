import { ArrayMaxSize, MaxLength } from 'class-validator';
import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { JobQueue } from './job-queue.entity.js';

const QUEUE_HELP = 'An id, or a reference `project::name`.';
const MAX_LINKED_ENVIRONMENTS = 20;

@InputType({ description: 'New queues start disabled: link a compute environment, then enable.' })
export class CreateJobQueueInput {
  @Field(() => ID)
  projectId!: string;

  @Field({ description: 'Unique in the project: 1 to 64 letters, digits and hyphens.' })
  @MaxLength(200)
  name!: string;

  @Field({ defaultValue: '' })
  @MaxLength(1000)
  description: string = '';

  @Field(() => Int, { defaultValue: 100, description: '1 to 1000; lower runs first.' })
  priority: number = 100;

  @Field(() => Int, { defaultValue: 0, description: 'Most runs at once; 0 means unlimited.' })
  maxConcurrency: number = 0;

  @Field(() => Int, { defaultValue: 300, description: 'How long an idle cloud machine is kept.' })
  maxIdleSeconds: number = 300;
}

@InputType({ description: 'Omitted fields keep their value.' })
export class UpdateJobQueueInput {
  @Field(() => ID, { description: QUEUE_HELP })
  queue!: string;

  @Field(() => String, { nullable: true })
  @MaxLength(1000)
  description?: string | null;

  @Field(() => Int, { nullable: true })
  priority?: number | null;

  @Field(() => Int, { nullable: true })
  maxConcurrency?: number | null;

  @Field(() => Int, { nullable: true })
  maxIdleSeconds?: number | null;
}

@InputType()
export class SetJobQueueEnabledInput {
  @Field(() => ID, { description: QUEUE_HELP })
  queue!: string;

  @Field()
  enabled!: boolean;
}

@InputType()
export class SetJobQueueComputeEnvironmentsInput {
  @Field(() => ID, { description: QUEUE_HELP })
  queue!: string;

  @Field(() => [ID], {
    description:
      "Compute environments of the queue's project (ids or `project::name`), in the order runs are placed on them. " +
      'An empty list unlinks all and disables the queue.',
  })
  @ArrayMaxSize(MAX_LINKED_ENVIRONMENTS)
  computeEnvironments!: string[];
}

@InputType()
export class DeleteJobQueueInput {
  @Field(() => ID, { description: QUEUE_HELP })
  queue!: string;
}

@ObjectType()
export class JobQueuePayload {
  @Field(() => JobQueue)
  jobQueue!: JobQueue;
}

@ObjectType()
export class DeleteJobQueuePayload {
  @Field(() => ID)
  deletedJobQueueId!: string;
}
