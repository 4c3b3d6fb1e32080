import { MaxLength } from 'class-validator';
import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { EnvVarInput } from './env-vars.js';
import { CronOverlapPolicy, CronSchedule } from './cron-schedule.entity.js';
import { ParameterInput } from './workloads.types.js';

@InputType({ description: 'The schedule belongs to the project of its definition and queue.' })
export class CreateCronScheduleInput {
  @Field({ description: 'Unique in the project: 1 to 64 letters, digits and hyphens.' })
  @MaxLength(200)
  name!: string;

  @Field({ description: 'Five fields: minute hour day-of-month month day-of-week, e.g. "0 3 * * *".' })
  @MaxLength(200)
  expression!: string;

  @Field({ defaultValue: 'UTC', description: 'An IANA timezone, e.g. Europe/Berlin.' })
  @MaxLength(100)
  timezone: string = 'UTC';

  @Field(() => CronOverlapPolicy, { defaultValue: CronOverlapPolicy.FORBID })
  overlapPolicy: CronOverlapPolicy = CronOverlapPolicy.FORBID;

  @Field({ defaultValue: true })
  enabled: boolean = true;

  @Field(() => ID, {
    description:
      'An id, or a reference `project::name` (its newest active version) or `project::name:version`.',
  })
  definition!: string;

  @Field(() => ID, { description: 'A queue of the same project: an id or `project::name`.' })
  queue!: string;

  @Field(() => [String], { nullable: true, description: "Replaces the definition's command." })
  command?: string[] | null;

  @Field(() => [ParameterInput])
  parameters: ParameterInput[] = [];

  @Field(() => [EnvVarInput])
  env: EnvVarInput[] = [];
}

@InputType({ description: 'Omitted fields keep their value.' })
export class UpdateCronScheduleInput {
  @Field(() => ID)
  schedule!: string;

  @Field(() => String, { nullable: true })
  @MaxLength(200)
  name?: string | null;

  @Field(() => String, { nullable: true })
  @MaxLength(200)
  expression?: string | null;

  @Field(() => String, { nullable: true })
  @MaxLength(100)
  timezone?: string | null;

  @Field(() => CronOverlapPolicy, { nullable: true })
  overlapPolicy?: CronOverlapPolicy | null;

  @Field(() => Boolean, { nullable: true })
  enabled?: boolean | null;

  @Field(() => ID, { nullable: true })
  definition?: string | null;

  @Field(() => ID, { nullable: true })
  queue?: string | null;

  @Field(() => [String], { nullable: true, description: "Replaces the definition's command." })
  command?: string[] | null;

  @Field({
    defaultValue: false,
    description: "Drop the command override: jobs run the definition's command.",
  })
  resetCommand: boolean = false;

  @Field(() => [ParameterInput], { nullable: true, description: 'Replaces all parameter values.' })
  parameters?: ParameterInput[] | null;

  @Field(() => [EnvVarInput], {
    nullable: true,
    description: 'Replaces all variables; a variable given without a value keeps its current value.',
  })
  env?: EnvVarInput[] | null;
}

@InputType()
export class CronScheduleRefInput {
  @Field(() => ID)
  schedule!: string;
}

@ObjectType()
export class CronSchedulePayload {
  @Field(() => CronSchedule)
  cronSchedule!: CronSchedule;
}

@ObjectType()
export class DeleteCronSchedulePayload {
  @Field(() => ID)
  deletedCronScheduleId!: string;
}
