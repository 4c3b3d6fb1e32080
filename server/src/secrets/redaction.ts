import { createHmac } from 'node:crypto';

/** Secrets at least this long show their last 4 characters when masked; shorter ones show none. */
export const MASKED_TAIL_MIN_LENGTH = 16;
const MASKED_TAIL_LENGTH = 4;
const BULLETS = '••••';

/**
 * The redacted view of a secret: `••••abcd` (its last 4 characters) when it is at
 * least 16 characters long, else `••••••••`, which says nothing about its length.
 * Characters are code points, so a tail never splits an emoji or a surrogate pair.
 */
export function maskSecret(secret: string): string {
  const characters = Array.from(secret);
  return characters.length >= MASKED_TAIL_MIN_LENGTH
    ? `${BULLETS}${characters.slice(-MASKED_TAIL_LENGTH).join('')}`
    : `${BULLETS}${BULLETS}`;
}

/** Hex characters kept of the HMAC: 64 bits, enough to tell secrets apart, too few to test guesses offline at scale. */
const FINGERPRINT_HEX_LENGTH = 16;

/**
 * A keyed HMAC-SHA-256 prefix: equal secrets give equal fingerprints, so people can
 * recognise a secret they hold without it being shown; without the installation's
 * fingerprint key (itself wrapped by a master key), nobody can test guesses.
 */
export function fingerprintSecret(fingerprintKey: Buffer, secret: string): string {
  return createHmac('sha256', fingerprintKey)
    .update(secret, 'utf8')
    .digest('hex')
    .slice(0, FINGERPRINT_HEX_LENGTH);
}
