import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../config.js';
import type { Logger } from '../logger.js';
import {
  formatMasterKey,
  generateMasterKey,
  parseMasterKeys,
  type MasterKey,
  type MasterKeySource,
} from './master-keys.js';
import { SecretError } from './secret-error.js';

/** How often, at most, a file-backed keyring looks for a changed key file before encrypting. */
export const FILE_CHECK_INTERVAL_MS = 1_000;

const GENERATED_FILE_HEADER = `# Daestro master keys, one <id>:<base64 key> per line. The first encrypts new
# secrets; every key decrypts. BACK THIS FILE UP: without it, no stored secret
# (cloud and registry credentials, sensitive environment variables) can be
# decrypted. To rotate: \`daestro keys rotate --new-key\` (see README.md).
`;

/**
 * The master keys of this process. The first encrypts (wraps new data keys), all
 * decrypt. Keys from a file follow the file: a changed file is re-read before the
 * next encryption (checked at most once a second), and an unknown key id re-reads
 * it once, so a running server picks up a key added by `daestro keys rotate`.
 */
export class Keyring {
  private fileStamp: string | undefined;
  private fileCheckedAt = 0;

  private constructor(
    private readonly source: MasterKeySource,
    private keys: MasterKey[],
    private readonly log?: Logger,
  ) {}

  /** Opens the configured keys; with no keys configured, generates the key file in the data directory on first start. */
  static async open(source: MasterKeySource, log?: Logger): Promise<Keyring> {
    if (source.kind === 'env') return new Keyring(source, source.keys, log);
    if (source.generated) await ensureGeneratedKeyFile(source.path, log);
    const keyring = new Keyring(source, [], log);
    await keyring.reload();
    if (source.generated) await warnIfReadableByOthers(source.path, log);
    return keyring;
  }

  /** A fixed set of keys (tests, benchmarks). */
  static fromKeys(keys: MasterKey[]): Keyring {
    if (keys.length === 0) throw new Error('a keyring needs at least one master key');
    return new Keyring({ kind: 'env', keys }, keys);
  }

  /** Where the keys come from, for messages. */
  get origin(): string {
    if (this.source.kind === 'env') return 'DAESTRO_MASTER_KEYS';
    return this.source.generated ? `the generated key file ${this.source.path}` : this.source.path;
  }

  /** The path of the key file, when the keys come from one. */
  get file(): string | undefined {
    return this.source.kind === 'file' ? this.source.path : undefined;
  }

  get ids(): string[] {
    return this.keys.map((key) => key.id);
  }

  /** The key that wraps new data keys: the first one. */
  async encryptionKey(): Promise<MasterKey> {
    if (this.source.kind === 'file' && Date.now() - this.fileCheckedAt >= FILE_CHECK_INTERVAL_MS) {
      this.fileCheckedAt = Date.now();
      try {
        if ((await this.stampFile()) !== this.fileStamp) await this.reload();
      } catch (error) {
        // Half-edited or briefly missing: keep encrypting with the keys we have.
        this.log?.warn(
          { err: error, file: this.source.path },
          'master key file unreadable; keeping the loaded keys',
        );
      }
    }
    return this.keys[0]!;
  }

  /** The key with this id; an unknown id re-reads a key file once before failing loudly. */
  async decryptionKey(id: string): Promise<MasterKey> {
    const known = this.keys.find((key) => key.id === id);
    if (known) return known;
    if (this.source.kind === 'file') {
      await this.reload();
      const added = this.keys.find((key) => key.id === id);
      if (added) return added;
    }
    throw new SecretError(
      'MASTER_KEY_NOT_FOUND',
      `master key "${id}" is not in this server's keys (${this.origin} holds ${this.ids.join(', ')}). ` +
        'Every server needs every master key that still wraps a data key: see "Secrets and master keys" in README.md.',
    );
  }

  private async reload(): Promise<void> {
    if (this.source.kind !== 'file') return;
    const file = this.source.path;
    const stamp = await this.stampFile();
    const { keys, problems } = parseMasterKeys(await readKeyFile(file), file);
    if (problems.length > 0) throw new ConfigError(problems);
    this.keys = keys;
    this.fileStamp = stamp;
  }

  private async stampFile(): Promise<string> {
    const stat = await fs.stat((this.source as { path: string }).path);
    return `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
  }
}

function temporaryPath(file: string): string {
  return `${file}.${randomBytes(6).toString('hex')}.tmp`;
}

async function readKeyFile(file: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError([
      `master key file ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
    ]);
  }
}

/** Creates the key file with one fresh key, readable by this user only, unless it exists. */
async function ensureGeneratedKeyFile(file: string, log?: Logger): Promise<void> {
  if (
    await fs.stat(file).then(
      () => true,
      () => false,
    )
  )
    return;
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const key = generateMasterKey();
  // Written aside, then linked into place: link fails if the file exists, so two
  // processes starting together keep one key, and neither reads a half-written file.
  const temporary = temporaryPath(file);
  await fs.writeFile(temporary, `${GENERATED_FILE_HEADER}${formatMasterKey(key)}\n`, { mode: 0o600 });
  try {
    await fs.link(temporary, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw error;
  } finally {
    await fs.rm(temporary, { force: true });
  }
  log?.warn(
    { file, keyId: key.id },
    `generated a master key in ${file}: BACK IT UP. Without it no stored secret can be decrypted. ` +
      'Production servers should set DAESTRO_MASTER_KEYS or DAESTRO_MASTER_KEYS_FILE instead.',
  );
}

async function warnIfReadableByOthers(file: string, log?: Logger): Promise<void> {
  const { mode } = await fs.stat(file);
  if (mode & 0o077) {
    log?.warn(
      { file, mode: (mode & 0o777).toString(8) },
      `master key file ${file} is readable by other users: chmod 600 it`,
    );
  }
}

/**
 * Puts a fresh key first in a key file (so it encrypts from now on), keeping the
 * others for decryption. The file is replaced atomically with mode 0600, so a
 * running server reading it sees the old or the new file, never half of one.
 */
export async function addMasterKeyToFile(
  file: string,
  key: MasterKey = generateMasterKey(),
): Promise<MasterKey> {
  const text = await readKeyFile(file);
  const { problems } = parseMasterKeys(text, file);
  if (problems.length > 0) throw new ConfigError(problems);
  const lines = text.split('\n');
  const firstKeyLine = lines.findIndex((line) => line.trim() !== '' && !line.trim().startsWith('#'));
  lines.splice(firstKeyLine, 0, formatMasterKey(key));
  const temporary = temporaryPath(file);
  try {
    await fs.writeFile(temporary, lines.join('\n'), { mode: 0o600, flag: 'wx' });
    await fs.rename(temporary, file);
  } catch (error) {
    await fs.rm(temporary, { force: true });
    throw new Error(
      `cannot write the new master key into ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)}): ` +
        'add it yourself with `daestro keys generate`, then run `daestro keys rotate`',
      { cause: error },
    );
  }
  return key;
}
