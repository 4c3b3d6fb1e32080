import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { runningEmbeddedPostgresUrl } from '../server/src/db/embedded-postgres.js';
import { initOrm } from '../server/src/db/orm.js';
import { Keyring } from '../server/src/secrets/keyring.js';
import { formatMasterKey, generateMasterKey, parseMasterKeys } from '../server/src/secrets/master-keys.js';
import type { SealedSecret, SecretSlot } from '../server/src/secrets/sealed-secret.js';
import { SecretService } from '../server/src/secrets/secret.service.js';
import { useTestDatabase } from './support/database.js';
import { spawnDaestro, startDaestro, type DaestroProcess } from './support/daestro-process.js';
import { postGraphQL } from './support/graphql-client.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'daestro-keys-cli-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

interface Stored {
  slot: SecretSlot;
  sealed: SealedSecret;
  plaintext: string;
}

async function sealSecrets(databaseUrl: string, keyring: Keyring, count: number): Promise<Stored[]> {
  const orm = await initOrm(databaseUrl);
  try {
    const stored: Stored[] = [];
    for (let i = 0; i < count; i += 1) {
      const slot = {
        owner: 'cloud_auth',
        ownerId: `0196f3a4-0000-7000-8000-${String(i).padStart(12, '0')}`,
        field: 'credential',
      };
      const plaintext = randomBytes(20).toString('base64url');
      stored.push({
        slot,
        plaintext,
        sealed: await new SecretService(orm.em.fork(), keyring).seal(slot, plaintext),
      });
    }
    return stored;
  } finally {
    await orm.close(true);
  }
}

async function openAll(databaseUrl: string, keyring: Keyring, stored: Stored[]): Promise<string[]> {
  const orm = await initOrm(databaseUrl);
  try {
    return await new SecretService(orm.em.fork(), keyring).openMany(stored);
  } finally {
    await orm.close(true);
  }
}

/** Runs `daestro keys …` to completion; returns its exit code and the lines it printed for people. */
async function keys(args: string[], env: Record<string, string>) {
  const daestro = spawnDaestro(['keys', ...args], env);
  const { code } = await daestro.exited;
  return { code, output: printed(daestro), stderr: daestro.stderr() };
}

/** The plain-text lines among the process's JSON log lines. */
function printed(daestro: DaestroProcess): string {
  return daestro.logs
    .filter((line) => line.level === 0)
    .map((line) => line.msg)
    .join('\n');
}

describe('daestro keys', () => {
  it('generate prints a key that DAESTRO_MASTER_KEYS accepts', async () => {
    const { code, output } = await keys(['generate'], {});
    expect(code).toBe(0);
    const { keys: parsed, problems } = parseMasterKeys(output, 'output');
    expect(problems).toEqual([]);
    expect(parsed).toHaveLength(1);
  });

  it('rotate --new-key adds a key to the key file and re-wraps every data key under it', async () => {
    const databaseUrl = await useTestDatabase();
    const keyFile = path.join(dir, 'master-keys');
    const oldKey = generateMasterKey();
    await writeFile(keyFile, `# ours\n${formatMasterKey(oldKey)}\n`, { mode: 0o600 });
    const stored = await sealSecrets(databaseUrl, Keyring.fromKeys([oldKey]), 45);
    const env = { DATABASE_URL: databaseUrl, DAESTRO_MASTER_KEYS_FILE: keyFile, LOG_LEVEL: 'warn' };

    const rotation = await keys(['rotate', '--new-key', '--batch-size', '10'], env);
    expect(rotation.stderr).toBe('');
    expect(rotation.code).toBe(0);
    const { keys: fileKeys } = parseMasterKeys(await readFile(keyFile, 'utf8'), keyFile);
    expect(fileKeys.map((key) => key.id)).toEqual([expect.not.stringMatching(oldKey.id), oldKey.id]);
    const newKey = fileKeys[0]!;
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    expect(rotation.output).toContain(`added master key ${newKey.id} at the top of ${keyFile}`);
    expect(rotation.output).toContain(`re-wrapped 46 data keys under ${newKey.id}`);
    expect(rotation.output).toContain(`  ${newKey.id}: 46`);
    expect(rotation.output).toContain(`no data key needs ${oldKey.id} any more: remove it from ${keyFile}`);

    // The old key removed, everything still opens.
    expect(await openAll(databaseUrl, Keyring.fromKeys([newKey]), stored)).toEqual(
      stored.map((s) => s.plaintext),
    );

    const status = await keys(['status'], env);
    expect(status.code).toBe(0);
    expect(status.output).toBe(
      [
        'data keys per master key:',
        `  ${newKey.id}: 46`,
        `no data key needs ${oldKey.id} any more: remove it from ${keyFile} once every server encrypts with ${newKey.id} (keep a backup until then)`,
      ].join('\n'),
    );
  });

  it('rotate --new-key refuses keys given in DAESTRO_MASTER_KEYS, saying what to do instead', async () => {
    const { code, output } = await keys(['rotate', '--new-key'], {
      DATABASE_URL: await useTestDatabase(),
      DAESTRO_MASTER_KEYS: formatMasterKey(generateMasterKey()),
    });
    expect(code).toBe(2);
    expect(output).toMatch(
      /^DAESTRO_MASTER_KEYS is set, so Daestro cannot add a key to it: .*daestro keys generate/,
    );
  });

  it('zero config: the server generates its key file (0600, with a warning) and rotate works beside it on the embedded database', async () => {
    // Its own temporary directory: as root, the embedded PostgreSQL's user must be able to enter it.
    const dataDir = await mkdtemp(path.join(tmpdir(), 'daestro-keys-zero-'));
    onTestFinished(() => rm(dataDir, { recursive: true, force: true }));
    const keyFile = path.join(dataDir, 'master-keys');
    const server = await startDaestro({ DAESTRO_DATA_DIR: dataDir });
    try {
      const warning = server.logs.find(
        (line) => line.level === 40 && line.msg.startsWith('generated a master key'),
      );
      expect(warning?.msg).toContain(`${keyFile}: BACK IT UP`);
      expect((await stat(keyFile)).mode & 0o777).toBe(0o600);

      const databaseUrl = (await runningEmbeddedPostgresUrl(dataDir))!;
      expect(databaseUrl).toMatch(/^postgres:\/\//);
      const generated = await Keyring.open({ kind: 'file', path: keyFile, generated: true });
      const stored = await sealSecrets(databaseUrl, generated, 5);

      const rotation = await keys(['rotate', '--new-key'], { DAESTRO_DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
      expect(rotation.code).toBe(0);
      expect(rotation.output).toContain('re-wrapped 6 data keys under');
      // The running server and its database carried on.
      const { body } = await postGraphQL<{ serverInfo: { version: string } }>(
        server.url,
        '{ serverInfo { version } }',
      );
      expect(body.data?.serverInfo.version).toBeTruthy();

      const [newKey] = parseMasterKeys(await readFile(keyFile, 'utf8'), keyFile).keys;
      expect(await openAll(databaseUrl, Keyring.fromKeys([newKey!]), stored)).toEqual(
        stored.map((s) => s.plaintext),
      );
    } finally {
      server.child.kill('SIGINT');
      expect((await server.exited).code).toBe(0);
    }

    const content = await readFile(keyFile, 'utf8');
    const restarted = await startDaestro({ DAESTRO_DATA_DIR: dataDir });
    try {
      expect(restarted.logs.some((line) => line.msg.startsWith('generated a master key'))).toBe(false);
      expect(await readFile(keyFile, 'utf8')).toBe(content);
    } finally {
      restarted.child.kill('SIGINT');
      await restarted.exited;
    }
  }, 120_000);
});
