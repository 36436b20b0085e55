/**
 * Transit refusals over HTTP against a real -dev server: every bad input
 * of the list (unknown keys, version floors, tampered and truncated
 * ciphertexts, wrong prefixes, derivation without or with the wrong
 * context, convergent nonces, non-base64 input, operations a key type
 * cannot do, export of a non-exportable key, restore over an existing key,
 * trim past the versions, rotation racing a flood of encrypts) answers
 * Vault's status and `{"errors": [...]}` text, and leaves the key as it was.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { must, transitDevServer } from './helpers/transit.ts';

const b64 = (data: string | Buffer) => Buffer.from(data).toString('base64');
const SECRET = 'payroll-2024-secret';

describe('transit refusals (-dev server)', () => {
  const dev = transitDevServer();

  /** Asserts Vault's error shape, that no secret leaked into it, and returns nothing. */
  const refused = async (res: Promise<{ status: number; body: any }>, status: number, message: string | RegExp) => {
    const r = await res;
    assert.equal(r.status, status, JSON.stringify(r.body));
    assert.deepEqual(Object.keys(r.body), ['errors']);
    assert.equal(r.body.errors.length, 1, JSON.stringify(r.body));
    if (typeof message === 'string') assert.equal(r.body.errors[0], message);
    else assert.match(r.body.errors[0], message);
    assert.ok(!JSON.stringify(r.body).includes(b64(SECRET)), 'the plaintext never appears in an error');
  };

  /** Runs `work` and asserts the key's description and material did not change. */
  const unchanged = async (name: string, work: () => Promise<void>) => {
    const describe = async () => (await dev.api.get(`transit/keys/${name}`)).body?.data;
    const material = async () => (await dev.api.get(`transit/export/hmac-key/${name}`)).body?.data;
    const before = [await describe(), await material()];
    await work();
    assert.deepEqual([await describe(), await material()], before, `key ${name} is unchanged`);
  };

  const keyNames = async (): Promise<string[]> => {
    const res = await dev.api.list('transit/keys');
    return res.status === 404 ? [] : res.body.data.keys;
  };

  it('unknown keys: each endpoint\'s Vault text; nothing is created', async () => {
    const before = await keyNames();
    await refused(dev.api.post('transit/decrypt/ghost', { ciphertext: 'vault:v1:AAAA' }), 400, 'encryption key not found');
    await refused(dev.api.post('transit/rewrap/ghost', { ciphertext: 'vault:v1:AAAA' }), 400, 'encryption key not found');
    await refused(dev.api.post('transit/datakey/plaintext/ghost', {}), 400, 'encryption key not found');
    await refused(dev.api.post('transit/hmac/ghost', { input: b64('x') }), 400, 'encryption key not found');
    await refused(dev.api.post('transit/sign/ghost', { input: b64('x') }), 400, 'signing key not found');
    await refused(dev.api.post('transit/verify/ghost', { input: b64('x'), signature: 'vault:v1:AAAA' }), 400, 'signature verification key not found');
    await refused(dev.api.post('transit/verify/ghost', { input: b64('x'), hmac: 'vault:v1:AAAA' }), 400, 'encryption key not found');
    await refused(dev.api.post('transit/keys/ghost/rotate', {}), 400, 'key not found');
    await refused(dev.api.post('transit/keys/ghost/config', { deletion_allowed: true }), 400, 'no existing key named ghost could be found');
    await refused(dev.api.post('transit/keys/ghost/trim', { min_available_version: 1 }), 400, 'invalid key name');
    await refused(dev.api.delete('transit/keys/ghost'), 400, 'error deleting policy ghost: could not delete key; not found');
    await refused(dev.api.get('transit/backup/ghost'), 400, 'key "ghost" not found');
    assert.equal((await dev.api.get('transit/keys/ghost')).status, 404);
    assert.equal((await dev.api.get('transit/export/encryption-key/ghost')).status, 404);
    assert.deepEqual(await keyNames(), before);
  });

  it('decrypt below min_decryption_version: "too old", for ciphertexts, signatures and HMACs alike', async () => {
    await must(dev.api.post('transit/keys/floor', { exportable: true }));
    const v1 = (await must(dev.api.post('transit/encrypt/floor', { plaintext: b64(SECRET) }))).data.ciphertext;
    const mac = (await must(dev.api.post('transit/hmac/floor', { input: b64('m') }))).data.hmac;
    await must(dev.api.post('transit/keys/floor/rotate', {}));
    await must(dev.api.post('transit/keys/floor/config', { min_decryption_version: 2 }));
    await unchanged('floor', async () => {
      await refused(dev.api.post('transit/decrypt/floor', { ciphertext: v1 }), 400, 'ciphertext or signature version is disallowed by policy (too old)');
      await refused(dev.api.post('transit/rewrap/floor', { ciphertext: v1 }), 400, 'ciphertext or signature version is disallowed by policy (too old)');
      await refused(dev.api.post('transit/verify/floor', { input: b64('m'), hmac: mac }), 400, 'cannot verify HMAC: version is too old (disallowed by policy)');
      await refused(dev.api.post('transit/encrypt/floor', { plaintext: b64('x'), key_version: 1 }), 400, 'no such key version');
      await refused(dev.api.post('transit/encrypt/floor', { plaintext: b64('x'), key_version: 3 }), 400, 'requested version for encryption is higher than the latest key version');
      await refused(dev.api.post('transit/encrypt/floor', { plaintext: b64('x'), key_version: -1 }), 400, 'requested version for encryption is negative');
      await refused(dev.api.get('transit/export/encryption-key/floor/1'), 400, 'version for export is below minimum decryption version');
    });
    await must(dev.api.post('transit/keys/floor/config', { min_decryption_version: 1 }));
    assert.equal((await must(dev.api.post('transit/decrypt/floor', { ciphertext: v1 }))).data.plaintext, b64(SECRET), 'the floor moved back: v1 decrypts again');
  });

  it('tampered ciphertexts: every flipped byte, every truncation and wrong prefixes are refused', async () => {
    await must(dev.api.post('transit/keys/tamper', { exportable: true }));
    const { ciphertext } = (await must(dev.api.post('transit/encrypt/tamper', { plaintext: b64('hi') }))).data;
    const sealed = Buffer.from(ciphertext.slice('vault:v1:'.length), 'base64');
    await unchanged('tamper', async () => {
      for (let i = 0; i < sealed.length; i++) {
        for (const mask of [0x01, 0x80]) {
          const flipped = Buffer.from(sealed);
          flipped[i] ^= mask;
          await refused(dev.api.post('transit/decrypt/tamper', { ciphertext: `vault:v1:${b64(flipped)}` }), 400, 'cipher: message authentication failed');
        }
      }
      for (let length = 0; length < sealed.length; length++) {
        const cut = `vault:v1:${b64(sealed.subarray(0, length))}`;
        await refused(dev.api.post('transit/decrypt/tamper', { ciphertext: cut }), 400, length < 12 ? 'invalid ciphertext length' : 'cipher: message authentication failed');
      }
      const bodyText = ciphertext.slice('vault:v1:'.length);
      await refused(dev.api.post('transit/decrypt/tamper', { ciphertext: `vault:v2:${bodyText}` }), 400, 'invalid ciphertext: version is too new');
      await refused(dev.api.post('transit/decrypt/tamper', { ciphertext: `vault:vx:${bodyText}` }), 400, 'invalid ciphertext: version number could not be decoded');
      await refused(dev.api.post('transit/decrypt/tamper', { ciphertext: `Vault:v1:${bodyText}` }), 400, 'invalid ciphertext: no prefix');
      await refused(dev.api.post('transit/decrypt/tamper', { ciphertext: bodyText }), 400, 'invalid ciphertext: no prefix');
      await refused(dev.api.post('transit/decrypt/tamper', { ciphertext: `vault:v1${bodyText}` }), 400, 'invalid ciphertext: wrong number of fields');
      await refused(dev.api.post('transit/decrypt/tamper', { ciphertext: `vault:v1:${bodyText.slice(1)}` }), 400, 'invalid ciphertext: could not decode base64');
      await refused(dev.api.post('transit/decrypt/tamper', {}), 400, 'missing ciphertext to decrypt');
    });
    assert.equal((await must(dev.api.post('transit/decrypt/tamper', { ciphertext }))).data.plaintext, b64('hi'));
  });

  it('derived keys: no context and a wrong context are refused; batches need a context in every item or none', async () => {
    await must(dev.api.post('transit/keys/derived', { derived: true, exportable: true }));
    const { ciphertext } = (await must(dev.api.post('transit/encrypt/derived', { plaintext: b64(SECRET), context: b64('tenant-a') }))).data;
    const noContext = /^missing 'context' for key derivation; the key was created using a derived key, which means additional, per-request information must be included in order to perform operations with the key$/;
    await unchanged('derived', async () => {
      await refused(dev.api.post('transit/encrypt/derived', { plaintext: b64(SECRET) }), 400, noContext);
      await refused(dev.api.post('transit/decrypt/derived', { ciphertext }), 400, noContext);
      await refused(dev.api.post('transit/decrypt/derived', { ciphertext, context: b64('tenant-b') }), 400, 'cipher: message authentication failed');
      await refused(dev.api.post('transit/decrypt/derived', { ciphertext, context: 'not base64!' }), 400, 'illegal base64 data at input byte 3');
      await refused(
        dev.api.post('transit/decrypt/derived', { batch_input: [{ ciphertext, context: b64('tenant-a') }, { ciphertext }] }),
        400,
        'context should be set either in all the request blocks or in none',
      );
    });
    await must(dev.api.post('transit/keys/derived-ed', { type: 'ed25519', derived: true }));
    await refused(dev.api.post('transit/sign/derived-ed', { input: b64('m') }), 400, noContext);
  });

  it('convergent keys: a nonce is refused by the current scheme; a scheme-1 key (restored from an old Vault) needs one', async () => {
    await must(dev.api.post('transit/keys/conv', { derived: true, convergent_encryption: true, exportable: true, allow_plaintext_backup: true }));
    await unchanged('conv', async () => {
      await refused(dev.api.post('transit/encrypt/conv', { plaintext: b64(SECRET), context: b64('c'), nonce: b64(Buffer.alloc(12)) }), 400, 'nonce provided when not allowed');
      await refused(dev.api.post('transit/keys/conv2', { convergent_encryption: true }), 400, 'convergent encryption requires derivation to be enabled');
    });
    // A key made by Vault 0.6.1: convergent scheme 1, where the caller gives the nonce.
    const backup = (await must(dev.api.get('transit/backup/conv'))).data.backup;
    const keyData = JSON.parse(Buffer.from(backup, 'base64').toString());
    keyData.policy.convergent_version = 1;
    for (const entry of [...Object.values(keyData.policy.keys), ...keyData.archived_keys.keys] as Array<{ convergent_version: number }>) entry.convergent_version = 0;
    await must(dev.api.post('transit/restore/conv-v1', { backup: b64(JSON.stringify(keyData)) }), 204);
    const context = b64('c');
    await refused(dev.api.post('transit/encrypt/conv-v1', { plaintext: b64(SECRET), context }), 400,
      'base64-decoded nonce must be 12 bytes long when using convergent encryption with this key');
    const nonce = b64(Buffer.alloc(12, 7));
    const enc = await must(dev.api.post('transit/encrypt/conv-v1', { plaintext: b64(SECRET), context, nonce }));
    await refused(dev.api.post('transit/decrypt/conv-v1', { ciphertext: enc.data.ciphertext, context }), 400, 'invalid convergent nonce supplied');
    assert.equal((await must(dev.api.post('transit/decrypt/conv-v1', { ciphertext: enc.data.ciphertext, context, nonce }))).data.plaintext, b64(SECRET));
  });

  it('non-base64 input: Go\'s error text with the offset of the bad byte, never the value', async () => {
    await must(dev.api.post('transit/keys/b64', { exportable: true }));
    const bad = `${SECRET}!`;
    await unchanged('b64', async () => {
      await refused(dev.api.post('transit/encrypt/b64', { plaintext: bad }), 400, 'illegal base64 data at input byte 7');
      await refused(dev.api.post('transit/encrypt/b64', { plaintext: 'AAA' }), 400, 'illegal base64 data at input byte 0');
      await refused(dev.api.post('transit/encrypt/b64', { plaintext: 'AA=A' }), 400, 'illegal base64 data at input byte 2');
      await refused(dev.api.post('transit/hmac/b64', { input: bad }), 400, 'unable to decode input as base64: illegal base64 data at input byte 7');
      await refused(dev.api.post('transit/hash', { input: bad }), 400, 'unable to decode input as base64: illegal base64 data at input byte 7');
      const batch = await dev.api.post('transit/encrypt/b64', { batch_input: [{ plaintext: bad, reference: 'r' }] });
      assert.equal(batch.status, 400);
      assert.deepEqual(batch.body.data.batch_results, [{ error: 'illegal base64 data at input byte 7', reference: 'r' }]);
      assert.equal(batch.body.errors, undefined, 'an all-failed batch keeps Vault\'s data shape');
    });
    // Go accepts line breaks anywhere.
    const wrapped = `${b64(SECRET).slice(0, 8)}\n${b64(SECRET).slice(8)}`;
    const enc = await must(dev.api.post('transit/encrypt/b64', { plaintext: wrapped }));
    assert.equal((await must(dev.api.post('transit/decrypt/b64', { ciphertext: enc.data.ciphertext }))).data.plaintext, b64(SECRET));
  });

  it('operations a key type cannot do are refused with Vault\'s texts', async () => {
    await must(dev.api.post('transit/keys/enc-only', { exportable: true }));
    await must(dev.api.post('transit/keys/sign-only', { type: 'ecdsa-p256', exportable: true }));
    await must(dev.api.post('transit/keys/mac-only', { type: 'hmac', exportable: true }));
    for (const name of ['enc-only', 'sign-only', 'mac-only']) {
      await unchanged(name, async () => {
        if (name !== 'sign-only') {
          await refused(dev.api.post(`transit/sign/${name}`, { input: b64('m') }), 400, `key type ${name === 'enc-only' ? 'aes256-gcm96' : 'hmac'} does not support signing`);
          await refused(dev.api.post(`transit/verify/${name}`, { input: b64('m'), signature: 'vault:v1:AAAA' }), 400,
            `key type ${name === 'enc-only' ? 'aes256-gcm96' : 'hmac'} does not support verification`);
          await refused(dev.api.get(`transit/export/signing-key/${name}`), 400, 'signing not supported for the key');
        }
        if (name !== 'enc-only') {
          const type = name === 'sign-only' ? 'ecdsa-p256' : 'hmac';
          await refused(dev.api.post(`transit/encrypt/${name}`, { plaintext: b64(SECRET) }), 400, `message encryption not supported for key type ${type}`);
          await refused(dev.api.post(`transit/decrypt/${name}`, { ciphertext: 'vault:v1:AAAA' }), 400, `message decryption not supported for key type ${type}`);
          await refused(dev.api.post(`transit/datakey/wrapped/${name}`, {}), 400, `message encryption not supported for key type ${type}`);
          await refused(dev.api.get(`transit/export/encryption-key/${name}`), 400, 'encryption not supported for the key');
        }
      });
    }
    await refused(dev.api.get('transit/export/public-key/enc-only'), 400, 'unknown key type aes256-gcm96 for export type public-key');
    await refused(dev.api.post('transit/sign/sign-only', { input: b64('m'), hash_algorithm: 'none' }), 400,
      'hash_algorithm=none requires both prehashed=true and signature_algorithm=pkcs1v15');
    await refused(dev.api.post('transit/sign/sign-only', { input: b64('m'), hash_algorithm: 'md5' }), 400, 'invalid hash algorithm "md5"');
    await refused(dev.api.post('transit/sign/sign-only', { input: b64('m'), marshaling_algorithm: 'xml' }), 400, 'invalid marshaling type "xml"');
    await refused(dev.api.post('transit/sign/sign-only', { input: b64('m'), key_version: 2 }), 400, 'requested version for signing is higher than the latest key version');
    await refused(dev.api.post('transit/verify/sign-only', { input: b64('m'), signature: 'vault:v1:MAYCAQECAQ==x' }), 400, 'invalid base64 signature value');
    await refused(dev.api.post('transit/verify/sign-only', { input: b64('m'), signature: 'vault:v1:MAYCAQECAQ==' }), 400, 'supplied signature is invalid');
    await refused(dev.api.post('transit/verify/sign-only', { input: b64('m'), signature: `vault:v1:${b64(Buffer.from('3006020101020101ff', 'hex'))}` }), 400,
      'supplied signature contains extra data');
    await refused(dev.api.post('transit/verify/sign-only', { input: b64('m'), signature: 'vault:v9:AAAA' }), 400, 'invalid signature: version is too new');
    await refused(dev.api.post('transit/verify/sign-only', { input: b64('m'), signature: 'v1:AAAA' }), 400, 'invalid signature: no prefix');
    await refused(dev.api.post('transit/verify/sign-only', { input: b64('m'), signature: 'vault:v1:AAAA', hmac: 'vault:v1:AAAA' }), 400, "provide one of 'signature' or 'hmac'");
    await refused(dev.api.post('transit/verify/sign-only', { batch_input: [{ input: b64('m'), signature: 'vault:v1:AAAA' }, { input: b64('m') }] }), 400,
      "some elements of batch_input are missing 'signature'");
    await must(dev.api.post('transit/keys/rsa-sig', { type: 'rsa-2048' }));
    await refused(dev.api.post('transit/sign/rsa-sig', { input: b64('m'), salt_length: 'lots' }), 400, "salt length neither 'auto', 'hash', nor an int: lots");
    await refused(dev.api.post('transit/sign/rsa-sig', { input: b64('m'), salt_length: '-5' }), 400, 'salt length is invalid: -5');
    await refused(dev.api.post('transit/sign/rsa-sig', { input: b64('m'), salt_length: '1000' }), 400, 'requested salt length 1000 is invalid');
    await refused(dev.api.post('transit/sign/rsa-sig', { input: b64('m'), signature_algorithm: 'pss2' }), 400, 'unsupported rsa signature algorithm pss2');
  });

  it('export of a non-exportable key, and backup of a key not allowed a plaintext backup, are refused', async () => {
    await must(dev.api.post('transit/keys/locked', { type: 'ed25519' }));
    await unchanged('locked', async () => {
      for (const kind of ['encryption-key', 'signing-key', 'hmac-key']) {
        await refused(dev.api.get(`transit/export/${kind}/locked`), 400, 'private key material is not exportable');
      }
      await refused(dev.api.get('transit/export/secret-key/locked'), 400, 'invalid export type: secret-key');
      await refused(dev.api.get('transit/export/public-key/locked?format=jpeg'), 400, 'invalid format: jpeg');
      await refused(dev.api.get('transit/backup/locked'), 400, 'exporting is disallowed on the policy');
    });
    assert.equal((await must(dev.api.get('transit/export/public-key/locked'))).data.type, 'ed25519', 'public keys are always exportable');
    await must(dev.api.post('transit/keys/locked/config', { exportable: true }));
    await refused(dev.api.get('transit/backup/locked'), 400, 'plaintext backup is disallowed on the policy');
    // Once set, exportable cannot be unset.
    assert.equal((await must(dev.api.post('transit/keys/locked/config', { exportable: false }))).data.exportable, true);
  });

  it('restore over an existing key needs force; a bad backup is refused and changes nothing', async () => {
    await must(dev.api.post('transit/keys/precious', { exportable: true, allow_plaintext_backup: true }));
    const { ciphertext } = (await must(dev.api.post('transit/encrypt/precious', { plaintext: b64(SECRET) }))).data;
    const backup = (await must(dev.api.get('transit/backup/precious'))).data.backup;
    await must(dev.api.post('transit/keys/other', { exportable: true, allow_plaintext_backup: true }));
    const otherBackup = (await must(dev.api.get('transit/backup/other'))).data.backup;
    await unchanged('precious', async () => {
      await refused(dev.api.post('transit/restore/precious', { backup: otherBackup }), 400, 'key "precious" already exists');
      await refused(dev.api.post('transit/restore', { backup }), 400, 'key "precious" already exists');
      await refused(dev.api.post('transit/restore/precious', {}), 400, "'backup' must be supplied");
      await refused(dev.api.post('transit/restore/precious', { backup: 'not base64!' }), 400, 'illegal base64 data at input byte 3');
      await refused(dev.api.post('transit/restore/precious', { backup: b64('{"policy": 5}'), force: true }), 400, 'invalid backup: no policy');
      await refused(dev.api.post('transit/restore', { backup, name: 'a/b' }), 400, 'key names cannot be paths');
    });
    await must(dev.api.post('transit/restore/precious', { backup: otherBackup, force: true }), 204);
    await refused(dev.api.post('transit/decrypt/precious', { ciphertext }), 400, 'cipher: message authentication failed');
    await must(dev.api.post('transit/restore/precious', { backup, force: true }), 204);
    assert.equal((await must(dev.api.post('transit/decrypt/precious', { ciphertext }))).data.plaintext, b64(SECRET));
  });

  it('trim: past the version floors, without them, backwards, and to zero are refused', async () => {
    await must(dev.api.post('transit/keys/trimmed', { exportable: true }));
    for (let i = 0; i < 3; i++) await must(dev.api.post('transit/keys/trimmed/rotate', {}));
    await unchanged('trimmed', async () => {
      await refused(dev.api.post('transit/keys/trimmed/trim', {}), 400, 'missing min_available_version');
      await refused(dev.api.post('transit/keys/trimmed/trim', { min_available_version: 2 }), 400,
        'minimum available version cannot be set when minimum encryption version is not set');
    });
    await must(dev.api.post('transit/keys/trimmed/config', { min_decryption_version: 3, min_encryption_version: 4 }));
    await unchanged('trimmed', async () => {
      await refused(dev.api.post('transit/keys/trimmed/trim', { min_available_version: 5 }), 400, 'minimum available version cannot be greater than minmum encryption version');
      await refused(dev.api.post('transit/keys/trimmed/trim', { min_available_version: 4 }), 400, 'minimum available version cannot be greater than minimum decryption version');
      await refused(dev.api.post('transit/keys/trimmed/trim', { min_available_version: 0 }), 400, 'minimum available version should be positive');
    });
    const trimmed = (await must(dev.api.post('transit/keys/trimmed/trim', { min_available_version: 3 }))).data;
    assert.equal(trimmed.min_available_version, 3);
    await refused(dev.api.post('transit/keys/trimmed/trim', { min_available_version: 2 }), 400, 'minimum available version cannot be decremented');
    await refused(dev.api.post('transit/keys/trimmed/config', { min_decryption_version: 2 }), 400, 'min decryption version should not be less then min available version');
    assert.deepEqual(Object.keys((await must(dev.api.get('transit/export/encryption-key/trimmed'))).data.keys), ['3', '4']);
  });

  it('a second create, a bad type, and create options a type cannot have leave the key as it was', async () => {
    await must(dev.api.post('transit/keys/stable', { exportable: true }));
    await unchanged('stable', async () => {
      const again = await must(dev.api.post('transit/keys/stable', { type: 'rsa-2048' }));
      assert.deepEqual(again.warnings, ['key stable already existed']);
      assert.equal(again.data.type, 'aes256-gcm96');
      await refused(dev.api.post('transit/keys/stable/config', { min_encryption_version: 5 }), 400, 'cannot set min encryption version of 5, latest key version is 1');
      await refused(dev.api.post('transit/keys/stable/config', { auto_rotate_period: '5m' }), 400, 'auto rotate period must be 0 to disable or at least an hour');
      await refused(dev.api.delete('transit/keys/stable'), 400, 'error deleting policy stable: deletion is not allowed for this key');
    });
    await refused(dev.api.post('transit/keys/new-one', { type: 'aes512' }), 400, 'unknown key type aes512');
    await refused(dev.api.post('transit/keys/new-one', { type: 'rsa-2048', derived: true }), 400, 'key derivation and convergent encryption not supported for keys of type rsa-2048');
    assert.ok(!(await keyNames()).includes('new-one'));
  });

  it('rotating while a flood of encrypts runs: every encrypt succeeds and every ciphertext decrypts', async () => {
    await must(dev.api.post('transit/keys/busy', { exportable: true }));
    const rotations = 10;
    const floods = Array.from({ length: 400 }, (_, i) => dev.api.post('transit/encrypt/busy', { plaintext: b64(`item ${i}`) }));
    const rotates = Array.from({ length: rotations }, () => dev.api.post('transit/keys/busy/rotate', {}));
    const [encrypted, rotated] = await Promise.all([Promise.all(floods), Promise.all(rotates)]);
    for (const r of rotated) assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(rotated.map((r) => r.body.data.latest_version).sort((a, b) => a - b), Array.from({ length: rotations }, (_, i) => i + 2));
    for (const r of encrypted) assert.equal(r.status, 200, JSON.stringify(r.body));
    const results = await must(dev.api.post('transit/decrypt/busy', { batch_input: encrypted.map((r) => ({ ciphertext: r.body.data.ciphertext })) }));
    assert.deepEqual(results.data.batch_results.map((r: { plaintext: string }) => Buffer.from(r.plaintext, 'base64').toString()), encrypted.map((_, i) => `item ${i}`));
    const info = (await must(dev.api.get('transit/keys/busy'))).data;
    assert.equal(info.latest_version, rotations + 1);
    assert.equal(Object.keys(info.keys).length, rotations + 1);
  });
});
