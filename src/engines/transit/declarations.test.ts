/**
 * Transit's declared paths through the backend's `handle`: the framework
 * decodes every declared field (JSON null = absent, weak "3"/"true"
 * strings, wrong types refused naming the field), warns about undeclared
 * ones, and answers 405 on operations a known path does not declare.
 * Batch items are decoded with the same schemas, one error per item.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TresorError } from '../../core/errors.ts';
import { MemoryLogicalStorage, testRequest } from '../testing-storage.ts';
import type { LogicalResponse, Operation } from '../types.ts';
import { FieldData, type FieldSchemas } from '../../framework/index.ts';
import { ItemSchema } from './batch.ts';
import { createTransitBackend } from './index.ts';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const SECRET = 's3cr3t-value-never-echoed';
const ignored = (...names: string[]) => `Endpoint ignored these unrecognized parameters: [${names.join(' ')}]`;

function mount() {
  const memory = new MemoryLogicalStorage();
  const backend = createTransitBackend({});
  const call = async (operation: Operation, path: string, data: Record<string, unknown> = {}): Promise<LogicalResponse> => {
    const res = await backend.handle(testRequest(memory, operation, path, data));
    assert.ok(res, `path ${path} should be handled`);
    return res;
  };
  return { backend, memory, call, write: (path: string, data: Record<string, unknown> = {}) => call('update', path, data) };
}

async function refused(promise: Promise<unknown>, status: number, message: string | RegExp): Promise<TresorError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof TresorError, `expected a TresorError, got ${String(err)}`);
    assert.equal(err.status, status, err.message);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    assert.ok(!err.message.includes(SECRET), 'the error must not echo the value');
    return err;
  }
  assert.fail(`expected a ${status} rejection`);
}

describe('transit declared fields: JSON null is "not given"', () => {
  it('encrypt, keys and config take every field as null (hvac sends its unset arguments so)', async () => {
    const m = mount();
    const created = await m.write('keys/app', {
      type: null, derived: null, convergent_encryption: null, exportable: null, allow_plaintext_backup: null,
      auto_rotate_period: null, key_size: null,
    });
    assert.equal(created.data?.type, 'aes256-gcm96');
    assert.equal(created.warnings, undefined);
    const enc = await m.write('encrypt/app', {
      plaintext: b64('x'), context: null, nonce: null, key_version: null, associated_data: null, type: null,
      convergent_encryption: null, batch_input: null, partial_failure_response_code: null,
    });
    assert.match(String(enc.data?.ciphertext), /^vault:v1:/);
    assert.equal(enc.warnings, undefined);
    const dec = await m.write('decrypt/app', { ciphertext: enc.data?.ciphertext, context: null, associated_data: null, batch_input: null });
    assert.equal(dec.data?.plaintext, b64('x'));
    const before = m.memory.snapshot();
    const configured = await m.write('keys/app/config', { min_decryption_version: null, deletion_allowed: null, auto_rotate_period: null });
    assert.equal(configured.data?.deletion_allowed, false);
    assert.deepEqual(m.memory.snapshot(), before, 'a config of nulls changes nothing');
  });

  it('batch items take null fields as absent too', async () => {
    const m = mount();
    const enc = await m.write('encrypt/app', {
      batch_input: [{ plaintext: b64('a'), key_version: null, associated_data: null, context: null, reference: null }],
    });
    const [item] = enc.data?.batch_results as Array<Record<string, unknown>>;
    assert.match(String(item.ciphertext), /^vault:v1:/);
    assert.equal(item.reference, '', 'Vault writes an empty reference for an item without one');
  });
});

describe('transit declared fields: weak decoding of strings', () => {
  it('"1", "true", "128" and "3600" are taken for int, bool and duration fields', async () => {
    const m = mount();
    await m.write('keys/app', { auto_rotate_period: '3600' });
    await m.write('keys/app/rotate');
    const pinned = await m.write('encrypt/app', { plaintext: b64('x'), key_version: '1' });
    assert.equal(pinned.data?.key_version, 1);
    const config = await m.write('keys/app/config', { deletion_allowed: 'true', min_decryption_version: '2' });
    assert.equal(config.data?.deletion_allowed, true);
    assert.equal(config.data?.min_decryption_version, 2);
    assert.equal(config.data?.auto_rotate_period, 3600);
    const key = await m.write('datakey/plaintext/app', { bits: '128' });
    assert.equal(Buffer.from(String(key.data?.plaintext), 'base64').length, 16);
    const random = await m.write('random', { bytes: '8', format: 'hex' });
    assert.match(String(random.data?.random_bytes), /^[0-9a-f]{16}$/);
  });

  it('batch items are decoded weakly too, and partial_failure_response_code takes "207"', async () => {
    const m = mount();
    await m.write('keys/app');
    await m.write('keys/app/rotate');
    const res = await m.write('encrypt/app', {
      batch_input: [{ plaintext: b64('a'), key_version: '1', reference: 7 }, { plaintext: 'not base64!' }],
      partial_failure_response_code: '207',
    });
    assert.equal(res.status, 207);
    const [first, second] = res.data?.batch_results as Array<Record<string, unknown>>;
    assert.equal(first.key_version, 1);
    assert.equal(first.reference, '7', 'a reference is a string, as in Vault');
    assert.equal(second.error, 'illegal base64 data at input byte 3');
  });
});

describe('transit declared fields: wrong types are a 400 naming the field', () => {
  it('encrypt refuses a non-integer key_version and an object plaintext before creating the key', async () => {
    const m = mount();
    await refused(m.write('encrypt/new', { plaintext: b64(SECRET), key_version: 'latest' }), 400, 'key_version must be an integer');
    await refused(m.write('encrypt/new', { plaintext: { value: SECRET } }), 400, 'plaintext must be a string');
    await refused(m.write('encrypt/new', { plaintext: b64('x'), convergent_encryption: 'maybe' }), 400, 'convergent_encryption must be a boolean');
    await refused(m.write('encrypt/new', { plaintext: b64('x'), partial_failure_response_code: 'x' }), 400, 'partial_failure_response_code must be an integer');
    assert.deepEqual(m.memory.snapshot(), []);
  });

  it('keys and config refuse wrong types and leave the stored key as it was', async () => {
    const m = mount();
    await refused(m.write('keys/app', { exportable: 'nope' }), 400, 'exportable must be a boolean');
    await refused(m.write('keys/app', { auto_rotate_period: { h: 1 } }), 400, /^auto_rotate_period must be/);
    await refused(m.write('keys/app', { key_size: 'big' }), 400, 'key_size must be an integer');
    assert.deepEqual(m.memory.snapshot(), []);
    await m.write('keys/app');
    const before = m.memory.snapshot();
    await refused(m.write('keys/app/config', { deletion_allowed: 'perhaps' }), 400, 'deletion_allowed must be a boolean');
    await refused(m.write('keys/app/config', { deletion_allowed: true, min_decryption_version: [2] }), 400, 'min_decryption_version must be an integer');
    assert.deepEqual(m.memory.snapshot(), before);
    assert.equal((await m.call('read', 'keys/app')).data?.deletion_allowed, false);
  });

  it('a wrongly typed batch item field fails only that item, without echoing it', async () => {
    const m = mount();
    const res = await m.write('encrypt/app', {
      batch_input: [{ plaintext: b64('ok') }, { plaintext: b64('x'), key_version: 'v2', reference: 'r1' }, { plaintext: [SECRET] }],
    });
    assert.equal(res.status ?? 200, 200);
    const results = res.data?.batch_results as Array<Record<string, unknown>>;
    assert.match(String(results[0].ciphertext), /^vault:v1:/);
    assert.deepEqual(results[1], { error: 'key_version must be an integer', reference: 'r1' });
    assert.deepEqual(results[2], { error: 'plaintext must be a string', reference: '' });
    assert.ok(!JSON.stringify(results).includes(SECRET));
    const dec = await m.write('decrypt/app', { batch_input: [{ ciphertext: results[0].ciphertext, associated_data: 5 }, { ciphertext: { c: SECRET } }] });
    assert.equal(dec.status, 400, 'every item failing is a 400');
    assert.deepEqual(dec.data?.batch_results, [
      { plaintext: '', error: 'unable to get associated_data/additional_data from factory[0]: illegal base64 data at input byte 0', reference: '' },
      { plaintext: '', error: 'ciphertext must be a string', reference: '' },
    ]);
  });

  it('key_size is refused for key types other than hmac, with Vault\'s message', async () => {
    const m = mount();
    await refused(m.write('keys/app', { key_size: 32 }), 400, 'key_size is not valid for algorithm aes256-gcm96');
    assert.deepEqual(m.memory.snapshot(), []);
    assert.equal((await m.write('keys/app', { key_size: 0 })).data?.latest_version, 1);
  });
});

describe('transit batch items: decoded by FieldData\'s rules', () => {
  const schema: FieldSchemas = {
    plaintext: { type: 'string', description: 'p' },
    key_version: { type: 'int', description: 'k' },
    bits: { type: 'int', default: 256, description: 'b' },
    flag: { type: 'bool', description: 'f' },
  };
  const item = new ItemSchema(schema);
  const outcome = (read: () => unknown) => {
    try {
      return { value: read() };
    } catch (err) {
      return { error: (err as Error).message };
    }
  };

  for (const raw of [
    {}, { plaintext: '' }, { plaintext: null, key_version: null }, { key_version: '' }, { key_version: '3', flag: 'true' },
    { key_version: 2.5 }, { flag: 'maybe' }, { plaintext: 12 }, { plaintext: { a: 1 } }, { bits: '128', other: 1 },
    JSON.parse('{"__proto__": {"key_version": 1}, "constructor": 1}'),
  ] as Record<string, unknown>[]) {
    it(`an item ${JSON.stringify(raw)} reads as FieldData reads it`, () => {
      const expected = outcome(() => new FieldData(schema, raw));
      const actual = outcome(() => item.decode(raw));
      assert.equal('error' in actual, 'error' in expected);
      if ('error' in expected) return assert.equal(actual.error, expected.error);
      const [want, got] = [expected.value as FieldData, actual.value as ReturnType<ItemSchema['decode']>];
      for (const name of Object.keys(schema)) {
        assert.equal(got.has(name), want.has(name), `has(${name})`);
        assert.deepEqual(got.getOk(name), want.getOk(name), `getOk(${name})`);
        assert.deepEqual(got.get(name), want.get(name), `get(${name})`);
      }
      assert.throws(() => got.get('undeclared'), /not in the batch item's schema/);
    });
  }
});

describe('transit declared fields: unknown fields', () => {
  it('are answered with Vault\'s warning, and nothing acts on them', async () => {
    const m = mount();
    // managed_key_name is declared now (type=managed_key uses it; Vault declares it on keys/<name> too).
    const created = await m.write('keys/app', { bogus: 1, managed_key_name: 'x' });
    assert.deepEqual(created.warnings, [ignored('bogus')]);
    // encrypt does not take the key options of keys/<name> (as in Vault): ignored with the warning, not applied.
    const enc = await m.write('encrypt/fresh', { plaintext: b64('x'), exportable: true, derived: true });
    assert.deepEqual(enc.warnings, [ignored('derived', 'exportable')]);
    assert.equal((await m.call('read', 'keys/fresh')).data?.exportable, false);
    // hmac takes "algorithm", not verify's "hash_algorithm" (as in Vault).
    const mac = await m.write('hmac/app', { input: b64('m'), hash_algorithm: 'sha2-512' });
    assert.deepEqual(mac.warnings, [ignored('hash_algorithm')]);
    assert.equal(Buffer.from(String(mac.data?.hmac).slice('vault:v1:'.length), 'base64').length, 32);
  });

  it('a 204 answer carries no warning', async () => {
    const m = mount();
    await m.write('keys/app');
    await m.write('keys/app/config', { deletion_allowed: true });
    const res = await m.call('delete', 'keys/app', { unknown: 1 });
    assert.equal(res.status, 204);
    assert.equal(res.warnings, undefined);
  });
});

describe('transit declared fields: __proto__ and constructor', () => {
  it('are ordinary unknown keys in the body and in batch items', async () => {
    const m = mount();
    const body = JSON.parse(`{"plaintext":"${b64('x')}","__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}`);
    const enc = await m.write('encrypt/app', body);
    assert.match(String(enc.data?.ciphertext), /^vault:v1:/);
    assert.deepEqual(enc.warnings, [ignored('__proto__', 'constructor')]);
    const batch = JSON.parse(`{"batch_input":[{"plaintext":"${b64('y')}","__proto__":{"key_version":9},"constructor":"x"}]}`);
    const res = await m.write('encrypt/app', batch);
    assert.deepEqual((res.data?.batch_results as Array<Record<string, unknown>>).map((r) => r.key_version), [1]);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal((Object.prototype as Record<string, unknown>).key_version, undefined);
    await refused(m.write('hash/__proto__', { input: b64('x') }), 400, 'unsupported algorithm __proto__');
    await refused(m.write('keys/constructor/rotate'), 400, 'key not found');
  });
});

describe('transit declared paths: operations and routing', () => {
  it('an operation a known path does not declare is a 405', async () => {
    const m = mount();
    await m.write('keys/app');
    for (const [operation, path] of [
      ['read', 'decrypt/app'], ['delete', 'encrypt/app'], ['list', 'keys/app'], ['read', 'hash'], ['patch', 'keys/app/config'],
      ['read', 'random/16'], ['delete', 'keys/'], ['read', 'datakey/wrapped/app'],
    ] as const) {
      await refused(m.call(operation, path), 405, 'unsupported operation');
    }
    assert.deepEqual(m.memory.keys(), ['policy/app']);
  });

  it('random: path segments win over the body; a lone non-source segment is the byte count', async () => {
    const m = mount();
    const len = (res: LogicalResponse) => Buffer.from(String(res.data?.random_bytes), 'base64').length;
    assert.equal(len(await m.write('random/12', { bytes: 40 })), 12);
    assert.equal(len(await m.write('random/seal', { bytes: 5 })), 5);
    assert.equal(len(await m.write('random', { source: 'all', bytes: 6 })), 6);
    // Vault reads a source it does not know as a byte count.
    await refused(m.write('random', { source: 'hsm' }), 400, /^error parsing url-set byte count/);
    await refused(m.write('random/hsm/4'), 400, /^unsupported entropy source "hsm"/);
    await refused(m.write('random', { bytes: 'many' }), 400, 'bytes must be an integer');
  });

  it('verify takes the first non-empty of the path\'s, hash_algorithm and algorithm', async () => {
    const m = mount();
    await m.write('keys/app');
    const input = b64('m');
    const hmac = String((await m.write('hmac/app', { input, algorithm: 'sha2-384' })).data?.hmac);
    assert.equal((await m.write('verify/app', { input, hmac, hash_algorithm: '', algorithm: 'sha2-384' })).data?.valid, true);
    assert.equal((await m.write('verify/app', { input, hmac, hash_algorithm: 'sha2-384', algorithm: 'sha2-256' })).data?.valid, true);
    assert.equal((await m.write('verify/app/sha2-384', { input, hmac, hash_algorithm: 'sha2-256' })).data?.valid, true);
  });

  it('every declared field is described, and help and OpenAPI come from the declarations', () => {
    const { backend } = mount();
    const paths = backend.openApiPaths('transit/');
    for (const expected of [
      '/transit/keys', '/transit/keys/{name}', '/transit/keys/{name}/config', '/transit/keys/{name}/rotate', '/transit/encrypt/{name}',
      '/transit/decrypt/{name}', '/transit/rewrap/{name}', '/transit/datakey/{plaintext}/{name}', '/transit/random',
      '/transit/random/{source}', '/transit/random/{source}/{urlbytes}', '/transit/hash', '/transit/hash/{urlalgorithm}',
      '/transit/hmac/{name}', '/transit/hmac/{name}/{urlalgorithm}', '/transit/verify/{name}/{urlalgorithm}',
    ]) {
      assert.ok(paths[expected], `OpenAPI has ${expected}: ${Object.keys(paths).join(', ')}`);
    }
    const encrypt = paths['/transit/encrypt/{name}'] as { post: { requestBody: { content: Record<string, { schema: { properties: Record<string, { type: string; description: string }> } }> } } };
    const props = encrypt.post.requestBody.content['application/json'].schema.properties;
    assert.deepEqual(Object.keys(props).sort(), [
      'associated_data', 'batch_input', 'context', 'convergent_encryption', 'key_version', 'nonce', 'partial_failure_response_code', 'plaintext', 'type',
    ]);
    assert.equal(props.key_version.type, 'integer');
    assert.equal(props.batch_input.type, 'array');
    for (const [path, item] of Object.entries(paths)) {
      for (const op of ['get', 'post', 'delete'] as const) {
        const body = (item as Record<string, { requestBody?: { content: Record<string, { schema: { properties: Record<string, { description: string }> } }> } }>)[op]?.requestBody;
        for (const [name, field] of Object.entries(body?.content['application/json'].schema.properties ?? {})) {
          assert.ok(field.description.trim().length > 10, `${op} ${path} ${name} has a description`);
        }
      }
    }
    const help = backend.help('encrypt/app', 'transit/');
    assert.ok(help);
    assert.match(help.help, /^Request: +transit\/encrypt\/app/);
    assert.match(help.help, /plaintext \(string\)/);
    assert.equal(backend.help('nothing/here', 'transit/'), null);
  });
});

describe('transit declared fields: sign, verify, export, backup, restore, trim, import and cache-config', () => {
  it('take null as absent and weak strings, refuse wrong types naming the field, and warn about unknown fields', async () => {
    const m = mount();
    await m.write('keys/signer', { type: 'ed25519', exportable: 'true', allow_plaintext_backup: '1' });
    const sig = await m.write('sign/signer', { input: b64('m'), key_version: null, hash_algorithm: null, prehashed: null, context: null, batch_input: null });
    assert.match(String(sig.data?.signature), /^vault:v1:/);
    assert.equal(sig.warnings, undefined);
    const ok = await m.write('verify/signer', { input: b64('m'), signature: sig.data?.signature, prehashed: 'false', hmac: null, colour: 'red' });
    assert.equal(ok.data?.valid, true);
    assert.deepEqual(ok.warnings, [ignored('colour')]);
    await refused(m.write('sign/signer', { input: b64('m'), prehashed: 'maybe' }), 400, 'prehashed must be a boolean');
    await refused(m.write('sign/signer', { input: { v: SECRET } }), 400, 'input must be a string');
    const backup = String((await m.call('read', 'backup/signer')).data?.backup);
    await refused(m.write('restore/copy', { backup, force: 'perhaps' }), 400, 'force must be a boolean');
    assert.equal((await m.write('restore/copy', { backup, force: 'false', name: null })).status, 204);
    await m.write('keys/signer/rotate');
    await m.write('keys/signer/config', { min_decryption_version: '2', min_encryption_version: '2' });
    await refused(m.write('keys/signer/trim', { min_available_version: 'two' }), 400, 'min_available_version must be an integer');
    assert.equal((await m.write('keys/signer/trim', { min_available_version: '2' })).data?.min_available_version, 2);
    await refused(m.write('cache-config', { size: [10] }), 400, 'size must be an integer');
    assert.deepEqual((await m.write('cache-config', { size: '10' })).data, { size: 10 });
    await refused(m.write('keys/imported/import', { ciphertext: 5, allow_rotation: 'sure' }), 400, 'allow_rotation must be a boolean');
    assert.deepEqual(m.memory.keys().filter((k) => k.includes('imported')), []);
  });

  it('answer 405 on operations they do not declare', async () => {
    const m = mount();
    await m.write('keys/k', { type: 'ecdsa-p256' });
    for (const [operation, path] of [
      ['read', 'sign/k'], ['read', 'verify/k'], ['update', 'export/public-key/k'], ['update', 'backup/k'], ['read', 'restore'],
      ['read', 'keys/k/trim'], ['update', 'wrapping_key'], ['read', 'keys/k/import'], ['delete', 'cache-config'],
    ] as const) {
      await refused(m.call(operation, path), 405, 'unsupported operation');
    }
  });
});
