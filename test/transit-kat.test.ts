/**
 * Transit known-answer tests over HTTP against a real -dev server: for
 * every key type, what Tresor encrypts, signs or MACs is checked by Node's
 * own crypto with the key exported from Tresor, and what Node makes with
 * that key is accepted by Tresor (the reverse). Derived, convergent and
 * imported (BYOK) keys are computed independently here (HKDF-SHA256, the
 * convergent nonce, RSA-OAEP + AES-KWP wrapping), and XChaCha20-Poly1305 is
 * checked against the test vector of draft-irtf-cfrg-xchacha.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  constants, createCipheriv, createDecipheriv, createHash, createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, hkdfSync,
  privateDecrypt, publicDecrypt, publicEncrypt, randomBytes, sign, verify, type CipherGCM, type DecipherGCM, type KeyObject,
} from 'node:crypto';
import { must, transitDevServer } from './helpers/transit.ts';

const b64 = (data: string | Buffer) => Buffer.from(data).toString('base64');
const MESSAGE = Buffer.from('the quick brown fox jumps over the lazy dog');

/** The bytes of a "vault:v<N>:<base64>" value. */
function body(envelope: string, version = 1): Buffer {
  const prefix = `vault:v${version}:`;
  assert.ok(envelope.startsWith(prefix), envelope.slice(0, 12));
  const rest = envelope.slice(prefix.length);
  return Buffer.from(rest, 'base64');
}

const NODE_AEAD: Record<string, string> = { 'aes128-gcm96': 'aes-128-gcm', 'aes256-gcm96': 'aes-256-gcm', 'chacha20-poly1305': 'chacha20-poly1305' };

function nodeSeal(type: string, key: Buffer, nonce: Buffer, plaintext: Buffer, aad?: Buffer): Buffer {
  const cipher = createCipheriv(NODE_AEAD[type] as 'aes-256-gcm', key, nonce, { authTagLength: 16 }) as CipherGCM;
  if (aad) cipher.setAAD(aad);
  return Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

function nodeOpen(type: string, key: Buffer, sealed: Buffer, aad?: Buffer): Buffer {
  const decipher = createDecipheriv(NODE_AEAD[type] as 'aes-256-gcm', key, sealed.subarray(0, 12), { authTagLength: 16 }) as DecipherGCM;
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  if (aad) decipher.setAAD(aad);
  return Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]);
}

/** Vault's import ciphertext: RSA-OAEP(wrapping key, ephemeral AES-256 key) || AES-KWP(ephemeral key, target). */
function wrapForImport(wrappingPem: string, target: Buffer, hash = 'sha256'): string {
  const ephemeral = randomBytes(32);
  const wrappedKey = publicEncrypt({ key: wrappingPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, ephemeral);
  const kwp = createCipheriv('id-aes256-wrap-pad', ephemeral, Buffer.from('a65959a6', 'hex'));
  return Buffer.concat([wrappedKey, kwp.update(target), kwp.final()]).toString('base64');
}

describe('transit known answers against Node crypto (-dev server)', () => {
  const dev = transitDevServer();
  const create = (name: string, body: Record<string, unknown>) => must(dev.api.post(`transit/keys/${name}`, { exportable: true, ...body }));
  const exported = async (kind: string, name: string, version = 1, format?: string): Promise<string> =>
    (await must(dev.api.get(`transit/export/${kind}/${name}/${version}${format ? `?format=${format}` : ''}`))).data.keys[String(version)];

  for (const type of ['aes128-gcm96', 'aes256-gcm96', 'chacha20-poly1305']) {
    it(`${type}: Tresor's ciphertext opens with Node and the exported key, and the reverse`, async () => {
      const name = `kat-${type}`;
      await create(name, { type });
      const key = Buffer.from(await exported('encryption-key', name), 'base64');
      assert.equal(key.length, type === 'aes128-gcm96' ? 16 : 32);
      const aad = Buffer.from('tenant-7');
      const enc = await must(dev.api.post(`transit/encrypt/${name}`, { plaintext: b64(MESSAGE), associated_data: b64(aad) }));
      assert.deepEqual(nodeOpen(type, key, body(enc.data.ciphertext), aad), MESSAGE);
      const mine = nodeSeal(type, key, randomBytes(12), MESSAGE, aad);
      const dec = await must(dev.api.post(`transit/decrypt/${name}`, { ciphertext: `vault:v1:${b64(mine)}`, associated_data: b64(aad) }));
      assert.equal(dec.data.plaintext, b64(MESSAGE));
      // A data key is a ciphertext like any other.
      const dk = await must(dev.api.post(`transit/datakey/plaintext/${name}`, { bits: 512 }));
      assert.deepEqual(nodeOpen(type, key, body(dk.data.ciphertext)), Buffer.from(dk.data.plaintext, 'base64'));
      assert.equal(Buffer.from(dk.data.plaintext, 'base64').length, 64);
    });
  }

  it('xchacha20-poly1305: the draft-irtf-cfrg-xchacha A.3.1 vector decrypts, imported through BYOK', async () => {
    const key = Buffer.from('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f', 'hex');
    const nonce = Buffer.from('404142434445464748494a4b4c4d4e4f5051525354555657', 'hex');
    const aad = Buffer.from('50515253c0c1c2c3c4c5c6c7', 'hex');
    const plaintext = Buffer.from("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");
    const ciphertext = Buffer.from(
      'bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52e',
      'hex',
    );
    const tag = Buffer.from('c0875924c1c7987947deafd8780acf49', 'hex');
    const wrapping = (await must(dev.api.get('transit/wrapping_key'))).data.public_key;
    await must(dev.api.post('transit/keys/kat-xchacha/import', { type: 'xchacha20-poly1305', ciphertext: wrapForImport(wrapping, key), exportable: true }), 204);
    const envelope = `vault:v1:${b64(Buffer.concat([nonce, ciphertext, tag]))}`;
    const dec = await must(dev.api.post('transit/decrypt/kat-xchacha', { ciphertext: envelope, associated_data: b64(aad) }));
    assert.deepEqual(Buffer.from(dec.data.plaintext, 'base64'), plaintext);
    // Tresor's own ciphertexts are 24-byte nonce || ct || tag and round trip.
    const enc = await must(dev.api.post('transit/encrypt/kat-xchacha', { plaintext: b64(plaintext), associated_data: b64(aad) }));
    assert.equal(body(enc.data.ciphertext).length, 24 + plaintext.length + 16);
    assert.equal((await must(dev.api.post('transit/decrypt/kat-xchacha', { ciphertext: enc.data.ciphertext, associated_data: b64(aad) }))).data.plaintext, b64(plaintext));
    assert.deepEqual(Buffer.from(await exported('encryption-key', 'kat-xchacha'), 'base64'), key);
    const info = (await must(dev.api.get('transit/keys/kat-xchacha'))).data;
    assert.equal(info.imported_key, true);
    assert.equal(info.imported_key_allow_rotation, false);
  });

  it('derived keys: HKDF-SHA256(key, no salt, info = context), as Vault derives', async () => {
    await create('kat-derived', { derived: true });
    const key = Buffer.from(await exported('encryption-key', 'kat-derived'), 'base64');
    const context = Buffer.from('customer-42');
    const enc = await must(dev.api.post('transit/encrypt/kat-derived', { plaintext: b64(MESSAGE), context: b64(context) }));
    const derived = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), context, 32));
    assert.deepEqual(nodeOpen('aes256-gcm96', derived, body(enc.data.ciphertext)), MESSAGE);
    const mine = nodeSeal('aes256-gcm96', derived, randomBytes(12), MESSAGE);
    const dec = await must(dev.api.post('transit/decrypt/kat-derived', { ciphertext: `vault:v1:${b64(mine)}`, context: b64(context) }));
    assert.equal(dec.data.plaintext, b64(MESSAGE));
  });

  it('convergent keys: the ciphertext is exactly what Vault\'s scheme 3 computes', async () => {
    await create('kat-convergent', { derived: true, convergent_encryption: true });
    const info = (await must(dev.api.get('transit/keys/kat-convergent'))).data;
    assert.equal(info.convergent_encryption, true);
    assert.equal(info.convergent_encryption_version, -1);
    assert.equal(info.kdf, 'hkdf_sha256');
    const key = Buffer.from(await exported('encryption-key', 'kat-convergent'), 'base64');
    const context = Buffer.from('row-1');
    const derived = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), context, 64));
    const nonce = createHmac('sha256', derived.subarray(32)).update(MESSAGE).digest().subarray(0, 12);
    const expected = `vault:v1:${b64(nodeSeal('aes256-gcm96', derived.subarray(0, 32), nonce, MESSAGE))}`;
    const enc = await must(dev.api.post('transit/encrypt/kat-convergent', { plaintext: b64(MESSAGE), context: b64(context) }));
    assert.equal(enc.data.ciphertext, expected);
    const again = await must(dev.api.post('transit/encrypt/kat-convergent', { batch_input: [{ plaintext: b64(MESSAGE), context: b64(context) }] }));
    assert.equal(again.data.batch_results[0].ciphertext, expected);
  });

  it('rsa-2048 encryption: RSA-OAEP-SHA256 both ways with the exported key', async () => {
    await create('kat-rsa-enc', { type: 'rsa-2048' });
    const pem = await exported('encryption-key', 'kat-rsa-enc');
    assert.match(pem, /^-----BEGIN RSA PRIVATE KEY-----\n/);
    const enc = await must(dev.api.post('transit/encrypt/kat-rsa-enc', { plaintext: b64(MESSAGE) }));
    assert.deepEqual(privateDecrypt({ key: pem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, body(enc.data.ciphertext)), MESSAGE);
    const publicPem = await exported('public-key', 'kat-rsa-enc');
    const mine = publicEncrypt({ key: publicPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, MESSAGE);
    assert.equal((await must(dev.api.post('transit/decrypt/kat-rsa-enc', { ciphertext: `vault:v1:${b64(mine)}` }))).data.plaintext, b64(MESSAGE));
    const read = (await must(dev.api.get('transit/keys/kat-rsa-enc'))).data;
    assert.equal(read.keys['1'].public_key, publicPem);
    assert.equal(read.keys['1'].name, 'rsa-2048');
  });

  const HASHES: Array<[string, string]> = [
    ['sha1', 'sha1'], ['sha2-224', 'sha224'], ['sha2-256', 'sha256'], ['sha2-384', 'sha384'], ['sha2-512', 'sha512'],
    ['sha3-224', 'sha3-224'], ['sha3-256', 'sha3-256'], ['sha3-384', 'sha3-384'], ['sha3-512', 'sha3-512'],
  ];

  it('hmac: every algorithm matches Node\'s HMAC under the exported hmac-key, for aes and hmac keys', async () => {
    await create('kat-mac', {});
    await create('kat-hmac', { type: 'hmac', key_size: 64 });
    for (const name of ['kat-mac', 'kat-hmac']) {
      const key = Buffer.from(await exported('hmac-key', name), 'base64');
      assert.equal(key.length, name === 'kat-hmac' ? 64 : 32);
      for (const [vault, node] of HASHES) {
        const mac = await must(dev.api.post(`transit/hmac/${name}/${vault}`, { input: b64(MESSAGE) }));
        assert.equal(mac.data.hmac, `vault:v1:${createHmac(node, key).update(MESSAGE).digest('base64')}`, `${name} ${vault}`);
        const mine = `vault:v1:${createHmac(node, key).update(MESSAGE).digest('base64')}`;
        assert.equal((await must(dev.api.post(`transit/verify/${name}`, { input: b64(MESSAGE), hmac: mine, hash_algorithm: vault }))).data.valid, true);
      }
    }
    assert.equal((await must(dev.api.get('transit/keys/kat-hmac'))).data.key_size, 64);
  });

  it('hash: every algorithm matches Node\'s digest', async () => {
    for (const [vault, node] of HASHES.filter(([v]) => v !== 'sha1')) {
      const res = await must(dev.api.post(`transit/hash/${vault}`, { input: b64(MESSAGE) }));
      assert.equal(res.data.sum, createHash(node).update(MESSAGE).digest('hex'), vault);
    }
  });

  /** The public key object of a version, from export/public-key. */
  const publicKeyOf = async (name: string): Promise<KeyObject> => createPublicKey(await exported('public-key', name, 1, 'pem'));
  const privateKeyOf = async (name: string): Promise<KeyObject> => createPrivateKey(await exported('signing-key', name, 1, 'pem'));
  const signed = async (name: string, body: Record<string, unknown>) => (await must(dev.api.post(`transit/sign/${name}`, body))).data.signature as string;
  const verified = async (name: string, body: Record<string, unknown>) => (await must(dev.api.post(`transit/verify/${name}`, body))).data.valid as boolean;

  it('ed25519: signatures verify with Node and the exported key; Node\'s verify with Tresor', async () => {
    await create('kat-ed', { type: 'ed25519' });
    const pub = await publicKeyOf('kat-ed');
    const raw = await exported('public-key', 'kat-ed');
    assert.equal(Buffer.from(raw, 'base64').length, 32);
    assert.equal((await must(dev.api.get('transit/keys/kat-ed'))).data.keys['1'].public_key, raw);
    const sig = await signed('kat-ed', { input: b64(MESSAGE) });
    assert.ok(verify(null, MESSAGE, pub, body(sig)));
    const jws = await signed('kat-ed', { input: b64(MESSAGE), marshaling_algorithm: 'jws' });
    assert.ok(verify(null, MESSAGE, pub, Buffer.from(jws.slice('vault:v1:'.length), 'base64url')));
    const mine = `vault:v1:${b64(sign(null, MESSAGE, await privateKeyOf('kat-ed')))}`;
    assert.equal(await verified('kat-ed', { input: b64(MESSAGE), signature: mine }), true);
    assert.equal(await verified('kat-ed', { input: b64('other'), signature: mine }), false);
    // Vault's raw export is the 64-byte Go key: seed || public key.
    const goKey = Buffer.from(await exported('signing-key', 'kat-ed'), 'base64');
    assert.deepEqual(goKey.subarray(32), Buffer.from(raw, 'base64'));
  });

  it('derived ed25519: the key for a context is Ed25519 from seed HKDF-SHA256(Go key, context)', async () => {
    await create('kat-ed-derived', { type: 'ed25519', derived: true });
    const goKey = Buffer.from(await exported('signing-key', 'kat-ed-derived'), 'base64');
    const context = Buffer.from('device-9');
    const seed = Buffer.from(hkdfSync('sha256', goKey, Buffer.alloc(0), context, 32));
    const priv = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
    const pubRaw = Buffer.from(createPublicKey(priv).export({ format: 'jwk' }).x!, 'base64url');
    const res = await must(dev.api.post('transit/sign/kat-ed-derived', { input: b64(MESSAGE), context: b64(context) }));
    assert.equal(res.data.public_key, b64(pubRaw));
    assert.ok(verify(null, MESSAGE, createPublicKey(priv), body(res.data.signature)));
    const read = (await must(dev.api.get(`transit/keys/kat-ed-derived?context=${encodeURIComponent(b64(context))}`))).data;
    assert.equal(read.keys['1'].public_key, b64(pubRaw));
    assert.equal((await must(dev.api.get('transit/keys/kat-ed-derived'))).data.keys['1'].public_key, '');
  });

  for (const type of ['ecdsa-p256', 'ecdsa-p384', 'ecdsa-p521']) {
    it(`${type}: asn1 and jws signatures, hashed by Tresor or prehashed, verify with Node; Node's verify with Tresor`, async () => {
      const name = `kat-${type}`;
      await create(name, { type });
      const pub = await publicKeyOf(name);
      const priv = await privateKeyOf(name);
      assert.match(await exported('signing-key', name), /^-----BEGIN EC PRIVATE KEY-----\n/);
      assert.equal((await must(dev.api.get(`transit/keys/${name}`))).data.keys['1'].public_key.trim(), (pub.export({ type: 'spki', format: 'pem' }) as string).trim());
      for (const [vault, node] of HASHES) {
        const der = await signed(name, { input: b64(MESSAGE), hash_algorithm: vault });
        assert.ok(verify(node, MESSAGE, { key: pub, dsaEncoding: 'der' }, body(der)), `${type} ${vault} asn1`);
        const digest = createHash(node).update(MESSAGE).digest();
        const pre = await signed(name, { input: b64(digest), hash_algorithm: vault, prehashed: true, marshaling_algorithm: 'jws' });
        assert.ok(verify(node, MESSAGE, { key: pub, dsaEncoding: 'ieee-p1363' }, Buffer.from(pre.slice(9), 'base64url')), `${type} ${vault} prehashed jws`);
        const mine = sign(node, MESSAGE, { key: priv, dsaEncoding: 'der' });
        assert.equal(await verified(name, { input: b64(MESSAGE), hash_algorithm: vault, signature: `vault:v1:${b64(mine)}` }), true);
        assert.equal(await verified(name, { input: b64(digest), hash_algorithm: vault, prehashed: true, signature: `vault:v1:${b64(mine)}` }), true);
        assert.equal(await verified(name, { input: b64('tampered'), hash_algorithm: vault, signature: `vault:v1:${b64(mine)}` }), false);
      }
    });
  }

  for (const type of ['rsa-2048', 'rsa-3072', 'rsa-4096']) {
    it(`${type}: PSS (auto, hash and fixed salt) and PKCS#1 v1.5 signatures verify with Node; Node's verify with Tresor`, async () => {
      const name = `kat-${type}`;
      await create(name, { type });
      const pub = await publicKeyOf(name);
      const priv = await privateKeyOf(name);
      const hashes = type === 'rsa-2048' ? HASHES : HASHES.filter(([v]) => v === 'sha2-256' || v === 'sha3-512');
      for (const [vault, node] of hashes) {
        const digest = createHash(node).update(MESSAGE).digest();
        const pss = await signed(name, { input: b64(MESSAGE), hash_algorithm: vault });
        assert.ok(verify(node, MESSAGE, { key: pub, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }, body(pss)), `${vault} pss`);
        const hashSalt = await signed(name, { input: b64(digest), hash_algorithm: vault, prehashed: true, salt_length: 'hash' });
        assert.ok(verify(node, MESSAGE, { key: pub, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: digest.length }, body(hashSalt)), `${vault} pss hash salt, prehashed`);
        const pkcs = await signed(name, { input: b64(MESSAGE), hash_algorithm: vault, signature_algorithm: 'pkcs1v15' });
        assert.ok(verify(node, MESSAGE, { key: pub, padding: constants.RSA_PKCS1_PADDING }, body(pkcs)), `${vault} pkcs1v15`);
        const pkcsPre = await signed(name, { input: b64(digest), hash_algorithm: vault, signature_algorithm: 'pkcs1v15', prehashed: true });
        assert.equal(pkcsPre, pkcs, 'PKCS#1 v1.5 is deterministic: prehashed gives the same signature');
        const minePss = `vault:v1:${b64(sign(node, MESSAGE, { key: priv, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 20 }))}`;
        assert.equal(await verified(name, { input: b64(MESSAGE), hash_algorithm: vault, signature: minePss }), true);
        assert.equal(await verified(name, { input: b64(digest), hash_algorithm: vault, prehashed: true, salt_length: '20', signature: minePss }), true);
        const minePkcs = `vault:v1:${b64(sign(node, MESSAGE, { key: priv, padding: constants.RSA_PKCS1_PADDING }))}`;
        assert.equal(await verified(name, { input: b64(MESSAGE), hash_algorithm: vault, signature_algorithm: 'pkcs1v15', signature: minePkcs }), true);
        assert.equal(await verified(name, { input: b64(MESSAGE), hash_algorithm: vault, signature: minePkcs }), false, 'a PKCS#1 signature is no PSS one');
      }
      if (type === 'rsa-2048') {
        // hash_algorithm=none: PKCS#1 v1.5 over the bare digest (no DigestInfo).
        const digest = createHash('sha256').update(MESSAGE).digest();
        const none = await signed(name, { input: b64(digest), hash_algorithm: 'none', prehashed: true, signature_algorithm: 'pkcs1v15' });
        assert.deepEqual(publicDecrypt({ key: pub, padding: constants.RSA_PKCS1_PADDING }, body(none)), digest);
        assert.equal(await verified(name, { input: b64(digest), hash_algorithm: 'none', prehashed: true, signature_algorithm: 'pkcs1v15', signature: none }), true);
      }
    });
  }

  it('BYOK: imported AES and ECDSA keys work with the material Node wrapped, and export gives it back', async () => {
    const wrapping = (await must(dev.api.get('transit/wrapping_key'))).data.public_key;
    assert.match(wrapping, /^-----BEGIN PUBLIC KEY-----\n/);
    assert.equal(createPublicKey(wrapping).asymmetricKeyDetails?.modulusLength, 4096);
    const aes = randomBytes(32);
    await must(dev.api.post('transit/keys/byok-aes/import', { ciphertext: wrapForImport(wrapping, aes, 'sha512'), hash_function: 'SHA512', exportable: true }), 204);
    const enc = await must(dev.api.post('transit/encrypt/byok-aes', { plaintext: b64(MESSAGE) }));
    assert.deepEqual(nodeOpen('aes256-gcm96', aes, body(enc.data.ciphertext)), MESSAGE);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const der = ec.privateKey.export({ type: 'pkcs8', format: 'der' }) as Buffer;
    await must(dev.api.post('transit/keys/byok-ec/import', { type: 'ecdsa-p384', ciphertext: wrapForImport(wrapping, der) }), 204);
    const sig = await signed('byok-ec', { input: b64(MESSAGE), hash_algorithm: 'sha2-384' });
    assert.ok(verify('sha384', MESSAGE, { key: ec.publicKey, dsaEncoding: 'der' }, body(sig)));
    // A public key alone verifies; import_version then brings the private half into the same version.
    const pubOnly = generateKeyPairSync('ed25519');
    await must(dev.api.post('transit/keys/byok-pub/import', { type: 'ed25519', public_key: pubOnly.publicKey.export({ type: 'spki', format: 'pem' }) }), 204);
    const mine = `vault:v1:${b64(sign(null, MESSAGE, pubOnly.privateKey))}`;
    assert.equal(await verified('byok-pub', { input: b64(MESSAGE), signature: mine }), true);
    const noPrivate = await dev.api.post('transit/sign/byok-pub', { input: b64(MESSAGE) });
    assert.deepEqual(noPrivate.body, { errors: ['requested version for signing does not contain a private part'] });
    const pkcs8 = pubOnly.privateKey.export({ type: 'pkcs8', format: 'der' }) as Buffer;
    await must(dev.api.post('transit/keys/byok-pub/import_version', { ciphertext: wrapForImport(wrapping, pkcs8) }), 204);
    const info = (await must(dev.api.get('transit/keys/byok-pub'))).data;
    assert.equal(info.latest_version, 1, 'the private key filled the public-only version');
    assert.ok(verify(null, MESSAGE, pubOnly.publicKey, body(await signed('byok-pub', { input: b64(MESSAGE) }))));
  });
});
