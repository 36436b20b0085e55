import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';
import type { StorageBackend } from './backend.ts';
import { isTransactional } from './transactional.ts';

/**
 * Registers node:test cases every StorageBackend must pass, modelled on
 * Vault's physical ExerciseBackend and ExerciseBackend_ListPrefix. `make`
 * must return a fresh, empty backend; each case closes what it makes.
 */
export function runBackendConformance(name: string, make: () => Promise<StorageBackend>): void {
  const withBackend = (fn: (b: StorageBackend) => Promise<void>) => async () => {
    const backend = await make();
    try {
      await fn(backend);
    } finally {
      await backend.close();
    }
  };
  const putAll = async (b: StorageBackend, keys: string[]) => {
    for (const key of keys) await b.put(key, Buffer.from(`v:${key}`));
  };

  describe(`${name} storage conformance`, () => {
    it('get of a missing key resolves to undefined', withBackend(async (b) => {
      assert.equal(await b.get('missing'), undefined);
      assert.deepEqual(await b.list(''), []);
    }));

    it('put then get returns the value, and a second put overwrites it', withBackend(async (b) => {
      await b.put('foo', Buffer.from('one'));
      assert.deepEqual(await b.get('foo'), Buffer.from('one'));
      await b.put('foo', Buffer.from('two'));
      assert.deepEqual(await b.get('foo'), Buffer.from('two'));
      assert.deepEqual(await b.list(''), ['foo']);
    }));

    it('delete removes a key and deleting a missing key is not an error', withBackend(async (b) => {
      await b.put('foo', Buffer.from('x'));
      await b.delete('foo');
      assert.equal(await b.get('foo'), undefined);
      await b.delete('foo');
      await b.delete('never-existed');
      assert.deepEqual(await b.list(''), []);
    }));

    it('list returns one level: plain keys and folders ending in "/"', withBackend(async (b) => {
      await putAll(b, ['foo', 'foo/bar', 'foo/baz/qux', 'zip', 'a/b/c/d']);
      assert.deepEqual(await b.list(''), ['a/', 'foo', 'foo/', 'zip']);
      assert.deepEqual(await b.list('foo/'), ['bar', 'baz/']);
      assert.deepEqual(await b.list('foo/baz/'), ['qux']);
      assert.deepEqual(await b.list('a/b/'), ['c/']);
      assert.deepEqual(await b.list('nope/'), []);
    }));

    it('list prefix over {foo, foo/bar, foo/bar/baz} folds each level', withBackend(async (b) => {
      await putAll(b, ['foo', 'foo/bar', 'foo/bar/baz']);
      assert.deepEqual(await b.list(''), ['foo', 'foo/']);
      assert.deepEqual(await b.list('foo/'), ['bar', 'bar/']);
      assert.deepEqual(await b.list('foo/bar/'), ['baz']);
    }));

    it('list with a partial prefix matches key starts, not whole segments', withBackend(async (b) => {
      await putAll(b, ['foo', 'foobar/x', 'fob']);
      assert.deepEqual(await b.list('foo'), ['', 'bar/']);
    }));

    it('keys with %, _, spaces and unicode are stored and listed literally', withBackend(async (b) => {
      const keys = ['a%b/x', 'a_b/y', 'axb/z', 'sp ace/k e y', 'ключ/値', 'p/😀', 'p/\uffff', 'p/\ue000', 'p/'];
      await putAll(b, keys);
      for (const key of keys) assert.deepEqual(await b.get(key), Buffer.from(`v:${key}`), key);
      assert.deepEqual(await b.list('a%b/'), ['x']);
      assert.deepEqual(await b.list('a_b/'), ['y']);
      assert.deepEqual(await b.list('sp ace/'), ['k e y']);
      assert.deepEqual(await b.list('ключ/'), ['値']);
      // Code point order: U+E000 < U+FFFF < U+1F600, and "" (the key "p/") first.
      assert.deepEqual(await b.list('p/'), ['', '\ue000', '\uffff', '😀']);
      assert.deepEqual(await b.list(''), ['a%b/', 'a_b/', 'axb/', 'p/', 'sp ace/', 'ключ/']);
    }));

    it('an empty value round-trips as an empty buffer', withBackend(async (b) => {
      await b.put('empty', Buffer.alloc(0));
      const value = await b.get('empty');
      assert.ok(Buffer.isBuffer(value));
      assert.equal(value.length, 0);
    }));

    it('a 1 MiB value round-trips byte for byte', withBackend(async (b) => {
      const big = crypto.randomBytes(1024 * 1024);
      await b.put('big', big);
      assert.ok(big.equals((await b.get('big'))!));
    }));

    it('many keys across folders list correctly and in order', withBackend(async (b) => {
      const expectedLeaves: string[] = [];
      for (let folder = 0; folder < 20; folder++) {
        for (let leaf = 0; leaf < 50; leaf++) {
          const name = `leaf-${String(leaf).padStart(3, '0')}`;
          await b.put(`dir-${String(folder).padStart(2, '0')}/${name}`, Buffer.from([folder, leaf]));
          if (folder === 7) expectedLeaves.push(name);
        }
      }
      const root = await b.list('');
      assert.equal(root.length, 20);
      assert.equal(root[0], 'dir-00/');
      assert.equal(root[19], 'dir-19/');
      assert.deepEqual(await b.list('dir-07/'), expectedLeaves);
      assert.deepEqual(await b.get('dir-07/leaf-013'), Buffer.from([7, 13]));
    }));

    it('deleting the last child of a folder hides the folder from list', withBackend(async (b) => {
      await putAll(b, ['keep', 'dir/only', 'dir/sub/deep']);
      await b.delete('dir/sub/deep');
      assert.deepEqual(await b.list('dir/'), ['only']);
      await b.delete('dir/only');
      assert.deepEqual(await b.list(''), ['keep']);
      assert.deepEqual(await b.list('dir/'), []);
    }));

    it('callers cannot change stored data by mutating buffers', withBackend(async (b) => {
      const input = Buffer.from('original');
      await b.put('k', input);
      input.fill(0);
      const out = (await b.get('k'))!;
      assert.deepEqual(out, Buffer.from('original'));
      out.fill(0);
      assert.deepEqual(await b.get('k'), Buffer.from('original'));
    }));

    it('a transaction applies all of its ops, or none when one is invalid', withBackend(async (b) => {
      if (!isTransactional(b)) return;
      await b.put('old', Buffer.from('x'));
      await b.transaction([
        { op: 'put', key: 'tx/a', value: Buffer.from('a') },
        { op: 'put', key: 'tx/b', value: Buffer.from('b') },
        { op: 'delete', key: 'old' },
      ]);
      assert.deepEqual(await b.list(''), ['tx/']);
      assert.deepEqual(await b.get('tx/b'), Buffer.from('b'));
      await assert.rejects(b.transaction([
        { op: 'delete', key: 'tx/a' },
        { op: 'put', key: 'tx/c' },
      ]), /no value/);
      assert.deepEqual(await b.list('tx/'), ['a', 'b']);
    }));

    it('a key with a lone surrogate is rejected', withBackend(async (b) => {
      await assert.rejects(b.put('bad\ud800', Buffer.from('x')), /well-formed/);
    }));
  });
}
