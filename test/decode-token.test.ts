/** `sys/decode-token` over HTTP: Vault's unauthenticated decoder of generate-root's encoded token. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TestServer, type Api } from './helpers/server.ts';
import { encodeToken, randomBase62 } from '../src/core/otp.ts';
import { randomBytes } from 'node:crypto';

describe('sys/decode-token', () => {
  let server: TestServer;
  let api: Api;
  before(async () => {
    server = await TestServer.startDev();
    api = server.api;
  });
  after(() => server.stop());

  it('decodes an encoded token with its OTP, without a token', async () => {
    const token = 'hvs.' + 'a'.repeat(24);
    const otp = await randomBase62(token.length, async (n) => randomBytes(n));
    const res = await api.put('sys/decode-token', { encoded_token: encodeToken(token, otp), otp }, '');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.data.token, token);
  });

  it('refuses empty, mismatched and malformed input with a 400 that echoes neither value', async () => {
    const otp = 'x'.repeat(28);
    const empty = await api.put('sys/decode-token', { encoded_token: '', otp }, '');
    assert.equal(empty.status, 400);
    assert.deepEqual(empty.body, { errors: ["provided 'encoded_token' or 'otp' is empty"] });
    const short = await api.put('sys/decode-token', { encoded_token: Buffer.from('abc').toString('base64'), otp }, '');
    assert.equal(short.status, 400);
    assert.ok(!JSON.stringify(short.body).includes(otp));
    const junk = await api.put('sys/decode-token', { encoded_token: '%%%not-base64%%%', otp }, '');
    assert.equal(junk.status, 400);
    assert.ok(!JSON.stringify(junk.body).includes('not-base64'));
    assert.equal((await api.get('sys/decode-token', '')).status, 405);
  });
});
