import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { BACKUP_PATHS, rekeyFor, type RekeyUpdateResult } from './rekey.ts';
import { MAX_STARTS_PER_WINDOW } from './recovery-ops.ts';
import { SEAL_CONFIG_PATH } from './seal-config.ts';
import { KEYRING_PATH } from '../barrier/aes-gcm-barrier.ts';
import { FileBackend } from '../storage/file.ts';
import type { StorageBackend } from '../storage/backend.ts';
import { pgpDecrypt, pgpPair, recordingLogger, rejectsWith, restarted, shamirCore, unsealWith } from '../../test/recovery-helpers.ts';
import type { Core } from './core.ts';

const SECRET_PATH = 'test/rekey-canary';

/** Runs a rekey to completion with the first `threshold` of `oldKeys`. */
async function rekeyWith(core: Core, oldKeys: string[], init: Record<string, unknown>): Promise<RekeyUpdateResult> {
  const rekey = rekeyFor(core, 'barrier');
  const { nonce, required } = await rekey.start(init);
  let last;
  for (const key of oldKeys.slice(0, required)) last = await rekey.update({ key, nonce });
  assert.ok(last && 'complete' in last && last.complete, 'the rekey should complete at the threshold');
  return last;
}

/** True when `keys` unseal a fresh core over `physical`; the canary must read back. */
async function keysUnseal(physical: StorageBackend, keys: string[]): Promise<boolean> {
  const core = restarted(physical);
  try {
    for (const key of keys) await core.submitUnsealKey(key, false);
  } catch {
    return false;
  }
  if (core.sealed) return false;
  assert.equal((await core.barrier.get(SECRET_PATH))?.toString(), 'still here');
  await core.shutdown();
  return true;
}

async function withCanary(started: Awaited<ReturnType<typeof shamirCore>>) {
  await started.core.barrier.put(SECRET_PATH, Buffer.from('still here'));
  return started;
}

describe('rekey (Shamir)', () => {
  it('reports no rekey before a start', async () => {
    const { core } = await shamirCore();
    assert.deepEqual(await rekeyFor(core, 'barrier').status(), {
      nonce: '', started: false, t: 0, n: 0, progress: 0, required: 2,
      pgp_fingerprints: null, backup: false, verification_required: false,
    });
  });

  it('replaces the unseal keys: new shares unseal, old ones no longer do, data survives', async () => {
    const { core, physical, keys } = await withCanary(await shamirCore());
    const rekey = rekeyFor(core, 'barrier');
    const started = await rekey.start({ secret_shares: 5, secret_threshold: 3 });
    assert.deepEqual({ t: started.t, n: started.n, required: started.required, started: started.started }, { t: 3, n: 5, required: 2, started: true });
    const progress = await rekey.update({ key: keys[2], nonce: started.nonce });
    assert.ok(!('complete' in progress));
    assert.equal(progress.progress, 1);
    const done = (await rekey.update({ key: keys[0], nonce: started.nonce })) as RekeyUpdateResult;
    assert.equal(done.complete, true);
    assert.equal(done.nonce, started.nonce);
    assert.equal(done.keys.length, 5);
    assert.deepEqual(done.keys_base64, done.keys.map((k) => Buffer.from(k, 'hex').toString('base64')));
    assert.equal(done.verification_required, false);
    assert.equal(done.verification_nonce, '');

    assert.equal((await core.sealStatus()).t, 3);
    assert.equal((await core.sealStatus()).n, 5);
    assert.equal(await keysUnseal(physical, keys.slice(0, 2)), false);
    assert.equal(await keysUnseal(physical, done.keys.slice(1, 4)), true);
    assert.equal((await rekey.status()).started, false);
    // The running core keeps working (its keyring now sits under the new root key).
    assert.equal((await core.barrier.get(SECRET_PATH))?.toString(), 'still here');
  });

  it('encrypts new shares to PGP keys (hex text inside), reporting fingerprints', async () => {
    const { core, physical, keys } = await withCanary(await shamirCore());
    const holders = [await pgpPair('alice'), await pgpPair('bob')];
    const started = await rekeyFor(core, 'barrier').start({
      secret_shares: 2, secret_threshold: 2, pgp_keys: holders.map((h) => h.publicB64),
    });
    assert.deepEqual(started.pgp_fingerprints, holders.map((h) => h.fingerprint));
    let result: RekeyUpdateResult | undefined;
    for (const key of keys.slice(0, 2)) {
      const r = await rekeyFor(core, 'barrier').update({ key, nonce: started.nonce });
      if ('complete' in r) result = r;
    }
    assert.ok(result);
    assert.deepEqual(result.pgp_fingerprints, holders.map((h) => h.fingerprint));
    assert.deepEqual(result.keys, result.keys_base64.map((b) => Buffer.from(b, 'base64').toString('hex')));
    const plain = await Promise.all(result.keys_base64.map((b, i) => pgpDecrypt(b, holders[i]!.privateKey)));
    for (const share of plain) assert.match(share, /^[0-9a-f]+$/);
    assert.equal(await keysUnseal(physical, plain), true);
  });

  it('backs up PGP-encrypted shares behind the barrier; backup reads, deletes, and goes with the next rekey', async () => {
    const { core, physical, keys } = await shamirCore();
    const holders = [await pgpPair('carol'), await pgpPair('dave')];
    const pgp_keys = [holders[0]!.publicB64, holders[1]!.publicB64, holders[0]!.publicB64];
    const done = await rekeyWith(core, keys, { secret_shares: 3, secret_threshold: 2, pgp_keys, backup: true });
    assert.equal(done.backup, true);
    const backup = await rekeyFor(core, 'barrier').readBackup();
    assert.equal(backup.nonce, done.nonce);
    assert.deepEqual(backup.keys, { [holders[0]!.fingerprint]: [done.keys[0], done.keys[2]], [holders[1]!.fingerprint]: [done.keys[1]] });
    assert.deepEqual(backup.keys_base64[holders[1]!.fingerprint], [done.keys_base64[1]]);
    const raw = (await physical.get(BACKUP_PATHS.barrier))!;
    assert.ok(!raw.toString('latin1').includes(done.nonce), 'the backup is stored encrypted by the barrier');

    await rekeyFor(core, 'barrier').deleteBackup();
    await rejectsWith(rekeyFor(core, 'barrier').readBackup(), 400, /^no backed-up keys found$/);

    // A backup left behind by one rekey is removed by the next rekey without backup.
    const newKeys = await Promise.all(done.keys_base64.slice(0, 2).map((b, i) => pgpDecrypt(b, holders[i]!.privateKey)));
    const withBackup = await rekeyWith(core, newKeys, { secret_shares: 2, secret_threshold: 2, pgp_keys: pgp_keys.slice(0, 2), backup: true });
    assert.ok(await rekeyFor(core, 'barrier').readBackup());
    const latest = await Promise.all(withBackup.keys_base64.map((b, i) => pgpDecrypt(b, holders[i]!.privateKey)));
    await rekeyWith(core, latest, { secret_shares: 1, secret_threshold: 1 });
    await rejectsWith(rekeyFor(core, 'barrier').readBackup(), 400, /^no backed-up keys found$/);
  });

  it('with require_verification the old keys stay in force until a threshold of the NEW shares is verified', async () => {
    const { core, physical, keys } = await withCanary(await shamirCore());
    const rekey = rekeyFor(core, 'barrier');
    const done = await rekeyWith(core, keys, { secret_shares: 3, secret_threshold: 2, require_verification: true });
    assert.equal(done.verification_required, true);
    assert.notEqual(done.verification_nonce, '');
    assert.equal(await keysUnseal(physical, keys.slice(0, 2)), true, 'old keys still work before verification');
    assert.equal(await keysUnseal(physical, done.keys.slice(0, 2)), false, 'new keys not yet in force');
    await rejectsWith(rekey.update({ key: keys[2], nonce: done.nonce }), 400, /must now be verified/);

    const vstatus = await rekey.verifyStatus();
    assert.deepEqual(vstatus, { nonce: done.verification_nonce, started: true, t: 2, n: 3, progress: 0 });
    await rejectsWith(rekey.verify({ key: done.keys[0], nonce: done.nonce }), 400, /incorrect nonce/);

    // Old shares offered as new ones: refused, progress reset, a fresh verification nonce.
    await rekey.verify({ key: keys[0], nonce: done.verification_nonce });
    await rejectsWith(rekey.verify({ key: keys[1], nonce: done.verification_nonce }), 400, /verification failed/);
    const rotated = await rekey.verifyStatus();
    assert.notEqual(rotated.nonce, done.verification_nonce);
    assert.equal(rotated.progress, 0);

    // DELETE verify restarts with another fresh nonce and no progress.
    await rekey.verify({ key: done.keys[0], nonce: rotated.nonce });
    const restartedV = await rekey.restartVerification();
    assert.notEqual(restartedV.nonce, rotated.nonce);
    assert.equal(restartedV.progress, 0);

    assert.equal((await rekey.verify({ key: done.keys[2], nonce: restartedV.nonce })).nonce, restartedV.nonce);
    await rejectsWith(rekey.verify({ key: done.keys[2], nonce: restartedV.nonce }), 400, /duplicate/);
    const verified = await rekey.verify({ key: done.keys[1], nonce: restartedV.nonce });
    assert.deepEqual(verified, { nonce: restartedV.nonce, complete: true });
    assert.equal(await keysUnseal(physical, keys.slice(0, 2)), false);
    assert.equal(await keysUnseal(physical, done.keys.slice(0, 2)), true);
    await rejectsWith(rekey.verifyStatus(), 400, /no rekey in progress/);
  });

  it('refuses bad start parameters without starting', async () => {
    const { core } = await shamirCore();
    const rekey = rekeyFor(core, 'barrier');
    const alice = await pgpPair('alice');
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ secret_shares: 3, secret_threshold: 4 }, /cannot be larger than secret_shares/],
      [{ secret_shares: 256, secret_threshold: 3 }, /secret_shares must be less than 256/],
      [{ secret_shares: 3, secret_threshold: 1 }, /greater than one for multiple/],
      [{ secret_shares: 0, secret_threshold: 0 }, /at least one/],
      [{ secret_threshold: 2 }, /secret_shares and secret_threshold are required/],
      [{ secret_shares: 'three', secret_threshold: 2 }, /secret_shares must be a non-negative integer/],
      [{ secret_shares: 2, secret_threshold: 2, pgp_keys: [alice.publicB64] }, /number of pgp_keys must equal secret_shares/],
      [{ secret_shares: 1, secret_threshold: 1, pgp_keys: [Buffer.from('junk').toString('base64')] }, /not a valid OpenPGP key/],
      [{ secret_shares: 2, secret_threshold: 2, backup: true }, /backup requires pgp_keys/],
      [{ secret_shares: 2, secret_threshold: 2, backup: 'maybe' }, /backup must be a boolean/],
    ];
    for (const [body, pattern] of cases) await rejectsWith(rekey.start(body), 400, pattern);
    assert.equal((await rekey.status()).started, false);
  });

  it('the recovery-key rekey is refused under the Shamir seal', async () => {
    const { core } = await shamirCore();
    const recovery = rekeyFor(core, 'recovery');
    await rejectsWith(recovery.start({ secret_shares: 3, secret_threshold: 2 }), 400, /only used with an auto-unseal seal/);
    await rejectsWith(recovery.status(), 400, /only used with an auto-unseal seal/);
  });

  it('refuses updates with no rekey, a wrong nonce, a duplicate or malformed share', async () => {
    const { core, keys } = await shamirCore();
    const rekey = rekeyFor(core, 'barrier');
    await rejectsWith(rekey.update({ key: keys[0], nonce: 'n' }), 400, /no rekey in progress/);
    const { nonce } = await rekey.start({ secret_shares: 3, secret_threshold: 2 });
    await rejectsWith(rekey.start({ secret_shares: 3, secret_threshold: 2 }), 400, 'rekey already in progress');
    await rejectsWith(rekey.update({ key: keys[0], nonce: 'wrong' }), 400, /incorrect nonce/);
    await rejectsWith(rekey.update({ key: 'a!c', nonce }), 400, /valid hex or base64/);
    await rejectsWith(rekey.update({ key: 'abcd', nonce }), 400, /between 16 and 33 bytes/);
    await rejectsWith(rekey.update({ key: keys[0] + '00', nonce }), 400, /between 16 and 33 bytes/);
    await rekey.update({ key: keys[0], nonce });
    await rejectsWith(rekey.update({ key: keys[0], nonce }), 400, /duplicate/);
    assert.equal((await rekey.status()).progress, 1);
  });

  it('shares of another key set give 400, reset progress and change nothing', async () => {
    const { core, physical, keys } = await withCanary(await shamirCore());
    const other = await shamirCore();
    const rekey = rekeyFor(core, 'barrier');
    const keyringBefore = await physical.get(KEYRING_PATH);
    const { nonce } = await rekey.start({ secret_shares: 3, secret_threshold: 2 });
    await rekey.update({ key: other.keys[0], nonce });
    await rejectsWith(rekey.update({ key: other.keys[1], nonce }), 400, /do not reconstruct the root key/);
    assert.equal((await rekey.status()).progress, 0);
    assert.deepEqual(await physical.get(KEYRING_PATH), keyringBefore);
    assert.equal(await keysUnseal(physical, keys.slice(1)), true);
  });

  it('cancel needs the rekey nonce; cancelled mid-way, a new start has a new nonce and no progress', async () => {
    const { core, keys } = await shamirCore();
    const rekey = rekeyFor(core, 'barrier');
    await rekey.cancel({});
    const first = await rekey.start({ secret_shares: 3, secret_threshold: 2 });
    await rekey.update({ key: keys[0], nonce: first.nonce });
    await rejectsWith(rekey.cancel({}), 400, /'nonce' must be specified/);
    await rejectsWith(rekey.cancel({ nonce: 'someone-else' }), 400, /incorrect nonce/);
    assert.equal((await rekey.status()).started, true);
    await rekey.cancel({ nonce: first.nonce });
    assert.equal((await rekey.status()).started, false);
    const second = await rekey.start({ secret_shares: 2, secret_threshold: 2 });
    assert.notEqual(second.nonce, first.nonce);
    assert.equal(second.progress, 0);
    await rejectsWith(rekey.update({ key: keys[1], nonce: first.nonce }), 400, /incorrect nonce/);
  });

  it('a restart mid-rekey forgets it: the old keys still unseal', async () => {
    const { core, physical, keys } = await withCanary(await shamirCore());
    const rekey = rekeyFor(core, 'barrier');
    const { nonce } = await rekey.start({ secret_shares: 3, secret_threshold: 2, require_verification: true });
    const done = (await rekey.update({ key: keys[0], nonce }), (await rekey.update({ key: keys[1], nonce })) as RekeyUpdateResult);
    assert.equal(done.verification_required, true);
    await core.shutdown();
    const again = restarted(physical);
    await unsealWith(again, keys.slice(1));
    assert.equal((await rekeyFor(again, 'barrier').status()).started, false);
    assert.equal(await keysUnseal(physical, done.keys.slice(0, 2)), false);
  });

  it(`limits starts and cancels to ${MAX_STARTS_PER_WINDOW} a minute per client address with a 429; other addresses are unaffected`, async () => {
    const { core } = await shamirCore();
    const rekey = rekeyFor(core, 'barrier');
    for (let i = 0; i < MAX_STARTS_PER_WINDOW / 2; i++) {
      const { nonce } = await rekey.start({ secret_shares: 1, secret_threshold: 1 }, '2001:db8:1:2::7');
      await rekey.cancel({ nonce }, '2001:db8:1:2::7');
    }
    // The same /64 counts as one client.
    await rejectsWith(rekey.start({ secret_shares: 1, secret_threshold: 1 }, '2001:db8:1:2:ffff::1'), 429, /too many barrier rekey attempts/);
    assert.equal((await rekey.status()).started, false);
    const other = await rekey.start({ secret_shares: 1, secret_threshold: 1 }, '2001:db8:1:3::7');
    assert.equal(other.started, true);
  });

  it('answers 503 while sealed', async () => {
    const { core } = await shamirCore();
    await core.seal();
    await rejectsWith(rekeyFor(core, 'barrier').start({ secret_shares: 1, secret_threshold: 1 }), 503, /sealed/);
    await rejectsWith(rekeyFor(core, 'barrier').status(), 503, /sealed/);
  });

  it('logs start, cancel and completion without any key', async () => {
    const logger = recordingLogger();
    const { core, keys } = await shamirCore(logger);
    const rekey = rekeyFor(core, 'barrier');
    const first = await rekey.start({ secret_shares: 2, secret_threshold: 2 });
    await rekey.cancel({ nonce: first.nonce });
    const done = await rekeyWith(core, keys, { secret_shares: 2, secret_threshold: 2 });
    const log = logger.lines.join('\n');
    assert.match(log, /rekey: started/);
    assert.match(log, /rekey: cancelled/);
    assert.match(log, /rekey: completed/);
    for (const secret of [...keys, ...done.keys, ...done.keys_base64]) assert.ok(!log.includes(secret));
  });
});

describe('atomic key replacement', () => {
  it('a rejected transaction leaves keyring, seal config and the in-memory root key unchanged', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresor-rekey-atomic-'));
    const physical = new FileBackend({ path: dir });
    try {
      const { core, keys } = await withCanary(await shamirCore(undefined, physical));
      const keyringBefore = await physical.get(KEYRING_PATH);
      const configBefore = await physical.get(SEAL_CONFIG_PATH);
      const newRootKey = Buffer.alloc(32, 7);
      // A put without a value makes the file backend reject the whole batch.
      await assert.rejects(
        core.replaceRootKey(newRootKey, { type: 'shamir', secret_shares: 1, secret_threshold: 1 }, [{ op: 'put', key: 'core/bogus' }]),
      );
      assert.deepEqual(await physical.get(KEYRING_PATH), keyringBefore);
      assert.deepEqual(await physical.get(SEAL_CONFIG_PATH), configBefore);
      assert.equal(await physical.get('core/bogus'), undefined);
      assert.equal(await core.barrier.verifyRootKey(newRootKey), false);
      // The running barrier still persists its keyring under the old root key.
      await core.barrier.persistKeyring();
      assert.equal(await keysUnseal(physical, keys.slice(0, 2)), true);
    } finally {
      await physical.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
