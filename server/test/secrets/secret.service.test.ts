import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initOrm, type MikroORM } from '../../src/db/orm.js';
import { Keyring } from '../../src/secrets/keyring.js';
import { generateMasterKey } from '../../src/secrets/master-keys.js';
import type { SealedSecret, SecretSlot } from '../../src/secrets/sealed-secret.js';
import { SecretError, type SecretFailure } from '../../src/secrets/secret-error.js';
import { SecretService } from '../../src/secrets/secret.service.js';
import { useTestDatabase } from '../../../test/support/database.js';

let orm: MikroORM;
beforeAll(async () => {
  orm = await initOrm(await useTestDatabase());
});
afterAll(() => orm.close(true));

const masterKey = generateMasterKey();
const keyring = Keyring.fromKeys([masterKey]);
const service = (ring: Keyring = keyring) => new SecretService(orm.em.fork(), ring);
const slot = (ownerId = '0196f3a4-0000-7000-8000-000000000001', field = 'credential'): SecretSlot => ({
  owner: 'cloud_auth',
  ownerId,
  field,
});

async function expectFailure(opening: Promise<unknown>, failure: SecretFailure): Promise<SecretError> {
  const error = await opening.then(
    (value) => {
      throw new Error(`expected ${failure}, but it opened to ${JSON.stringify(value)}`);
    },
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(SecretError);
  expect((error as SecretError).failure).toBe(failure);
  return error as SecretError;
}

/** Flips one bit of the base64url part at `index` of a `v1.<id>.<nonce>.<sealed>` ciphertext. */
function flipBit(sealed: SealedSecret, index: 2 | 3): SealedSecret {
  const parts = sealed.ciphertext.split('.');
  const bytes = Buffer.from(parts[index]!, 'base64url');
  bytes[bytes.length >> 1]! ^= 0x01;
  parts[index] = bytes.toString('base64url');
  return { ...sealed, ciphertext: parts.join('.') };
}

describe('SecretService', () => {
  it('round-trips values, multi-line and non-ASCII ones included', async () => {
    const values = [
      'AKIAIOSFODNN7EXAMPLE/wJalrXUtnFEMI',
      'ключ 🔑 with "quotes" and \\',
      '-----BEGIN KEY-----\nabc\n-----END KEY-----\n',
      // An environment variable may be set to nothing; it opens to '' as sealed, not as a failure.
      '',
    ];
    for (const value of values) {
      const sealed = await service().seal(slot(), value);
      expect(await service().open(slot(), sealed)).toBe(value);
      expect(sealed.ciphertext).toMatch(/^v1\.[0-9a-f-]{36}\.[\w-]{16}\.[\w-]+$/);
      if (value === '') continue;
      expect(sealed.ciphertext).not.toContain(value);
      expect(sealed.ciphertext).not.toContain(Buffer.from(value).toString('base64url').slice(0, 8));
    }
  });

  it('uses a new data key and nonce per seal, and keeps fingerprints equal for equal secrets only', async () => {
    const first = await service().seal(slot(), 'dop_v1_0123456789abcdef');
    const second = await service().seal(slot(), 'dop_v1_0123456789abcdef');
    const other = await service().seal(slot(), 'dop_v1_0123456789abcdeg');
    expect(first.ciphertext.split('.')[1]).not.toBe(second.ciphertext.split('.')[1]);
    expect(first.ciphertext.split('.')[2]).not.toBe(second.ciphertext.split('.')[2]);
    expect(first.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(second.fingerprint).toBe(first.fingerprint);
    expect(other.fingerprint).not.toBe(first.fingerprint);
  });

  it('masks all but the last 4 characters of secrets 16 or longer, and all of shorter ones', async () => {
    expect((await service().seal(slot(), 'abcdefghijklmnop')).masked).toBe('••••mnop');
    expect((await service().seal(slot(), 'abcdefghijklmno')).masked).toBe('••••••••');
    expect((await service().seal(slot(), `${'x'.repeat(14)}é😀`)).masked).toBe('••••xxé😀');
  });

  it('fails loudly on a tampered ciphertext or nonce, and on text it never wrote', async () => {
    const sealed = await service().seal(slot(), 'tamper-me-please');
    await expectFailure(service().open(slot(), flipBit(sealed, 3)), 'DECRYPTION_FAILED');
    await expectFailure(service().open(slot(), flipBit(sealed, 2)), 'DECRYPTION_FAILED');
    const truncated = { ...sealed, ciphertext: sealed.ciphertext.slice(0, -4) };
    await expectFailure(service().open(slot(), truncated), 'DECRYPTION_FAILED');
    for (const ciphertext of [
      '',
      'plaintext',
      sealed.ciphertext.replace(/^v1/, 'v2'),
      `${sealed.ciphertext}.x`,
    ]) {
      await expectFailure(service().open(slot(), { ...sealed, ciphertext }), 'MALFORMED_CIPHERTEXT');
    }
  });

  it('refuses a ciphertext copied to another row, field or owner, or pointed at another data key', async () => {
    const sealed = await service().seal(slot(), 'bound-to-its-slot');
    await expectFailure(
      service().open(slot('0196f3a4-0000-7000-8000-000000000002'), sealed),
      'DECRYPTION_FAILED',
    );
    await expectFailure(service().open(slot(undefined, 'password'), sealed), 'DECRYPTION_FAILED');
    await expectFailure(service().open({ ...slot(), owner: 'registry_auth' }, sealed), 'DECRYPTION_FAILED');
    const other = await service().seal(slot(), 'bound-to-its-slot');
    const [, , nonce, body] = sealed.ciphertext.split('.');
    const swapped = { ...sealed, ciphertext: ['v1', other.ciphertext.split('.')[1], nonce, body].join('.') };
    await expectFailure(service().open(slot(), swapped), 'DECRYPTION_FAILED');
  });

  it('fails loudly with a different key under the same id, and names a master key it does not have', async () => {
    const sealed = await service().seal(slot(), 'needs-the-right-master-key');
    const impostor = Keyring.fromKeys([{ id: masterKey.id, key: generateMasterKey().key }]);
    const error = await expectFailure(service(impostor).open(slot(), sealed), 'DECRYPTION_FAILED');
    expect(error.message).toContain(masterKey.id);
    const stranger = Keyring.fromKeys([generateMasterKey()]);
    const missing = await expectFailure(service(stranger).open(slot(), sealed), 'MASTER_KEY_NOT_FOUND');
    expect(missing.message).toContain(`"${masterKey.id}"`);
  });

  it('fails loudly when a wrapped data key row was swapped for another', async () => {
    const victim = await service().seal(slot(), 'victim-secret');
    const attacker = await service().seal(slot(), 'attacker-secret');
    const id = (sealed: SealedSecret) => sealed.ciphertext.split('.')[1];
    await orm.em
      .fork()
      .execute(
        'update data_key set wrapped_key = (select wrapped_key from data_key where id = ?) where id = ?',
        [id(attacker), id(victim)],
      );
    await expectFailure(service().open(slot(), victim), 'DECRYPTION_FAILED');
  });

  it('crypto-shreds on destroy: the data key row is gone and the secret never opens again, even with the master key', async () => {
    const doomed = await service().seal(slot(), 'shred-me-now-please');
    const survivor = await service().seal(slot(), 'keep-me-around');
    await service().destroy(doomed);
    await service().destroy(doomed);
    const rows = await orm.em
      .fork()
      .execute('select id from data_key where id = ?', [doomed.ciphertext.split('.')[1]]);
    expect(rows).toEqual([]);
    await expectFailure(service().open(slot(), doomed), 'DATA_KEY_NOT_FOUND');
    expect(await service().open(slot(), survivor)).toBe('keep-me-around');
  });

  it('opens many secrets with a single query, and fails as a whole when one fails', async () => {
    const values = Array.from({ length: 8 }, (_, i) => `secret-number-${i}`);
    const items = await Promise.all(
      values.map(async (value, i) => {
        const itemSlot = slot(`0196f3a4-0000-7000-8000-00000000010${i}`);
        return { slot: itemSlot, sealed: await service().seal(itemSlot, value) };
      }),
    );
    const knex = orm.em.getConnection().getKnex();
    const queries: string[] = [];
    const onQuery = (query: { sql: string }) => queries.push(query.sql);
    knex.on('query', onQuery);
    try {
      expect(await service().openMany(items)).toEqual(values);
    } finally {
      knex.off('query', onQuery);
    }
    expect(queries).toHaveLength(1);
    expect(await service().openMany([])).toEqual([]);
    await service().destroy(items[3]!.sealed);
    await expectFailure(service().openMany(items), 'DATA_KEY_NOT_FOUND');
  });

  it('creates one fingerprint key when replicas seal at the same time', async () => {
    const orm2 = await initOrm(await useTestDatabase());
    try {
      await orm2.em.fork().execute(`delete from data_key where role = 'fingerprint'`);
      const sealed = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          new SecretService((i % 2 ? orm : orm2).em.fork(), keyring).seal(slot(), 'same-secret-everywhere'),
        ),
      );
      expect(new Set(sealed.map((s) => s.fingerprint)).size).toBe(1);
      const rows = await orm.em
        .fork()
        .execute(`select count(*)::int as count from data_key where role = 'fingerprint'`);
      expect(rows).toEqual([{ count: 1 }]);
    } finally {
      await orm2.close(true);
    }
  });
});
