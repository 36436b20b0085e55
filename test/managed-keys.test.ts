/**
 * Managed keys (sys/managed-keys/pkcs11) on a real SoftHSM2 token, through a
 * real `tresor server -dev` child process with a `kms_library "pkcs11"`
 * stanza: registration that generates the key in the token, attributes read
 * back with pkcs11js directly, the PIN never in a response or the log, bad
 * inputs refused with nothing stored, allowed_managed_keys on mounts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pkcs11js from 'pkcs11js';
import { TestServer, type Api } from './helpers/server.ts';
import { createSoftHsmToken, type SoftHsmToken } from './helpers/softhsm.ts';
import { assertVaultError, managedKeyServerConfig, PIN, startManagedKeyServer, tokenObjects } from './helpers/managed-keys.ts';

describe('sys/managed-keys/pkcs11 on a SoftHSM2 token', () => {
  let token: SoftHsmToken;
  let server: TestServer;
  let api: Api;

  before(async () => {
    token = createSoftHsmToken({ label: 'mk-test', pin: PIN });
    server = await startManagedKeyServer(token);
    api = server.api;
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
    token?.cleanup();
  });

  const aes = (over: Record<string, unknown> = {}) => ({
    library: 'softhsm',
    token_label: 'mk-test',
    pin: PIN,
    key_label: 'mk-aes',
    mechanism: '0x1087',
    key_bits: '256',
    allow_generate_key: true,
    usages: 'encrypt,decrypt',
    ...over,
  });

  it('registers an AES key, generating it in the token sensitive and non-extractable; read never shows the PIN', async () => {
    // First a wrong PIN on the token nobody is logged in to: the token itself refuses it.
    const wrong = await api.post('sys/managed-keys/pkcs11/aes1', aes({ pin: '0000' }));
    assertVaultError(wrong, 400, /C_Login failed: CKR_PIN_INCORRECT \(0xA0\).*"pin"/);
    assert.equal(JSON.stringify(wrong.body).includes('0000'), false);
    assert.equal((await api.get('sys/managed-keys/pkcs11/aes1')).status, 404);
    const res = await api.post('sys/managed-keys/pkcs11/aes1', aes());
    assert.equal(res.status, 204, JSON.stringify(res.body));
    const objects = tokenObjects(token, 'mk-aes');
    assert.equal(objects.length, 1);
    assert.deepEqual(objects[0], { class: pkcs11js.CKO_SECRET_KEY, sensitive: true, extractable: false, token: true });

    const read = await api.get('sys/managed-keys/pkcs11/aes1');
    assert.equal(read.status, 200, JSON.stringify(read.body));
    const data = read.body.data;
    assert.equal(data.library, 'softhsm');
    assert.equal(data.key_label, 'mk-aes');
    assert.equal(data.mechanism, '0x1087');
    assert.equal(data.key_bits, '256');
    assert.deepEqual(data.usages, ['encrypt', 'decrypt']);
    assert.equal(typeof data.uuid, 'string');
    assert.equal('pin' in data, false);
    assert.equal(JSON.stringify(read.body).includes(PIN), false);

    // A second write finds the key instead of generating another.
    assert.equal((await api.post('sys/managed-keys/pkcs11/aes1', aes())).status, 204);
    assert.equal(tokenObjects(token, 'mk-aes').length, 1);
    assert.deepEqual((await api.list('sys/managed-keys/pkcs11')).body.data.keys, ['aes1']);
    assert.equal((await api.post('sys/managed-keys/pkcs11/aes1/test/sign', {})).status, 204);
  });

  it('registers ECDSA P-256 and RSA signing keys; test/sign signs and verifies in the token', async () => {
    const ec = await api.post('sys/managed-keys/pkcs11/ec1', aes({ key_label: 'mk-ec', mechanism: '0x1041', key_bits: undefined, curve: 'P256', usages: ['sign', 'verify'] }));
    assert.equal(ec.status, 204, JSON.stringify(ec.body));
    const rsa = await api.post('sys/managed-keys/pkcs11/rsa1', aes({ key_label: 'mk-rsa', mechanism: '0x0001', key_bits: '2048', usages: 'sign,verify' }));
    assert.equal(rsa.status, 204, JSON.stringify(rsa.body));
    for (const [label, n] of [['mk-ec', 2], ['mk-rsa', 2]] as const) {
      const objects = tokenObjects(token, label);
      assert.equal(objects.length, n, label);
      const priv = objects.find((o) => o.class === pkcs11js.CKO_PRIVATE_KEY)!;
      assert.deepEqual(priv, { class: pkcs11js.CKO_PRIVATE_KEY, sensitive: true, extractable: false, token: true });
    }
    for (const name of ['ec1', 'rsa1']) {
      const res = await api.post(`sys/managed-keys/pkcs11/${name}/test/sign`, {});
      assert.equal(res.status, 204, `${name}: ${JSON.stringify(res.body)}`);
    }
  });

  it('refuses bad input with a 4xx in Vault shape and stores nothing', async () => {
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['bad-lib', aes({ library: 'nosuch' }), /kms_library .*"nosuch"/],
      ['bad-pin', aes({ pin: undefined }), /"pin"/],
      ['bad-label', aes({ key_label: undefined }), /"key_label"/],
      ['bad-token', aes({ token_label: undefined }), /"slot" or "token_label"/],
      ['bad-mech', aes({ mechanism: '0x9999' }), /"mechanism"/],
      ['bad-bits', aes({ key_bits: '100' }), /"key_bits"/],
      ['bad-usage', aes({ usages: 'encrypt,fly' }), /"usages"/],
      ['no-gen', aes({ key_label: 'absent', allow_generate_key: false }), /no key found .*allow_generate_key/],
      // The token is logged in already (aes1), so SoftHSM would take any PIN: Tresor compares it.
      ['wrong-pin', aes({ pin: '0000' }), /"pin" does not match/],
      ['wrong-token', aes({ token_label: 'no-such-token' }), /CKR_TOKEN_NOT_PRESENT .*"token_label"/],
      ['wrong-slot', aes({ token_label: undefined, slot: '4242' }), /CKR_SLOT_ID_INVALID .*"slot"/],
    ];
    for (const [name, body, text] of cases) {
      const res = await api.post(`sys/managed-keys/pkcs11/${name}`, body);
      assertVaultError(res, 400, text);
      assert.equal(JSON.stringify(res.body).includes(PIN), false);
      assert.equal((await api.get(`sys/managed-keys/pkcs11/${name}`)).status, 404, name);
    }
    assert.equal(tokenObjects(token, 'absent').length, 0);
    // The failed logins did not finalize the library under the key already in use.
    assert.equal((await api.post('sys/managed-keys/pkcs11/aes1/test/sign', {})).status, 204);
    assertVaultError(await api.post('sys/managed-keys/awskms/x', aes()), 400, /unsupported managed key type/);
    // Vault's answer to a read of nothing: 404 with an empty errors list.
    const unknown = await api.get('sys/managed-keys/pkcs11/unknown');
    assert.equal(unknown.status, 404);
    assert.deepEqual(unknown.body, { errors: [] });
    assert.deepEqual((await api.list('sys/managed-keys/pkcs11')).body.data.keys.sort(), ['aes1', 'ec1', 'rsa1']);
  });

  it('needs sudo', async () => {
    await api.writePolicy('mk-no-sudo', 'path "sys/managed-keys/*" { capabilities = ["create", "read", "update", "list"] }');
    const child = await api.createToken({ policies: ['mk-no-sudo'] });
    assertVaultError(await api.get('sys/managed-keys/pkcs11/aes1', child.client_token), 403);
  });

  it('allowed_managed_keys is kept on the mount through enable and tune', async () => {
    assert.equal((await api.post('sys/mounts/t-allowed', { type: 'transit', config: { allowed_managed_keys: ['aes1'] } })).status, 204);
    assert.deepEqual((await api.get('sys/mounts/t-allowed/tune')).body.data.allowed_managed_keys, ['aes1']);
    assert.equal((await api.post('sys/mounts/t-allowed/tune', { allowed_managed_keys: 'aes1,ec1' })).status, 204);
    assert.deepEqual((await api.get('sys/mounts/t-allowed/tune')).body.data.allowed_managed_keys, ['aes1', 'ec1']);
  });

  it('deleting forgets the record (the token keeps its key)', async () => {
    assert.equal((await api.post('sys/managed-keys/pkcs11/gone', aes({ key_label: 'mk-gone' }))).status, 204);
    assert.equal((await api.delete('sys/managed-keys/pkcs11/gone')).status, 204);
    assert.equal((await api.get('sys/managed-keys/pkcs11/gone')).status, 404);
    assert.equal(tokenObjects(token, 'mk-gone').length, 1);
  });

  it('never writes the PIN to the log', () => {
    assert.equal(server.output.includes(PIN), false);
  });
});

describe('kms_library stanza errors at start-up', () => {
  it('a library that cannot be loaded stops the server, naming the stanza', async () => {
    let output = '';
    try {
      const server = await TestServer.start({ args: ['-dev'], config: managedKeyServerConfig('/nonexistent/libpkcs11.so') });
      await server.waitExit(20_000);
      output = server.output;
      server.cleanup();
    } catch (err) {
      output = (err as Error).message;
    }
    assert.match(output, /kms_library "pkcs11" \(name "softhsm"/);
    assert.match(output, /\/nonexistent\/libpkcs11\.so/);
  });

  it('two stanzas with one name are refused', async () => {
    let output = '';
    const doubled = managedKeyServerConfig() + 'kms_library "pkcs11" {\n  name = "SoftHSM"\n  library = "/x.so"\n}\n';
    try {
      const server = await TestServer.start({ args: ['-dev'], config: doubled });
      await server.waitExit(20_000);
      output = server.output;
      server.cleanup();
    } catch (err) {
      output = (err as Error).message;
    }
    assert.match(output, /kms_library "pkcs11": duplicate name "softhsm"/);
  });
});
