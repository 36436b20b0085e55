import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TresorError } from '../../core/errors.ts';
import { decodeBlob, encodeBlob, macBody, type SealBlob } from './blob.ts';

const sample = (): SealBlob => ({
  mechanism: 0x1087,
  keyLabel: 'tresor-key',
  keyId: Buffer.from('0a0b0c0d', 'hex'),
  hmacKeyLabel: 'tresor-hmac',
  hmacKeyId: Buffer.from('ff', 'hex'),
  iv: Buffer.alloc(12, 7),
  wrappedKey: Buffer.alloc(0),
  ciphertext: Buffer.from('ciphertext and tag'),
  hmac: Buffer.alloc(32, 9),
});

describe('wrapped blob format', () => {
  it('decodes exactly what it encoded', () => {
    assert.deepEqual(decodeBlob(encodeBlob(sample())), sample());
  });

  it('starts with version 1 and the big-endian mechanism number', () => {
    const bytes = encodeBlob(sample());
    assert.equal(bytes[0], 1);
    assert.equal(bytes.readUInt32BE(1), 0x1087);
    assert.equal(bytes.readUInt16BE(5), 'tresor-key'.length);
    assert.equal(bytes.subarray(7, 17).toString(), 'tresor-key');
  });

  it('the MAC body is the encoding without the HMAC field', () => {
    const bytes = encodeBlob(sample());
    const body = macBody(sample());
    assert.deepEqual(bytes.subarray(0, body.length), body);
    assert.equal(bytes.length, body.length + 2 + 32);
  });

  for (const [what, mutate] of [
    ['a truncated blob', (b: Buffer) => b.subarray(0, b.length - 1)],
    ['trailing bytes', (b: Buffer) => Buffer.concat([b, Buffer.from([0])])],
    ['an unknown version', (b: Buffer) => Buffer.concat([Buffer.from([2]), b.subarray(1)])],
    ['an empty buffer', () => Buffer.alloc(0)],
  ] as const) {
    it(`rejects ${what} as a malformed 400`, () => {
      assert.throws(
        () => decodeBlob(mutate(encodeBlob(sample()))),
        (err: unknown) => err instanceof TresorError && err.status === 400 && /malformed wrapped blob/.test(err.message),
      );
    });
  }
});
