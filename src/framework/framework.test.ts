import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TresorError } from '../core/errors.ts';
import { FieldData, FrameworkBackend, expandPattern, genericName, type FieldSchemas, type FrameworkRequest } from './index.ts';

function refused(fn: () => unknown, message: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof TresorError);
    assert.equal(err.status, 400);
    assert.equal(err.message, message);
    return true;
  });
}

describe('field decoding (Vault weak decoding)', () => {
  const schema: FieldSchemas = {
    s: { type: 'string', description: '' },
    lower: { type: 'lowercase-string', description: '' },
    name: { type: 'name-string', description: '' },
    n: { type: 'int', description: '', default: 7 },
    b: { type: 'bool', description: '' },
    d: { type: 'duration', description: '' },
    sd: { type: 'signed-duration', description: '' },
    csv: { type: 'comma-string-slice', description: '' },
    ints: { type: 'comma-int-slice', description: '' },
    list: { type: 'string-slice', description: '' },
    m: { type: 'map', description: '' },
    kv: { type: 'kv-pairs', description: '' },
    h: { type: 'header', description: '' },
  };

  it('takes the spellings clients send: strings for numbers and booleans, comma lists, k=v pairs', () => {
    const f = new FieldData(schema, {
      s: 12, lower: 'AbC', name: 'my-key.v1', n: '42', b: 'true', d: '1h30m', sd: '-90s', csv: ' a, b ,,c',
      ints: '1,2, 3', list: 'one', m: '{"k":1}', kv: ['a=1', 'b = 2'], h: { 'X-A': 'v' },
    });
    assert.equal(f.get('s'), '12');
    assert.equal(f.get('lower'), 'abc');
    assert.equal(f.get('name'), 'my-key.v1');
    assert.equal(f.get('n'), 42);
    assert.equal(f.get('b'), true);
    assert.equal(f.get('d'), 5400);
    assert.equal(f.get('sd'), -90);
    assert.deepEqual(f.get('csv'), ['a', 'b', 'c']);
    assert.deepEqual(f.get('ints'), [1, 2, 3]);
    assert.deepEqual(f.get('list'), ['one']);
    assert.deepEqual(f.get('m'), { k: 1 });
    assert.deepEqual(f.get('kv'), { a: '1', b: '2' });
    assert.deepEqual(f.get('h'), { 'X-A': ['v'] });
    assert.deepEqual(new FieldData(schema, { kv: { a: 1 } }).get('kv'), { a: '1' });
  });

  it('takes null and absence alike: get gives the default or the zero value, getOk undefined', () => {
    const f = new FieldData(schema, { s: null, n: null, b: null, csv: null, m: null });
    assert.equal(f.has('s'), false);
    assert.equal(f.get('s'), '');
    assert.equal(f.get('n'), 7);
    assert.equal(f.get('b'), false);
    assert.deepEqual(f.get('csv'), []);
    assert.deepEqual(f.get('m'), {});
    assert.equal(f.getOk('n'), undefined);
    assert.deepEqual(f.given(), {});
    // An empty query value is "not given" except for strings, where "" is a value.
    const q = new FieldData(schema, { s: '', n: '' });
    assert.equal(q.getOk('s'), '');
    assert.equal(q.getOk('n'), undefined);
  });

  it('refuses a wrong type with a 400 naming the field and never the value', () => {
    refused(() => new FieldData(schema, { n: 'secret-value' }), 'n must be an integer');
    refused(() => new FieldData(schema, { n: 1.5 }), 'n must be an integer');
    refused(() => new FieldData(schema, { b: 'secret-value' }), 'b must be a boolean');
    refused(() => new FieldData(schema, { s: { nested: 'secret-value' } }), 's must be a string');
    refused(() => new FieldData(schema, { m: 'secret-value' }), 'm must be an object');
    refused(() => new FieldData(schema, { name: 'bad/name' }), 'name must be a name of letters, digits, "_", "-" and "."');
    refused(() => new FieldData(schema, { kv: ['novalue'] }), 'kv must be a list of "key=value" strings');
    refused(() => new FieldData(schema, { d: '-5s' }), 'd must be a non-negative duration such as "30s" or "1h"');
    refused(() => new FieldData({ r: { type: 'string', description: '', required: true } }, {}), 'missing required field "r"');
    refused(() => new FieldData({ e: { type: 'string', description: '', allowedValues: ['x'] } }, { e: 'y' }), 'e must be one of "x"');
  });

  it('asking for an undeclared field is a programming error, not a silent undefined', () => {
    assert.throws(() => new FieldData(schema, {}).get('nope'), /not in the path's schema/);
  });
});

interface Req extends FrameworkRequest {
  seen?: unknown;
}

describe('FrameworkBackend', () => {
  const backend = new FrameworkBackend<Req>([
    {
      pattern: `keys/${genericName('name')}`,
      synopsis: 'Manage a key.',
      fields: { name: { type: 'string', description: 'Key name.' }, size: { type: 'int', description: 'Key size.' } },
      existenceCheck: async (_req, f) => f.get('name') === 'exists',
      operations: {
        read: async (_req, f) => ({ data: { name: f.get('name'), size: f.get('size') } }),
        create: async () => ({ data: { did: 'create' } }),
        update: async () => ({ data: { did: 'update' } }),
      },
    },
    {
      pattern: 'blob',
      synopsis: 'Arbitrary data.',
      takesArbitraryInput: true,
      operations: { update: async () => ({ data: { ok: true } }), delete: async () => ({ status: 204 }) },
    },
  ]);
  const req = (operation: Req['operation'], path: string, data: Record<string, unknown> = {}): Req => ({ operation, path, data });

  it('routes by pattern, with captures over body fields of the same name', async () => {
    const res = await backend.handle(req('read', 'keys/k1', { name: 'other', size: '3' }));
    assert.deepEqual(res?.data, { name: 'k1', size: 3 });
    assert.equal(await backend.handle(req('read', 'nothing/here')), null);
  });

  it('warns about unrecognised parameters, sorted, except on arbitrary-input paths and bare 204s', async () => {
    const res = await backend.handle(req('read', 'keys/k1', { zeta: 1, alpha: 2 }));
    assert.deepEqual(res?.warnings, ['Endpoint ignored these unrecognized parameters: [alpha zeta]']);
    assert.equal((await backend.handle(req('update', 'blob', { anything: 1 })))?.warnings, undefined);
  });

  it('answers 405 for an operation a known path does not declare', async () => {
    await assert.rejects(backend.handle(req('list', 'keys/k1')), (err: unknown) => err instanceof TresorError && err.status === 405);
  });

  it('runs the existence check, and tells create from update only where the path does', async () => {
    assert.equal(await backend.existenceCheck(req('update', 'keys/exists')), true);
    assert.equal(await backend.existenceCheck(req('update', 'keys/new')), false);
    assert.equal(await backend.existenceCheck(req('update', 'blob')), undefined);
    assert.equal(backend.distinguishesCreate('keys/x'), true);
    assert.equal(backend.distinguishesCreate('blob'), false);
  });

  it('refuses a bad field before the handler runs', async () => {
    await assert.rejects(backend.handle(req('read', 'keys/k1', { size: 'big' })), /size must be an integer/);
  });

  it('describes a path for ?help=1 and OpenAPI', () => {
    const help = backend.help('keys/k1', 'transit/');
    assert.ok(help);
    assert.match(help.help, /^Request: {8}transit\/keys\/k1$/m);
    assert.match(help.help, /size \(int\)/);
    const item = (help.openapi.paths as Record<string, Record<string, unknown>>)['/transit/keys/{name}'];
    assert.ok(item.get && item.post);
    assert.equal(backend.help('nothing', 'transit/'), null);
  });
});

describe('OpenAPI templates from patterns', () => {
  it('names captures, drops a trailing optional slash and expands optional groups', () => {
    assert.deepEqual(expandPattern(`keys/${genericName('name')}`), ['keys/{name}']);
    assert.deepEqual(expandPattern('keys/?'), ['keys']);
    assert.deepEqual(expandPattern('hash(?:/(?<algorithm>[^/]+))?').sort(), ['hash', 'hash/{algorithm}']);
    assert.deepEqual(expandPattern('random(?:/(?<source>[^/]+))?(?:/(?<bytes>\\d+))?').length, 4);
  });
});
