/**
 * Transit keys of type=managed_key on a real SoftHSM2 token, over HTTP
 * against a real `tresor server -dev` child: encrypt/decrypt round trips in
 * the token, ECDSA P-256 and RSA signatures made in the token and checked
 * with Node crypto against the public key read back, export and backup
 * refused, rotation making a new token key, allowed_managed_keys, and the
 * token taken away (5xx naming the CKR code, other keys fine) and given back.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import type { Api, TestServer } from './helpers/server.ts';
import { createSoftHsmToken, type SoftHsmToken } from './helpers/softhsm.ts';
import { assertVaultError, PIN, startManagedKeyServer, tokenObjects } from './helpers/managed-keys.ts';

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('transit type=managed_key on a SoftHSM2 token', () => {
  let token: SoftHsmToken;
  let server: TestServer;
  let api: Api;

  const register = async (name: string, body: Record<string, unknown>) => {
    const res = await api.post(`sys/managed-keys/pkcs11/${name}`, { library: 'softhsm', token_label: 'tmk', pin: PIN, allow_generate_key: true, ...body });
    assert.equal(res.status, 204, JSON.stringify(res.body));
  };

  before(async () => {
    token = createSoftHsmToken({ label: 'tmk', pin: PIN });
    server = await startManagedKeyServer(token);
    api = server.api;
    await register('hsm-aes', { key_label: 'tmk-aes', mechanism: '0x1087', key_bits: '256', usages: 'encrypt,decrypt' });
    await register('hsm-ec', { key_label: 'tmk-ec', mechanism: '0x1041', curve: 'P256', usages: 'sign,verify' });
    await register('hsm-rsa', { key_label: 'tmk-rsa', mechanism: '0x0001', key_bits: '2048', usages: 'sign,verify' });
    await register('hsm-other', { key_label: 'tmk-other', mechanism: '0x1087', usages: 'encrypt,decrypt' });
    const mount = await api.post('sys/mounts/transit', { type: 'transit', config: { allowed_managed_keys: ['hsm-aes', 'hsm-ec', 'hsm-rsa'] } });
    assert.equal(mount.status, 204, JSON.stringify(mount.body));
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
    if (token && fs.existsSync(token.tokenDir + '.away')) fs.renameSync(token.tokenDir + '.away', token.tokenDir);
    token?.cleanup();
  });

  it('creates a managed_key transit key and round-trips encrypt/decrypt through the token', async () => {
    const created = await api.post('transit/keys/mk', { type: 'managed_key', managed_key_name: 'hsm-aes' });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    assert.equal(created.body.data.type, 'managed_key');
    const read = await api.get('transit/keys/mk');
    assert.equal(read.status, 200);
    assert.equal(read.body.data.type, 'managed_key');
    assert.equal(read.body.data.managed_key_name, 'hsm-aes');
    assert.equal(read.body.data.exportable, false);
    assert.equal(read.body.data.supports_encryption, true);
    assert.ok((await api.list('transit/keys')).body.data.keys.includes('mk'));

    const enc = await api.post('transit/encrypt/mk', { plaintext: b64('attack at dawn'), associated_data: b64('ctx') });
    assert.equal(enc.status, 200, JSON.stringify(enc.body));
    assert.match(enc.body.data.ciphertext, /^vault:v1:/);
    const dec = await api.post('transit/decrypt/mk', { ciphertext: enc.body.data.ciphertext, associated_data: b64('ctx') });
    assert.equal(dec.status, 200, JSON.stringify(dec.body));
    assert.equal(Buffer.from(dec.body.data.plaintext, 'base64').toString(), 'attack at dawn');
    // Empty plaintext goes through the token too.
    const empty = await api.post('transit/encrypt/mk', { plaintext: '' });
    assert.equal(empty.status, 200, JSON.stringify(empty.body));
    assert.equal((await api.post('transit/decrypt/mk', { ciphertext: empty.body.data.ciphertext })).body.data.plaintext, '');

    // Tampered ciphertext or wrong associated data: a 400, not an HSM outage.
    const raw = Buffer.from(enc.body.data.ciphertext.slice('vault:v1:'.length), 'base64');
    raw[raw.length - 1] ^= 1;
    assertVaultError(await api.post('transit/decrypt/mk', { ciphertext: `vault:v1:${raw.toString('base64')}`, associated_data: b64('ctx') }), 400);
    assertVaultError(await api.post('transit/decrypt/mk', { ciphertext: enc.body.data.ciphertext, associated_data: b64('other') }), 400);
  });

  it('rotation generates a new non-extractable key object in the token; old ciphertexts still decrypt', async () => {
    const before = await api.post('transit/encrypt/mk', { plaintext: b64('v1 text') });
    const rotated = await api.post('transit/keys/mk/rotate', {});
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    assert.equal(rotated.body.data.latest_version, 2);
    const objects = tokenObjects(token, 'tmk-aes-v2');
    assert.deepEqual(objects, [{ class: pkcs11js.CKO_SECRET_KEY, sensitive: true, extractable: false, token: true }]);
    const after = await api.post('transit/encrypt/mk', { plaintext: b64('v2 text') });
    assert.match(after.body.data.ciphertext, /^vault:v2:/);
    for (const [ct, text] of [[before.body.data.ciphertext, 'v1 text'], [after.body.data.ciphertext, 'v2 text']]) {
      const dec = await api.post('transit/decrypt/mk', { ciphertext: ct });
      assert.equal(dec.status, 200, JSON.stringify(dec.body));
      assert.equal(Buffer.from(dec.body.data.plaintext, 'base64').toString(), text);
    }
  });

  it('signs with ECDSA P-256 and RSA in the token; Node verifies with the public key read back; verify answers valid/invalid', async () => {
    const message = b64('sign me');
    for (const [name, managed] of [['ec', 'hsm-ec'], ['rsa', 'hsm-rsa']]) {
      const created = await api.post(`transit/keys/${name}`, { type: 'managed_key', managed_key_name: managed });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const read = await api.get(`transit/keys/${name}`);
      const pem = read.body.data.keys['1'].public_key as string;
      assert.match(pem, /BEGIN PUBLIC KEY/);
      const publicKey = createPublicKey(pem);

      const signed = await api.post(`transit/sign/${name}`, { input: message });
      assert.equal(signed.status, 200, JSON.stringify(signed.body));
      assert.match(signed.body.data.signature, /^vault:v1:/);
      const sig = Buffer.from(signed.body.data.signature.slice('vault:v1:'.length), 'base64');
      const ok = name === 'ec'
        ? nodeVerify('sha256', Buffer.from('sign me'), { key: publicKey, dsaEncoding: 'der' }, sig)
        : nodeVerify('sha256', Buffer.from('sign me'), publicKey, sig);
      assert.equal(ok, true, `${name}: Node verifies the token's signature`);

      const good = await api.post(`transit/verify/${name}`, { input: message, signature: signed.body.data.signature });
      assert.equal(good.status, 200, JSON.stringify(good.body));
      assert.equal(good.body.data.valid, true);
      const bad = await api.post(`transit/verify/${name}`, { input: b64('other'), signature: signed.body.data.signature });
      assert.equal(bad.body.data.valid, false);
    }
    // jws marshaling for ECDSA: r||s, checked by Node as ieee-p1363.
    const jws = await api.post('transit/sign/ec', { input: message, marshaling_algorithm: 'jws' });
    assert.equal(jws.status, 200, JSON.stringify(jws.body));
    const pem = (await api.get('transit/keys/ec')).body.data.keys['1'].public_key;
    const p1363 = Buffer.from(jws.body.data.signature.slice('vault:v1:'.length), 'base64url');
    assert.equal(nodeVerify('sha256', Buffer.from('sign me'), { key: createPublicKey(pem), dsaEncoding: 'ieee-p1363' }, p1363), true);
    assertVaultError(await api.post('transit/sign/rsa', { input: message, signature_algorithm: 'pss' }), 400, /pkcs1v15/);
    assertVaultError(await api.post('transit/sign/mk', { input: message }), 400, /does not support signing/);
    assertVaultError(await api.post('transit/encrypt/ec', { plaintext: message }), 400, /does not support encryption/);
  });

  it('refuses export and backup with a 400; the key stays usable', async () => {
    assertVaultError(await api.get('transit/export/encryption-key/mk'), 400, /cannot be exported/);
    assertVaultError(await api.get('transit/backup/mk'), 400, /cannot be backed up/);
    assertVaultError(await api.post('transit/keys/mk/config', { exportable: true }), 400, /exportable/);
    assert.equal((await api.post('transit/encrypt/mk', { plaintext: b64('still') })).status, 200);
  });

  it('bad inputs: unknown managed key, disallowed mount, missing name; nothing stored', async () => {
    assertVaultError(await api.post('transit/keys/nope', { type: 'managed_key', managed_key_name: 'nosuch' }), 400, /managed key "nosuch" not found/);
    assertVaultError(await api.post('transit/keys/nope', { type: 'managed_key', managed_key_name: 'hsm-other' }), 400, /not allowed on mount/);
    assertVaultError(await api.post('transit/keys/nope', { type: 'managed_key' }), 400, /missing managed key name or id/);
    assert.equal((await api.get('transit/keys/nope')).status, 404);
    assert.equal((await api.list('transit/keys')).body.data.keys.includes('nope'), false);
    // By id, once the mount allows it.
    const other = (await api.get('sys/managed-keys/pkcs11/hsm-other')).body.data;
    assert.equal((await api.post('sys/mounts/transit/tune', { allowed_managed_keys: ['hsm-aes', 'hsm-ec', 'hsm-rsa', other.uuid] })).status, 204);
    const byId = await api.post('transit/keys/by-id', { type: 'managed_key', managed_key_id: other.uuid });
    assert.equal(byId.status, 200, JSON.stringify(byId.body));
    assert.equal(byId.body.data.managed_key_name, 'hsm-other');
  });

  it('never puts the PIN in a response or the log', async () => {
    for (const path of ['transit/keys/mk', 'transit/keys/ec', 'sys/managed-keys/pkcs11/hsm-aes']) {
      assert.equal(JSON.stringify((await api.get(path)).body).includes(PIN), false, path);
    }
    assert.equal(server.output.includes(PIN), false);
  });

  it('token taken away: managed-key calls fail with a 5xx naming the CKR code, other keys work; back when the token returns', async () => {
    assert.equal((await api.post('transit/keys/plain', {})).status, 200);
    const ct = (await api.post('transit/encrypt/mk', { plaintext: b64('survives') })).body.data.ciphertext;
    fs.renameSync(token.tokenDir, token.tokenDir + '.away');
    let failure: { status: number; body: any } | undefined;
    await server.until(async () => {
      const res = await api.post('transit/encrypt/mk', { plaintext: b64('x') });
      if (res.status >= 500) failure = res;
      return res.status >= 500;
    }, 20_000, 'a managed-key failure');
    // 503 (a dependency outage to retry), naming the failed call and its code, e.g.
    // "pkcs11: C_Encrypt failed: CKR_OBJECT_HANDLE_INVALID (0x82)", then C_Initialize's while it recovers.
    assert.equal(failure!.status, 503, JSON.stringify(failure!.body));
    assert.match(failure!.body.errors.join(' '), /^pkcs11: C_[A-Za-z]+ failed: CKR_[A-Z_]+ \(0x[0-9A-F]+\)/);
    assert.equal(JSON.stringify(failure!.body).includes(PIN), false);
    // An ordinary transit key does not care.
    const plain = await api.post('transit/encrypt/plain', { plaintext: b64('fine') });
    assert.equal(plain.status, 200, JSON.stringify(plain.body));
    assert.equal((await api.post('transit/decrypt/plain', { ciphertext: plain.body.data.ciphertext })).status, 200);

    fs.renameSync(token.tokenDir + '.away', token.tokenDir);
    await server.until(async () => (await api.post('transit/decrypt/mk', { ciphertext: ct })).status === 200, 30_000, 'the managed key back');
    const dec = await api.post('transit/decrypt/mk', { ciphertext: ct });
    assert.equal(Buffer.from(dec.body.data.plaintext, 'base64').toString(), 'survives');
    assert.equal((await api.post('transit/sign/ec', { input: b64('again') })).status, 200);
  });
});
