import { Entity, PrimaryKey, Property } from '@mikro-orm/core';
import { v7 as uuidv7 } from 'uuid';

/** The role of the one data key that is not a secret's own: the installation's fingerprint HMAC key. */
export const FINGERPRINT_KEY_ROLE = 'fingerprint';

/**
 * A random 256-bit data key, wrapped (AES-256-GCM) by a master key. Each secret
 * has its own; deleting the row crypto-shreds that secret, since the master key
 * alone cannot open its ciphertext. `daestro keys rotate` re-wraps rows under a
 * newer master key without touching the secrets they encrypt.
 */
@Entity({ tableName: 'data_key' })
export class DataKey {
  @PrimaryKey({ type: 'uuid' })
  id: string = uuidv7();

  /** Null for a secret's own key; `fingerprint` for the single installation fingerprint key. */
  @Property({ type: 'text', nullable: true, unique: true })
  role: string | null = null;

  /** The id of the master key that wraps this key (in the keyring), for rotation. */
  @Property({ type: 'text', index: true })
  masterKeyId!: string;

  /** `v1.<nonce>.<ciphertext+tag>` (base64url parts), authenticated with this row's id and role. */
  @Property({ type: 'text', hidden: true })
  wrappedKey!: string;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}

/** A data_key row as the hot paths read it, with plain SQL (an entity find costs a few times more). */
export interface DataKeyRow {
  id: string;
  role: string | null;
  master_key_id: string;
  wrapped_key: string;
}

export const DATA_KEY_COLUMNS = 'id, role, master_key_id, wrapped_key';
