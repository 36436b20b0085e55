import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as openpgp from 'openpgp';
import { TresorError } from './errors.ts';
import { encryptForKey, encryptShares, readPgpKeys } from './pgp.ts';

interface TestKey {
  privateKey: openpgp.PrivateKey;
  fingerprint: string;
  /** base64 of `gpg --export`-style binary public key. */
  binaryB64: string;
  /** base64 of an ASCII-armored `.asc` public key file. */
  armoredB64: string;
}

async function makeKey(name: string, subkeys?: openpgp.SubkeyOptions[]): Promise<TestKey> {
  const { privateKey, publicKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ name, email: `${name}@example.test` }],
    ...(subkeys ? { subkeys } : {}),
    format: 'object',
  });
  return {
    privateKey,
    fingerprint: publicKey.getFingerprint(),
    binaryB64: Buffer.from(publicKey.write()).toString('base64'),
    armoredB64: Buffer.from(publicKey.armor()).toString('base64'),
  };
}

async function decryptB64(encryptedB64: string, privateKey: openpgp.PrivateKey): Promise<string> {
  const message = await openpgp.readMessage({ binaryMessage: new Uint8Array(Buffer.from(encryptedB64, 'base64')) });
  const { data } = await openpgp.decrypt({ message, decryptionKeys: privateKey, format: 'binary' });
  return Buffer.from(data).toString('utf8');
}

const badRequestMatching = (pattern: RegExp) => (err: unknown) =>
  err instanceof TresorError && err.status === 400 && pattern.test(err.message);

describe('pgp share encryption', () => {
  let alice: TestKey;
  let bob: TestKey;
  let carol: TestKey;
  let signOnly: TestKey;

  before(async () => {
    [alice, bob, carol, signOnly] = await Promise.all([
      makeKey('alice'),
      makeKey('bob'),
      makeKey('carol'),
      makeKey('signer', [{ sign: true }]),
    ]);
  });

  it('encrypts each share, as lowercase hex text, to the key at the same index', async () => {
    const shares = [randomBytes(33), randomBytes(33), randomBytes(33)];
    const { encrypted, fingerprints } = await encryptShares(shares, [
      alice.binaryB64,
      bob.armoredB64,
      carol.binaryB64,
    ]);
    assert.deepEqual(fingerprints, [alice.fingerprint, bob.fingerprint, carol.fingerprint]);
    const holders = [alice, bob, carol];
    for (let i = 0; i < shares.length; i++) {
      assert.equal(await decryptB64(encrypted[i]!, holders[i]!.privateKey), shares[i]!.toString('hex'));
    }
  });

  it('produces messages the other share holders cannot decrypt', async () => {
    const { encrypted } = await encryptShares([randomBytes(33), randomBytes(33)], [alice.binaryB64, bob.binaryB64]);
    await assert.rejects(decryptB64(encrypted[0]!, bob.privateKey));
  });

  it('reports fingerprints as 40 lowercase hex digits', async () => {
    const [handle] = await readPgpKeys([alice.armoredB64]);
    assert.match(handle!.fingerprint, /^[0-9a-f]{40}$/);
    assert.equal(handle!.fingerprint, alice.fingerprint);
  });

  it('accepts base64 wrapped across lines, as the base64 tool prints it', async () => {
    const wrapped = alice.binaryB64.replace(/(.{76})/g, '$1\n');
    assert.ok(wrapped.includes('\n'));
    const [handle] = await readPgpKeys([wrapped]);
    assert.equal(handle!.fingerprint, alice.fingerprint);
  });

  it('encrypts a root token itself for generate-root', async () => {
    const token = 'hvs.' + randomBytes(18).toString('base64url');
    const { encrypted, fingerprint } = await encryptForKey(Buffer.from(token), carol.armoredB64);
    assert.equal(fingerprint, carol.fingerprint);
    assert.equal(await decryptB64(encrypted, carol.privateKey), token);
  });

  it('refuses a count mismatch between shares and keys', async () => {
    await assert.rejects(
      encryptShares([randomBytes(33), randomBytes(33)], [alice.binaryB64]),
      badRequestMatching(/count mismatch/),
    );
  });

  it('refuses invalid base64 and names the key index', async () => {
    await assert.rejects(
      readPgpKeys([alice.binaryB64, 'not base64!']),
      badRequestMatching(/^PGP key at index 1 is not valid base64$/),
    );
  });

  it('refuses base64 that does not hold an OpenPGP key', async () => {
    const garbage = randomBytes(200).toString('base64');
    await assert.rejects(readPgpKeys([garbage]), badRequestMatching(/index 0 is not a valid OpenPGP key/));
    const fakeArmor = Buffer.from('-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnope\n').toString('base64');
    await assert.rejects(readPgpKeys([fakeArmor]), badRequestMatching(/index 0 is not a valid OpenPGP key/));
  });

  it('refuses a private key, binary or armored, without echoing it', async () => {
    const binaryPrivate = Buffer.from(alice.privateKey.write()).toString('base64');
    const armoredPrivate = Buffer.from(alice.privateKey.armor()).toString('base64');
    for (const [index, keys] of [
      [0, [binaryPrivate]],
      [1, [bob.binaryB64, armoredPrivate]],
    ] as const) {
      await assert.rejects(readPgpKeys([...keys]), (err: unknown) => {
        assert.ok(err instanceof TresorError);
        assert.equal(err.status, 400);
        assert.equal(err.message, `PGP key at index ${index} is a private key; supply only the public key`);
        return true;
      });
    }
  });

  it('refuses a key that has no encryption-capable subkey', async () => {
    await assert.rejects(
      encryptForKey(Buffer.from('token'), signOnly.binaryB64),
      badRequestMatching(/index 0 has no valid key usable for encryption/),
    );
  });
});
