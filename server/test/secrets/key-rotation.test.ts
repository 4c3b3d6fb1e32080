import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initOrm, migrate, type MikroORM } from '../../src/db/orm.js';
import { rotateDataKeys } from '../../src/secrets/key-rotation.js';
import { Keyring, addMasterKeyToFile } from '../../src/secrets/keyring.js';
import { formatMasterKey, generateMasterKey } from '../../src/secrets/master-keys.js';
import type { SealedSecret, SecretSlot } from '../../src/secrets/sealed-secret.js';
import { SecretService } from '../../src/secrets/secret.service.js';
import { useEmptyDatabase, useTestDatabase } from '../../../test/support/database.js';
import { waitFor } from '../support/wait-for.js';

let orm: MikroORM;
let dir: string;
beforeAll(async () => {
  orm = await initOrm(await useTestDatabase());
  dir = await mkdtemp(path.join(tmpdir(), 'daestro-rotation-'));
});
afterAll(async () => {
  await orm.close(true);
  await rm(dir, { recursive: true, force: true });
});

interface Stored {
  slot: SecretSlot;
  sealed: SealedSecret;
  plaintext: string;
}

async function sealOne(keyring: Keyring, index: number): Promise<Stored> {
  const slot = {
    owner: 'registry_auth',
    ownerId: `0196f3a4-0000-7000-8000-${String(index).padStart(12, '0')}`,
    field: 'password',
  };
  const plaintext = randomBytes(24).toString('base64url');
  return { slot, plaintext, sealed: await new SecretService(orm.em.fork(), keyring).seal(slot, plaintext) };
}

/**
 * One server's traffic: seal a new secret, open an older one, now and then destroy
 * one (its own, so no two workers race on a row), until stopped. Any failure to
 * open a live secret is recorded.
 */
function serverLoad(keyring: Keyring, worker: number, stop: { stopped: boolean }) {
  const live: Stored[] = [];
  const destroyed: Stored[] = [];
  const failures: unknown[] = [];
  let operations = 0;
  const done = (async () => {
    for (let i = 0; !stop.stopped; i += 1) {
      const service = new SecretService(orm.em.fork(), keyring);
      try {
        live.push(await sealOne(keyring, worker * 1_000_000 + i));
        const sample = live[Math.floor(Math.random() * live.length)]!;
        expect(await service.open(sample.slot, sample.sealed)).toBe(sample.plaintext);
        if (i % 7 === 6) {
          const doomed = live.splice(Math.floor(Math.random() * live.length), 1)[0]!;
          await service.destroy(doomed.sealed);
          destroyed.push(doomed);
        }
      } catch (error) {
        failures.push(error);
      }
      operations += 4;
    }
  })();
  return { live, destroyed, failures, done, operations: () => operations };
}

describe('rotateDataKeys', () => {
  it('re-wraps every data key under the new master key while servers seal, open and destroy; nothing is lost', async () => {
    const keyFile = path.join(dir, 'master-keys');
    const oldKey = generateMasterKey();
    await writeFile(keyFile, `${formatMasterKey(oldKey)}\n`, { mode: 0o600 });
    const serverKeyring = await Keyring.open({ kind: 'file', path: keyFile, generated: false });

    const before = await Promise.all(Array.from({ length: 300 }, (_, i) => sealOne(serverKeyring, i)));
    const fingerprintBefore = before[0]!.sealed.fingerprint;

    const stop = { stopped: false };
    const workers = [1, 2, 3].map((worker) => serverLoad(serverKeyring, worker, stop));
    const newKey = await addMasterKeyToFile(keyFile);
    // The servers' keyring reads the file again within a second: from then on they seal under the new key.
    await waitFor(async () => (await serverKeyring.encryptionKey()).id === newKey.id, { timeoutMs: 5_000 });

    const rotationKeyring = await Keyring.open({ kind: 'file', path: keyFile, generated: false });
    const operationsBefore = workers.reduce((sum, worker) => sum + worker.operations(), 0);
    const summary = await rotateDataKeys(orm.em.fork(), rotationKeyring, { batchSize: 25 });
    const operationsDuring = workers.reduce((sum, worker) => sum + worker.operations(), 0) - operationsBefore;
    stop.stopped = true;
    await Promise.all(workers.map((worker) => worker.done));

    expect(workers.flatMap((worker) => worker.failures)).toEqual([]);
    expect(operationsDuring).toBeGreaterThan(0);
    expect(summary.targetKeyId).toBe(newKey.id);
    expect(summary.rewrapped).toBeGreaterThanOrEqual(300);
    expect(summary.unreadable).toEqual({});
    expect(Object.keys(summary.byMasterKey)).toEqual([newKey.id]);
    const [{ count }] = (await orm.em
      .fork()
      .execute('select count(*)::int as count from data_key where master_key_id <> ?', [newKey.id])) as [
      { count: number },
    ];
    expect(count).toBe(0);

    // The old key is removed: every live secret still opens, with the new key alone.
    await writeFile(keyFile, `${formatMasterKey(newKey)}\n`);
    const newOnly = await Keyring.open({ kind: 'file', path: keyFile, generated: false });
    expect(newOnly.ids).toEqual([newKey.id]);
    const live = [...before, ...workers.flatMap((worker) => worker.live)];
    const opened = await new SecretService(orm.em.fork(), newOnly).openMany(live);
    expect(opened).toEqual(live.map((stored) => stored.plaintext));
    for (const doomed of workers.flatMap((worker) => worker.destroyed)) {
      await expect(
        new SecretService(orm.em.fork(), newOnly).open(doomed.slot, doomed.sealed),
      ).rejects.toMatchObject({
        failure: 'DATA_KEY_NOT_FOUND',
      });
    }

    // The fingerprint key was re-wrapped too, not replaced: equal secrets still fingerprint alike.
    const again = await new SecretService(orm.em.fork(), newOnly).seal(before[0]!.slot, before[0]!.plaintext);
    expect(again.fingerprint).toBe(fingerprintBefore);
    console.info(
      `rotation under load: ${summary.rewrapped} data keys in ${summary.durationMs} ms (${summary.passes} passes), ` +
        `${operationsDuring} secret operations by 3 workers meanwhile`,
    );
  });

  it('leaves data keys it cannot unwrap where they are, and reports them by master key', async () => {
    // Its own database: the keyring that lost a key must still read the fingerprint key to seal.
    const own = await initOrm(await useEmptyDatabase());
    try {
      await migrate(own);
      const lost = generateMasterKey();
      const kept = generateMasterKey();
      const slot = {
        owner: 'registry_auth',
        ownerId: '0196f3a4-0000-7000-8000-000000000000',
        field: 'password',
      };
      // The fingerprint key and a first secret under `kept`, then one secret under `lost`.
      await new SecretService(own.em.fork(), Keyring.fromKeys([kept])).seal(slot, 'reachable');
      const sealed = await new SecretService(own.em.fork(), Keyring.fromKeys([lost, kept])).seal(
        slot,
        'unreachable',
      );
      const target = generateMasterKey();
      const summary = await rotateDataKeys(own.em.fork(), Keyring.fromKeys([target, kept]));
      expect(summary.rewrapped).toBe(2);
      expect(summary.unreadable).toEqual({ [lost.id]: 1 });
      expect(summary.byMasterKey).toEqual({ [lost.id]: 1, [target.id]: 2 });
      const withLost = Keyring.fromKeys([lost, target]);
      expect(await new SecretService(own.em.fork(), withLost).open(slot, sealed)).toBe('unreachable');
    } finally {
      await own.close(true);
    }
  });
});
