import type { Config } from '../config.js';
import { openDatabase } from '../db/database.js';
import { runningEmbeddedPostgresUrl } from '../db/embedded-postgres.js';
import type { Logger } from '../logger.js';
import { rotateDataKeys, type RotationSummary } from './key-rotation.js';
import { FILE_CHECK_INTERVAL_MS, Keyring, addMasterKeyToFile } from './keyring.js';
import { formatMasterKey, generateMasterKey } from './master-keys.js';

export const KEYS_ACTIONS = ['generate', 'rotate', 'status'] as const;
export type KeysAction = (typeof KEYS_ACTIONS)[number];

export const KEYS_USAGE = `  keys generate   print a new random master key (<id>:<base64>)
  keys rotate     re-wrap every data key under the first master key, while servers run
                  --new-key: first put a new key at the top of the key file
                  --batch-size N: data keys per update statement (default 500)
  keys status     data keys per master key, and the keys no data key needs any more`;

export interface KeysOptions {
  newKey?: boolean;
  batchSize?: string;
}

/** `daestro keys …`: returns the exit code; `print` writes a line for the operator. */
export async function runKeysCommand(
  action: KeysAction,
  options: KeysOptions,
  config: Config,
  log: Logger,
  print: (line: string) => void,
): Promise<number> {
  if (action === 'generate') {
    print(formatMasterKey(generateMasterKey()));
    return 0;
  }
  const batchSize = Number(options.batchSize ?? 500);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
    print(`--batch-size must be a whole number from 1 to 10000, got "${options.batchSize}"`);
    return 2;
  }
  if (options.newKey && action !== 'rotate') {
    print('--new-key goes with `daestro keys rotate`');
    return 2;
  }

  let keyring = await Keyring.open(config.masterKeys, log);
  if (options.newKey) {
    if (!keyring.file) {
      print(
        'DAESTRO_MASTER_KEYS is set, so Daestro cannot add a key to it: put a key from `daestro keys generate` ' +
          'first in DAESTRO_MASTER_KEYS on every server, restart them, then run `daestro keys rotate`.',
      );
      return 2;
    }
    const added = await addMasterKeyToFile(keyring.file);
    print(`added master key ${added.id} at the top of ${keyring.file}: it encrypts new secrets from now on`);
    keyring = await Keyring.open(config.masterKeys, log);
    // Servers sharing the file switch to it on their next encryption after this interval.
    await new Promise((resolve) => setTimeout(resolve, FILE_CHECK_INTERVAL_MS + 500));
  }

  // A server on the embedded database may be running: use its cluster, never start a second one.
  const runningUrl = config.databaseUrl ? undefined : await runningEmbeddedPostgresUrl(config.dataDir);
  const database = await openDatabase(runningUrl ? { ...config, databaseUrl: runningUrl } : config, log);
  try {
    const em = database.orm.em.fork();
    if (action === 'status') {
      const counts = (await em.execute(
        'select master_key_id, count(*)::int as count from data_key group by master_key_id order by master_key_id',
      )) as { master_key_id: string; count: number }[];
      printUsage(Object.fromEntries(counts.map((row) => [row.master_key_id, row.count])), keyring, print);
      return counts.some((row) => !keyring.ids.includes(row.master_key_id)) ? 1 : 0;
    }

    const target = await keyring.encryptionKey();
    print(`re-wrapping data keys under master key ${target.id} (${keyring.origin})`);
    let lastPrint = 0;
    const summary = await rotateDataKeys(em, keyring, {
      batchSize,
      onProgress: ({ rewrapped, total }) => {
        if (Date.now() - lastPrint < 1_000) return;
        lastPrint = Date.now();
        print(`  ${rewrapped} of ${total} data keys re-wrapped`);
      },
    });
    printSummary(summary, keyring, print);
    return Object.keys(summary.unreadable).length > 0 ? 1 : 0;
  } finally {
    await database.close();
  }
}

function printSummary(summary: RotationSummary, keyring: Keyring, print: (line: string) => void): void {
  print(
    `re-wrapped ${summary.rewrapped} data keys under ${summary.targetKeyId} in ` +
      `${(summary.durationMs / 1000).toFixed(1)} s (${summary.passes} pass${summary.passes === 1 ? '' : 'es'})`,
  );
  for (const [keyId, count] of Object.entries(summary.unreadable)) {
    print(
      `  could NOT re-wrap ${count} data keys under ${keyId}: this keyring cannot unwrap them ` +
        `(${keyring.ids.includes(keyId) ? 'rows altered, or a different key under that id' : 'key missing'}); keep ${keyId}`,
    );
  }
  printUsage(summary.byMasterKey, keyring, print);
}

function printUsage(
  byMasterKey: Record<string, number>,
  keyring: Keyring,
  print: (line: string) => void,
): void {
  print('data keys per master key:');
  for (const [keyId, count] of Object.entries(byMasterKey)) {
    print(`  ${keyId}: ${count}${keyring.ids.includes(keyId) ? '' : ' (NOT in this keyring)'}`);
  }
  const unused = keyring.ids.slice(1).filter((keyId) => !byMasterKey[keyId]);
  if (unused.length > 0) {
    print(
      `no data key needs ${unused.join(', ')} any more: remove ${unused.length === 1 ? 'it' : 'them'} from ` +
        `${keyring.origin} once every server encrypts with ${keyring.ids[0]} (keep a backup until then)`,
    );
  }
}
