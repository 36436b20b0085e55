import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMultiBlob, encodeMultiBlob } from './multiseal.ts';

describe('multiseal blob', () => {
  it('round-trips several named parts', () => {
    const entries = [
      { name: 'hsm-a', blob: Buffer.from([1, 2, 3]) },
      { name: 'transit', blob: Buffer.alloc(70_000, 7) },
    ];
    const decoded = decodeMultiBlob(encodeMultiBlob(entries));
    assert.deepEqual(decoded?.map((e) => [e.name, Buffer.from(e.blob)]), entries.map((e) => [e.name, e.blob]));
  });

  it('treats a pkcs11 (version byte 1) or transit ("T") blob as an older single-seal blob', () => {
    assert.equal(decodeMultiBlob(Buffer.from([1, 0, 0, 0x10, 0x87])), undefined);
    assert.equal(decodeMultiBlob(Buffer.from('T\u0001abc')), undefined);
  });

  it('refuses truncated, padded and unknown-version blobs with a 400 that shows no bytes', () => {
    const good = encodeMultiBlob([{ name: 'a', blob: Buffer.from('secretbytes') }]);
    for (const bad of [good.subarray(0, good.length - 1), Buffer.concat([good, Buffer.from([0])]), Buffer.from([0x4d, 9, 0])]) {
      assert.throws(() => decodeMultiBlob(bad), (err: any) => err.status === 400 && !String(err.message).includes('secretbytes'));
    }
  });
});
