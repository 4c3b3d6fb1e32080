import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { validate as isUuid } from 'uuid';
import { SecretError } from './secret-error.js';
import type { SecretSlot } from './sealed-secret.js';

// AES-256-GCM with a fresh random 96-bit nonce per encryption (NIST SP 800-38D's
// recommended nonce size). Every key here encrypts exactly one value (a data key
// per secret) or a handful of data keys per master key, far below the 2^32
// random-nonce limit.
const ALGORITHM = 'aes-256-gcm';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
export const DATA_KEY_BYTES = 32;

/** The stored format version; a new one would sit beside it, not replace it. */
const VERSION = 'v1';

/** Encrypts and authenticates `plaintext` with `aad`: nonce, then ciphertext with its tag appended. */
export function encrypt(key: Buffer, plaintext: Buffer, aad: Buffer): { nonce: Buffer; sealed: Buffer } {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const sealed = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return { nonce, sealed };
}

/** The plaintext, or undefined when authentication fails (wrong key, wrong aad, or tampering). */
export function decrypt(key: Buffer, nonce: Buffer, sealed: Buffer, aad: Buffer): Buffer | undefined {
  if (nonce.length !== NONCE_BYTES || sealed.length < TAG_BYTES) return undefined;
  const decipher = createDecipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]);
  } catch {
    return undefined;
  }
}

// JSON arrays keep the parts unambiguous whatever characters they hold.
function secretAad(slot: SecretSlot, dataKeyId: string): Buffer {
  return Buffer.from(JSON.stringify(['daestro.secret.v1', slot.owner, slot.ownerId, slot.field, dataKeyId]));
}

function dataKeyAad(dataKeyId: string, role: string | null): Buffer {
  return Buffer.from(JSON.stringify(['daestro.data-key.v1', dataKeyId, role ?? 'secret']));
}

/** `v1.<dataKeyId>.<nonce>.<ciphertext+tag>`, bound to its slot and data key. */
export function encryptValue(
  dataKey: Buffer,
  dataKeyId: string,
  slot: SecretSlot,
  plaintext: string,
): string {
  const { nonce, sealed } = encrypt(dataKey, Buffer.from(plaintext, 'utf8'), secretAad(slot, dataKeyId));
  return [VERSION, dataKeyId, nonce.toString('base64url'), sealed.toString('base64url')].join('.');
}

export interface ParsedCiphertext {
  dataKeyId: string;
  nonce: Buffer;
  sealed: Buffer;
}

/** Splits a stored ciphertext; throws MALFORMED_CIPHERTEXT for anything this version did not write. */
export function parseCiphertext(ciphertext: string, slot?: SecretSlot): ParsedCiphertext {
  const parts = typeof ciphertext === 'string' ? ciphertext.split('.') : [];
  const [version, dataKeyId, nonce, sealed] = parts;
  if (parts.length !== 4 || version !== VERSION || !dataKeyId || !isUuid(dataKeyId) || !nonce || !sealed) {
    throw new SecretError(
      'MALFORMED_CIPHERTEXT',
      `${slot ? `the secret in ${describeSlot(slot)}` : 'the secret'} is not a ${VERSION} ciphertext (corrupted or written by something else)`,
    );
  }
  return { dataKeyId, nonce: Buffer.from(nonce, 'base64url'), sealed: Buffer.from(sealed, 'base64url') };
}

export function decryptValue(dataKey: Buffer, parsed: ParsedCiphertext, slot: SecretSlot): string {
  const plaintext = decrypt(dataKey, parsed.nonce, parsed.sealed, secretAad(slot, parsed.dataKeyId));
  if (!plaintext) {
    throw new SecretError(
      'DECRYPTION_FAILED',
      `the secret in ${describeSlot(slot)} failed authentication: it was altered, or copied from another row or field`,
    );
  }
  return plaintext.toString('utf8');
}

/** A data key wrapped by a master key: `v1.<nonce>.<ciphertext+tag>`, bound to the data key's id and role. */
export function wrapDataKey(
  masterKey: Buffer,
  dataKeyId: string,
  role: string | null,
  dataKey: Buffer,
): string {
  const { nonce, sealed } = encrypt(masterKey, dataKey, dataKeyAad(dataKeyId, role));
  return [VERSION, nonce.toString('base64url'), sealed.toString('base64url')].join('.');
}

/** The data key, or undefined when the wrapped text is malformed or does not authenticate under this master key. */
export function unwrapDataKey(
  masterKey: Buffer,
  dataKeyId: string,
  role: string | null,
  wrapped: string,
): Buffer | undefined {
  const [version, nonce, sealed, ...rest] = wrapped.split('.');
  if (version !== VERSION || !nonce || !sealed || rest.length > 0) return undefined;
  const dataKey = decrypt(
    masterKey,
    Buffer.from(nonce, 'base64url'),
    Buffer.from(sealed, 'base64url'),
    dataKeyAad(dataKeyId, role),
  );
  return dataKey?.length === DATA_KEY_BYTES ? dataKey : undefined;
}

export function describeSlot(slot: SecretSlot): string {
  return `${slot.owner} ${slot.ownerId} field ${slot.field}`;
}
