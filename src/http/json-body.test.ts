import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jsonTooDeep, parseJsonBody } from './json-body.ts';
import { TresorError } from '../core/errors.ts';
import { defaultMaxConnections } from './listener.ts';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const bytes = (s: string) => Buffer.from(s, 'utf8');

describe('JSON nesting depth', () => {
  it('counts nested objects and arrays, not brackets inside strings or escaped quotes', () => {
    assert.equal(jsonTooDeep(bytes('{"a":[{"b":1}]}'), 3), false);
    assert.equal(jsonTooDeep(bytes('{"a":[{"b":1}]}'), 2), true);
    assert.equal(jsonTooDeep(bytes('{"a":"[[[[{{{{"}'), 1), false);
    assert.equal(jsonTooDeep(bytes('{"a":"\\"[[[[","b":"\\\\"}'), 1), false);
    assert.equal(jsonTooDeep(bytes('[[],[],[]]'), 2), false);
    assert.equal(jsonTooDeep(bytes('{"ü":"€[[[["}'), 1), false);
  });

  it('refuses bodies deeper than the cap with Vault\'s parse-error wording, before parsing them', () => {
    const deep = '['.repeat(501) + ']'.repeat(501);
    assert.throws(() => parseJsonBody(bytes(deep)), (err: unknown) => err instanceof TresorError && err.status === 400 && err.message === 'failed to parse JSON input: JSON input exceeds allowed nesting depth');
    assert.deepEqual(parseJsonBody(bytes('['.repeat(500) + ']'.repeat(500))), JSON.parse('['.repeat(500) + ']'.repeat(500)));
    assert.deepEqual(parseJsonBody(Buffer.alloc(0)), {});
    // Vault decodes a JSON null body into no data at all (found by test/bad-input.test.ts).
    assert.deepEqual(parseJsonBody(bytes(' null ')), {});
    assert.throws(() => parseJsonBody(bytes('{"a":')), /failed to parse JSON input: the request body is not valid JSON/);
  });
});

describe('default connection cap', () => {
  it('is half the file-descriptor soft limit, between 16 and 4096', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresor-limits-'));
    try {
      const file = path.join(dir, 'limits');
      const write = (soft: string) =>
        fs.writeFileSync(file, `Limit                     Soft Limit           Hard Limit           Units\nMax open files            ${soft}                 524288               files\n`);
      write('1024');
      assert.equal(defaultMaxConnections(file), 512);
      write('1048576');
      assert.equal(defaultMaxConnections(file), 4096);
      write('20');
      assert.equal(defaultMaxConnections(file), 16);
      write('unlimited');
      assert.equal(defaultMaxConnections(file), 4096);
      assert.equal(defaultMaxConnections(path.join(dir, 'missing')), 4096);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
