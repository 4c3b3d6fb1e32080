import argon2 from 'argon2';
import pLimit from 'p-limit';

/** argon2id parameters; OWASP's minimum is m=19 MiB, t=2, p=1. */
export interface PasswordHashParameters {
  memoryCost: number; // KiB
  timeCost: number;
  parallelism: number;
}

export const DEFAULT_PASSWORD_HASH_PARAMETERS: PasswordHashParameters = {
  memoryCost: 19 * 1024,
  timeCost: 2,
  parallelism: 1,
};

/**
 * Hashes and verifies passwords with argon2id. At most `maxConcurrent` hashes
 * run at once (each takes memoryCost of RAM), so a burst of sign-ins queues
 * instead of exhausting memory.
 */
export class PasswordHasher {
  private readonly limit: ReturnType<typeof pLimit>;

  constructor(
    private readonly parameters: PasswordHashParameters = DEFAULT_PASSWORD_HASH_PARAMETERS,
    maxConcurrent = 4,
  ) {
    this.limit = pLimit(maxConcurrent);
  }

  hash(password: string): Promise<string> {
    return this.limit(() => argon2.hash(password, { type: argon2.argon2id, ...this.parameters }));
  }

  verify(hash: string, password: string): Promise<boolean> {
    return this.limit(() => argon2.verify(hash, password));
  }

  /** Hashes running right now (never more than maxConcurrent). */
  get activeHashes(): number {
    return this.limit.activeCount;
  }

  /** true when the hash was made with other parameters: rehash it at the next successful sign-in. */
  needsRehash(hash: string): boolean {
    return argon2.needsRehash(hash, { ...this.parameters });
  }

  /**
   * Spends the time of a real verification when there is no account, so the
   * response time does not tell whether an email is registered.
   */
  async verifyNothing(password: string): Promise<false> {
    await this.verify(await this.dummyHash, password);
    return false;
  }

  private readonly dummyHash = argon2.hash('no account has this password', {
    type: argon2.argon2id,
    ...this.parameters,
  });
}
