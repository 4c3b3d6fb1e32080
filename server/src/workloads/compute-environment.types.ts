import { MaxLength } from 'class-validator';
import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { ComputeEnvironment, ComputeEnvironmentKind } from './compute-environment.entity.js';

const ENVIRONMENT_HELP = 'An id, or a reference `project::name`.';

@InputType()
export class CreateComputeEnvironmentInput {
  @Field(() => ID)
  projectId!: string;

  @Field({ description: 'Unique in the project: 1 to 64 letters, digits and hyphens.' })
  @MaxLength(200)
  name!: string;

  @Field(() => ComputeEnvironmentKind)
  kind!: ComputeEnvironmentKind;

  @Field(() => Int, { defaultValue: 1, description: 'Runs one machine takes at once, 1 to 256.' })
  slotsPerSpawn: number = 1;

  @Field(() => ID, { nullable: true, description: 'CLOUD (required): a cloud auth of the project.' })
  cloudAuthId?: string | null;

  @Field(() => String, { nullable: true, description: "CLOUD (required): the provider's region, e.g. fra1." })
  @MaxLength(200)
  region?: string | null;

  @Field(() => String, { nullable: true, description: "CLOUD (required): the provider's machine size." })
  @MaxLength(200)
  instanceType?: string | null;

  @Field(() => Int, {
    nullable: true,
    description: "CLOUD (required): most VMs at once, within the plan's limit.",
  })
  maxSpawns?: number | null;
}

@InputType()
export class ComputeEnvironmentRefInput {
  @Field(() => ID, { description: ENVIRONMENT_HELP })
  computeEnvironment!: string;
}

@ObjectType()
export class ComputeEnvironmentPayload {
  @Field(() => ComputeEnvironment)
  computeEnvironment!: ComputeEnvironment;

  @Field(() => String, {
    nullable: true,
    description:
      'SELF_HOSTED: the token agents register with, shown this once and never again (only its hash is kept).',
  })
  registrationToken!: string | null;
}

@ObjectType()
export class DeleteComputeEnvironmentPayload {
  @Field(() => ID)
  deletedComputeEnvironmentId!: string;
}
