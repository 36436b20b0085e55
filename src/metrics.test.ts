import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hsmCalls, hsmErrors, instrumentPkcs11, pathClass, registry } from './metrics.ts';

describe('metrics', () => {
  it('classes paths by mount (sys/ and auth/ by their second segment), never by a secret name', () => {
    assert.equal(pathClass('secret/data/db-password'), 'secret');
    assert.equal(pathClass('sys/policies/acl/admin'), 'sys/policies');
    assert.equal(pathClass('sys/health'), 'sys/health');
    assert.equal(pathClass('auth/userpass/login/alice'), 'auth/userpass');
    assert.equal(pathClass('transit'), 'transit');
  });

  it('counts the calls and failures (by CKR name) of a wrapped module, sync and async, keeping results and this', async () => {
    class Fake {
      factor = 2;
      C_Sign(x: number) {
        return x * this.factor;
      }
      C_EncryptAsync(x: number) {
        return x < 0 ? Promise.reject(Object.assign(new Error('boom'), { code: 0x30 })) : Promise.resolve(x + 1);
      }
      C_Login() {
        throw Object.assign(new Error('pin'), { code: 0xa0 });
      }
      other() {
        return 'untouched';
      }
    }
    const names: Record<number, string> = { 0x30: 'CKR_DEVICE_ERROR', 0xa0: 'CKR_PIN_INCORRECT' };
    const m = instrumentPkcs11(new Fake(), (c) => names[c]);
    const value = async (metric: { get(): Promise<{ values: Array<{ labels: Record<string, unknown>; value: number }> }> }, labels: Record<string, string>) =>
      (await metric.get()).values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;
    const before = await value(hsmCalls, { function: 'C_Encrypt' });
    assert.equal(m.C_Sign(21), 42);
    assert.equal(await m.C_EncryptAsync(1), 2);
    await assert.rejects(m.C_EncryptAsync(-1), /boom/);
    assert.throws(() => m.C_Login(), /pin/);
    assert.equal(m.other(), 'untouched');
    assert.equal((await value(hsmCalls, { function: 'C_Encrypt' })) - before, 2);
    assert.ok((await value(hsmErrors, { function: 'C_Encrypt', ckr: 'CKR_DEVICE_ERROR' })) >= 1);
    assert.ok((await value(hsmErrors, { function: 'C_Login', ckr: 'CKR_PIN_INCORRECT' })) >= 1);
    assert.match(await registry.metrics(), /tresor_hsm_calls_total\{function="C_Sign"\} 1/);
  });
});
