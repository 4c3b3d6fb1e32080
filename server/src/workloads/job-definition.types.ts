import { MaxLength } from 'class-validator';
import { Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import { ConnectionType } from '../graphql/connection.js';
import { EnvVarInput } from './env-vars.js';
import { JobDefinition, JobDefinitionType } from './job-definition.entity.js';
import { RetryPolicyInput } from './retry-policy.types.js';
import { ParameterInput } from './workloads.types.js';

const REFERENCE_HELP =
  'An id, or a reference `project::name` (newest active version) or `project::name:version`.';

@InputType()
export class CreateJobDefinitionInput {
  @Field(() => ID)
  projectId!: string;

  @Field({ description: 'Unique in the project: 1 to 64 letters, digits and hyphens.' })
  @MaxLength(200)
  name!: string;

  @Field(() => JobDefinitionType)
  type!: JobDefinitionType;

  @Field(() => String, { nullable: true, description: 'DOCKER (required): the image, e.g. alpine:3.20.' })
  image?: string | null;

  @Field(() => ID, {
    nullable: true,
    description: 'DOCKER: a registry auth of the project to pull the image with.',
  })
  registryAuthId?: string | null;

  @Field(() => String, { nullable: true, description: 'BASH (required): the script.' })
  script?: string | null;

  @Field(() => [String], { description: 'Arguments, with `Param::<key>` placeholders.' })
  command: string[] = [];

  @Field(() => [ParameterInput], { description: 'Default values of the placeholders.' })
  parameters: ParameterInput[] = [];

  @Field(() => [EnvVarInput])
  env: EnvVarInput[] = [];

  @Field(() => Float, { defaultValue: 1, description: 'vCPUs, 0.125 to 64.' })
  cpu: number = 1;

  @Field(() => Int, { defaultValue: 1024, description: 'MiB, 16 to 262144.' })
  memoryMiB: number = 1024;

  @Field(() => Int, { defaultValue: 0, description: '0 means no timeout.' })
  timeoutSeconds: number = 0;

  @Field(() => RetryPolicyInput, { nullable: true, description: 'Omitted: never retry.' })
  retryPolicy?: RetryPolicyInput | null;

  @Field({ defaultValue: false, description: 'DOCKER only; owners and admins only.' })
  privileged: boolean = false;
}

@InputType({
  description:
    'Writes the next version of a definition. Omitted fields keep the value of the version named by `definition`.',
})
export class UpdateJobDefinitionInput {
  @Field(() => ID, { description: `The version to start from. ${REFERENCE_HELP}` })
  definition!: string;

  @Field(() => JobDefinitionType, { nullable: true })
  type?: JobDefinitionType | null;

  @Field(() => String, { nullable: true })
  image?: string | null;

  @Field(() => ID, { nullable: true, description: 'Null removes the registry auth.' })
  registryAuthId?: string | null;

  @Field(() => String, { nullable: true })
  script?: string | null;

  @Field(() => [String], { nullable: true })
  command?: string[] | null;

  @Field(() => [ParameterInput], { nullable: true, description: 'Replaces all parameter defaults.' })
  parameters?: ParameterInput[] | null;

  @Field(() => [EnvVarInput], {
    nullable: true,
    description: 'Replaces all variables; a variable given without a value keeps its current value.',
  })
  env?: EnvVarInput[] | null;

  @Field(() => Float, { nullable: true })
  cpu?: number | null;

  @Field(() => Int, { nullable: true })
  memoryMiB?: number | null;

  @Field(() => Int, { nullable: true })
  timeoutSeconds?: number | null;

  @Field(() => RetryPolicyInput, { nullable: true })
  retryPolicy?: RetryPolicyInput | null;

  @Field(() => Boolean, { nullable: true })
  privileged?: boolean | null;
}

@InputType()
export class DeactivateJobDefinitionInput {
  @Field(() => ID, { description: REFERENCE_HELP })
  definition!: string;

  @Field({
    defaultValue: false,
    description: 'Deactivate every version of the definition, not just this one.',
  })
  allVersions: boolean = false;
}

@InputType()
export class JobDefinitionFilter {
  @Field(() => String, { nullable: true, description: 'Part of the name, any case.' })
  @MaxLength(200)
  text?: string | null;

  @Field({
    defaultValue: false,
    description: 'Also list definitions whose versions are all deactivated (as their newest version).',
  })
  includeInactive: boolean = false;
}

@ObjectType()
export class JobDefinitionConnection extends ConnectionType(JobDefinition, 'JobDefinition') {}

@ObjectType()
export class JobDefinitionPayload {
  @Field(() => JobDefinition)
  jobDefinition!: JobDefinition;

  @Field(() => [String], {
    description: 'Things to know about what was saved, e.g. that it runs privileged.',
  })
  warnings!: string[];
}

@ObjectType()
export class DeactivateJobDefinitionPayload {
  @Field(() => [JobDefinition], { description: 'The versions deactivated.' })
  jobDefinitions!: JobDefinition[];
}
