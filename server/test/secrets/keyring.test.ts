import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { FILE_CHECK_INTERVAL_MS, Keyring, addMasterKeyToFile } from '../../src/secrets/keyring.js';
import { formatMasterKey, generateMasterKey, parseMasterKeys } from '../../src/secrets/master-keys.js';
import { SecretError } from '../../src/secrets/secret-error.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'daestro-keyring-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function capturingLogger() {
  const lines: { level: number; msg: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as { level: number; msg: string });
      done();
    },
  });
  return { log: createLogger('info', sink), lines };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('master key configuration', () => {
  const key = () => generateMasterKey();

  it('reads DAESTRO_MASTER_KEYS: the first encrypts, all decrypt', async () => {
    const [first, second] = [key(), key()];
    const config = loadConfig({
      DAESTRO_MASTER_KEYS: `${formatMasterKey(first)}, ${formatMasterKey(second)}`,
    });
    expect(config.masterKeys).toEqual({ kind: 'env', keys: [first, second] });
    const keyring = await Keyring.open(config.masterKeys);
    expect((await keyring.encryptionKey()).id).toBe(first.id);
    expect((await keyring.decryptionKey(second.id)).key.equals(second.key)).toBe(true);
  });

  it('names each malformed key without echoing key material', () => {
    const good = key();
    const short = Buffer.alloc(16, 7).toString('base64');
    const text = [
      formatMasterKey(good),
      `short:${short}`,
      'noseparator',
      `bad id!:${good.key.toString('base64')}`,
      `junk:not*base64`,
      formatMasterKey({ id: good.id, key: key().key }),
    ].join(',');
    const { problems } = parseMasterKeys(text, 'DAESTRO_MASTER_KEYS');
    expect(problems).toEqual([
      'DAESTRO_MASTER_KEYS: master key "short" must be 32 random bytes in base64 (it decodes to 16 bytes); generate one with `daestro keys generate`',
      'DAESTRO_MASTER_KEYS: entry 3 must be <id>:<base64 key>, the id made of letters, digits, _ and - (at most 64)',
      'DAESTRO_MASTER_KEYS: entry 4 must be <id>:<base64 key>, the id made of letters, digits, _ and - (at most 64)',
      'DAESTRO_MASTER_KEYS: master key "junk" must be 32 random bytes in base64 (it is not valid base64); generate one with `daestro keys generate`',
      `DAESTRO_MASTER_KEYS: master key id "${good.id}" appears more than once`,
    ]);
    expect(problems.join('\n')).not.toContain(short);
    expect(() => loadConfig({ DAESTRO_MASTER_KEYS: text })).toThrow(ConfigError);
  });

  it('refuses both variables at once, and an unreadable or malformed key file', async () => {
    const file = path.join(dir, 'both');
    await writeFile(file, formatMasterKey(key()));
    expect(() =>
      loadConfig({ DAESTRO_MASTER_KEYS: formatMasterKey(key()), DAESTRO_MASTER_KEYS_FILE: file }),
    ).toThrow('set DAESTRO_MASTER_KEYS or DAESTRO_MASTER_KEYS_FILE, not both');
    expect(() => loadConfig({ DAESTRO_MASTER_KEYS_FILE: path.join(dir, 'missing') })).toThrow(
      /DAESTRO_MASTER_KEYS_FILE: cannot read .*missing \(ENOENT\)/,
    );
    await writeFile(file, '# nothing here\n');
    expect(() => loadConfig({ DAESTRO_MASTER_KEYS_FILE: file })).toThrow(
      'DAESTRO_MASTER_KEYS_FILE: no master key (expected <id>:<base64 key> entries)',
    );
  });

  it('defaults to a key file in the data directory', () => {
    expect(loadConfig({ DAESTRO_DATA_DIR: '/srv/daestro' }).masterKeys).toEqual({
      kind: 'file',
      path: '/srv/daestro/master-keys',
      generated: true,
    });
  });
});

describe('generated key file', () => {
  it('is created with mode 0600 on first start, with a warning to back it up, and reused after', async () => {
    const dataDir = path.join(dir, 'data');
    const source = loadConfig({ DAESTRO_DATA_DIR: dataDir }).masterKeys;
    const first = capturingLogger();
    const keyring = await Keyring.open(source, first.log);
    const file = path.join(dataDir, 'master-keys');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(first.lines).toEqual([
      expect.objectContaining({
        level: 40,
        msg: expect.stringMatching(/^generated a master key in .*: BACK IT UP/),
      }),
    ]);
    const content = await readFile(file, 'utf8');
    expect(content).toContain(formatMasterKey(await keyring.encryptionKey()));

    const restart = capturingLogger();
    const again = await Keyring.open(source, restart.log);
    expect(again.ids).toEqual(keyring.ids);
    expect(restart.lines).toEqual([]);
    expect(await readFile(file, 'utf8')).toBe(content);
  });

  it('keeps one key when several processes start at once', async () => {
    const source = loadConfig({ DAESTRO_DATA_DIR: path.join(dir, 'racing') }).masterKeys;
    const keyrings = await Promise.all(Array.from({ length: 5 }, () => Keyring.open(source)));
    expect(new Set(keyrings.map((keyring) => keyring.ids.join()))).toEqual(
      new Set([keyrings[0]!.ids.join()]),
    );
  });

  it('warns when an existing key file is readable by others', async () => {
    const dataDir = path.join(dir, 'loose');
    await Keyring.open(loadConfig({ DAESTRO_DATA_DIR: dataDir }).masterKeys);
    await chmod(path.join(dataDir, 'master-keys'), 0o644);
    const { log, lines } = capturingLogger();
    await Keyring.open(loadConfig({ DAESTRO_DATA_DIR: dataDir }).masterKeys, log);
    expect(lines.map((line) => line.msg)).toEqual([
      expect.stringMatching(/is readable by other users: chmod 600 it$/),
    ]);
  });
});

describe('file keyring', () => {
  it('follows a key added to its file: encrypts with it within a second, and re-reads the file for an unknown id', async () => {
    const file = path.join(dir, 'follow');
    const original = generateMasterKey();
    await writeFile(file, `${formatMasterKey(original)}\n`, { mode: 0o600 });
    const server = await Keyring.open({ kind: 'file', path: file, generated: false });
    expect((await server.encryptionKey()).id).toBe(original.id);

    const added = await addMasterKeyToFile(file);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await server.decryptionKey(added.id)).key.equals(added.key)).toBe(true);
    expect((await server.decryptionKey(original.id)).key.equals(original.key)).toBe(true);

    const other = await Keyring.open({ kind: 'file', path: file, generated: false });
    const newer = await addMasterKeyToFile(file);
    await sleep(FILE_CHECK_INTERVAL_MS + 50);
    expect((await other.encryptionKey()).id).toBe(newer.id);
    expect(other.ids).toEqual([newer.id, added.id, original.id]);
  });

  it('names the missing key id and the file when re-reading does not find it', async () => {
    const file = path.join(dir, 'missing-id');
    await writeFile(file, formatMasterKey(generateMasterKey()));
    const keyring = await Keyring.open({ kind: 'file', path: file, generated: false });
    const error = await keyring.decryptionKey('k-gone').catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(SecretError);
    expect((error as SecretError).failure).toBe('MASTER_KEY_NOT_FOUND');
    expect((error as SecretError).message).toContain(
      `master key "k-gone" is not in this server's keys (${file} holds`,
    );
  });

  it('keeps encrypting with the loaded keys while the file is half-written', async () => {
    const file = path.join(dir, 'half');
    const key = generateMasterKey();
    await writeFile(file, formatMasterKey(key));
    const { log, lines } = capturingLogger();
    const keyring = await Keyring.open({ kind: 'file', path: file, generated: false }, log);
    await writeFile(file, `${key.id}:abc`);
    await sleep(FILE_CHECK_INTERVAL_MS + 50);
    expect((await keyring.encryptionKey()).id).toBe(key.id);
    expect(lines.map((line) => line.msg)).toEqual(['master key file unreadable; keeping the loaded keys']);
  });
});
