import { randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { v7 as uuidv7 } from 'uuid';
import { DATA_KEY_COLUMNS, DataKey, FINGERPRINT_KEY_ROLE, type DataKeyRow } from './data-key.entity.js';
import {
  DATA_KEY_BYTES,
  decryptValue,
  describeSlot,
  encryptValue,
  parseCiphertext,
  unwrapDataKey,
  wrapDataKey,
} from './envelope.js';
import type { Keyring } from './keyring.js';
import { fingerprintSecret, maskSecret } from './redaction.js';
import { SealedSecret, type SecretSlot } from './sealed-secret.js';
import { SecretError } from './secret-error.js';

/**
 * Envelope encryption of secrets at rest: every secret gets its own random data
 * key (a `data_key` row, wrapped by the keyring's current master key), and its
 * value is AES-256-GCM encrypted under that key, bound to its slot (owner table,
 * row id and field) and data key id.
 *
 * `seal` and `destroy` write the data key row at once, not with the caller's
 * flush: a sealed secret opens as soon as it is returned, and a destroyed one is
 * gone even if the caller's own change then fails. A seal whose owner row is
 * never saved leaves an unused data key behind, which opens nothing.
 */
export class SecretService {
  constructor(
    private readonly em: EntityManager,
    private readonly keyring: Keyring,
  ) {}

  /** Encrypts `plaintext` for `slot` under a new data key (inserted now, see above). */
  async seal(slot: SecretSlot, plaintext: string): Promise<SealedSecret> {
    const dataKey = randomBytes(DATA_KEY_BYTES);
    const dataKeyId = await this.storeDataKey(dataKey);
    return Object.assign(new SealedSecret(), {
      ciphertext: encryptValue(dataKey, dataKeyId, slot, plaintext),
      masked: maskSecret(plaintext),
      fingerprint: fingerprintSecret(await this.fingerprintKey(), plaintext),
    });
  }

  /** The plaintext as sealed; any failure is a SecretError, never an empty or made-up value. */
  async open(slot: SecretSlot, sealed: SealedSecret): Promise<string> {
    const [plaintext] = await this.openMany([{ slot, sealed }]);
    return plaintext!;
  }

  /** Opens several secrets with one query for their data keys; fails as a whole if any fails. */
  async openMany(items: { slot: SecretSlot; sealed: SealedSecret }[]): Promise<string[]> {
    if (items.length === 0) return [];
    const parsed = items.map(({ slot, sealed }) => parseCiphertext(sealed?.ciphertext, slot));
    const ids = [...new Set(parsed.map((item) => item.dataKeyId))];
    const rows = (await this.em.execute(
      `select ${DATA_KEY_COLUMNS} from data_key where id in (${ids.map(() => '?').join(', ')}) and role is null`,
      ids,
    )) as DataKeyRow[];
    const dataKeys = new Map<string, Buffer>();
    for (const row of rows) dataKeys.set(row.id, await this.unwrap(row));
    return items.map(({ slot }, index) => {
      const ciphertext = parsed[index]!;
      const dataKey = dataKeys.get(ciphertext.dataKeyId);
      if (!dataKey) {
        throw new SecretError(
          'DATA_KEY_NOT_FOUND',
          `the data key ${ciphertext.dataKeyId} of the secret in ${describeSlot(slot)} does not exist: ` +
            'the secret was deleted (its key destroyed), or sealed but never saved',
        );
      }
      return decryptValue(dataKey, ciphertext, slot);
    });
  }

  /**
   * Crypto-shreds a secret: deletes its data key (now), after which its ciphertext
   * can never be opened again, even with every master key. Idempotent.
   */
  async destroy(sealed: SealedSecret): Promise<void> {
    const { dataKeyId } = parseCiphertext(sealed?.ciphertext);
    await this.em.nativeDelete(DataKey, { id: dataKeyId, role: null });
  }

  private async storeDataKey(dataKey: Buffer): Promise<string> {
    const master = await this.keyring.encryptionKey();
    const id = uuidv7();
    await this.em.insert(DataKey, {
      id,
      role: null,
      masterKeyId: master.id,
      wrappedKey: wrapDataKey(master.key, id, null, dataKey),
      createdAt: new Date(),
    });
    return id;
  }

  private async unwrap(row: DataKeyRow): Promise<Buffer> {
    const master = await this.keyring.decryptionKey(row.master_key_id);
    const dataKey = unwrapDataKey(master.key, row.id, row.role, row.wrapped_key);
    if (!dataKey) {
      throw new SecretError(
        'DECRYPTION_FAILED',
        `data key ${row.id} does not unwrap under master key "${row.master_key_id}": ` +
          'the key with that id is not the one that wrapped it, or the row was altered',
      );
    }
    return dataKey;
  }

  /**
   * The installation's fingerprint HMAC key: random, made on first use, wrapped
   * like a data key so rotation re-wraps it and it stays the same across rotations.
   */
  private async fingerprintKey(): Promise<Buffer> {
    const find = async () =>
      (
        (await this.em.execute(`select ${DATA_KEY_COLUMNS} from data_key where role = ?`, [
          FINGERPRINT_KEY_ROLE,
        ])) as DataKeyRow[]
      )[0];
    let row = await find();
    if (!row) {
      const master = await this.keyring.encryptionKey();
      const id = uuidv7();
      // Replicas racing to create it: the unique role keeps the first, the others read it.
      await this.em
        .createQueryBuilder(DataKey)
        .insert({
          id,
          role: FINGERPRINT_KEY_ROLE,
          masterKeyId: master.id,
          wrappedKey: wrapDataKey(master.key, id, FINGERPRINT_KEY_ROLE, randomBytes(DATA_KEY_BYTES)),
          createdAt: new Date(),
        })
        .onConflict('role')
        .ignore()
        .execute();
      row = await find();
    }
    return this.unwrap(row!);
  }
}
