/** Why a secret could not be opened. */
export type SecretFailure =
  /** The stored text is not a ciphertext this version of Daestro writes. */
  | 'MALFORMED_CIPHERTEXT'
  /** Its data key is gone: the secret was deleted (crypto-shredded), or its row was never stored. */
  | 'DATA_KEY_NOT_FOUND'
  /** The master key that wraps its data key is not in this server's keyring. */
  | 'MASTER_KEY_NOT_FOUND'
  /** Authentication failed: tampered, copied to another row or field, or the wrong key. */
  | 'DECRYPTION_FAILED';

/**
 * A secret that cannot be opened. Loud on purpose: callers never get an empty
 * string instead. Messages name slots and key ids, never key material or plaintext;
 * GraphQL masks this as an internal error (it is not the caller's mistake).
 */
export class SecretError extends Error {
  constructor(
    readonly failure: SecretFailure,
    message: string,
  ) {
    super(message);
    this.name = 'SecretError';
  }
}
