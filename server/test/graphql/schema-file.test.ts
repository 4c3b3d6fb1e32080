import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { buildDaestroSchema, printSchemaFile } from '../../src/graphql/schema.js';

describe('schema.graphql', () => {
  it('matches the schema the server builds (run `pnpm gen` after changing resolvers or types)', async () => {
    const committed = await readFile(new URL('../../../schema.graphql', import.meta.url), 'utf8');
    expect(printSchemaFile(await buildDaestroSchema())).toBe(committed);
  });
});
