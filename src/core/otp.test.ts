import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { TresorError } from './errors.ts';
import { decodeToken, encodeToken, generateOtp, parseBase64 } from './otp.ts';

/** Feeds the given bytes in order, in batches of whatever size is asked for, and records each request. */
function scriptedRandom(bytes: number[]) {
  const requests: number[] = [];
  let next = 0;
  const source = (n: number): Buffer => {
    requests.push(n);
    const batch = Buffer.alloc(n);
    for (let i = 0; i < n; i++) batch[i] = bytes[next++ % bytes.length]!;
    return batch;
  };
  return { source, requests };
}

const isBadRequest = (err: unknown) => err instanceof TresorError && err.status === 400;

describe('generateOtp', () => {
  it('produces base62 strings of the requested length', () => {
    for (const length of [0, 1, 26, 28, 100]) {
      const otp = generateOtp(length, randomBytes);
      assert.equal(otp.length, length);
      assert.match(otp, /^[A-Za-z0-9]*$/);
    }
  });

  it("maps bytes with Vault's alphabet and discards bytes >= 248 to avoid modulo bias", () => {
    // 0 -> 'A', 61 -> '9', 62 wraps to 'A', 247 -> '9', 248 and 255 are dropped, 1 -> 'B'.
    const { source } = scriptedRandom([0, 61, 62, 247, 248, 255, 1]);
    assert.equal(generateOtp(5, source), 'A9A9B');
  });

  it('asks for more random bytes when rejected ones leave the OTP short', () => {
    const { source, requests } = scriptedRandom([255, 255, 255, 7]);
    assert.equal(generateOtp(4, source), 'HHHH');
    assert.ok(requests.length > 1);
  });

  it('uses every base62 character given enough draws', () => {
    const seen = new Set(generateOtp(5000, randomBytes));
    assert.equal(seen.size, 62);
  });

  it('rejects negative or fractional lengths', () => {
    assert.throws(() => generateOtp(-1, randomBytes), isBadRequest);
    assert.throws(() => generateOtp(2.5, randomBytes), isBadRequest);
  });
});

describe('encodeToken / decodeToken', () => {
  it('round-trips an hvs token under a same-length OTP', () => {
    const token = 'hvs.' + generateOtp(24, randomBytes);
    const otp = generateOtp(token.length, randomBytes);
    const encoded = encodeToken(token, otp);
    assert.notEqual(encoded, token);
    assert.equal(decodeToken(encoded, otp), token);
  });

  it('emits unpadded standard base64 of token XOR otp (hand-computed vector)', () => {
    // 'A'^'a' = 'B'^'b' = 0x20; base64 of 0x20 0x20 is "ICA=" and Vault drops the padding.
    assert.equal(encodeToken('AB', 'ab'), 'ICA');
  });

  it('matches a transcript from a real Vault generate-root run', () => {
    // `vault operator generate-root -decode=... -otp=...` as recorded in the
    // public repo shifty21/scone (resources/vault/vault-experiments/commands.bash).
    const encoded = 'PEQKFApwIxY5cFQyLUBHB04gNyUVAyZrDng';
    const otp = 'OjsNO3DATFaYTw1a7UvdftASTM';
    const token = decodeToken(encoded, otp);
    assert.match(token, /^s\.[A-Za-z0-9]{24}$/);
    assert.equal(encodeToken(token, otp), encoded);
  });

  it('decodes padded base64 as well as unpadded', () => {
    assert.equal(decodeToken('ICA=', 'ab'), 'AB');
    assert.equal(decodeToken('ICA', 'ab'), 'AB');
  });

  it('refuses an OTP whose length differs from the token', () => {
    assert.throws(() => encodeToken('someToken', 'short'), isBadRequest);
    assert.throws(() => decodeToken('ICA', 'abc'), isBadRequest);
  });

  it('refuses empty tokens and OTPs', () => {
    assert.throws(() => encodeToken('', 'x'), /no token provided/);
    assert.throws(() => encodeToken('x', ''), /no otp provided/);
    assert.throws(() => decodeToken('ICA', ''), /no otp provided/);
  });

  it('refuses malformed base64 instead of silently skipping characters', () => {
    assert.throws(() => decodeToken('IC*A', 'ab'), /not valid base64/);
    assert.throws(() => decodeToken('I', 'a'), /not valid base64/);
    assert.throws(() => decodeToken('ICA==', 'ab'), /not valid base64/);
  });
});

describe('parseBase64', () => {
  it('accepts url-safe characters only when asked', () => {
    assert.equal(parseBase64('-_8'), undefined);
    assert.deepEqual(parseBase64('-_8', { urlSafe: true }), Buffer.from([0xfb, 0xff]));
  });

  it('rejects padding in the middle and misplaced padding', () => {
    assert.equal(parseBase64('IC=A'), undefined);
    assert.equal(parseBase64('ICA=='), undefined);
    assert.deepEqual(parseBase64('ICAg'), Buffer.from('   '));
  });
});
