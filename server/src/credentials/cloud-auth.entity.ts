import {
  Embedded,
  Entity,
  Enum,
  ManyToOne,
  OptionalProps,
  PrimaryKey,
  Property,
  Unique,
} from '@mikro-orm/core';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { v7 as uuidv7 } from 'uuid';
import { User } from '../accounts/user.entity.js';
import { SealedSecret } from '../secrets/sealed-secret.js';
import { Project } from '../workloads/project.entity.js';

export enum CloudProvider {
  AWS = 'AWS',
  DIGITALOCEAN = 'DIGITALOCEAN',
  LINODE = 'LINODE',
  VULTR = 'VULTR',
}
registerEnumType(CloudProvider, { name: 'CloudProvider', description: 'Where cloud compute runs.' });

/** What the provider said when the credentials were created. */
export enum CloudAuthVerification {
  VERIFIED = 'VERIFIED',
  UNREACHABLE = 'UNREACHABLE',
  REJECTED = 'REJECTED',
}
registerEnumType(CloudAuthVerification, {
  name: 'CloudAuthVerification',
  description: "The outcome of the provider check made at creation (a read-only call to the provider's API).",
  valuesConfig: {
    VERIFIED: { description: 'The provider accepted the credentials.' },
    UNREACHABLE: {
      description: 'The provider could not be asked (network, timeout, outage); saved unchecked.',
    },
    REJECTED: {
      description: 'The provider refused the credentials (createCloudAuth stores none it refuses).',
    },
  },
});

/**
 * A cloud provider's API credentials, with which cloud compute environments start and
 * stop VMs. Immutable: to change one, delete it and create another.
 */
@ObjectType({
  description:
    "A cloud provider's API credentials for cloud compute environments. Immutable: delete and recreate to change. " +
    'The secret is never returned; maskedSecret and fingerprint tell credentials apart.',
})
@Entity({ tableName: 'cloud_auth' })
@Unique({ properties: ['project', 'name'] })
export class CloudAuth {
  [OptionalProps]?: 'createdAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string = uuidv7();

  @Field(() => Project)
  @ManyToOne(() => Project, { deleteRule: 'cascade' })
  project!: Project;

  @Field({ description: 'Unique in the project: letters, digits and hyphens, up to 64.' })
  @Property({ type: 'text' })
  name!: string;

  @Field(() => CloudProvider)
  @Enum({ items: () => CloudProvider })
  provider!: CloudProvider;

  @Field({
    nullable: true,
    description: 'AWS only: the IAM role to assume with the key, when one was given.',
  })
  @Property({ type: 'text', nullable: true })
  roleArn?: string;

  /** The provider's secret fields (see cloud-credentials.ts), sealed as one JSON document. Never a @Field. */
  @Embedded(() => SealedSecret, { prefix: 'credential_' })
  credential!: SealedSecret;

  @Field(() => CloudAuthVerification)
  @Enum({ items: () => CloudAuthVerification })
  verification!: CloudAuthVerification;

  @Field({ description: 'What the provider check found, for people.' })
  @Property({ type: 'text' })
  verificationMessage!: string;

  @Field({ description: 'When the provider was asked.' })
  @Property({ type: 'timestamptz' })
  checkedAt!: Date;

  @Field()
  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  /** Kept when its creator's account goes: the credentials belong to the project. */
  @ManyToOne(() => User, { deleteRule: 'set null', nullable: true })
  createdBy?: User;
}
