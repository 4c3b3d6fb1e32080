import { Entity, Enum, Index, ManyToOne, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { v7 as uuidv7 } from 'uuid';
import { User } from '../accounts/user.entity.js';
import { RegistryAuth } from '../credentials/registry-auth.entity.js';
import type { SealedSecret } from '../secrets/sealed-secret.js';
import { FailureClass } from './job-state.js';
import { Project } from './project.entity.js';
import { BackoffKind, RetryPolicyType } from './retry-policy.types.js';

export { BackoffKind };

export enum JobDefinitionType {
  DOCKER = 'DOCKER',
  BASH = 'BASH',
}
registerEnumType(JobDefinitionType, {
  name: 'JobDefinitionType',
  description: 'DOCKER runs a container image; BASH runs a script with bash on the agent.',
});

/** How a failed attempt is retried. attempts counts the first one: 1 means never retry. */
export interface RetryPolicy {
  attempts: number;
  backoff: BackoffKind;
  /** FIXED: the delay. EXPONENTIAL: the first delay, doubled per attempt up to capSeconds. */
  baseSeconds: number;
  capSeconds: number;
  /** Spread each delay uniformly over [0.5, 1] × delay so retries of many jobs do not stampede. */
  jitter: boolean;
  retryOn: FailureClass[];
  /** With APP_FAILURE: retry only these exit codes; empty means any non-zero exit. */
  exitCodes: number[];
}

/** An environment variable: every value is sealed; sensitive ones are only ever shown masked. */
export interface StoredEnvVar {
  name: string;
  sensitive: boolean;
  value: SealedSecret;
}

/**
 * One immutable version of a job definition: an edit writes version n+1 and
 * jobs pin the version they were submitted with.
 */
@ObjectType({
  description:
    'One immutable version of a job definition: every update writes the next version, and jobs pin the version they ran.',
})
@Entity({ tableName: 'job_definition' })
@Unique({ properties: ['project', 'name', 'version'] })
@Index({ properties: ['project', 'name'] })
export class JobDefinition {
  [OptionalProps]?: 'createdAt' | 'active';

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string = uuidv7();

  @ManyToOne(() => Project, { deleteRule: 'cascade' })
  project!: Project;

  @Field({ description: 'Unique in the project; shared by all its versions.' })
  @Property({ type: 'text' })
  name!: string;

  @Field(() => Int, { description: '1, 2, 3…: a new one on every update.' })
  @Property({ type: 'integer' })
  version!: number;

  @Field(() => JobDefinitionType)
  @Enum({ items: () => JobDefinitionType, nativeEnumName: 'job_definition_type' })
  type!: JobDefinitionType;

  /** DOCKER only. */
  @Field(() => String, { nullable: true, description: 'DOCKER: the image to run.' })
  @Property({ type: 'text', nullable: true })
  image?: string;

  /** DOCKER only: credentials for pulling the image. */
  @ManyToOne(() => RegistryAuth, { nullable: true, deleteRule: 'restrict' })
  registryAuth?: RegistryAuth;

  /** BASH only. */
  @Field(() => String, {
    nullable: true,
    description: 'BASH: the script bash runs; the command is its arguments.',
  })
  @Property({ type: 'text', nullable: true })
  script?: string;

  /** Arguments with `Param::<key>` placeholders. */
  @Field(() => [String], {
    description: 'Arguments; `Param::<key>` is replaced by the parameter of that key.',
  })
  @Property({ type: 'json' })
  command!: string[];

  /** Default values for `Param::<key>` placeholders. */
  @Property({ type: 'json' })
  parameters!: Record<string, string>;

  @Property({ type: 'json' })
  env!: StoredEnvVar[];

  /** vCPU, decimal. */
  @Field(() => Float, { description: 'vCPUs, e.g. 0.5.' })
  @Property({ type: 'double' })
  cpu!: number;

  @Field(() => Int)
  @Property({ type: 'integer', fieldName: 'memory_mib' })
  memoryMiB!: number;

  /** 0 means no timeout. */
  @Field(() => Int, {
    description: 'A run still going after this long is stopped as TIMEOUT; 0 means no limit.',
  })
  @Property({ type: 'integer' })
  timeoutSeconds!: number;

  @Field(() => RetryPolicyType)
  @Property({ type: 'json' })
  retryPolicy!: RetryPolicy;

  @Field({ description: 'Docker only: the container runs with extended privileges.' })
  @Property({ type: 'boolean' })
  privileged!: boolean;

  /** A deactivated version accepts no new jobs; running ones finish. */
  @Field({ description: 'A deactivated version accepts no new jobs; jobs already submitted still run.' })
  @Property({ type: 'boolean' })
  active: boolean = true;

  @ManyToOne(() => User, { nullable: true, deleteRule: 'set null' })
  createdBy?: User;

  @Field()
  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
