// Regenerates the committed schema.graphql from the server's resolvers (`pnpm gen`).
import { writeFile } from 'node:fs/promises';
import { buildDaestroSchema, printSchemaFile } from '../src/graphql/schema.js';

const target = new URL('../../schema.graphql', import.meta.url);
await writeFile(target, printSchemaFile(await buildDaestroSchema()));
process.stdout.write(`wrote ${target.pathname}\n`);
