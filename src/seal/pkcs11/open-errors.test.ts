import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { createSoftHsmToken, softHsmSealConfig, type SoftHsmToken } from '../../../test/helpers/softhsm.ts';
import { TresorError } from '../../core/errors.ts';
import { HsmError } from './errors.ts';
import { Pkcs11Seal } from './pkcs11-seal.ts';

const quiet = { info() {}, warn() {}, error() {} };

let token: SoftHsmToken;
before(() => {
  token = createSoftHsmToken({ label: 'open-errors' });
  process.env.SOFTHSM2_CONF = token.conf;
});
after(() => token.cleanup());

describe('Pkcs11Seal.open configuration errors', () => {
  it('a wrong PIN fails naming pin and CKR_PIN_INCORRECT without revealing the PIN', async () => {
    const wrongPin = '918273645';
    await assert.rejects(Pkcs11Seal.open(softHsmSealConfig(token, { pin: wrongPin }), { logger: quiet }), (err: unknown) => {
      assert.ok(err instanceof HsmError);
      assert.equal(err.ckr, 'CKR_PIN_INCORRECT');
      assert.match(err.message, /C_Login failed: CKR_PIN_INCORRECT \(0xA0\)/);
      assert.match(err.message, /"pin"/);
      assert.ok(!err.message.includes(wrongPin) && !String(err.stack).includes(wrongPin));
      return true;
    });
    // The token is still usable with the right PIN afterwards.
    const seal = await Pkcs11Seal.open(softHsmSealConfig(token), { logger: quiet });
    await seal.close();
  });

  it('a library path that cannot be loaded fails naming lib', async () => {
    await assert.rejects(
      Pkcs11Seal.open(softHsmSealConfig(token, { lib: '/nonexistent/libpkcs11.so' }), { logger: quiet }),
      (err: unknown) => err instanceof TresorError && /cannot load lib "\/nonexistent\/libpkcs11.so"/.test(err.message),
    );
  });

  it('an unknown token label fails naming token_label and CKR_TOKEN_NOT_PRESENT', async () => {
    await assert.rejects(
      Pkcs11Seal.open(softHsmSealConfig(token, { tokenLabel: 'no-such-token' }), { logger: quiet }),
      /CKR_TOKEN_NOT_PRESENT.*no token labelled "no-such-token".*"token_label"/,
    );
  });

  it('an unknown slot id fails naming slot and CKR_SLOT_ID_INVALID', async () => {
    await assert.rejects(
      Pkcs11Seal.open(softHsmSealConfig(token, { tokenLabel: undefined, slot: '4242' }), { logger: quiet }),
      /CKR_SLOT_ID_INVALID.*slot 4242.*"slot"/,
    );
  });

  it('a valid slot id selects the token', async () => {
    const first = await Pkcs11Seal.open(softHsmSealConfig(token), { logger: quiet });
    await first.close();
    const slot = /Slot (\d+)[\s\S]*?Label:\s+open-errors/.exec(
      execFileSync('softhsm2-util', ['--show-slots'], { env: token.env, encoding: 'utf8' }),
    )?.[1];
    assert.ok(slot);
    const seal = await Pkcs11Seal.open(softHsmSealConfig(token, { tokenLabel: undefined, slot }), { logger: quiet });
    try {
      assert.deepEqual(await seal.unwrap(await seal.wrap(Buffer.from('by slot'))), Buffer.from('by slot'));
    } finally {
      await seal.close();
    }
  });

  it('an unsupported mechanism is refused before the library is touched', async () => {
    await assert.rejects(
      Pkcs11Seal.open(softHsmSealConfig(token, { mechanism: 'CKM_DES3_CBC' }), { logger: quiet }),
      /mechanism "CKM_DES3_CBC" is not supported/,
    );
  });
});
