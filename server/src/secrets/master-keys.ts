import { randomBytes } from 'node:crypto';

/** A master key: wraps (encrypts) data keys. Its id is stored beside every data key it wraps. */
export interface MasterKey {
  id: string;
  /** 32 bytes: AES-256. */
  key: Buffer;
}

export const MASTER_KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;
// Strict base64 or base64url: Buffer.from(…, 'base64') would silently skip stray characters.
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/**
 * Where the master keys come from: DAESTRO_MASTER_KEYS (fixed for the process), or a
 * file (DAESTRO_MASTER_KEYS_FILE, or the one generated in the data directory) that a
 * running server re-reads when it changes, so `daestro keys rotate --new-key` needs
 * no restart.
 */
export type MasterKeySource =
  { kind: 'env'; keys: MasterKey[] } | { kind: 'file'; path: string; generated: boolean };

/**
 * Parses `id:base64key` entries separated by commas or newlines; blank lines and
 * lines starting with `#` are ignored. The first key encrypts, all decrypt.
 * Problems never quote key material, only ids and positions.
 */
export function parseMasterKeys(text: string, origin: string): { keys: MasterKey[]; problems: string[] } {
  const keys: MasterKey[] = [];
  const problems: string[] = [];
  const entries = text
    .split('\n')
    .filter((line) => !line.trim().startsWith('#'))
    .flatMap((line) => line.split(','))
    .map((entry) => entry.trim())
    .filter(Boolean);
  entries.forEach((entry, index) => {
    const separator = entry.indexOf(':');
    const id = separator > 0 ? entry.slice(0, separator).trim() : '';
    const encoded = separator > 0 ? entry.slice(separator + 1).trim() : '';
    if (!KEY_ID.test(id) || !encoded) {
      problems.push(
        `${origin}: entry ${index + 1} must be <id>:<base64 key>, the id made of letters, digits, _ and - (at most 64)`,
      );
      return;
    }
    // Node's base64 decoder accepts both alphabets.
    const key = BASE64.test(encoded) ? Buffer.from(encoded, 'base64') : undefined;
    if (key?.length !== MASTER_KEY_BYTES) {
      problems.push(
        `${origin}: master key "${id}" must be ${MASTER_KEY_BYTES} random bytes in base64` +
          (key ? ` (it decodes to ${key.length} bytes)` : ' (it is not valid base64)') +
          '; generate one with `daestro keys generate`',
      );
      return;
    }
    if (keys.some((existing) => existing.id === id)) {
      problems.push(`${origin}: master key id "${id}" appears more than once`);
      return;
    }
    keys.push({ id, key });
  });
  if (entries.length === 0) problems.push(`${origin}: no master key (expected <id>:<base64 key> entries)`);
  return { keys, problems };
}

/** A fresh random master key whose id says when it was made, e.g. `k20261127-3f9a1c`. */
export function generateMasterKey(now = new Date()): MasterKey {
  const day = now.toISOString().slice(0, 10).replaceAll('-', '');
  return { id: `k${day}-${randomBytes(3).toString('hex')}`, key: randomBytes(MASTER_KEY_BYTES) };
}

export function formatMasterKey(masterKey: MasterKey): string {
  return `${masterKey.id}:${masterKey.key.toString('base64')}`;
}
