import { readFile, readdir } from 'node:fs/promises';
import { basename } from 'node:path';
import { generate } from '@graphql-codegen/cli';
import { describe, expect, it } from 'vitest';
import config, { GENERATED_BANNER } from '../codegen';

const generatedDir = new URL('../src/gql/', import.meta.url);

describe('web/src/gql', () => {
  it('matches what `pnpm gen` produces from schema.graphql and the documents in src', async () => {
    const expected: { filename: string; content: string }[] = await generate(config, false);
    expect(expected.length).toBeGreaterThan(0);

    const onDisk = (await readdir(generatedDir)).sort();
    expect(onDisk, 'files in web/src/gql (run `pnpm gen`)').toEqual(
      expected.map((file) => basename(file.filename)).sort(),
    );
    for (const file of expected) {
      const actual = await readFile(file.filename, 'utf8');
      expect(actual, `${basename(file.filename)} is stale: run \`pnpm gen\``).toBe(file.content);
      expect(actual.startsWith(GENERATED_BANNER)).toBe(true);
    }
  }, 30_000);
});
