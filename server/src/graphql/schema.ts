import 'reflect-metadata';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { SystemResolver } from '../system/system.resolver.js';
import { createDaestroPubSub, type DaestroPubSub } from './pubsub.js';

/** Every resolver the server serves; schema.graphql is printed from this same list. */
const resolvers = [SystemResolver] as const;

export function buildDaestroSchema(pubSub: DaestroPubSub = createDaestroPubSub()): Promise<GraphQLSchema> {
  return buildSchema({ resolvers, pubSub, validate: true });
}

const SCHEMA_FILE_HEADER = `# Generated from the server's resolvers by \`pnpm gen\`; do not edit.
# A test fails when this file and the code disagree.
`;

/** The committed schema.graphql: sorted, so diffs show real changes only. */
export function printSchemaFile(schema: GraphQLSchema): string {
  return `${SCHEMA_FILE_HEADER}\n${printSchema(lexicographicSortSchema(schema))}\n`;
}
