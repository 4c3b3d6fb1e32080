import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import type { DatabaseMode as DatabaseModeValue } from '../db/database.js';

export const DatabaseMode = { EMBEDDED: 'EMBEDDED', EXTERNAL: 'EXTERNAL' } as const satisfies Record<
  DatabaseModeValue,
  DatabaseModeValue
>;
registerEnumType(DatabaseMode, {
  name: 'DatabaseMode',
  description: 'Where the database comes from.',
  valuesConfig: {
    EMBEDDED: { description: 'PostgreSQL started by Daestro in its data directory.' },
    EXTERNAL: { description: 'PostgreSQL at DATABASE_URL.' },
  },
});

@ObjectType({ description: 'Information about the database Daestro runs on.' })
export class DatabaseInfo {
  @Field(() => DatabaseMode, {
    description: 'Whether Daestro started its own PostgreSQL or uses DATABASE_URL.',
  })
  mode!: DatabaseModeValue;

  @Field({ description: 'The PostgreSQL server version, e.g. "18.4".' })
  serverVersion!: string;
}

@ObjectType({ description: 'This Daestro server.' })
export class ServerInfo {
  @Field({ description: 'Daestro version.' })
  version!: string;

  @Field({ description: 'When this server process started.' })
  startedAt!: Date;

  @Field(() => Float, { description: 'Seconds since this server process started.' })
  uptimeSeconds!: number;

  @Field(() => ID, { description: 'Stable id of this installation (one per database).' })
  installationId!: string;

  @Field({ description: 'When this installation first migrated its database.' })
  installedAt!: Date;

  @Field(() => DatabaseInfo)
  database!: DatabaseInfo;

  @Field({
    description:
      'Mail goes to the development outbox (devOutbox) instead of a provider: no mail leaves the server.',
  })
  devOutbox!: boolean;
}

@ObjectType({ description: 'One beat of the server clock.' })
export class ServerTick {
  @Field(() => Int, { description: '1 for the first tick of a subscription, then 2, 3, …' })
  sequence!: number;

  @Field({ description: 'Server time of this tick.' })
  at!: Date;

  @Field(() => Float, { description: 'Seconds since this server process started.' })
  uptimeSeconds!: number;
}
