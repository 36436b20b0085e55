/**
 * generate-root, rekey and recovery-key rekey under the PKCS#11 seal, on a
 * real SoftHSM2 token: recovery shares authorise everything, the barrier's
 * new root key is HSM-wrapped (never shown), recovery keys rotate atomically.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createSoftHsmToken, softHsmSealConfig, type SoftHsmToken } from './helpers/softhsm.ts';
import { hsmCore, pgpDecrypt, pgpPair, rejectsWith, restarted, type Started } from './recovery-helpers.ts';
import { Pkcs11Seal } from '../src/seal/pkcs11/pkcs11-seal.ts';
import { generateRootFor } from '../src/core/generate-root.ts';
import { rekeyFor, type RekeyUpdateResult } from '../src/core/rekey.ts';
import { decodeToken } from '../src/core/otp.ts';
import { combineShares, decodeShare } from '../src/seal/shamir.ts';
import { HSM_ROOT_KEY_PATH, SEAL_CONFIG_PATH } from '../src/core/seal-config.ts';
import type { Core } from '../src/core/core.ts';

const quiet = { info() {}, warn() {}, error() {} };
const CANARY = 'test/hsm-canary';

let token: SoftHsmToken;
let seal: Pkcs11Seal;

before(async () => {
  token = createSoftHsmToken({ label: 'recovery-ops' });
  process.env.SOFTHSM2_CONF = token.conf;
  seal = await Pkcs11Seal.open(softHsmSealConfig(token), { logger: quiet });
});
after(async () => {
  await seal.close();
  token.cleanup();
});

async function started(): Promise<Started> {
  const s = await hsmCore(seal);
  await s.core.barrier.put(CANARY, Buffer.from('kept'));
  return s;
}

/** True when `keys` rebuild the stored recovery key. */
async function recoveryKeysValid(core: Core, keys: string[]): Promise<boolean> {
  const candidate = await combineShares(keys.map(decodeShare));
  try {
    await core.verifyRecoveryKey(candidate);
    return true;
  } catch {
    return false;
  }
}

/** A random share set of the right shape that belongs to no key. */
const strangerShares = () => [randomBytes(33).toString('hex'), randomBytes(33).toString('hex')];

describe('generate-root under the HSM seal', () => {
  it('is authorised by recovery keys and yields a working root token', async () => {
    const { core, keys } = await started();
    const gen = generateRootFor(core);
    const { nonce, otp, required } = await gen.start({});
    assert.equal(required, 2);
    await gen.update({ key: keys[1], nonce });
    const done = await gen.update({ key: keys[2], nonce });
    const root = decodeToken(done.encoded_token, otp);
    assert.deepEqual((await core.unsealed().authenticate(root)).entry.policies, ['root']);
  });

  it('refuses shares that do not rebuild the recovery key, resetting progress', async () => {
    const { core } = await started();
    const gen = generateRootFor(core);
    const { nonce } = await gen.start({});
    const [a, b] = strangerShares();
    await gen.update({ key: a, nonce });
    await rejectsWith(gen.update({ key: b, nonce }), 400, /do not reconstruct the recovery key/);
    assert.equal((await gen.status()).progress, 0);
  });
});

describe('barrier rekey under the HSM seal', () => {
  it('refuses split, PGP, backup and verification options: the root key is HSM-wrapped', async () => {
    const { core } = await started();
    const rekey = rekeyFor(core, 'barrier');
    const pair = await pgpPair('hsm-op');
    await rejectsWith(rekey.start({ secret_shares: 5, secret_threshold: 3 }), 400, /must be 1 under an HSM seal/);
    await rejectsWith(rekey.start({ pgp_keys: [pair.publicB64] }), 400, /pgp_keys is not supported/);
    await rejectsWith(rekey.start({ backup: true }), 400, /backup is not supported/);
    await rejectsWith(rekey.start({ require_verification: true }), 400, /require_verification is not supported/);
    assert.equal((await rekey.status()).started, false);
  });

  it('recovery shares install a new HSM-wrapped root key that is never shown; auto-unseal still works', async () => {
    const { core, physical, keys } = await started();
    const blobBefore = await physical.get(HSM_ROOT_KEY_PATH);
    const configBefore = await physical.get(SEAL_CONFIG_PATH);
    const oldRootKey = core.barrier.rootKey();
    const rekey = rekeyFor(core, 'barrier');
    const { nonce, t, n, required } = await rekey.start({ secret_shares: 1, secret_threshold: 1 });
    assert.deepEqual({ t, n, required }, { t: 1, n: 1, required: 2 });
    await rekey.update({ key: keys[0], nonce });
    const done = (await rekey.update({ key: keys[1], nonce })) as RekeyUpdateResult;
    assert.equal(done.complete, true);
    assert.deepEqual(done.keys, []);
    assert.deepEqual(done.keys_base64, []);

    assert.notDeepEqual(await physical.get(HSM_ROOT_KEY_PATH), blobBefore);
    assert.deepEqual(await physical.get(SEAL_CONFIG_PATH), configBefore);
    assert.equal(await core.barrier.verifyRootKey(oldRootKey), false);

    await core.shutdown();
    const again = restarted(physical, seal);
    assert.equal(await again.autoUnseal(), true);
    assert.equal((await again.barrier.get(CANARY))?.toString(), 'kept');
    await again.shutdown();
  });

  it('refuses recovery shares of another key set, leaving the wrapped root key as it was', async () => {
    const { core, physical } = await started();
    const blobBefore = await physical.get(HSM_ROOT_KEY_PATH);
    const rekey = rekeyFor(core, 'barrier');
    const { nonce } = await rekey.start({});
    const [a, b] = strangerShares();
    await rekey.update({ key: a, nonce });
    await rejectsWith(rekey.update({ key: b, nonce }), 400, /do not reconstruct the recovery key/);
    assert.deepEqual(await physical.get(HSM_ROOT_KEY_PATH), blobBefore);
  });
});

describe('recovery-key rekey', () => {
  it('PGP-encrypted, backed-up, verified: old recovery keys work until the new ones are verified', async () => {
    const { core, keys } = await started();
    const holders = [await pgpPair('r1'), await pgpPair('r2'), await pgpPair('r3'), await pgpPair('r4')];
    const recovery = rekeyFor(core, 'recovery');
    const start = await recovery.start({
      secret_shares: 4, secret_threshold: 3, pgp_keys: holders.map((h) => h.publicB64), backup: true, require_verification: true,
    });
    assert.deepEqual(start.pgp_fingerprints, holders.map((h) => h.fingerprint));
    await recovery.update({ key: keys[0], nonce: start.nonce });
    const done = (await recovery.update({ key: keys[2], nonce: start.nonce })) as RekeyUpdateResult;
    assert.equal(done.verification_required, true);
    const newKeys = await Promise.all(done.keys_base64.map((b, i) => pgpDecrypt(b, holders[i]!.privateKey)));

    assert.equal(await recoveryKeysValid(core, keys.slice(0, 2)), true, 'old recovery keys still in force');
    await rejectsWith(recovery.readBackup(), 400, /^no backed-up keys found$/);

    for (const key of newKeys.slice(1, 3)) await recovery.verify({ key, nonce: done.verification_nonce });
    const verified = await recovery.verify({ key: newKeys[3], nonce: done.verification_nonce });
    assert.deepEqual(verified, { nonce: done.verification_nonce, complete: true });

    assert.equal(await recoveryKeysValid(core, keys.slice(0, 2)), false);
    assert.equal(await recoveryKeysValid(core, newKeys.slice(0, 3)), true);
    const status = await core.sealStatus();
    assert.deepEqual({ t: status.t, n: status.n }, { t: 3, n: 4 });
    const backup = await recovery.readBackup();
    assert.equal(backup.nonce, done.nonce);
    assert.deepEqual(backup.keys_base64[holders[3]!.fingerprint], [done.keys_base64[3]]);

    // generate-root now wants 3 of the new recovery shares.
    const gen = generateRootFor(core);
    const attempt = await gen.start({});
    assert.equal(attempt.required, 3);
    for (const key of newKeys.slice(0, 2)) await gen.update({ key, nonce: attempt.nonce });
    const root = await gen.update({ key: newKeys[2], nonce: attempt.nonce });
    assert.equal(root.complete, true);
  });

  it('a restart mid-way keeps the old recovery keys', async () => {
    const { core, physical, keys } = await started();
    const recovery = rekeyFor(core, 'recovery');
    const { nonce } = await recovery.start({ secret_shares: 2, secret_threshold: 2, require_verification: true });
    await recovery.update({ key: keys[0], nonce });
    await recovery.update({ key: keys[1], nonce });
    await core.shutdown();
    const again = restarted(physical, seal);
    assert.equal(await again.autoUnseal(), true);
    assert.equal((await rekeyFor(again, 'recovery').status()).started, false);
    assert.equal(await recoveryKeysValid(again, keys.slice(1)), true);
    await again.shutdown();
  });
});
