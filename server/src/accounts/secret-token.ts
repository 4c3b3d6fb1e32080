import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * A 256-bit random secret handed to a person once (a session cookie, an email
 * link, an API token). Only its SHA-256 is stored: a leaked database does not
 * let anyone sign in, and lookups by hash stay indexable.
 */
export function newSecretToken(prefix = ''): { secret: string; hash: string } {
  const secret = `${prefix}${randomBytes(32).toString('base64url')}`;
  return { secret, hash: hashSecretToken(secret) };
}

/** The first characters of a secret shown in lists, so people can tell their tokens apart. */
export function shownPrefix(secret: string): string {
  return secret.slice(0, 12);
}

export function hashSecretToken(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Constant-time comparison of two hex digests of equal length. */
export function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}
