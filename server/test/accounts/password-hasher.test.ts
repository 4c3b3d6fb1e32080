import argon2 from 'argon2';
import { describe, expect, it } from 'vitest';
import { PasswordHasher } from '../../src/accounts/password-hasher.js';

describe('PasswordHasher', () => {
  const hasher = new PasswordHasher();

  it('hashes with argon2id at OWASP parameters (m=19 MiB, t=2, p=1) and verifies', async () => {
    const hash = await hasher.hash('correct horse battery staple');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await hasher.verify(hash, 'correct horse battery staple')).toBe(true);
    expect(await hasher.verify(hash, 'Correct horse battery staple')).toBe(false);
    expect(hasher.needsRehash(hash)).toBe(false);
  });

  it('asks for a rehash of hashes made with weaker parameters', async () => {
    const old = await argon2.hash('pw', {
      type: argon2.argon2id,
      memoryCost: 8192,
      timeCost: 1,
      parallelism: 1,
    });
    expect(hasher.needsRehash(old)).toBe(true);
  });

  it('never runs more hashes at once than its cap', async () => {
    const capped = new PasswordHasher(undefined, 2);
    let highest = 0;
    const sampler = setInterval(() => (highest = Math.max(highest, capped.activeHashes)), 1);
    await Promise.all(Array.from({ length: 6 }, (_, i) => capped.hash(`password-${i}`)));
    clearInterval(sampler);
    expect(highest).toBe(2);
  });

  it('spends a real verification on unknown accounts', async () => {
    const started = performance.now();
    expect(await hasher.verifyNothing('anything')).toBe(false);
    expect(performance.now() - started).toBeGreaterThan(5);
  });
});
