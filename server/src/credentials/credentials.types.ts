import { Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { CloudAuth } from './cloud-auth.entity.js';
import { RegistryAuth } from './registry-auth.entity.js';

// Formats are checked by the service (cloud-credentials.ts, registry-credentials.ts), which names
// the offending field in its errors; the messages never repeat a secret.

@InputType({ description: 'An IAM access key, optionally with a role to assume.' })
export class AwsCredentialsInput {
  @Field({ description: '20 characters starting with AKIA.' })
  accessKeyId!: string;

  @Field({ description: '40 characters; AWS shows it once, when the key is created.' })
  secretAccessKey!: string;

  @Field({ nullable: true, description: 'e.g. arn:aws:iam::123456789012:role/daestro' })
  roleArn?: string;
}

@InputType()
export class DigitalOceanCredentialsInput {
  @Field({ description: 'A personal access token (dop_v1_…) with read and write scope.' })
  token!: string;
}

@InputType()
export class LinodeCredentialsInput {
  @Field({ description: 'A personal access token with read/write access to Linodes.' })
  token!: string;
}

@InputType()
export class VultrCredentialsInput {
  @Field({ description: 'The API key from Account → API.' })
  apiKey!: string;
}

@InputType({ description: 'Give the credentials of exactly one provider; it decides `provider`.' })
export class CreateCloudAuthInput {
  @Field(() => ID)
  projectId!: string;

  @Field({ description: 'Unique in the project: letters, digits and hyphens, up to 64.' })
  name!: string;

  @Field(() => AwsCredentialsInput, { nullable: true })
  aws?: AwsCredentialsInput;

  @Field(() => DigitalOceanCredentialsInput, { nullable: true })
  digitalocean?: DigitalOceanCredentialsInput;

  @Field(() => LinodeCredentialsInput, { nullable: true })
  linode?: LinodeCredentialsInput;

  @Field(() => VultrCredentialsInput, { nullable: true })
  vultr?: VultrCredentialsInput;
}

@InputType()
export class DeleteCloudAuthInput {
  @Field(() => ID)
  cloudAuthId!: string;
}

@InputType()
export class CreateRegistryAuthInput {
  @Field(() => ID)
  projectId!: string;

  @Field({ description: 'Unique in the project: letters, digits and hyphens, up to 64.' })
  name!: string;

  @Field({
    nullable: true,
    description: 'The registry host (and port), e.g. ghcr.io; empty or absent for Docker Hub.',
  })
  registryUrl?: string;

  @Field()
  username!: string;

  @Field({ description: 'The password or an access token.' })
  password!: string;
}

@InputType()
export class DeleteRegistryAuthInput {
  @Field(() => ID)
  registryAuthId!: string;
}

@ObjectType()
export class CreateCloudAuthPayload {
  @Field(() => CloudAuth, { description: 'See `verification`: UNREACHABLE means saved without a check.' })
  cloudAuth!: CloudAuth;
}

@ObjectType()
export class DeleteCloudAuthPayload {
  @Field(() => ID)
  deletedCloudAuthId!: string;
}

@ObjectType()
export class CreateRegistryAuthPayload {
  @Field(() => RegistryAuth)
  registryAuth!: RegistryAuth;
}

@ObjectType()
export class DeleteRegistryAuthPayload {
  @Field(() => ID)
  deletedRegistryAuthId!: string;
}

export enum CredentialUserKind {
  COMPUTE_ENVIRONMENT = 'COMPUTE_ENVIRONMENT',
  JOB_DEFINITION = 'JOB_DEFINITION',
}
registerEnumType(CredentialUserKind, { name: 'CredentialUserKind' });

@ObjectType({ description: 'Something that uses a credential; while anything does, it cannot be deleted.' })
export class CredentialUse {
  @Field(() => CredentialUserKind)
  kind!: CredentialUserKind;

  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;
}
