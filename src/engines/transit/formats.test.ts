/**
 * Transit's format helpers: Go's base64 error offsets, big-integer JSON,
 * the curve constants behind prehashed ECDSA, and every key type stored in
 * Vault's policy JSON and loaded back by a fresh engine (a restart), plus
 * Tresor's first stored form.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createECDH, createHash, generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { MemoryLogicalStorage, testRequest } from '../testing-storage.ts';
import type { LogicalResponse, Operation } from '../types.ts';
import { createTransitBackend } from './index.ts';
import { goBase64Decode } from './go-base64.ts';
import { parseBigJson, stringifyBigJson } from './vault-json.ts';
import { bigFromBytes, bigToBytes, CURVE_PARAMS, signDigest, verifyDigest } from './ecdsa-digest.ts';
import { CURVES, KEY_TYPES, type EcdsaType } from './key-types.ts';

const b64 = (data: string | Buffer) => Buffer.from(data).toString('base64');

function mount(storage = new MemoryLogicalStorage()) {
  const backend = createTransitBackend({});
  const call = async (operation: Operation, path: string, data: Record<string, unknown> = {}): Promise<LogicalResponse> => {
    const req = testRequest(storage, operation, path, data);
    req.randomBytes = async (n) => randomBytes(n);
    const res = await backend.handle(req);
    assert.ok(res);
    return res;
  };
  return { storage, call, write: (path: string, data: Record<string, unknown> = {}) => call('update', path, data) };
}

describe('Go base64 (StdEncoding) as Vault decodes', () => {
  const cases: Array<[string, string | number]> = [
    ['', ''], ['QQ==', 'A'], ['QUI=', 'AB'], ['QUJD', 'ABC'], ['QU\nJD', 'ABC'], ['QUJD\r\n', 'ABC'], ['QUJD\nQQ==', 'ABCA'],
    ['Q', 0], ['QQ', 0], ['QQ=', 3], ['QQ=x', 2], ['QUJD=', 4], ['=QUJ', 0], ['Q===', 1], ['QQ==QQ==', 4], ['QUJ!', 3],
    ['QUJD!QUJ', 4], ['é', 0], ['QQ==\n', 'A'], ['Q\n', 1], ['QQ=\n=', 'A'], ['-_8=', 0],
  ];
  for (const [text, expected] of cases) {
    it(`${JSON.stringify(text)} → ${typeof expected === 'number' ? `error at byte ${expected}` : JSON.stringify(expected)}`, () => {
      const result = goBase64Decode(text);
      if (typeof expected === 'number') assert.deepEqual(result, { errorAt: expected });
      else assert.deepEqual(result, { bytes: Buffer.from(expected) });
    });
  }
});

describe('big-integer JSON (Go big.Int)', () => {
  it('integer literals longer than a double are bigints both ways; strings holding digits are left alone', () => {
    const n = 2n ** 521n - 1n;
    const text = `{"N":${n},"E":65537,"s":"12345678901234567890","list":[${n},-${n}],"neg":-1,"f":1.5e3}`;
    const parsed = parseBigJson(text) as Record<string, unknown>;
    assert.deepEqual(parsed, { N: n, E: 65537, s: '12345678901234567890', list: [n, -n], neg: -1, f: 1500 });
    assert.equal(stringifyBigJson(parsed), `{"N":${n},"E":65537,"s":"12345678901234567890","list":[${n},-${n}],"neg":-1,"f":1500}`);
  });
});

describe('prehashed ECDSA arithmetic', () => {
  for (const type of Object.keys(CURVE_PARAMS) as EcdsaType[]) {
    it(`${type}: the constants are the curve's (G from OpenSSL, n-1 gives -G), and digests sign and verify against Node`, () => {
      const curve = CURVE_PARAMS[type];
      const size = CURVES[type].bytes;
      const point = (d: bigint) => {
        const ecdh = createECDH(CURVES[type].node);
        ecdh.setPrivateKey(bigToBytes(d, size));
        const pub = ecdh.getPublicKey();
        return [bigFromBytes(pub.subarray(1, 1 + size)), bigFromBytes(pub.subarray(1 + size))];
      };
      assert.deepEqual(point(1n), [curve.gx, curve.gy]);
      assert.deepEqual(point(curve.n - 1n), [curve.gx, curve.p - curve.gy]);
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: CURVES[type].node });
      const jwk = privateKey.export({ format: 'jwk' });
      const [x, y, d] = [jwk.x, jwk.y, jwk.d].map((v) => bigFromBytes(Buffer.from(v!, 'base64url')));
      const message = Buffer.from('prehashed');
      for (const hash of ['sha256', 'sha512', 'sha1']) {
        const digest = createHash(hash).update(message).digest();
        const { r, s } = signDigest(type, digest, d);
        assert.ok(verify(hash, message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.concat([bigToBytes(r, size), bigToBytes(s, size)])), `${hash} sign`);
        const theirs = sign(hash, message, { key: privateKey, dsaEncoding: 'ieee-p1363' });
        const [tr, ts] = [bigFromBytes(theirs.subarray(0, size)), bigFromBytes(theirs.subarray(size))];
        assert.equal(verifyDigest(type, digest, tr, ts, x, y), true, `${hash} verify`);
        assert.equal(verifyDigest(type, createHash(hash).update('other').digest(), tr, ts, x, y), false);
        assert.equal(verifyDigest(type, digest, tr, curve.n - ts + curve.n, x, y), false, 's out of range');
      }
    });
  }
});

describe('stored keys survive a restart (a fresh engine over the same storage)', () => {
  for (const type of KEY_TYPES) {
    it(`${type}`, async () => {
      const storage = new MemoryLogicalStorage();
      const first = mount(storage);
      await first.write(`keys/k`, { type, exportable: true });
      await first.write('keys/k/rotate');
      const described = (await first.call('read', 'keys/k')).data;
      const exported = (await first.call('read', 'export/hmac-key/k')).data;
      const sample = await sampleOperation(first, type);
      const second = mount(storage);
      assert.deepEqual((await second.call('read', 'keys/k')).data, described);
      assert.deepEqual((await second.call('read', 'export/hmac-key/k')).data, exported);
      await sample(second);
    });
  }

  /** Does something with the key in `m`, and returns a check that another engine can undo or verify it. */
  async function sampleOperation(m: ReturnType<typeof mount>, type: string): Promise<(other: ReturnType<typeof mount>) => Promise<void>> {
    const input = b64('restart me');
    if (type === 'hmac') {
      const { hmac } = (await m.write('hmac/k', { input })).data!;
      return async (other) => assert.equal((await other.write('verify/k', { input, hmac })).data?.valid, true);
    }
    if (type.startsWith('ecdsa') || type === 'ed25519' || type.startsWith('rsa')) {
      const { signature } = (await m.write('sign/k', { input })).data!;
      const check = async (other: ReturnType<typeof mount>) => assert.equal((await other.write('verify/k', { input, signature })).data?.valid, true);
      if (!type.startsWith('rsa')) return check;
      const { ciphertext } = (await m.write('encrypt/k', { plaintext: input })).data!;
      return async (other) => {
        await check(other);
        assert.equal((await other.write('decrypt/k', { ciphertext })).data?.plaintext, input);
      };
    }
    const { ciphertext } = (await m.write('encrypt/k', { plaintext: input })).data!;
    return async (other) => assert.equal((await other.write('decrypt/k', { ciphertext })).data?.plaintext, input);
  }

  it('Tresor\'s first stored form (type names, seconds) still loads and decrypts', async () => {
    const storage = new MemoryLogicalStorage();
    const key = randomBytes(32);
    const legacy = {
      name: 'old', type: 'aes256-gcm96', latest_version: 1, min_decryption_version: 1, min_encryption_version: 0, deletion_allowed: false,
      auto_rotate_period: 0, keys: { 1: { key: b64(key), hmac_key: b64(randomBytes(32)), creation_time: 1700000000 } },
    };
    await storage.put('policy/old', Buffer.from(JSON.stringify(legacy)));
    const m = mount(storage);
    const info = (await m.call('read', 'keys/old')).data!;
    assert.deepEqual([info.type, info.keys], ['aes256-gcm96', { 1: 1700000000 }]);
    const { ciphertext } = (await m.write('encrypt/old', { plaintext: b64('x') })).data!;
    assert.equal((await mount(storage).write('decrypt/old', { ciphertext })).data?.plaintext, b64('x'));
  });
});
