import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSoftHsmToken, softHsmSealConfig, type SoftHsmToken } from '../../../test/helpers/softhsm.ts';
import type { SealHealth } from '../seal.ts';
import { HsmError } from './errors.ts';
import { FaultInjector } from './fault-injection.ts';
import { Pkcs11Seal } from './pkcs11-seal.ts';

let token: SoftHsmToken;
before(() => {
  token = createSoftHsmToken({ label: 'recovery-test' });
  process.env.SOFTHSM2_CONF = token.conf;
});
after(() => token.cleanup());

function recordingLogger() {
  const lines: string[] = [];
  const log = (msg: string) => void lines.push(msg);
  return { lines, logger: { info: log, warn: log, error: log } };
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

const fast = { heartbeatIntervalMs: 100, recoveryBackoffCapMs: 200 };

describe('recovery from a token that disappears', () => {
  it('goes unhealthy when the token directory is moved away and recovers by itself when it returns', async () => {
    const { lines, logger } = recordingLogger();
    const seal = await Pkcs11Seal.open(softHsmSealConfig(token), { logger, ...fast });
    const transitions: SealHealth[] = [];
    seal.onHealthChange((h) => transitions.push(h));
    const away = `${token.tokenDir}.away`;
    try {
      const blob = await seal.wrap(Buffer.from('survives the outage'));
      fs.renameSync(token.tokenDir, away);

      await waitFor('unhealthy', () => !seal.health().healthy);
      const down = seal.health();
      assert.ok(down.unhealthySince && !Number.isNaN(Date.parse(down.unhealthySince)));
      assert.match(down.lastError ?? '', /CKR_/);
      await assert.rejects(seal.wrap(Buffer.from('during outage')), (err: unknown) => {
        assert.ok(err instanceof HsmError);
        assert.match(err.message, /^pkcs11: \S+ failed: CKR_[A-Z_]+ \(0x[0-9A-F]+\)/);
        return true;
      });
      await sleep(500); // several heartbeats and recovery attempts while down

      fs.renameSync(away, token.tokenDir);
      await waitFor('healthy again', () => seal.health().healthy);
      assert.deepEqual(await seal.unwrap(blob), Buffer.from('survives the outage'));
      assert.deepEqual(await seal.unwrap(await seal.wrap(Buffer.from('after'))), Buffer.from('after'));

      assert.deepEqual(transitions.map((t) => t.healthy), [false, true]);
      const failureLogs = lines.filter((l) => /^HSM (heartbeat|call) failed: /.test(l));
      assert.equal(failureLogs.length, 1, `expected one failure line, got:\n${lines.join('\n')}`);
      assert.ok(lines.some((l) => l.startsWith('HSM healthy again')));
      assert.ok(!lines.some((l) => l.includes(token.pin)));
    } finally {
      if (fs.existsSync(away)) fs.renameSync(away, token.tokenDir);
      await seal.close();
    }
  });
});

describe('recovery from codes a real HSM returns after a restart', () => {
  for (const code of ['CKR_DEVICE_ERROR', 'CKR_SESSION_HANDLE_INVALID', 'CKR_CRYPTOKI_NOT_INITIALIZED']) {
    it(`an injected ${code} fails that call, then finalize+initialize restore service`, async () => {
      const faults = new FaultInjector();
      const { logger } = recordingLogger();
      const seal = await Pkcs11Seal.open(softHsmSealConfig(token), { logger, wrapModule: faults.wrap, ...fast });
      try {
        const blob = await seal.wrap(Buffer.from('before the fault'));
        const initsBefore = faults.calls.get('C_Initialize') ?? 0;
        faults.failNext('C_DecryptInit', code);
        await assert.rejects(seal.unwrap(blob), (err: unknown) => {
          assert.ok(err instanceof HsmError, String(err));
          assert.equal(err.ckr, code);
          assert.equal(err.status, 503);
          assert.match(err.message, new RegExp(`C_Decrypt failed: ${code}`));
          return true;
        });
        await waitFor('re-initialisation', async () => {
          try {
            return (await seal.unwrap(blob)).toString() === 'before the fault';
          } catch {
            return false;
          }
        });
        assert.ok((faults.calls.get('C_Finalize') ?? 0) >= 1);
        assert.ok((faults.calls.get('C_Initialize') ?? 0) > initsBefore);
        await waitFor('healthy', () => seal.health().healthy);
      } finally {
        await seal.close();
      }
    });
  }

  it('recovers when the library really is finalized behind its back', async () => {
    const faults = new FaultInjector();
    const { logger } = recordingLogger();
    const seal = await Pkcs11Seal.open(softHsmSealConfig(token), { logger, wrapModule: faults.wrap, ...fast });
    try {
      faults.target!.C_Finalize();
      await assert.rejects(seal.wrap(Buffer.from('x')), { ckr: 'CKR_CRYPTOKI_NOT_INITIALIZED' });
      await waitFor('healthy', async () => (await seal.checkHealth()).healthy);
      assert.deepEqual(await seal.unwrap(await seal.wrap(Buffer.from('back'))), Buffer.from('back'));
    } finally {
      await seal.close();
    }
  });

  it('calls fail fast with the cause while re-initialisation keeps failing', async () => {
    const faults = new FaultInjector();
    const { logger } = recordingLogger();
    const seal = await Pkcs11Seal.open(softHsmSealConfig(token), { logger, wrapModule: faults.wrap, ...fast });
    try {
      faults.failNext('C_Initialize', 'CKR_GENERAL_ERROR', 5);
      faults.failNext('C_EncryptInit', 'CKR_DEVICE_ERROR');
      await assert.rejects(seal.wrap(Buffer.from('x')), { ckr: 'CKR_DEVICE_ERROR' });
      await assert.rejects(seal.wrap(Buffer.from('y')), (err: unknown) => err instanceof HsmError && err.status === 503);
      await waitFor('initialize retries used up', () => faults.remaining('C_Initialize') === 0);
      await waitFor('healthy', () => seal.health().healthy);
      assert.deepEqual(await seal.unwrap(await seal.wrap(Buffer.from('ok'))), Buffer.from('ok'));
    } finally {
      await seal.close();
    }
  });

  it('recovery never retries a PIN the token rejects', async () => {
    const faults = new FaultInjector();
    const { lines, logger } = recordingLogger();
    const seal = await Pkcs11Seal.open(softHsmSealConfig(token), { logger, wrapModule: faults.wrap, ...fast });
    try {
      const loginsBefore = faults.calls.get('C_Login') ?? 0;
      faults.failNext('C_Login', 'CKR_PIN_INCORRECT', 100);
      faults.failNext('C_EncryptInit', 'CKR_DEVICE_ERROR');
      await assert.rejects(seal.wrap(Buffer.from('x')), { ckr: 'CKR_DEVICE_ERROR' });
      await waitFor('give-up log', () => lines.some((l) => l.includes('giving up re-initialising')));
      await sleep(600);
      assert.equal((faults.calls.get('C_Login') ?? 0) - loginsBefore, 1);
      await assert.rejects(seal.wrap(Buffer.from('y')), { ckr: 'CKR_PIN_INCORRECT' });
      assert.equal(seal.health().healthy, false);
    } finally {
      await seal.close();
    }
  });
});
