/**
 * Transit's declared paths over HTTP against a real -dev server: field
 * decoding (null, weak strings, wrong types), the unknown-field warning,
 * __proto__ keys, 405 on undeclared operations, and the encrypt path's
 * existence check deciding create (upsert) against update in the ACL.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TestServer, type Api } from './helpers/server.ts';

const b64 = (text: string) => Buffer.from(text).toString('base64');
const SECRET = 'card-4111-1111-1111-1111';

describe('transit declared fields over HTTP (-dev server)', () => {
  let server: TestServer;
  let api: Api;

  before(async () => {
    server = await TestServer.startDev();
    api = server.api;
    assert.equal((await api.post('sys/mounts/transit', { type: 'transit' })).status, 204);
    assert.equal((await api.post('transit/keys/app', {})).status, 200);
  });

  after(async () => {
    await server.stop();
  });

  const keyNames = async (): Promise<string[]> => {
    const res = await api.list('transit/keys');
    return res.status === 404 ? [] : res.body.data.keys;
  };

  it('null fields are "not given" and weak strings are decoded', async () => {
    const enc = await api.post('transit/encrypt/app', { plaintext: b64('x'), key_version: null, context: null, batch_input: null, type: null });
    assert.equal(enc.status, 200, JSON.stringify(enc.body));
    assert.match(enc.body.data.ciphertext, /^vault:v1:/);
    assert.equal(enc.body.warnings, null);
    const pinned = await api.post('transit/encrypt/app', { plaintext: b64('x'), key_version: '1' });
    assert.equal(pinned.status, 200, JSON.stringify(pinned.body));
    assert.equal(pinned.body.data.key_version, 1);
    const config = await api.post('transit/keys/app/config', { deletion_allowed: 'false', min_decryption_version: '1', auto_rotate_period: null });
    assert.equal(config.status, 200, JSON.stringify(config.body));
    assert.equal(config.body.data.deletion_allowed, false);
  });

  it('a wrongly typed field is a 400 in Vault\'s shape naming the field, and nothing is stored', async () => {
    const before = await keyNames();
    const bad = await api.post('transit/encrypt/upserted', { plaintext: b64(SECRET), key_version: 'newest' });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, { errors: ['key_version must be an integer'] });
    const obj = await api.post('transit/encrypt/upserted', { plaintext: { card: SECRET } });
    assert.deepEqual(obj.body, { errors: ['plaintext must be a string'] });
    assert.ok(!JSON.stringify(obj.body).includes(SECRET));
    assert.deepEqual(await keyNames(), before, 'encrypt created no key');
    const config = await api.post('transit/keys/app/config', { deletion_allowed: 'yes please' });
    assert.equal(config.status, 400);
    assert.deepEqual(config.body, { errors: ['deletion_allowed must be a boolean'] });
    assert.equal((await api.get('transit/keys/app')).body.data.deletion_allowed, false);
    assert.equal((await api.delete('transit/keys/app')).status, 400, 'deletion is still not allowed');
  });

  it('unknown fields get Vault\'s warning; __proto__ and constructor are just unknown keys', async () => {
    const res = await api.post('transit/encrypt/app', { plaintext: b64('x'), padding_scheme: 'oaep' });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.warnings, ['Endpoint ignored these unrecognized parameters: [padding_scheme]']);
    const raw = `{"plaintext":"${b64('y')}","__proto__":{"key_version":7},"constructor":{"prototype":{"admin":true}}}`;
    const proto = await api.post('transit/encrypt/app', raw);
    assert.equal(proto.status, 200, JSON.stringify(proto.body));
    assert.equal(proto.body.data.key_version, 1);
    // The HTTP layer's JSON parsing drops "__proto__"; "constructor" reaches the engine as an unknown field.
    assert.deepEqual(proto.body.warnings, ['Endpoint ignored these unrecognized parameters: [constructor]']);
    const dec = await api.post('transit/decrypt/app', { ciphertext: proto.body.data.ciphertext });
    assert.equal(dec.body.data.plaintext, b64('y'));
  });

  it('an operation a known path does not declare is a 405', async () => {
    const read = await api.get('transit/decrypt/app');
    assert.equal(read.status, 405);
    assert.deepEqual(read.body, { errors: ['unsupported operation'] });
    assert.equal((await api.delete('transit/encrypt/app')).status, 405);
    assert.equal((await api.get('transit/keys/app/rotate')).status, 405);
    assert.equal((await api.get('transit/nothing/here')).status, 404);
  });

  it('the encrypt existence check: "update" alone uses an existing key, creating one needs "create"', async () => {
    await api.writePolicy('transit-update-only', 'path "transit/encrypt/*" { capabilities = ["update"] }');
    await api.writePolicy('transit-create-only', 'path "transit/encrypt/*" { capabilities = ["create"] }');
    const updater = (await api.createToken({ policies: ['transit-update-only'] })).client_token;
    const creator = (await api.createToken({ policies: ['transit-create-only'] })).client_token;
    const body = { plaintext: b64('hello') };
    assert.equal((await api.post('transit/encrypt/app', body, updater)).status, 200);
    assert.equal((await api.post('transit/encrypt/brand-new', body, updater)).status, 403);
    assert.ok(!(await keyNames()).includes('brand-new'), 'a refused upsert creates nothing');
    assert.equal((await api.post('transit/encrypt/app', body, creator)).status, 403, 'the key exists: this is an update');
    const created = await api.post('transit/encrypt/brand-new', body, creator);
    assert.equal(created.status, 200, JSON.stringify(created.body));
    assert.ok((await keyNames()).includes('brand-new'));
  });
});
