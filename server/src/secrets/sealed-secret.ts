import { Embeddable, Property } from '@mikro-orm/core';

/**
 * Where a sealed value lives. It is bound into the ciphertext as additional
 * authenticated data, so a ciphertext copied to another row or field does not open.
 */
export interface SecretSlot {
  /** The owning table, e.g. 'cloud_auth'. */
  owner: string;
  ownerId: string;
  /** The column or key within the owner, e.g. 'credential'. */
  field: string;
}

/**
 * A secret at rest, as SecretService.seal returns it. Stored on the owning entity
 * with `@Embedded(() => SealedSecret, { prefix: '<field>_' })`, or as a plain
 * object inside a JSON column. Never carries `@Field`: types that own a secret
 * expose `masked` and `fingerprint` through their own field resolvers.
 */
@Embeddable()
export class SealedSecret {
  /** `v1.<dataKeyId>.<nonce>.<ciphertext+tag>` (base64url parts): AES-256-GCM under the secret's own data key. */
  @Property({ type: 'text' })
  ciphertext!: string;

  /** Redacted view: the last 4 characters when the secret is 16 or longer, otherwise fully masked. */
  @Property({ type: 'text' })
  masked!: string;

  /** A keyed HMAC prefix: equal secrets give equal fingerprints, stable across key rotation. */
  @Property({ type: 'text' })
  fingerprint!: string;
}
