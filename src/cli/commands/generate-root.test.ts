import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../args.ts';
import { decodeRootToken, randomBase62 } from './generate-root.ts';

/** What the server does: base64(token XOR otp), without padding. */
function encode(token: string, otp: string): string {
  const t = Buffer.from(token);
  const o = Buffer.from(otp);
  return Buffer.from(t.map((b, i) => b ^ o[i]!)).toString('base64').replace(/=+$/, '');
}

describe('decodeRootToken', () => {
  const token = 'hvs.AbCdEfGhIjKlMnOpQrStUvWx';
  const otp = randomBase62(token.length);

  it('recovers the token from an unpadded encoding', () => {
    assert.equal(decodeRootToken(encode(token, otp), otp), token);
  });

  it('also accepts standard padded base64', () => {
    const padded = encode(token, otp).padEnd(Math.ceil(encode(token, otp).length / 4) * 4, '=');
    assert.equal(decodeRootToken(padded, otp), token);
  });

  it('rejects an OTP of the wrong length', () => {
    assert.throws(() => decodeRootToken(encode(token, otp), otp.slice(1)), (e: unknown) => e instanceof UsageError && /differ in length/.test(e.message));
  });

  it('rejects text that is not base64', () => {
    assert.throws(() => decodeRootToken('not*base64!', otp), /not valid base64/);
  });

  it('gives a different (wrong) token for a different OTP of the same length', () => {
    assert.notEqual(decodeRootToken(encode(token, otp), randomBase62(otp.length)), token);
  });
});

describe('randomBase62', () => {
  it('returns strings of the requested length from the base62 alphabet', () => {
    const s = randomBase62(28);
    assert.equal(s.length, 28);
    assert.match(s, /^[A-Za-z0-9]{28}$/);
    assert.notEqual(s, randomBase62(28));
  });
});
