import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { TresorError } from '../../core/errors.ts';
import { MemoryLogicalStorage, testRequest } from '../testing-storage.ts';
import type { LogicalResponse, LogicalStorage, Operation } from '../types.ts';
import { createTransitBackend } from './index.ts';
import { associatedDataFor } from './crypt.ts';
import type { KeyPolicy } from './key-policy.ts';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const CIPHERTEXT_FORMAT = /^vault:v(\d+):[A-Za-z0-9+/]+={0,2}$/;

/** A transit mount over in-memory storage whose random source counts its calls. */
function mount(memory = new MemoryLogicalStorage(), storage: LogicalStorage = memory) {
  const backend = createTransitBackend({});
  const random = { calls: 0, bytes: 0 };
  const call = async (operation: Operation, path: string, data: Record<string, unknown> = {}): Promise<LogicalResponse> => {
    const req = testRequest(storage, operation, path, data);
    req.randomBytes = async (n) => {
      random.calls += 1;
      random.bytes += n;
      return randomBytes(n);
    };
    const res = await backend.handle(req);
    assert.ok(res, `path ${path} should be handled`);
    return res;
  };
  return { backend, memory, storage, random, call, write: (path: string, data: Record<string, unknown> = {}) => call('update', path, data) };
}

async function rejects(promise: Promise<unknown>, status: number, message?: RegExp): Promise<TresorError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof TresorError, `expected a TresorError, got ${String(err)}`);
    assert.equal(err.status, status, err.message);
    if (message) assert.match(err.message, message);
    return err;
  }
  assert.fail(`expected a ${status} rejection`);
}

async function encryptText(m: ReturnType<typeof mount>, key: string, text: string, extra: Record<string, unknown> = {}) {
  const res = await m.write(`encrypt/${key}`, { plaintext: b64(text), ...extra });
  return res.data as { ciphertext: string; key_version: number };
}

async function decryptText(m: ReturnType<typeof mount>, key: string, ciphertext: string): Promise<string> {
  const res = await m.write(`decrypt/${key}`, { ciphertext });
  return Buffer.from(String(res.data?.plaintext), 'base64').toString('utf8');
}

describe('transit keys', () => {
  it('create makes an aes256-gcm96 key by default and read describes it without key material', async () => {
    const m = mount();
    const before = Math.floor(Date.now() / 1000);
    await m.write('keys/app');
    const info = (await m.call('read', 'keys/app')).data!;
    assert.equal(info.name, 'app');
    assert.equal(info.type, 'aes256-gcm96');
    assert.equal(info.latest_version, 1);
    assert.equal(info.min_decryption_version, 1);
    assert.equal(info.min_encryption_version, 0);
    assert.equal(info.deletion_allowed, false);
    assert.equal(info.exportable, false);
    assert.equal(info.supports_encryption, true);
    assert.equal(info.supports_decryption, true);
    assert.equal(info.supports_signing, false);
    assert.equal(info.auto_rotate_period, 0);
    const keys = info.keys as Record<string, number>;
    assert.deepEqual(Object.keys(keys), ['1']);
    assert.ok(keys['1'] >= before && keys['1'] <= Math.floor(Date.now() / 1000) + 1);
    assert.ok(!JSON.stringify(info).includes('hmac_key'));
    assert.deepEqual(m.memory.keys(), ['policy/app']);
  });

  it('create is idempotent: a second create keeps the existing key and its type', async () => {
    const m = mount();
    await m.write('keys/app', { type: 'chacha20-poly1305' });
    const { ciphertext } = await encryptText(m, 'app', 'still here');
    const again = await m.write('keys/app', { type: 'aes256-gcm96' });
    assert.equal(again.data?.type, 'chacha20-poly1305');
    assert.equal(await decryptText(m, 'app', ciphertext), 'still here');
  });

  it('create refuses unknown types and impossible options with Vault\'s texts and stores nothing', async () => {
    const m = mount();
    const storage = m.memory;
    await rejects(m.write('keys/app', { type: 'rsa-1024' }), 400, /^unknown key type rsa-1024$/);
    await rejects(m.write('keys/app', { convergent_encryption: true }), 400, /^convergent encryption requires derivation to be enabled$/);
    await rejects(m.write('keys/app', { type: 'ecdsa-p256', derived: 'true' }), 400, /^key derivation and convergent encryption not supported for keys of type ecdsa-p256$/);
    await rejects(m.write('keys/app', { type: 'ed25519', derived: true, convergent_encryption: true }), 400, /^convergent encryption not supported for keys of type ed25519$/);
    await rejects(m.write('keys/app', { auto_rotate_period: '10m' }), 400, /^auto rotate period must be 0 to disable or at least an hour$/);
    await rejects(m.write('keys/app', { key_size: 64 }), 400, /^key_size is not valid for algorithm aes256-gcm96$/);
    await rejects(m.write('keys/app', { type: 'hmac', key_size: 16 }), 400, /^invalid key_size 16$/);
    assert.deepEqual(storage.snapshot(), []);
    assert.equal(m.random.calls, 0);
  });

  it('a second create warns that the key already existed', async () => {
    const m = mount();
    assert.equal((await m.write('keys/app')).warnings, undefined);
    assert.deepEqual((await m.write('keys/app')).warnings, ['key app already existed']);
  });

  it('read of a missing key is 404 and list is 404 while there are no keys', async () => {
    const m = mount();
    await rejects(m.call('read', 'keys/nope'), 404);
    await rejects(m.call('list', 'keys/'), 404);
  });

  it('list returns key names sorted', async () => {
    const m = mount();
    await m.write('keys/zeta');
    await m.write('keys/alpha');
    await m.write('keys/mid.dle-1');
    assert.deepEqual((await m.call('list', 'keys/')).data, { keys: ['alpha', 'mid.dle-1', 'zeta'] });
    assert.deepEqual((await m.call('list', 'keys')).data, { keys: ['alpha', 'mid.dle-1', 'zeta'] });
  });

  it('delete is refused until deletion_allowed is set, then removes the key', async () => {
    const m = mount();
    const storage = m.memory;
    await m.write('keys/app');
    const before = storage.snapshot();
    await rejects(m.call('delete', 'keys/app'), 400, /deletion is not allowed/);
    assert.deepEqual(storage.snapshot(), before);
    const configured = await m.write('keys/app/config', { deletion_allowed: true });
    assert.equal(configured.data?.deletion_allowed, true);
    assert.equal((await m.call('delete', 'keys/app')).status, 204);
    await rejects(m.call('read', 'keys/app'), 404);
    await rejects(m.write('decrypt/app', { ciphertext: 'vault:v1:AAAA' }), 400, /encryption key not found/);
    assert.deepEqual(storage.snapshot(), []);
    await rejects(m.call('delete', 'keys/app'), 400, /not found/);
  });

  it('config and rotate on a missing key are 400 and store nothing', async () => {
    const m = mount();
    await rejects(m.write('keys/ghost/config', { deletion_allowed: true }), 400, /no existing key/);
    await rejects(m.write('keys/ghost/rotate'), 400, /not found/);
    assert.deepEqual(m.memory.snapshot(), []);
  });

  it('config validates version floors against the latest version', async () => {
    const m = mount();
    await m.write('keys/app');
    await m.write('keys/app/rotate');
    await m.write('keys/app/rotate');
    const before = m.memory.snapshot();
    await rejects(m.write('keys/app/config', { min_decryption_version: 4 }), 400, /^cannot set min decryption version of 4, latest key version is 3$/);
    await rejects(m.write('keys/app/config', { min_encryption_version: 4 }), 400, /^cannot set min encryption version of 4, latest key version is 3$/);
    await rejects(m.write('keys/app/config', { min_decryption_version: 3, min_encryption_version: 2 }), 400,
      /^cannot set min encryption\/decryption values; min encryption version of 2 must be greater than or equal to min decryption version of 3$/);
    await rejects(m.write('keys/app/config', { min_decryption_version: -1 }), 400, /^min decryption version cannot be negative$/);
    await rejects(m.write('keys/app/config', { auto_rotate_period: 60 }), 400, /at least an hour/);
    assert.deepEqual(m.memory.snapshot(), before);
    const ok = await m.write('keys/app/config', { min_decryption_version: '2', min_encryption_version: 3, auto_rotate_period: '24h' });
    assert.equal(ok.data?.min_decryption_version, 2);
    assert.equal(ok.data?.min_encryption_version, 3);
    assert.equal(ok.data?.auto_rotate_period, 86400);
    assert.deepEqual(Object.keys(ok.data?.keys as object), ['2', '3']);
  });

  it('concurrent rotations each add a distinct version', async () => {
    const m = mount();
    await m.write('keys/app');
    await Promise.all(Array.from({ length: 10 }, () => m.write('keys/app/rotate')));
    const info = (await m.call('read', 'keys/app')).data!;
    assert.equal(info.latest_version, 11);
    assert.equal(Object.keys(info.keys as object).length, 11);
  });

  it('unsupported operations on known paths are 405 and unknown paths are not handled', async () => {
    const m = mount();
    await rejects(m.call('read', 'keys/app/rotate'), 405);
    await rejects(m.call('delete', 'decrypt/app'), 405);
    await rejects(m.call('patch', 'keys/app'), 405);
    assert.equal(await m.backend.handle(testRequest(m.storage, 'read', 'nothing/here')), null);
    assert.equal(await m.backend.handle(testRequest(m.storage, 'update', 'keys/bad/name/x')), null);
  });
});

describe('transit encrypt and decrypt', () => {
  for (const type of ['aes256-gcm96', 'chacha20-poly1305']) {
    it(`round trips plaintext with a ${type} key`, async () => {
      const m = mount();
      await m.write('keys/app', { type });
      const { ciphertext, key_version } = await encryptText(m, 'app', 'the secret');
      assert.match(ciphertext, CIPHERTEXT_FORMAT);
      assert.equal(key_version, 1);
      assert.ok(!ciphertext.includes(b64('the secret')));
      assert.equal(await decryptText(m, 'app', ciphertext), 'the secret');
    });
  }

  it('encrypting the same plaintext twice gives different ciphertexts', async () => {
    const m = mount();
    const a = await encryptText(m, 'app', 'same');
    const b = await encryptText(m, 'app', 'same');
    assert.notEqual(a.ciphertext, b.ciphertext);
  });

  it('encrypt creates a missing key (upsert), with the requested type', async () => {
    const m = mount();
    const { ciphertext } = await encryptText(m, 'fresh', 'hello', { type: 'chacha20-poly1305' });
    const info = (await m.call('read', 'keys/fresh')).data!;
    assert.equal(info.type, 'chacha20-poly1305');
    assert.equal(await decryptText(m, 'fresh', ciphertext), 'hello');
  });

  it('encrypt of an empty plaintext round trips', async () => {
    const m = mount();
    const { ciphertext } = await encryptText(m, 'app', '');
    assert.equal(await decryptText(m, 'app', ciphertext), '');
  });

  it('encrypt rejects missing or non-base64 plaintext without creating the key', async () => {
    const m = mount();
    await rejects(m.write('encrypt/app', {}), 400, /missing plaintext/);
    await rejects(m.write('encrypt/app', { plaintext: 'not base64!' }), 400, /^illegal base64 data at input byte 3$/);
    await rejects(m.write('encrypt/app', { plaintext: 'YWJj' + 'Z' }), 400, /^illegal base64 data at input byte 4$/);
    await rejects(m.write('encrypt/app', { plaintext: 42 }), 400, /^illegal base64 data at input byte 0$/);
    await rejects(m.write('encrypt/app', { plaintext: b64('x'), type: 'ed25519' }), 400, /^unknown key type ed25519$/);
    await rejects(m.write('encrypt/app', { plaintext: b64('x'), type: 'ecdsa-p256' }), 400, /^key type ecdsa-p256 not supported for this operation$/);
    await rejects(m.write('encrypt/app', { plaintext: b64('x'), convergent_encryption: true }), 400, /so context is required/);
    assert.deepEqual(m.memory.snapshot(), []);
  });

  it('encrypt with a context creates a derived key; a plain key ignores a context, as Vault\'s does', async () => {
    const m = mount();
    const { ciphertext } = await encryptText(m, 'tenant', 'x', { context: b64('tenant-1') });
    assert.equal((await m.call('read', 'keys/tenant')).data?.derived, true);
    await rejects(m.write('decrypt/tenant', { ciphertext }), 400, /^missing 'context' for key derivation/);
    await rejects(m.write('decrypt/tenant', { ciphertext, context: b64('tenant-2') }), 400, /^cipher: message authentication failed$/);
    assert.equal((await m.write('decrypt/tenant', { ciphertext, context: b64('tenant-1') })).data?.plaintext, b64('x'));
    const plain = await encryptText(m, 'app', 'y');
    assert.equal((await m.write('decrypt/app', { ciphertext: plain.ciphertext, context: b64('ignored') })).data?.plaintext, b64('y'));
  });

  it('decrypt of an unknown key is 400', async () => {
    const m = mount();
    await rejects(m.write('decrypt/nope', { ciphertext: 'vault:v1:AAAA' }), 400, /encryption key not found/);
    assert.deepEqual(m.memory.snapshot(), []);
  });

  it('decrypt rejects malformed ciphertexts with a 400 that names the problem', async () => {
    const m = mount();
    const { ciphertext } = await encryptText(m, 'app', 'x');
    const body = ciphertext.slice('vault:v1:'.length);
    await rejects(m.write('decrypt/app', {}), 400, /missing ciphertext/);
    await rejects(m.write('decrypt/app', { ciphertext: body }), 400, /^invalid ciphertext: no prefix$/);
    await rejects(m.write('decrypt/app', { ciphertext: `vault:${body}` }), 400, /^invalid ciphertext: no prefix$/);
    await rejects(m.write('decrypt/app', { ciphertext: `vault:v1${body}` }), 400, /^invalid ciphertext: wrong number of fields$/);
    await rejects(m.write('decrypt/app', { ciphertext: `vault:vX:${body}` }), 400, /^invalid ciphertext: version number could not be decoded$/);
    // Vault reads version 0 as 1 (its first keys were numbered from 0).
    assert.equal((await m.write('decrypt/app', { ciphertext: `vault:v0:${body}` })).data?.plaintext, b64('x'));
    await rejects(m.write('decrypt/app', { ciphertext: 'vault:v1:***' }), 400, /^invalid ciphertext: could not decode base64$/);
    await rejects(m.write('decrypt/app', { ciphertext: `vault:v9:${body}` }), 400, /^invalid ciphertext: version is too new$/);
    await rejects(m.write('decrypt/app', { ciphertext: 'vault:v1:AAAA' }), 400, /^invalid ciphertext length$/);
    await rejects(m.write('decrypt/app', { ciphertext: `vault:v1:${Buffer.alloc(20).toString('base64')}` }), 400, /^cipher: message authentication failed$/);
  });

  it('decrypt rejects a tampered ciphertext and one from another key with the same message (Vault\'s)', async () => {
    const m = mount();
    const { ciphertext } = await encryptText(m, 'app', 'integrity matters');
    const sealed = Buffer.from(ciphertext.slice('vault:v1:'.length), 'base64');
    for (const index of [0, 12, sealed.length - 1]) {
      const tampered = Buffer.from(sealed);
      tampered[index] ^= 0x01;
      const err = await rejects(m.write('decrypt/app', { ciphertext: `vault:v1:${tampered.toString('base64')}` }), 400);
      assert.equal(err.message, 'cipher: message authentication failed');
    }
    const other = await encryptText(m, 'other', 'integrity matters');
    const err = await rejects(m.write('decrypt/app', { ciphertext: other.ciphertext }), 400);
    assert.equal(err.message, 'cipher: message authentication failed');
  });

  it('the encrypt path\'s existence check tells create (no key yet) from update; it takes no read', async () => {
    const m = mount();
    const probe = () => m.backend.existenceCheck(testRequest(m.storage, 'update', 'encrypt/app', { plaintext: b64('x') }));
    assert.equal(await probe(), false);
    await m.write('keys/app');
    assert.equal(await probe(), true);
    await rejects(m.call('read', 'encrypt/app'), 405);
    // Key paths have no existence check (as in Vault): every write there is an update.
    assert.equal(await m.backend.existenceCheck(testRequest(m.storage, 'update', 'keys/other')), undefined);
  });

  it('a new engine instance over the same storage decrypts earlier ciphertexts', async () => {
    const storage = new MemoryLogicalStorage();
    const first = mount(storage);
    const { ciphertext } = await encryptText(first, 'app', 'durable');
    await first.write('keys/app/rotate');
    const second = mount(storage);
    assert.equal(await decryptText(second, 'app', ciphertext), 'durable');
    assert.equal((await encryptText(second, 'app', 'y')).key_version, 2);
  });
});

describe('transit batch', () => {
  it('batch encrypt and decrypt keep item order and echo references', async () => {
    const m = mount();
    const texts = Array.from({ length: 50 }, (_, i) => `item ${i}`);
    const enc = await m.write('encrypt/app', { batch_input: texts.map((t, i) => ({ plaintext: b64(t), reference: `r${i}` })) });
    assert.equal(enc.status, undefined);
    const encResults = enc.data?.batch_results as Array<{ ciphertext: string; key_version: number; reference: string }>;
    assert.equal(encResults.length, 50);
    encResults.forEach((r, i) => {
      assert.match(r.ciphertext, CIPHERTEXT_FORMAT);
      assert.equal(r.key_version, 1);
      assert.equal(r.reference, `r${i}`);
    });
    const dec = await m.write('decrypt/app', { batch_input: encResults.map((r) => ({ ciphertext: r.ciphertext })) });
    const plain = (dec.data?.batch_results as Array<{ plaintext: string }>).map((r) => Buffer.from(r.plaintext, 'base64').toString());
    assert.deepEqual(plain, texts);
  });

  it('a batch reports failed items in place; all failing is a 400, partial failure a 200 or the requested code', async () => {
    const m = mount();
    const partial = await m.write('encrypt/app', { batch_input: [{ plaintext: b64('ok') }, { plaintext: '%%' }, { reference: 'x' }] });
    assert.equal(partial.status ?? 200, 200);
    const results = partial.data?.batch_results as Array<Record<string, unknown>>;
    assert.ok(typeof results[0].ciphertext === 'string');
    assert.match(String(results[1].error), /base64/);
    assert.deepEqual(results[2], { error: 'missing plaintext to encrypt', reference: 'x' });
    const coded = await m.write('encrypt/app', { batch_input: [{ plaintext: b64('ok') }, {}], partial_failure_response_code: 207 });
    assert.equal(coded.status, 207);
    const allBad = await m.write('decrypt/app', { batch_input: [{ ciphertext: 'nope' }, { ciphertext: 'vault:v1:AAAA' }] });
    assert.equal(allBad.status, 400);
    assert.equal((allBad.data?.batch_results as unknown[]).length, 2);
  });

  it('batch_input must be a non-empty array of objects', async () => {
    const m = mount();
    await rejects(m.write('encrypt/app', { batch_input: [] }), 400, /^missing batch input to process$/);
    await rejects(m.write('encrypt/app', { batch_input: ['x'] }), 400, /^failed to parse batch input: \[0\] expected a map, got 'string'$/);
    await rejects(m.write('decrypt/app', { batch_input: {} }), 400, /^failed to parse batch input: source data must be an array or slice/);
    await rejects(m.write('encrypt/app', { batch_input: [{ plaintext: b64('x'), context: b64('c') }, { plaintext: b64('y') }] }), 400,
      /^context should be set either in all the request blocks or in none$/);
    assert.deepEqual(m.memory.snapshot(), []);
    const coded = await m.write('encrypt/app', { batch_input: [{ plaintext: b64('x') }, {}], partial_failure_response_code: 42 });
    assert.equal(coded.status, undefined);
    assert.deepEqual(coded.warnings, ['invalid HTTP response code override from partial_failure_response_code, reverting to 200']);
  });

  it('encrypt and decrypt batches are served from the key cache without storage reads', async () => {
    const inner = new MemoryLogicalStorage();
    let reads = 0;
    const counting: LogicalStorage = {
      get: (key) => { reads += 1; return inner.get(key); },
      put: (key, value) => inner.put(key, value),
      delete: (key) => inner.delete(key),
      list: (prefix) => inner.list(prefix),
    };
    const m = mount(inner, counting);
    await m.write('keys/app');
    reads = 0;
    const batch = Array.from({ length: 200 }, () => ({ plaintext: b64('payload') }));
    const enc = await m.write('encrypt/app', { batch_input: batch });
    const results = enc.data?.batch_results as Array<{ ciphertext: string }>;
    await m.write('decrypt/app', { batch_input: results.map((r) => ({ ciphertext: r.ciphertext })) });
    assert.equal(reads, 0);
  });
});

describe('transit rotation and version floors', () => {
  it('after rotate, old ciphertexts still decrypt and new ones use v2', async () => {
    const m = mount();
    const v1 = await encryptText(m, 'app', 'old');
    const rotated = await m.write('keys/app/rotate');
    assert.equal(rotated.data?.latest_version, 2);
    const v2 = await encryptText(m, 'app', 'new');
    assert.equal(v2.key_version, 2);
    assert.match(v2.ciphertext, /^vault:v2:/);
    assert.equal(await decryptText(m, 'app', v1.ciphertext), 'old');
    assert.equal(await decryptText(m, 'app', v2.ciphertext), 'new');
    const pinned = await encryptText(m, 'app', 'pinned', { key_version: 1 });
    assert.match(pinned.ciphertext, /^vault:v1:/);
    await rejects(m.write('encrypt/app', { plaintext: b64('x'), key_version: 3 }), 400, /higher than the latest/);
  });

  it('min_decryption_version makes older ciphertexts undecryptable and older versions unusable', async () => {
    const m = mount();
    const v1 = await encryptText(m, 'app', 'old');
    await m.write('keys/app/rotate');
    await m.write('keys/app/config', { min_decryption_version: 2 });
    await rejects(m.write('decrypt/app', { ciphertext: v1.ciphertext }), 400, /too old/);
    await rejects(m.write('encrypt/app', { plaintext: b64('x'), key_version: 1 }), 400, /^no such key version$/);
    await m.write('keys/app/config', { min_decryption_version: 1 });
    assert.equal(await decryptText(m, 'app', v1.ciphertext), 'old');
  });

  it('min_encryption_version pins the oldest version encrypt may use', async () => {
    const m = mount();
    await m.write('keys/app');
    await m.write('keys/app/rotate');
    await m.write('keys/app/config', { min_encryption_version: 2 });
    await rejects(m.write('encrypt/app', { plaintext: b64('x'), key_version: 1 }), 400, /^requested version for encryption is less than the minimum encryption key version$/);
    assert.equal((await encryptText(m, 'app', 'x')).key_version, 2);
  });

  it('the periodic hook rotates a key whose auto_rotate_period has passed, once, from its stored schedule', async () => {
    const storage = new MemoryLogicalStorage();
    const m = mount(storage);
    await m.write('keys/app', { auto_rotate_period: '1h' });
    await m.write('keys/other');
    const periodic = (backend: ReturnType<typeof mount>['backend']) => backend.periodic!({ storage, randomBytes: async (n) => randomBytes(n) });
    await periodic(m.backend);
    assert.equal((await m.call('read', 'keys/app')).data?.latest_version, 1);
    // Age version 1 by two hours in storage, then let a fresh engine (a restart) run its check.
    const stored = JSON.parse((await storage.get('policy/app'))!.toString());
    stored.keys['1'].time = new Date(Date.now() - 7200_000).toISOString();
    await storage.put('policy/app', Buffer.from(JSON.stringify(stored)));
    const fresh = mount(storage);
    await periodic(fresh.backend);
    await periodic(fresh.backend);
    assert.equal((await fresh.call('read', 'keys/app')).data?.latest_version, 2);
    assert.equal((await fresh.call('read', 'keys/other')).data?.latest_version, 1);
  });
});

describe('transit rewrap and datakey', () => {
  it('rewrap moves a ciphertext to the latest version without changing its plaintext', async () => {
    const m = mount();
    const v1 = await encryptText(m, 'app', 'carry me');
    await m.write('keys/app/rotate');
    const res = await m.write('rewrap/app', { ciphertext: v1.ciphertext });
    assert.equal(res.data?.key_version, 2);
    assert.match(String(res.data?.ciphertext), /^vault:v2:/);
    assert.equal(await decryptText(m, 'app', String(res.data?.ciphertext)), 'carry me');
    const batch = await m.write('rewrap/app', { batch_input: [{ ciphertext: v1.ciphertext }, { ciphertext: 'bad' }] });
    const results = batch.data?.batch_results as Array<Record<string, unknown>>;
    assert.match(String(results[0].ciphertext), /^vault:v2:/);
    assert.match(String(results[1].error), /prefix/);
  });

  it('rewrap of an unknown key is 400 and creates nothing', async () => {
    const m = mount();
    await rejects(m.write('rewrap/ghost', { ciphertext: 'vault:v1:AAAA' }), 400, /encryption key not found/);
    assert.deepEqual(m.memory.snapshot(), []);
  });

  it('datakey/plaintext returns a 256-bit key and a ciphertext that decrypts to it', async () => {
    const m = mount();
    await m.write('keys/app');
    const res = await m.write('datakey/plaintext/app');
    const plaintext = String(res.data?.plaintext);
    assert.equal(Buffer.from(plaintext, 'base64').length, 32);
    assert.equal(res.data?.key_version, 1);
    const back = await m.write('decrypt/app', { ciphertext: res.data?.ciphertext });
    assert.equal(back.data?.plaintext, plaintext);
  });

  it('datakey/wrapped omits the plaintext and honours bits', async () => {
    const m = mount();
    await m.write('keys/app');
    const res = await m.write('datakey/wrapped/app', { bits: 512 });
    assert.equal(res.data?.plaintext, undefined);
    const back = await m.write('decrypt/app', { ciphertext: res.data?.ciphertext });
    assert.equal(Buffer.from(String(back.data?.plaintext), 'base64').length, 64);
  });

  it('datakey rejects bad bits, context and unknown keys', async () => {
    const m = mount();
    await rejects(m.write('datakey/plaintext/ghost'), 400, /encryption key not found/);
    await m.write('keys/app');
    await rejects(m.write('datakey/plaintext/app', { bits: 100 }), 400, /^invalid bit length$/);
    await rejects(m.write('datakey/plaintext/app', { context: '!!' }), 400, /^failed to base64-decode context$/);
    assert.equal(await m.backend.handle(testRequest(m.storage, 'update', 'datakey/other/app')), null);
  });
});

describe('transit entropy source', () => {
  it('key creation, upsert, rotation and data keys draw from req.randomBytes; encrypt of an existing key does not', async () => {
    const m = mount();
    await m.write('keys/app');
    assert.equal(m.random.calls, 1);
    assert.equal(m.random.bytes, 64);
    await m.write('keys/app/rotate');
    assert.equal(m.random.calls, 2);
    await encryptText(m, 'app', 'x');
    await m.write('encrypt/app', { batch_input: [{ plaintext: b64('a') }, { plaintext: b64('b') }] });
    assert.equal(m.random.calls, 2);
    await encryptText(m, 'upserted', 'x');
    assert.equal(m.random.calls, 3);
    await m.write('datakey/wrapped/app');
    assert.equal(m.random.calls, 4);
    await m.write('random/seal/16');
    assert.equal(m.random.calls, 5);
    assert.equal(m.random.bytes, 64 * 3 + 32 + 16);
    // "platform" is the OS generator, as in Vault.
    await m.write('random/16');
    assert.equal(m.random.calls, 5);
  });

  it('the key material differs between versions', async () => {
    const m = mount();
    const v1 = await encryptText(m, 'app', 'x');
    await m.write('keys/app/rotate');
    // Re-label a v1 ciphertext as v2: with distinct keys it must not authenticate.
    const relabelled = v1.ciphertext.replace(/^vault:v1:/, 'vault:v2:');
    await rejects(m.write('decrypt/app', { ciphertext: relabelled }), 400, /message authentication failed/);
  });
});

describe('transit random and hash', () => {
  it('random returns 32 base64 bytes by default and honours path bytes, source and hex format', async () => {
    const m = mount();
    const plain = await m.write('random');
    assert.equal(Buffer.from(String(plain.data?.random_bytes), 'base64').length, 32);
    const sized = await m.write('random/48', { format: 'hex' });
    assert.match(String(sized.data?.random_bytes), /^[0-9a-f]{96}$/);
    const seal = await m.write('random/seal/8');
    assert.equal(Buffer.from(String(seal.data?.random_bytes), 'base64').length, 8);
    const all = await m.write('random/all', { bytes: 4 });
    assert.equal(Buffer.from(String(all.data?.random_bytes), 'base64').length, 4);
  });

  it('random rejects bad sizes, sources and formats', async () => {
    const m = mount();
    await rejects(m.write('random/0'), 400, /^"bytes" cannot be less than 1$/);
    await rejects(m.write('random/abc'), 400, /^error parsing url-set byte count: strconv.Atoi: parsing "abc": invalid syntax$/);
    await rejects(m.write('random', { bytes: 200000 }), 400, /^"bytes" should be less than 131072$/);
    await rejects(m.write('random/hsm/8'), 400, /^unsupported entropy source "hsm"; must be "platform" or "seal", or "all"$/);
    await rejects(m.write('random', { format: 'base32' }), 400, /^unsupported encoding format "base32"; must be "hex" or "base64"$/);
    assert.equal(m.random.calls, 0);
  });

  it('hash computes SHA-2 and SHA-3 sums of the base64 input', async () => {
    const m = mount();
    const input = b64('hello');
    const sha256 = await m.write('hash', { input });
    assert.equal(sha256.data?.sum, createHash('sha256').update('hello').digest('hex'));
    const sha3 = await m.write('hash/sha3-512', { input, format: 'base64' });
    assert.equal(sha3.data?.sum, createHash('sha3-512').update('hello').digest('base64'));
    await rejects(m.write('hash/md5', { input }), 400, /^unsupported algorithm md5$/);
    await rejects(m.write('hash/constructor', { input }), 400, /^unsupported algorithm constructor$/);
    await rejects(m.write('hash', {}), 400, /^input missing$/);
    await rejects(m.write('hash', { input: '%' }), 400, /^unable to decode input as base64: illegal base64 data at input byte 0$/);
  });
});

describe('transit hmac', () => {
  it('hmac uses a per-version key separate from the encryption key, and verify accepts it', async () => {
    const m = mount();
    await m.write('keys/app');
    const input = b64('message');
    const res = await m.write('hmac/app', { input });
    const hmac = String(res.data?.hmac);
    assert.match(hmac, /^vault:v1:/);
    assert.equal(Buffer.from(hmac.slice('vault:v1:'.length), 'base64').length, 32);
    const stored = JSON.parse((await m.memory.get('policy/app'))!.toString());
    const expected = createHmac('sha256', Buffer.from(stored.keys['1'].hmac_key, 'base64')).update('message').digest('base64');
    assert.equal(hmac, `vault:v1:${expected}`);
    const notWithCipherKey = createHmac('sha256', Buffer.from(stored.keys['1'].key, 'base64')).update('message').digest('base64');
    assert.notEqual(expected, notWithCipherKey);
    assert.equal((await m.write('verify/app', { input, hmac })).data?.valid, true);
    assert.equal((await m.write('verify/app', { input: b64('other'), hmac })).data?.valid, false);
    assert.equal((await m.write('verify/app/sha2-512', { input, hmac })).data?.valid, false);
  });

  it('hmac honours the path algorithm, batches, and rotation; old HMACs verify until the floor moves', async () => {
    const m = mount();
    await m.write('keys/app');
    const input = b64('m');
    const v1 = String((await m.write('hmac/app/sha2-512', { input })).data?.hmac);
    assert.equal(Buffer.from(v1.slice('vault:v1:'.length), 'base64').length, 64);
    await m.write('keys/app/rotate');
    const batch = await m.write('hmac/app', { batch_input: [{ input }, { input: '!!' }] });
    const results = batch.data?.batch_results as Array<Record<string, unknown>>;
    assert.match(String(results[0].hmac), /^vault:v2:/);
    assert.match(String(results[1].error), /base64/);
    assert.equal((await m.write('verify/app/sha2-512', { input, hmac: v1 })).data?.valid, true);
    await m.write('keys/app/config', { min_decryption_version: 2 });
    await rejects(m.write('verify/app/sha2-512', { input, hmac: v1 }), 400, /too old/);
  });

  it('hmac and verify reject unknown keys, algorithms and malformed HMACs', async () => {
    const m = mount();
    await rejects(m.write('hmac/ghost', { input: b64('x') }), 400, /encryption key not found/);
    assert.deepEqual(m.memory.snapshot(), []);
    await m.write('keys/app');
    await rejects(m.write('hmac/app/md5', { input: b64('x') }), 400, /^unsupported algorithm "md5"$/);
    await rejects(m.write('hmac/app', {}), 400, /^missing input for HMAC$/);
    await rejects(m.write('verify/app', { input: b64('x') }), 400, /^neither a 'signature' nor an 'hmac' were given to verify$/);
    await rejects(m.write('verify/app', { input: b64('x'), hmac: 'abc' }), 400, /^invalid HMAC to verify: no prefix$/);
    await rejects(m.write('verify/app', { input: b64('x'), hmac: 'vault:v7:AAAA' }), 400, /^invalid HMAC: version is too new$/);
  });
});

describe('transit associated_data', () => {
  const aad = (text: string) => Buffer.from(text).toString('base64');

  for (const type of ['aes256-gcm96', 'chacha20-poly1305']) {
    it(`${type}: a ciphertext decrypts only with the associated data it was encrypted with`, async () => {
      const m = mount();
      await m.write('keys/app', { type });
      const { data } = await m.write('encrypt/app', { plaintext: b64('tenant secret'), associated_data: aad('tenantA') });
      const ciphertext = data!.ciphertext as string;
      const failure = type === 'aes256-gcm96' ? 'cipher: message authentication failed' : 'chacha20poly1305: message authentication failed';
      for (const other of [{ associated_data: aad('tenantB') }, {}, { associated_data: '' }]) {
        const err = await rejects(m.write('decrypt/app', { ciphertext, ...other }), 400);
        assert.equal(err.message, failure);
      }
      const ok = await m.write('decrypt/app', { ciphertext, associated_data: aad('tenantA') });
      assert.equal(ok.data?.plaintext, b64('tenant secret'));
      // And the other way round: a ciphertext without associated data refuses one given at decrypt.
      const plain = (await m.write('encrypt/app', { plaintext: b64('x') })).data!.ciphertext;
      await rejects(m.write('decrypt/app', { ciphertext: plain, associated_data: aad('tenantA') }), 400, /message authentication failed/);
    });
  }

  it('a malformed associated_data is a 400 naming the field, and an upsert creates no key', async () => {
    const m = mount();
    await rejects(m.write('encrypt/new', { plaintext: b64('x'), associated_data: 'not base64!' }), 400,
      /^unable to get associated_data\/additional_data from factory\[0\]: illegal base64 data at input byte 3$/);
    await rejects(m.write('encrypt/new', { plaintext: b64('x'), associated_data: 42 }), 400, /associated_data/);
    assert.deepEqual(m.memory.snapshot(), []);
  });

  it('batch items each bind their own associated_data; a mismatch fails only its item', async () => {
    const m = mount();
    const enc = await m.write('encrypt/app', {
      batch_input: [
        { plaintext: b64('a'), associated_data: aad('A'), reference: 'a' },
        { plaintext: b64('b'), associated_data: aad('B'), reference: 'b' },
        { plaintext: b64('c'), reference: 'c' },
      ],
    });
    const [a, b, c] = (enc.data!.batch_results as { ciphertext: string }[]).map((r) => r.ciphertext);
    const dec = await m.write('decrypt/app', {
      batch_input: [
        { ciphertext: a, associated_data: aad('A') },
        { ciphertext: b, associated_data: aad('A') },
        { ciphertext: c },
        { ciphertext: a },
      ],
    });
    assert.equal(dec.status ?? 200, 200, 'a partial failure is a 200');
    assert.deepEqual(dec.data!.batch_results, [
      { plaintext: b64('a'), reference: '' },
      { plaintext: '', error: 'cipher: message authentication failed', reference: '' },
      { plaintext: b64('c'), reference: '' },
      { plaintext: '', error: 'cipher: message authentication failed', reference: '' },
    ]);
    // The envelope's own associated_data does not apply to the items.
    const envelope = await m.write('decrypt/app', { associated_data: aad('A'), batch_input: [{ ciphertext: a }] });
    assert.equal(envelope.status, 400);
  });

  it('datakey binds associated_data; rewrap refuses it rather than ignore it', async () => {
    const m = mount();
    await m.write('keys/app');
    const key = await m.write('datakey/plaintext/app', { associated_data: aad('ctx') });
    await rejects(m.write('decrypt/app', { ciphertext: key.data!.ciphertext }), 400, /message authentication failed/);
    const ok = await m.write('decrypt/app', { ciphertext: key.data!.ciphertext, associated_data: aad('ctx') });
    assert.equal(ok.data?.plaintext, key.data!.plaintext);
    await rejects(m.write('rewrap/app', { ciphertext: key.data!.ciphertext, associated_data: aad('ctx') }), 400, /associated_data is not supported by rewrap/);
  });

  it('a key type that cannot bind associated data refuses it with Vault\'s message', () => {
    const policy = { type: 'rsa-2048' } as unknown as KeyPolicy;
    assert.throws(() => associatedDataFor(policy, aad('x'), '[0].associated_data'), /^TresorError: '\[0\]\.associated_data' provided for non-AEAD cipher suite rsa-2048$/);
    assert.equal(associatedDataFor(policy, undefined, 'associated_data'), undefined);
  });
});
