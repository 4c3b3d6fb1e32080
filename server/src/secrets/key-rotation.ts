import type { EntityManager } from '@mikro-orm/postgresql';
import { DATA_KEY_COLUMNS, type DataKeyRow } from './data-key.entity.js';
import { unwrapDataKey, wrapDataKey } from './envelope.js';
import type { Keyring } from './keyring.js';
import { SecretError } from './secret-error.js';

export interface RotationProgress {
  pass: number;
  /** Data keys re-wrapped so far. */
  rewrapped: number;
  /** Data keys under another master key when the rotation started. */
  total: number;
}

export interface RotationSummary {
  /** The master key every data key is now wrapped by: the keyring's first. */
  targetKeyId: string;
  rewrapped: number;
  /** Data keys that the keyring cannot unwrap (an unknown master key, or an altered row), by master key id. */
  unreadable: Record<string, number>;
  /** Data keys per master key afterwards. */
  byMasterKey: Record<string, number>;
  passes: number;
  durationMs: number;
}

const FIRST_ID = '00000000-0000-0000-0000-000000000000';

/**
 * Re-wraps every data key under the keyring's first master key, in batches of
 * short statements, while servers keep sealing and opening secrets: only the
 * wrapped data keys change, never the secrets' ciphertexts, and each update is
 * guarded by the row's previous value, so a key destroyed (or re-wrapped by
 * another run) meanwhile is left alone rather than resurrected or overwritten.
 * Passes repeat while keys remain under an old master key (sealed meanwhile by a
 * server that had not yet picked up the new key), up to `maxPasses`.
 */
export async function rotateDataKeys(
  em: EntityManager,
  keyring: Keyring,
  options: { batchSize?: number; maxPasses?: number; onProgress?: (progress: RotationProgress) => void } = {},
): Promise<RotationSummary> {
  const { batchSize = 500, maxPasses = 3, onProgress } = options;
  const started = Date.now();
  const target = await keyring.encryptionKey();
  const total = await countNotUnder(em, target.id);
  let rewrapped = 0;
  let unreadable: Record<string, number> = {};
  let pass = 0;
  // Master key ids the keyring lacks: asked once, not once per row (a file keyring re-reads its file each time).
  const missing = new Set<string>();

  while (pass < maxPasses) {
    pass += 1;
    unreadable = {};
    let rewrappedThisPass = 0;
    let afterId = FIRST_ID;
    for (;;) {
      const rows = (await em.execute(
        `select ${DATA_KEY_COLUMNS} from data_key where master_key_id <> ? and id > ? order by id limit ?`,
        [target.id, afterId, batchSize],
      )) as DataKeyRow[];
      if (rows.length === 0) break;
      afterId = rows.at(-1)!.id;

      const updates: unknown[] = [];
      for (const row of rows) {
        const dataKey = await unwrapRow(keyring, row, missing);
        if (!dataKey) {
          unreadable[row.master_key_id] = (unreadable[row.master_key_id] ?? 0) + 1;
          continue;
        }
        updates.push(
          row.id,
          row.master_key_id,
          row.wrapped_key,
          wrapDataKey(target.key, row.id, row.role, dataKey),
        );
      }
      if (updates.length > 0) {
        const values = Array.from({ length: updates.length / 4 }, () => '(?::uuid, ?, ?, ?)').join(', ');
        const result = (await em.execute(
          `update data_key as d set master_key_id = ?, wrapped_key = v.new_wrapped_key
             from (values ${values}) as v(id, old_master_key_id, old_wrapped_key, new_wrapped_key)
            where d.id = v.id and d.master_key_id = v.old_master_key_id and d.wrapped_key = v.old_wrapped_key`,
          [target.id, ...updates],
          'run',
        )) as { affectedRows: number };
        rewrapped += result.affectedRows;
        rewrappedThisPass += result.affectedRows;
      }
      onProgress?.({ pass, rewrapped, total });
    }
    const unreadableCount = Object.values(unreadable).reduce((sum, count) => sum + count, 0);
    const remaining = await countNotUnder(em, target.id);
    if (remaining <= unreadableCount || rewrappedThisPass === 0) break;
  }

  const byMasterKey = Object.fromEntries(
    (
      (await em.execute(
        'select master_key_id, count(*)::int as count from data_key group by master_key_id order by master_key_id',
      )) as { master_key_id: string; count: number }[]
    ).map((row) => [row.master_key_id, row.count]),
  );
  return {
    targetKeyId: target.id,
    rewrapped,
    unreadable,
    byMasterKey,
    passes: pass,
    durationMs: Date.now() - started,
  };
}

async function countNotUnder(em: EntityManager, masterKeyId: string): Promise<number> {
  const [row] = (await em.execute('select count(*)::int as count from data_key where master_key_id <> ?', [
    masterKeyId,
  ])) as { count: number }[];
  return row!.count;
}

/** The row's data key, or undefined when this keyring cannot unwrap it. */
async function unwrapRow(
  keyring: Keyring,
  row: DataKeyRow,
  missing: Set<string>,
): Promise<Buffer | undefined> {
  if (missing.has(row.master_key_id)) return undefined;
  try {
    const master = await keyring.decryptionKey(row.master_key_id);
    return unwrapDataKey(master.key, row.id, row.role, row.wrapped_key);
  } catch (error) {
    if (!(error instanceof SecretError)) throw error;
    missing.add(row.master_key_id);
    return undefined;
  }
}
