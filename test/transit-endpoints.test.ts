/**
 * Every transit endpoint over HTTP against a real -dev server, with Vault's
 * answer shapes: keys (create, read, list, config, rotate, trim, delete),
 * export, backup and restore (including a backup written the way Vault
 * writes one: bare big integers for EC and RSA numbers), cache-config,
 * wrapping_key, encrypt/decrypt/rewrap single and batch (statuses), sign
 * and verify batches, hmac, datakey, random (sources) and hash, and the
 * help of the new paths.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign, verify } from 'node:crypto';
import { must, transitDevServer } from './helpers/transit.ts';

const b64 = (data: string | Buffer) => Buffer.from(data).toString('base64');
const big = (b64url: string | undefined) => BigInt(`0x${Buffer.from(b64url ?? '', 'base64url').toString('hex') || '0'}`).toString();

describe('transit endpoints (-dev server)', () => {
  const dev = transitDevServer();

  it('keys/<name>: create answers Vault\'s description; read, list (after, limit) and a second create', async () => {
    const created = (await must(dev.api.post('transit/keys/desc', {}))).data;
    assert.deepEqual(Object.keys(created).sort(), [
      'allow_plaintext_backup', 'auto_rotate_period', 'deletion_allowed', 'derived', 'exportable', 'imported_key', 'keys', 'latest_version',
      'min_available_version', 'min_decryption_version', 'min_encryption_version', 'name', 'supports_decryption', 'supports_derivation',
      'supports_encryption', 'supports_signing', 'type',
    ]);
    assert.equal(created.type, 'aes256-gcm96');
    assert.equal(typeof created.keys['1'], 'number');
    const ec = (await must(dev.api.post('transit/keys/desc-ec', { type: 'ecdsa-p384' }))).data;
    assert.deepEqual(Object.keys(ec.keys['1']).sort(), ['certificate_chain', 'creation_time', 'name', 'public_key']);
    assert.equal(ec.keys['1'].name, 'P-384');
    assert.match(ec.keys['1'].creation_time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
    assert.match(ec.keys['1'].public_key, /^-----BEGIN PUBLIC KEY-----\n/);
    assert.deepEqual([ec.supports_signing, ec.supports_encryption, ec.supports_derivation], [true, false, false]);
    const derived = (await must(dev.api.post('transit/keys/desc-derived', { derived: true, convergent_encryption: true }))).data;
    assert.deepEqual([derived.kdf, derived.convergent_encryption, derived.convergent_encryption_version], ['hkdf_sha256', true, -1]);
    const mac = (await must(dev.api.post('transit/keys/desc-mac', { type: 'hmac' }))).data;
    assert.equal(mac.key_size, 32);
    assert.equal(mac.keys, undefined, 'Vault lists no versions for hmac keys');
    assert.deepEqual((await must(dev.api.get('transit/keys/desc'))).data, created);
    assert.deepEqual((await dev.api.list('transit/keys')).body.data.keys, ['desc', 'desc-derived', 'desc-ec', 'desc-mac']);
    assert.deepEqual((await dev.api.list('transit/keys?after=desc&limit=2')).body.data.keys, ['desc-derived', 'desc-ec']);
  });

  it('config, rotate, trim and delete', async () => {
    await must(dev.api.post('transit/keys/life', {}));
    for (let i = 0; i < 3; i++) assert.equal((await must(dev.api.post('transit/keys/life/rotate', {}))).data.latest_version, i + 2);
    const zero = await must(dev.api.post('transit/keys/life/config', { min_decryption_version: 0 }));
    assert.deepEqual(zero.warnings, ['since Vault 0.3, transit key numbering starts at 1; forcing minimum to 1']);
    const configured = (await must(dev.api.post('transit/keys/life/config', {
      min_decryption_version: 2, min_encryption_version: 3, deletion_allowed: true, exportable: true, allow_plaintext_backup: true, auto_rotate_period: '48h',
    }))).data;
    assert.deepEqual(
      [configured.min_decryption_version, configured.min_encryption_version, configured.deletion_allowed, configured.exportable, configured.allow_plaintext_backup, configured.auto_rotate_period],
      [2, 3, true, true, true, 172800],
    );
    assert.deepEqual(Object.keys(configured.keys), ['2', '3', '4']);
    const trimmed = (await must(dev.api.post('transit/keys/life/trim', { min_available_version: 2 }))).data;
    assert.equal(trimmed.min_available_version, 2);
    // Trimmed versions are gone for good: lowering the floor cannot bring them back.
    assert.deepEqual(Object.keys((await must(dev.api.get('transit/export/hmac-key/life'))).data.keys), ['2', '3', '4']);
    await must(dev.api.delete('transit/keys/life'), 204);
    assert.equal((await dev.api.get('transit/keys/life')).status, 404);
  });

  it('export: every type and format, by version number, "v<n>" and "latest"', async () => {
    await must(dev.api.post('transit/keys/ex', { type: 'ecdsa-p256', exportable: true }));
    await must(dev.api.post('transit/keys/ex/rotate', {}));
    const all = (await must(dev.api.get('transit/export/signing-key/ex'))).data;
    assert.deepEqual([all.name, all.type, Object.keys(all.keys)], ['ex', 'ecdsa-p256', ['1', '2']]);
    assert.deepEqual(Object.keys((await must(dev.api.get('transit/export/signing-key/ex/latest'))).data.keys), ['2']);
    assert.deepEqual(Object.keys((await must(dev.api.get('transit/export/signing-key/ex/v1'))).data.keys), ['1']);
    assert.match((await must(dev.api.get('transit/export/signing-key/ex/1?format=pem'))).data.keys['1'], /^-----BEGIN PRIVATE KEY-----\n/);
    assert.ok(Buffer.from((await must(dev.api.get('transit/export/signing-key/ex/1?format=der'))).data.keys['1'], 'base64').length > 60);
    assert.match((await must(dev.api.get('transit/export/public-key/ex/2'))).data.keys['2'], /^-----BEGIN PUBLIC KEY-----\n[\s\S]*-----END PUBLIC KEY-----$/);
    assert.equal(Buffer.from((await must(dev.api.get('transit/export/hmac-key/ex/1'))).data.keys['1'], 'base64').length, 32);
    assert.equal((await dev.api.get('transit/export/signing-key/ex/7')).body.errors[0], 'version does not exist or cannot be found');
    assert.equal((await dev.api.get('transit/export/signing-key/ex/seven')).body.errors[0], 'invalid key version');
  });

  it('backup and restore: Vault\'s KeyData, restorable under another name; restore_info and backup_info recorded', async () => {
    await must(dev.api.post('transit/keys/bk', { exportable: true, allow_plaintext_backup: true }));
    const old = (await must(dev.api.post('transit/encrypt/bk', { plaintext: b64('v1 data') }))).data.ciphertext;
    await must(dev.api.post('transit/keys/bk/rotate', {}));
    await must(dev.api.post('transit/keys/bk/config', { min_decryption_version: 2 }));
    const backup = (await must(dev.api.get('transit/backup/bk'))).data.backup;
    const keyData = JSON.parse(Buffer.from(backup, 'base64').toString());
    assert.deepEqual(Object.keys(keyData), ['policy', 'archived_keys']);
    assert.equal(keyData.policy.type, 0, 'Vault\'s number for aes256-gcm96');
    assert.deepEqual(Object.keys(keyData.policy.keys), ['2'], 'versions below min_decryption_version go to the archive, as in Vault');
    assert.equal(keyData.archived_keys.keys.length, 3, 'the archive is indexed by version from min_available_version (0)');
    assert.equal(keyData.archived_keys.keys[0].key, null);
    assert.equal(keyData.policy.backup_info.version, 2);
    await must(dev.api.post('transit/restore/bk-copy', { backup }), 204);
    const copy = (await must(dev.api.get('transit/keys/bk-copy'))).data;
    assert.equal(copy.restore_info.version, 2);
    assert.equal(copy.backup_info.version, 2);
    await must(dev.api.post('transit/keys/bk-copy/config', { min_decryption_version: 1 }));
    assert.equal((await must(dev.api.post('transit/decrypt/bk-copy', { ciphertext: old }))).data.plaintext, b64('v1 data'), 'the archived version came along');
    assert.equal((await must(dev.api.get('transit/keys/bk'))).data.backup_info.version, 2);
  });

  it('restore reads a backup as Vault writes it (EC and RSA numbers as bare big integers)', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ecJwk = ec.privateKey.export({ format: 'jwk' });
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const r = rsa.privateKey.export({ format: 'jwk' });
    const pem = ec.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const entry = (fields: string) => `{"key":null,"hmac_key":"${b64(Buffer.alloc(32, 1))}","time":"2021-03-04T05:06:07.123456789-08:00",${fields},"convergent_version":0,"creation_time":1614863167}`;
    const policy = (name: string, type: number, keyEntry: string) =>
      `{"policy":{"name":"${name}","key":null,"keys":{"1":${keyEntry}},"derived":false,"kdf":0,"convergent_encryption":false,"exportable":true,` +
      '"min_decryption_version":1,"min_encryption_version":0,"latest_version":1,"archive_version":1,"archive_min_version":0,"min_available_version":0,' +
      `"deletion_allowed":false,"convergent_version":0,"type":${type},"backup_info":{"time":"2021-03-04T05:06:08Z","version":1},"restore_info":null,` +
      '"allow_plaintext_backup":true,"version_template":"","storage_prefix":"","auto_rotate_period":0,"Imported":false,"AllowImportedKeyRotation":false},' +
      `"archived_keys":{"keys":[${entry('"ec_x":null,"ec_y":null,"ec_d":null,"rsa_key":null,"rsa_public_key":null,"public_key":""')},${keyEntry}]}}`;
    const ecEntry = entry(`"ec_x":${big(ecJwk.x)},"ec_y":${big(ecJwk.y)},"ec_d":${big(ecJwk.d)},"rsa_key":null,"rsa_public_key":null,"public_key":${JSON.stringify(pem)}`);
    const rsaKey = `{"N":${big(r.n)},"E":65537,"D":${big(r.d)},"Primes":[${big(r.p)},${big(r.q)}],"Precomputed":{"Dp":${big(r.dp)},"Dq":${big(r.dq)},"Qinv":${big(r.qi)},"CRTValues":[]}}`;
    const rsaEntry = entry(`"ec_x":null,"ec_y":null,"ec_d":null,"rsa_key":${rsaKey},"rsa_public_key":{"N":${big(r.n)},"E":65537},"public_key":""`);
    await must(dev.api.post('transit/restore', { backup: b64(policy('from-vault-ec', 1, ecEntry)) }), 204);
    await must(dev.api.post('transit/restore', { backup: b64(policy('from-vault-rsa', 3, rsaEntry)) }), 204);
    const message = Buffer.from('signed after the move');
    const ecSig = (await must(dev.api.post('transit/sign/from-vault-ec', { input: b64(message) }))).data.signature;
    assert.ok(verify('sha256', message, ec.publicKey, Buffer.from(ecSig.slice(9), 'base64')));
    const rsaSig = (await must(dev.api.post('transit/sign/from-vault-rsa', { input: b64(message), signature_algorithm: 'pkcs1v15' }))).data.signature;
    assert.ok(verify('sha256', message, rsa.publicKey, Buffer.from(rsaSig.slice(9), 'base64')));
    const read = (await must(dev.api.get('transit/keys/from-vault-ec'))).data;
    assert.equal(read.keys['1'].creation_time, '2021-03-04T05:06:07.123456789-08:00');
    assert.equal(read.keys['1'].public_key, pem);
    // And Tresor's own backup of it writes the numbers back as bare integers.
    const again = Buffer.from((await must(dev.api.get('transit/backup/from-vault-rsa'))).data.backup, 'base64').toString();
    assert.ok(again.includes(`"N":${big(r.n)},"E":65537`));
  });

  it('cache-config: read, bound refused below 10, set', async () => {
    assert.deepEqual((await must(dev.api.get('transit/cache-config'))).data, { size: 0 });
    assert.deepEqual((await dev.api.post('transit/cache-config', { size: 5 })).body, { errors: ['size must be 0 or a value greater or equal to 10'] });
    assert.deepEqual((await must(dev.api.post('transit/cache-config', { size: 20 }))).data, { size: 20 });
    assert.deepEqual((await must(dev.api.get('transit/cache-config'))).data, { size: 20 });
    // Keys keep working past the bound (reloaded from storage when evicted).
    for (let i = 0; i < 25; i++) await must(dev.api.post(`transit/encrypt/cache-${i}`, { plaintext: b64('x') }));
    const first = (await must(dev.api.post('transit/encrypt/cache-0', { plaintext: b64('again') }))).data.ciphertext;
    assert.equal((await must(dev.api.post('transit/decrypt/cache-0', { ciphertext: first }))).data.plaintext, b64('again'));
    await must(dev.api.post('transit/cache-config', { size: 0 }));
  });

  it('encrypt/decrypt/rewrap: Vault\'s batch shapes; all failed is a 400 with data (encrypt, decrypt), a 200 for rewrap', async () => {
    await must(dev.api.post('transit/keys/batch', {}));
    const enc = await must(dev.api.post('transit/encrypt/batch', { batch_input: [{ plaintext: b64('a'), reference: 'ra' }, { plaintext: '!' }] }));
    assert.match(enc.data.batch_results[0].ciphertext, /^vault:v1:/);
    assert.deepEqual(Object.keys(enc.data.batch_results[0]), ['ciphertext', 'key_version', 'reference']);
    assert.deepEqual(enc.data.batch_results[1], { error: 'illegal base64 data at input byte 0', reference: '' });
    const coded = await dev.api.post('transit/encrypt/batch', { batch_input: [{ plaintext: b64('a') }, { plaintext: '!' }], partial_failure_response_code: 207 });
    assert.equal(coded.status, 207);
    const allBad = await dev.api.post('transit/decrypt/batch', { batch_input: [{ ciphertext: 'x' }] });
    assert.equal(allBad.status, 400);
    assert.deepEqual(allBad.body.data.batch_results, [{ plaintext: '', error: 'invalid ciphertext: no prefix', reference: '' }]);
    await must(dev.api.post('transit/keys/batch/rotate', {}));
    const rewrap = await dev.api.post('transit/rewrap/batch', { batch_input: [{ ciphertext: 'x' }] });
    assert.equal(rewrap.status, 200, 'Vault answers rewrap batches with a 200 whatever their items did');
    assert.deepEqual(rewrap.body.data.batch_results, [{ error: 'invalid ciphertext: no prefix', reference: '' }]);
    const moved = await must(dev.api.post('transit/rewrap/batch', { ciphertext: enc.data.batch_results[0].ciphertext }));
    assert.equal(moved.data.key_version, 2);
    assert.equal((await must(dev.api.post('transit/decrypt/batch', { ciphertext: moved.data.ciphertext }))).data.plaintext, b64('a'));
    const upsert = await must(dev.api.post('transit/encrypt/upserted', { plaintext: b64('x'), type: 'chacha20-poly1305' }));
    assert.equal(upsert.data.key_version, 1);
    assert.equal((await must(dev.api.get('transit/keys/upserted'))).data.type, 'chacha20-poly1305');
  });

  it('sign/verify: single and batch shapes, key_version, and the verify path serving HMACs', async () => {
    await must(dev.api.post('transit/keys/signer', { type: 'ed25519', exportable: true }));
    await must(dev.api.post('transit/keys/signer/rotate', {}));
    const single = await must(dev.api.post('transit/sign/signer', { input: b64('m'), key_version: 1 }));
    assert.deepEqual(Object.keys(single.data), ['signature', 'key_version']);
    assert.equal(single.data.key_version, 1);
    assert.match(single.data.signature, /^vault:v1:/);
    const batch = await must(dev.api.post('transit/sign/signer', { batch_input: [{ input: b64('a'), reference: '1' }, { input: '!' }, {}] }));
    assert.deepEqual(batch.data.batch_results.slice(1), [
      { key_version: 0, error: 'unable to decode input as base64: illegal base64 data at input byte 0', reference: '' },
      { key_version: 0, error: 'missing input', reference: '' },
    ]);
    assert.deepEqual(Object.keys(batch.data.batch_results[0]), ['signature', 'key_version', 'reference']);
    const sig = batch.data.batch_results[0].signature;
    const checked = await must(dev.api.post('transit/verify/signer', {
      batch_input: [{ input: b64('a'), signature: sig, reference: 'ok' }, { input: b64('b'), signature: sig }, { input: b64('a'), signature: 'nope' }],
    }));
    assert.deepEqual(checked.data.batch_results, [
      { valid: true, reference: 'ok' },
      { valid: false, reference: '' },
      { valid: false, error: 'invalid signature: no prefix', reference: '' },
    ]);
    const derived = await must(dev.api.post('transit/keys/signer-derived', { type: 'ed25519', derived: true }));
    assert.equal(derived.data.derived, true);
    const withKeys = await must(dev.api.post('transit/sign/signer-derived', { batch_input: [{ input: b64('a'), context: b64('c1') }] }));
    assert.equal(Buffer.from(withKeys.data.batch_results[0].publickey, 'base64').length, 32);
    // HMACs through verify, in a batch.
    const mac = (await must(dev.api.post('transit/hmac/signer', { batch_input: [{ input: b64('a') }, { input: b64('b') }] }))).data.batch_results;
    assert.deepEqual(Object.keys(mac[0]), ['hmac', 'reference']);
    const macs = await must(dev.api.post('transit/verify/signer', { batch_input: [{ input: b64('a'), hmac: mac[0].hmac }, { input: b64('a'), hmac: mac[1].hmac }] }));
    assert.deepEqual(macs.data.batch_results, [{ valid: true, reference: '' }, { valid: false, reference: '' }]);
  });

  it('datakey, random (platform, seal, all) and hash', async () => {
    await must(dev.api.post('transit/keys/dk', {}));
    const wrapped = await must(dev.api.post('transit/datakey/wrapped/dk', { bits: 128 }));
    assert.deepEqual(Object.keys(wrapped.data), ['ciphertext', 'key_version']);
    const back = await must(dev.api.post('transit/decrypt/dk', { ciphertext: wrapped.data.ciphertext }));
    assert.equal(Buffer.from(back.data.plaintext, 'base64').length, 16);
    const platform = await must(dev.api.post('transit/random/24', { format: 'hex' }));
    assert.match(platform.data.random_bytes, /^[0-9a-f]{48}$/);
    assert.equal(platform.warnings, null);
    // This mount has no external_entropy_access (and the dev server no HSM): Vault's fallback warning.
    const seal = await must(dev.api.post('transit/random/seal/8'));
    assert.equal(Buffer.from(seal.data.random_bytes, 'base64').length, 8);
    assert.deepEqual(seal.warnings, ['no seal/entropy augmentation available, using platform entropy source']);
    const all = await must(dev.api.post('transit/random/all', { bytes: 12 }));
    assert.equal(Buffer.from(all.data.random_bytes, 'base64').length, 12);
    const sum = await must(dev.api.post('transit/hash/sha2-512', { input: b64('abc'), format: 'base64' }));
    assert.equal(sum.data.sum, createHash('sha512').update('abc').digest('base64'));
  });

  it('help and OpenAPI describe the new paths', async () => {
    for (const path of ['sign/k', 'export/signing-key/k', 'backup/k', 'restore', 'keys/k/trim', 'wrapping_key', 'keys/k/import', 'cache-config']) {
      const help = await must(dev.api.get(`transit/${path}?help=1`));
      assert.ok(help.help.length > 40, path);
    }
    const spec = (await must(dev.api.get('sys/internal/specs/openapi'))).paths;
    for (const p of ['/transit/sign/{name}', '/transit/verify/{name}', '/transit/export/{type}/{name}', '/transit/restore', '/transit/keys/{name}/import']) {
      assert.ok(Object.keys(spec).some((k) => k.startsWith(p)), p);
    }
  });

  it('ed25519 signatures made by Node with an exported key verify in Tresor after a restart-free rotate', async () => {
    await must(dev.api.post('transit/keys/ed-rot', { type: 'ed25519', exportable: true }));
    const signingKey = (await must(dev.api.get('transit/export/signing-key/ed-rot/1?format=pem'))).data.keys['1'];
    await must(dev.api.post('transit/keys/ed-rot/rotate', {}));
    const sig = sign(null, Buffer.from('m'), signingKey);
    assert.equal((await must(dev.api.post('transit/verify/ed-rot', { input: b64('m'), signature: `vault:v1:${b64(sig)}` }))).data.valid, true);
    assert.equal((await must(dev.api.post('transit/verify/ed-rot', { input: b64('m'), signature: `vault:v2:${b64(sig)}` }))).data.valid, false);
  });
});
