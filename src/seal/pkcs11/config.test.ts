import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pkcs11js from 'pkcs11js';
import { parseMechanism, resolveConfig, type Pkcs11SealConfig } from './config.ts';

const base: Pkcs11SealConfig = {
  lib: '/usr/lib/softhsm/libsofthsm2.so',
  tokenLabel: 'tok',
  pin: '1234',
  keyLabel: 'k',
  generateKey: false,
  forceRwSession: false,
  rsaEncryptLocal: false,
};

describe('pkcs11 seal config', () => {
  it('parses mechanism names, decimal and 0x-hex numbers', () => {
    assert.equal(parseMechanism('CKM_AES_GCM', 'mechanism'), pkcs11js.CKM_AES_GCM);
    assert.equal(parseMechanism('4229', 'mechanism'), pkcs11js.CKM_AES_CBC_PAD);
    assert.equal(parseMechanism('0x1087', 'mechanism'), pkcs11js.CKM_AES_GCM);
    assert.throws(() => parseMechanism('CKM_NOPE', 'mechanism'), /mechanism "CKM_NOPE" is not a known PKCS#11 mechanism/);
  });

  it('defaults to AES-GCM, SHA-256 OAEP and max_parallel 1', () => {
    const resolved = resolveConfig(base);
    assert.equal(resolved.mechanism, 'aes-gcm');
    assert.equal(resolved.rsaOaepHash.name, 'sha256');
    assert.equal(resolved.maxParallel, 1);
  });

  it('reads slot as decimal or hex and key ids as hex', () => {
    const resolved = resolveConfig({ ...base, tokenLabel: undefined, slot: '0x10', keyId: '0xA1b2' });
    assert.equal(resolved.slotId, 16n);
    assert.deepEqual(resolved.keyId, Buffer.from([0xa1, 0xb2]));
  });

  for (const [what, change, message] of [
    ['neither slot nor token_label', { tokenLabel: undefined }, /one of slot or token_label is required/],
    ['a missing pin', { pin: '' }, /pin is required/],
    ['CBC without hmac_key_label', { mechanism: 'CKM_AES_CBC_PAD' }, /hmac_key_label is required/],
    ['an HMAC mechanism other than SHA-256', { hmacMechanism: 'CKM_SHA_1_HMAC' }, /hmac_mechanism must be CKM_SHA256_HMAC/],
    ['an unknown rsa_oaep_hash', { rsaOaepHash: 'md5' }, /rsa_oaep_hash "md5" must be one of/],
    ['a zero max_parallel', { maxParallel: 0 }, /max_parallel must be a positive integer/],
    ['an odd-length key_id', { keyId: 'abc' }, /key_id must be an even number of hex digits/],
    ['a non-numeric slot', { slot: 'first' }, /slot "first" must be a decimal or 0x-hex number/],
  ] as const) {
    it(`rejects ${what} naming the parameter`, () => {
      assert.throws(() => resolveConfig({ ...base, ...change }), (err: Error) => {
        assert.match(err.message, message);
        assert.ok(!err.message.includes('1234'));
        return true;
      });
    });
  }
});
