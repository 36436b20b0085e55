/**
 * Rekey, recovery-key rekey and generate-root against real `tresor server`
 * child processes on file storage: Shamir (unseal keys authorise) and
 * SoftHSM2 (recovery keys authorise), across restarts, plus the bad inputs
 * that must be refused with a 4xx and change nothing. The Shamir, bad-input
 * and HSM suites use separate servers and run concurrently.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Api, TestServer } from './helpers/server.ts';
import { createSoftHsmToken, hsmServerConfig, type SoftHsmToken } from './helpers/softhsm.ts';
import { pgpPair } from './recovery-helpers.ts';
import { decodeToken } from '../src/core/otp.ts';

/** Submits `keys` to sys/unseal and reports whether the server ended up unsealed (a reset follows a failure). */
async function unsealsWith(api: Api, keys: string[]): Promise<boolean> {
  for (const key of keys) {
    const res = await api.put('sys/unseal', { key });
    if (res.status !== 200) {
      await api.put('sys/unseal', { reset: true });
      return false;
    }
  }
  const sealed = (await api.get('sys/seal-status')).body.sealed;
  if (sealed) await api.put('sys/unseal', { reset: true });
  return !sealed;
}

/**
 * Runs a whole OTP generate-root with `keys` over `api`. Returns the new
 * root token, or undefined when the shares were refused (the attempt is
 * then cancelled so the next call starts clean).
 */
async function generateRootWith(api: Api, keys: string[]): Promise<string | undefined> {
  const start = await api.put('sys/generate-root/attempt', {});
  assert.equal(start.status, 200, JSON.stringify(start.body));
  let last = start;
  for (const key of keys) {
    last = await api.put('sys/generate-root/update', { key, nonce: start.body.nonce });
    if (last.status !== 200) {
      assert.equal(last.status, 400, JSON.stringify(last.body));
      await api.delete('sys/generate-root/attempt', { nonce: start.body.nonce });
      return undefined;
    }
  }
  assert.equal(last.body.complete, true, `not enough keys given: ${JSON.stringify(last.body)}`);
  return decodeToken(last.body.encoded_token, start.body.otp);
}

/** The threshold and share count the server reports for its authorising keys. */
async function sharesConfig(api: Api): Promise<{ t: number; n: number }> {
  const { t, n } = (await api.get('sys/seal-status')).body;
  return { t, n };
}

/** Asserts a 4xx answer whose error message matches `pattern`. */
function assertRefused(res: { status: number; body: any }, status: number, pattern: RegExp): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.match(res.body.errors.join(' '), pattern);
}

async function startShamir(): Promise<{ server: TestServer; keys: string[]; rootToken: string }> {
  const server = await TestServer.start();
  const init = await server.api.put('sys/init', { secret_shares: 3, secret_threshold: 2 });
  assert.equal(init.status, 200, JSON.stringify(init.body));
  assert.equal(await unsealsWith(server.api, init.body.keys.slice(0, 2)), true);
  return { server, keys: init.body.keys, rootToken: init.body.root_token };
}

/** A server with `seal "pkcs11"` on `token`, the PIN only in VAULT_HSM_PIN, once the seal has opened. */
async function startHsm(token: SoftHsmToken, dir?: string): Promise<TestServer> {
  const server = await TestServer.start({ config: hsmServerConfig(token), env: { ...token.env, VAULT_HSM_PIN: token.pin }, dir });
  await server.waitFor('pkcs11 seal opened', 15_000);
  return server;
}

describe('rekey and generate-root on real servers', { concurrency: true }, () => {
  describe('Shamir seal: rekey across restarts', { concurrency: false }, () => {
    let server: TestServer;
    let api: Api;
    let oldKeys: string[];

    before(async () => {
      ({ server, keys: oldKeys } = await startShamir());
      api = server.api;
    });
    after(async () => {
      await server?.kill();
      server?.cleanup();
    });

    async function restart(): Promise<void> {
      await server.stop();
      server = await TestServer.start({ dir: server.dir });
      api = server.api;
    }

    it('a restart in the middle of a rekey forgets it: no operation in progress and the old keys still unseal', async () => {
      const start = await api.put('sys/rekey/init', { secret_shares: 4, secret_threshold: 2 });
      assert.equal(start.status, 200, JSON.stringify(start.body));
      const first = await api.put('sys/rekey/update', { key: oldKeys[0], nonce: start.body.nonce });
      assert.equal(first.body.progress, 1);

      await restart();
      assert.deepEqual(await sharesConfig(api), { t: 2, n: 3 });
      assert.equal(await unsealsWith(api, oldKeys.slice(1)), true, 'old keys must still unseal');
      const status = await api.get('sys/rekey/init');
      assert.equal(status.status, 200);
      assert.equal(status.body.started, false);
      assert.equal(status.body.nonce, '');
      assert.equal(status.body.progress, 0);
      const stale = await api.put('sys/rekey/update', { key: oldKeys[1], nonce: start.body.nonce });
      assertRefused(stale, 400, /no rekey in progress/);
    });

    it('3 shares → 5/3 with verification: old keys rule until verified; after a restart only the new keys unseal', async () => {
      const start = await api.put('sys/rekey/init', { secret_shares: 5, secret_threshold: 3, require_verification: true });
      assert.equal(start.status, 200, JSON.stringify(start.body));
      assert.deepEqual(
        { t: start.body.t, n: start.body.n, required: start.body.required, verification: start.body.verification_required },
        { t: 3, n: 5, required: 2, verification: true },
      );
      await api.put('sys/rekey/update', { key: oldKeys[2], nonce: start.body.nonce });
      const issued = await api.put('sys/rekey/update', { key: oldKeys[0], nonce: start.body.nonce });
      assert.equal(issued.status, 200, JSON.stringify(issued.body));
      assert.equal(issued.body.complete, true);
      assert.equal(issued.body.keys.length, 5);
      assert.equal(issued.body.verification_required, true);
      assert.notEqual(issued.body.verification_nonce, '');
      const newKeys: string[] = issued.body.keys;

      // Pending verification: the old key set is still the one in force.
      assert.deepEqual(await sharesConfig(api), { t: 2, n: 3 });
      assert.ok(await generateRootWith(api, oldKeys.slice(0, 2)), 'old keys still authorise before verification');

      const wrongStage = await api.put('sys/rekey/verify', { key: newKeys[0], nonce: start.body.nonce });
      assertRefused(wrongStage, 400, /incorrect nonce/);
      for (const key of newKeys.slice(0, 2)) {
        const step = await api.put('sys/rekey/verify', { key, nonce: issued.body.verification_nonce });
        assert.equal(step.status, 200, JSON.stringify(step.body));
      }
      const verified = await api.put('sys/rekey/verify', { key: newKeys[4], nonce: issued.body.verification_nonce });
      assert.deepEqual(verified.body, { nonce: issued.body.verification_nonce, complete: true });
      assert.deepEqual(await sharesConfig(api), { t: 3, n: 5 });

      await restart();
      assert.deepEqual(await sharesConfig(api), { t: 3, n: 5 });
      assert.equal(await unsealsWith(api, oldKeys), false, 'old keys must not unseal');
      assert.equal((await api.get('sys/seal-status')).body.sealed, true);
      assert.equal(await unsealsWith(api, newKeys.slice(1, 4)), true, 'new keys must unseal');
    });
  });

  describe('Shamir seal: bad rekey inputs are refused with a 4xx and change nothing', { concurrency: false }, () => {
    let server: TestServer;
    let stranger: TestServer;
    let api: Api;
    let keys: string[];
    let strangerKeys: string[];
    let nonce: string;

    before(async () => {
      const [mine, theirs] = await Promise.all([startShamir(), startShamir()]);
      ({ server, keys } = mine);
      ({ server: stranger, keys: strangerKeys } = theirs);
      api = server.api;
    });
    after(async () => {
      for (const s of [server, stranger]) {
        await s?.kill();
        s?.cleanup();
      }
    });

    async function progress(): Promise<{ started: boolean; nonce: string; progress: number }> {
      const { started, nonce: current, progress: done } = (await api.get('sys/rekey/init')).body;
      return { started, nonce: current, progress: done };
    }

    it('an update with nothing in progress is a 400', async () => {
      assertRefused(await api.put('sys/rekey/update', { key: keys[0], nonce: 'none' }), 400, /no rekey in progress/);
      assert.equal((await progress()).started, false);
    });

    it('bad share parameters and a PGP key count mismatch are 400s and start nothing', async () => {
      const pair = await pgpPair('mismatch');
      const cases: [Record<string, unknown>, RegExp][] = [
        [{ secret_shares: 3, secret_threshold: 4 }, /secret_threshold cannot be larger than secret_shares/],
        [{ secret_shares: 256, secret_threshold: 3 }, /secret_shares must be less than 256/],
        [{ secret_shares: 3, secret_threshold: 1 }, /secret_threshold must be greater than one/],
        [{ secret_shares: 3, secret_threshold: 2, pgp_keys: [pair.publicB64] }, /number of pgp_keys must equal secret_shares/],
      ];
      for (const [body, pattern] of cases) assertRefused(await api.put('sys/rekey/init', body), 400, pattern);
      assert.equal((await progress()).started, false);
    });

    it('a wrong nonce, a duplicate share and a malformed key are 400s that leave the progress as it was', async () => {
      const start = await api.put('sys/rekey/init', { secret_shares: 2, secret_threshold: 2 });
      assert.equal(start.status, 200, JSON.stringify(start.body));
      nonce = start.body.nonce;
      assertRefused(await api.put('sys/rekey/update', { key: keys[0], nonce: 'f'.repeat(36) }), 400, /incorrect nonce/);
      assertRefused(await api.put('sys/rekey/update', { key: keys[0] }), 400, /'nonce' must be specified/);
      assert.deepEqual(await progress(), { started: true, nonce, progress: 0 });

      assert.equal((await api.put('sys/rekey/update', { key: keys[0], nonce })).body.progress, 1);
      // The same share in its base64 form is still a duplicate.
      assertRefused(await api.put('sys/rekey/update', { key: keys[0], nonce }), 400, /duplicate/);
      assertRefused(await api.put('sys/rekey/update', { key: Buffer.from(keys[0], 'hex').toString('base64'), nonce }), 400, /duplicate/);
      assert.deepEqual(await progress(), { started: true, nonce, progress: 1 });

      for (const key of ['not a key share!', 'abcd', 'zz'.repeat(33), '']) {
        const res = await api.put('sys/rekey/update', { key, nonce });
        assert.equal(res.status, 400, `${JSON.stringify(key)} → ${JSON.stringify(res.body)}`);
      }
      assert.deepEqual(await progress(), { started: true, nonce, progress: 1 });
    });

    it("another server's share completes the threshold only to be refused, resetting progress; the rekey stays open", async () => {
      const res = await api.put('sys/rekey/update', { key: strangerKeys[1], nonce });
      assertRefused(res, 400, /do not reconstruct the root key/);
      assert.deepEqual(await progress(), { started: true, nonce, progress: 0 });
      assert.deepEqual(await sharesConfig(api), { t: 2, n: 3 });
    });

    it('cancel with a wrong nonce is a 400 and keeps the attempt; with the right one it ends, and a new start gets a new nonce', async () => {
      assertRefused(await api.delete('sys/rekey/init', { nonce: 'wrong' }), 400, /incorrect nonce/);
      assert.deepEqual(await progress(), { started: true, nonce, progress: 0 });
      assert.equal((await api.delete('sys/rekey/init', { nonce })).status, 204);
      assert.equal((await progress()).started, false);
      assertRefused(await api.put('sys/rekey/update', { key: keys[0], nonce }), 400, /no rekey in progress/);

      const again = await api.put('sys/rekey/init', { secret_shares: 2, secret_threshold: 2 });
      assert.equal(again.status, 200);
      assert.notEqual(again.body.nonce, nonce);
      assertRefused(await api.put('sys/rekey/update', { key: keys[0], nonce }), 400, /incorrect nonce/);
      assert.equal((await api.delete('sys/rekey/init', { nonce: again.body.nonce })).status, 204);
    });

    it('after all of that the original keys are still the ones in force', async () => {
      assert.deepEqual(await sharesConfig(api), { t: 2, n: 3 });
      assert.ok(await generateRootWith(api, [keys[2], keys[0]]));
      assert.equal(await generateRootWith(api, [keys[0], strangerKeys[2]]), undefined);
    });
  });

  describe('SoftHSM2 seal: recovery keys authorise rekey and generate-root', { concurrency: false }, () => {
    let token: SoftHsmToken;
    let server: TestServer;
    let api: Api;
    let recoveryKeys: string[];
    let rootToken: string;

    before(async () => {
      token = createSoftHsmToken({ label: 'recovery-server' });
      server = await startHsm(token);
      api = server.api;
      const init = await api.put('sys/init', { recovery_shares: 3, recovery_threshold: 2 });
      assert.equal(init.status, 200, JSON.stringify(init.body));
      recoveryKeys = init.body.recovery_keys;
      rootToken = init.body.root_token;
      assert.equal((await api.post('sys/mounts/kv', { type: 'kv' }, rootToken)).status, 204);
      assert.equal((await api.put('kv/canary', { v: 'kept' }, rootToken)).status, 204);
    });
    after(async () => {
      await server?.kill();
      server?.cleanup();
      token?.cleanup();
    });

    async function restart(): Promise<void> {
      await server.stop();
      server = await startHsm(token, server.dir);
      api = server.api;
      await server.until(async () => (await api.get('sys/seal-status')).body.sealed === false, 15_000, 'auto-unseal');
    }

    it('generate-root with recovery keys and an OTP gives a token that authenticates', async () => {
      const root = await generateRootWith(api, [recoveryKeys[1], recoveryKeys[0]]);
      assert.ok(root);
      const lookup = await api.get('auth/token/lookup-self', root);
      assert.equal(lookup.status, 200, JSON.stringify(lookup.body));
      assert.deepEqual(lookup.body.data.policies, ['root']);
      assert.deepEqual((await api.get('kv/canary', root)).body.data, { v: 'kept' });
    });

    it('barrier rekey: 1-of-1 body, authorised by recovery keys, returns no keys; the restart auto-unseals with the data readable', async () => {
      const refused = await api.put('sys/rekey/init', { secret_shares: 5, secret_threshold: 3 });
      assertRefused(refused, 400, /must be 1 under an HSM seal/);
      const start = await api.put('sys/rekey/init', { secret_shares: 1, secret_threshold: 1 });
      assert.equal(start.status, 200, JSON.stringify(start.body));
      assert.deepEqual({ t: start.body.t, n: start.body.n, required: start.body.required }, { t: 1, n: 1, required: 2 });
      await api.put('sys/rekey/update', { key: recoveryKeys[0], nonce: start.body.nonce });
      const done = await api.put('sys/rekey/update', { key: recoveryKeys[2], nonce: start.body.nonce });
      assert.equal(done.status, 200, JSON.stringify(done.body));
      assert.equal(done.body.complete, true);
      assert.deepEqual(done.body.keys, []);
      assert.deepEqual(done.body.keys_base64, []);
      assert.deepEqual(await sharesConfig(api), { t: 2, n: 3 }, 'recovery keys unchanged');

      await restart();
      assert.deepEqual((await api.get('kv/canary', rootToken)).body.data, { v: 'kept' });
      assert.ok(await generateRootWith(api, recoveryKeys.slice(0, 2)), 'recovery keys still authorise');
    });

    it('recovery-key rekey to 4/3: old keys work until verification completes, then only the new ones do', async () => {
      const start = await api.put('sys/rekey-recovery-key/init', { secret_shares: 4, secret_threshold: 3, require_verification: true });
      assert.equal(start.status, 200, JSON.stringify(start.body));
      const first = await api.put('sys/rekey-recovery-key/update', { key: recoveryKeys[2], nonce: start.body.nonce });
      assert.equal(first.body.progress, 1);
      assert.ok(await generateRootWith(api, recoveryKeys.slice(0, 2)), 'old keys work after one update');

      const issued = await api.put('sys/rekey-recovery-key/update', { key: recoveryKeys[1], nonce: start.body.nonce });
      assert.equal(issued.status, 200, JSON.stringify(issued.body));
      const newKeys: string[] = issued.body.keys;
      assert.equal(newKeys.length, 4);
      assert.ok(await generateRootWith(api, recoveryKeys.slice(1)), 'old keys work while verification is pending');
      assert.deepEqual(await sharesConfig(api), { t: 2, n: 3 });

      for (const key of newKeys.slice(1)) {
        await api.put('sys/rekey-recovery-key/verify', { key, nonce: issued.body.verification_nonce });
      }
      assert.equal((await api.get('sys/rekey-recovery-key/init')).body.started, false);
      assert.deepEqual(await sharesConfig(api), { t: 3, n: 4 });
      assert.equal(await generateRootWith(api, recoveryKeys), undefined, 'old keys refused after completion');
      const root = await generateRootWith(api, newKeys.slice(0, 3));
      assert.ok(root, 'new keys authorise');
      assert.equal((await api.get('auth/token/lookup-self', root)).status, 200);
      recoveryKeys = newKeys;
    });

    it('a restart in the middle of a recovery-key rekey keeps the recovery keys in force', async () => {
      const start = await api.put('sys/rekey-recovery-key/init', { secret_shares: 2, secret_threshold: 2 });
      assert.equal(start.status, 200, JSON.stringify(start.body));
      await api.put('sys/rekey-recovery-key/update', { key: recoveryKeys[0], nonce: start.body.nonce });
      await api.put('sys/rekey-recovery-key/update', { key: recoveryKeys[3], nonce: start.body.nonce });

      await restart();
      const status = (await api.get('sys/rekey-recovery-key/init')).body;
      assert.deepEqual({ started: status.started, progress: status.progress }, { started: false, progress: 0 });
      assert.deepEqual(await sharesConfig(api), { t: 3, n: 4 });
      assert.ok(await generateRootWith(api, recoveryKeys.slice(1)), 'recovery keys still authorise after the restart');
    });
  });
});
