import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TresorError } from './errors.ts';
import {
  durationSeconds, optionalBool, optionalDurationMs, optionalNonNegativeInt, optionalString,
  optionalStringArray, optionalStringList, optionalStringMap, parseNonNegativeInt,
} from './request-fields.ts';

/** A 400 whose message is exactly `message`. */
function badRequest(message: string) {
  return (err: unknown) => err instanceof TresorError && err.status === 400 && err.message === message;
}

describe('request fields', () => {
  it('optionalString keeps "" but refuses non-strings', () => {
    assert.equal(optionalString(undefined, 'id'), undefined);
    assert.equal(optionalString('', 'id'), '');
    assert.throws(() => optionalString(5, 'id'), badRequest('id must be a string'));
  });

  it('optionalBool takes booleans and the words Go accepts, nothing else', () => {
    for (const yes of [true, 'true', 'TRUE', '1', 't']) assert.equal(optionalBool(yes, 'b'), true, String(yes));
    for (const no of [false, 'false', '0', 'f', 'F']) assert.equal(optionalBool(no, 'b'), false, String(no));
    assert.equal(optionalBool('', 'b'), undefined);
    for (const bad of ['maybe', 2, 'yes', {}]) assert.throws(() => optionalBool(bad, 'backup'), badRequest('backup must be a boolean'));
  });

  it('non-negative integers come as numbers or digit strings', () => {
    assert.equal(parseNonNegativeInt('12', 'n'), 12);
    assert.equal(parseNonNegativeInt(0, 'n'), 0);
    assert.equal(optionalNonNegativeInt('', 'n'), undefined);
    for (const bad of [-1, 1.5, '1e3', '', 'three', 2 ** 53, true]) {
      assert.throws(() => parseNonNegativeInt(bad, 'secret_shares'), badRequest('secret_shares must be a non-negative integer'), String(bad));
    }
  });

  it('a string array is taken as given; a string list also splits one comma-separated string', () => {
    assert.deepEqual(optionalStringArray([' a', 'b'], 'keys'), [' a', 'b']);
    assert.throws(() => optionalStringArray('a,b', 'pgp_keys', 'PGP keys'), badRequest('pgp_keys must be a list of PGP keys'));
    assert.deepEqual(optionalStringList(' a, ,b ', 'policies'), ['a', 'b']);
    assert.deepEqual(optionalStringList([], 'policies'), []);
    assert.throws(() => optionalStringList([1], 'policies'), badRequest('policies must be a list of strings'));
  });

  it('a string map refuses non-string values unless scalars are coerced', () => {
    assert.deepEqual(optionalStringMap({ a: 'x' }, 'meta'), { a: 'x' });
    assert.throws(() => optionalStringMap({ a: 1 }, 'meta'), badRequest('meta.a must be a string'));
    assert.throws(() => optionalStringMap(['x'], 'meta'), badRequest('meta must be an object of strings'));
    assert.deepEqual(optionalStringMap({ v: 2, on: true }, 'options', { coerceScalars: true }), { v: '2', on: 'true' });
    assert.throws(() => optionalStringMap({ v: {} }, 'options', { coerceScalars: true }), badRequest('options.v must be a string'));
  });

  it('durations: whole seconds (0 when absent) or milliseconds (undefined when absent)', () => {
    assert.equal(durationSeconds(undefined, 'ttl'), 0);
    assert.equal(durationSeconds('1h30m', 'ttl'), 5400);
    assert.equal(durationSeconds('1500ms', 'ttl'), 1);
    assert.throws(() => durationSeconds('1x', 'ttl'), badRequest('ttl must be a non-negative duration such as "30s" or "1h"'));
    assert.equal(optionalDurationMs('', 'd'), undefined);
    assert.equal(optionalDurationMs('1500ms', 'd'), 1500);
    assert.equal(optionalDurationMs('0.1h', 'd'), 360_000);
    assert.throws(() => optionalDurationMs('-1s', 'delete_version_after'),
      badRequest('delete_version_after must be a non-negative duration such as "30s" or "1h"'));
  });

  it('durations are bounded: non-finite, negative or past 100 years is a 400 naming the field, not echoing the value', () => {
    const tooLong = (field: string) => badRequest(`${field} must be at most 100 years`);
    const invalid = (field: string) => badRequest(`${field} must be a non-negative duration such as "30s" or "1h"`);
    const hundredYears = 100 * 365 * 24 * 3600;
    assert.equal(durationSeconds(hundredYears, 'period'), hundredYears);
    assert.equal(durationSeconds(`${hundredYears}`, 'period'), hundredYears);
    assert.equal(durationSeconds('876000h', 'period'), hundredYears);
    assert.equal(durationSeconds('87600h', 'period'), hundredYears / 10);
    for (const value of [1e300, hundredYears + 1, '99999999999999999999', '9'.repeat(400), '876001h', '1000000000h', '36501d', Number.MAX_VALUE]) {
      assert.throws(() => durationSeconds(value, 'period'), tooLong('period'), `durationSeconds(${String(value).slice(0, 30)})`);
      assert.throws(() => optionalDurationMs(value, 'delete_version_after'), tooLong('delete_version_after'));
    }
    for (const value of [-1, -0.5, '-5s', '-1', Infinity, -Infinity, NaN, 'Infinity', '1e300', true, {}, [], '1x']) {
      assert.throws(() => durationSeconds(value, 'ttl'), invalid('ttl'), `durationSeconds(${String(value)})`);
      assert.throws(() => optionalDurationMs(value, 'ttl'), invalid('ttl'), `optionalDurationMs(${String(value)})`);
    }
    assert.equal(optionalDurationMs(hundredYears, 'd'), hundredYears * 1000);
    assert.equal(optionalDurationMs('876000h', 'd'), hundredYears * 1000);
  });
});
