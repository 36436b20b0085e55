import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSoftHsmToken, pkcs11Tool, softHsmSealConfig, type SoftHsmToken } from '../../../test/helpers/softhsm.ts';
import { TresorError } from '../../core/errors.ts';
import { decodeBlob, encodeBlob } from './blob.ts';
import type { Pkcs11SealConfig } from './config.ts';
import { FaultInjector } from './fault-injection.ts';
import { Pkcs11Seal } from './pkcs11-seal.ts';

const quiet = { info() {}, warn() {}, error() {} };

let token: SoftHsmToken;
before(() => {
  token = createSoftHsmToken({ label: 'seal-test' });
  process.env.SOFTHSM2_CONF = token.conf;
});
after(() => token.cleanup());

async function withSeal<T>(overrides: Partial<Pkcs11SealConfig>, fn: (seal: Pkcs11Seal) => Promise<T>): Promise<T> {
  const seal = await Pkcs11Seal.open(softHsmSealConfig(token, overrides), { logger: quiet });
  try {
    return await fn(seal);
  } finally {
    await seal.close();
  }
}

const cbc = { mechanism: 'CKM_AES_CBC_PAD', keyLabel: 'cbc-key', hmacKeyLabel: 'cbc-hmac' };
// SoftHSM 2.6 implements OAEP with SHA-1 only (other hashes give CKR_ARGUMENTS_BAD).
const rsa = { mechanism: 'CKM_RSA_PKCS_OAEP', keyLabel: 'rsa-key', rsaOaepHash: 'sha1' };

for (const [name, overrides] of [
  ['AES-GCM', {}],
  ['AES-CBC-PAD + HMAC-SHA256', cbc],
  ['RSA-OAEP via the HSM', rsa],
  ['RSA-OAEP with rsa_encrypt_local', { ...rsa, rsaEncryptLocal: true }],
] as const) {
  describe(`${name} wrapping`, () => {
    it('unwrap returns the wrapped plaintext, with and without aad', () =>
      withSeal(overrides, async (seal) => {
        const plaintext = Buffer.from('root key material 0123456789abcdef');
        assert.deepEqual(await seal.unwrap(await seal.wrap(plaintext)), plaintext);
        const aad = Buffer.from('core/keyring');
        assert.deepEqual(await seal.unwrap(await seal.wrap(plaintext, aad), aad), plaintext);
        assert.deepEqual(await seal.unwrap(await seal.wrap(Buffer.alloc(0))), Buffer.alloc(0));
      }));

    it('unwrap rejects a blob whose ciphertext was altered, with a generic 400', () =>
      withSeal(overrides, async (seal) => {
        const blob = decodeBlob(await seal.wrap(Buffer.from('secret')));
        blob.ciphertext[0] ^= 0x01;
        await assert.rejects(seal.unwrap(encodeBlob(blob)), (err: unknown) => {
          assert.ok(err instanceof TresorError);
          assert.equal(err.status, 400);
          assert.match(err.message, /does not authenticate/);
          assert.doesNotMatch(err.message, /CKR_|tag|padding/i);
          return true;
        });
      }));

    it('unwrap rejects a blob when the aad differs from the one it was wrapped with', () =>
      withSeal(overrides, async (seal) => {
        const blob = await seal.wrap(Buffer.from('secret'), Buffer.from('path/a'));
        await assert.rejects(seal.unwrap(blob, Buffer.from('path/b')), /does not authenticate/);
        await assert.rejects(seal.unwrap(blob), /does not authenticate/);
      }));
  });
}

describe('blob metadata', () => {
  it('unwrap rejects a blob whose IV was altered in CBC mode (the HMAC covers it)', () =>
    withSeal(cbc, async (seal) => {
      const blob = decodeBlob(await seal.wrap(Buffer.from('secret')));
      blob.iv[0] ^= 0x80;
      await assert.rejects(seal.unwrap(encodeBlob(blob)), /does not authenticate/);
    }));

  it('unwrap rejects truncated bytes as malformed', () =>
    withSeal({}, async (seal) => {
      const blob = await seal.wrap(Buffer.from('secret'));
      await assert.rejects(seal.unwrap(blob.subarray(0, blob.length - 3)), /malformed wrapped blob/);
    }));

  it('keyInfo names the pkcs11 type, the key label and id, and the mechanism', () =>
    withSeal({}, async (seal) => {
      const info = seal.keyInfo();
      assert.equal(info.type, 'pkcs11');
      assert.match(info.keyId, /^label=tresor-key id=[0-9a-f]{32}$/);
      assert.equal(info.mechanism, 'CKM_AES_GCM');
    }));
});

describe('key generation', () => {
  it('generate_key creates sensitive, non-extractable AES and HMAC keys on the token', async () => {
    await withSeal({ ...cbc, keyLabel: 'gen-aes', hmacKeyLabel: 'gen-hmac' }, async (seal) => {
      assert.equal(seal.hasKey(), true);
    });
    const listing = pkcs11Tool(token, ['--list-objects', '--type', 'secrkey']);
    for (const label of ['gen-aes', 'gen-hmac']) {
      const section = listing.split(/\n(?=Secret Key Object)/).find((s) => s.includes(`label:      ${label}\n`));
      assert.ok(section, `no object labelled ${label} in:\n${listing}`);
      assert.match(section, /Access:\s+sensitive, always sensitive, never extractable/);
    }
    assert.match(listing, /AES length 32[\s\S]*label:\s+gen-aes/);
  });

  it('generate_key creates an RSA pair whose private half is sensitive and non-extractable', async () => {
    await withSeal({ ...rsa, keyLabel: 'gen-rsa' }, async (seal) => {
      assert.equal(seal.hasKey(), true);
    });
    const listing = pkcs11Tool(token, ['--list-objects', '--type', 'privkey']);
    const section = listing.split(/\n(?=Private Key Object)/).find((s) => s.includes('label:      gen-rsa\n'));
    assert.ok(section, `no private key labelled gen-rsa in:\n${listing}`);
    assert.match(section, /RSA/);
    assert.match(section, /Access:\s+sensitive, always sensitive, never extractable/);
  });

  it('open without generate_key and without a key succeeds but wrap refuses clearly', () =>
    withSeal({ keyLabel: 'absent-key', generateKey: false }, async (seal) => {
      assert.equal(seal.hasKey(), false);
      await assert.rejects(seal.wrap(Buffer.from('x')), {
        message: 'pkcs11 seal: no key found under key_label "absent-key" and generate_key is not set',
      });
    }));

  it('open fails saying so when two keys share the key label', async () => {
    pkcs11Tool(token, ['--keygen', '--key-type', 'AES:32', '--label', 'twin', '--id', 'a1', '--sensitive']);
    pkcs11Tool(token, ['--keygen', '--key-type', 'AES:32', '--label', 'twin', '--id', 'a2', '--sensitive']);
    await assert.rejects(
      Pkcs11Seal.open(softHsmSealConfig(token, { keyLabel: 'twin', generateKey: false }), { logger: quiet }),
      /more than one key object found under label "twin"/,
    );
    // The id disambiguates.
    await withSeal({ keyLabel: 'twin', keyId: 'a2', generateKey: false }, async (seal) => {
      assert.match(seal.keyInfo().keyId, /id=a2$/);
      assert.deepEqual(await seal.unwrap(await seal.wrap(Buffer.from('ok'))), Buffer.from('ok'));
    });
  });
});

describe('key switch', () => {
  it('blobs made by the previous key_label still unwrap, and needsRewrap says so', async () => {
    const plaintext = Buffer.from('made under key A');
    const oldBlob = await withSeal({ keyLabel: 'switch-a' }, (seal) => seal.wrap(plaintext));
    await withSeal({ keyLabel: 'switch-b' }, async (seal) => {
      assert.deepEqual(await seal.unwrap(oldBlob), plaintext);
      assert.equal(seal.needsRewrap(oldBlob), true);
      const newBlob = await seal.wrap(plaintext);
      assert.equal(seal.needsRewrap(newBlob), false);
    });
  });
});

describe('random and concurrency', () => {
  it('generateRandom returns fresh bytes from C_GenerateRandom and counts the call', () =>
    withSeal({}, async (seal) => {
      const before = seal.stats().random;
      const a = await seal.generateRandom(32);
      const b = await seal.generateRandom(32);
      assert.equal(a.length, 32);
      assert.notDeepEqual(a, b);
      assert.equal(seal.stats().random, before + 2);
    }));

  it('500 concurrent wraps with max_parallel 4 all complete and never exceed 4 HSM calls in flight', async () => {
    // The proxy counts async PKCS#11 calls independently of the pool's own bookkeeping.
    const probe = new FaultInjector();
    const seal = await Pkcs11Seal.open(softHsmSealConfig(token, { maxParallel: 4 }), { logger: quiet, wrapModule: probe.wrap });
    try {
      const inputs = Array.from({ length: 500 }, (_, i) => Buffer.from(`secret number ${i}`));
      const blobs = await Promise.all(inputs.map((p) => seal.wrap(p)));
      const outputs = await Promise.all(blobs.map((b) => seal.unwrap(b)));
      assert.deepEqual(outputs, inputs);
      assert.equal(probe.peakAsyncInFlight, 4);
      assert.equal(seal.stats().peakInFlight, 4);
      assert.equal(probe.calls.get('C_EncryptAsync'), 500);
    } finally {
      await seal.close();
    }
  });

  it('max_parallel defaults to 1, as in Vault', async () => {
    const probe = new FaultInjector();
    const seal = await Pkcs11Seal.open(softHsmSealConfig(token), { logger: quiet, wrapModule: probe.wrap });
    try {
      await Promise.all(Array.from({ length: 50 }, () => seal.wrap(Buffer.from('x'))));
      assert.equal(probe.peakAsyncInFlight, 1);
    } finally {
      await seal.close();
    }
  });
});
