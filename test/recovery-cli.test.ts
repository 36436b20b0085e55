/**
 * The README operator's guide forms of `tresor operator rekey` and
 * `tresor operator generate-root`, run as real CLI child processes against
 * real servers (Shamir, and SoftHSM2 for -target=recovery). Output is parsed
 * the way an operator reads it: the table rows and the "Key N:" lines.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Api, runCli, TestServer, type CliResult } from './helpers/server.ts';
import { createSoftHsmToken, hsmServerConfig, type SoftHsmToken } from './helpers/softhsm.ts';
import { pgpDecrypt, pgpPair } from './recovery-helpers.ts';

/** Runs the CLI against `addr` and fails the test (showing stderr) unless it exits 0. */
async function cliOk(addr: string, args: string[]): Promise<string> {
  const res = await runCli(args, { addr });
  assert.equal(res.code, 0, `tresor ${args.join(' ')} exited ${res.code}: ${res.stderr}`);
  return res.stdout;
}

/** The value of table row `name` (e.g. "Nonce") in CLI output. */
function row(output: string, name: string): string {
  const match = new RegExp(`^${name}\\s+(\\S+)\\s*$`, 'm').exec(output);
  assert.ok(match, `no "${name}" row in:\n${output}`);
  return match[1]!;
}

/** The shares printed as "Key 1: ...", "Key 2: ..." by a finished rekey. */
function printedKeys(output: string): string[] {
  return [...output.matchAll(/^Key \d+: (\S+)$/gm)].map((m) => m[1]!);
}

/**
 * A whole root generation through the CLI: `-init`, `-nonce=N KEY` per
 * holder, `-decode=ENC -otp=OTP`. Returns the decoded token, or the failing
 * CLI result when a share is refused (the attempt is then cancelled).
 */
async function generateRootByCli(addr: string, keys: string[]): Promise<{ token?: string; refused?: CliResult }> {
  const init = await cliOk(addr, ['operator', 'generate-root', '-init']);
  const nonce = row(init, 'Nonce');
  const otp = row(init, 'OTP');
  assert.equal(otp.length, Number(row(init, 'OTP Length')));
  let last = '';
  for (const key of keys) {
    const res = await runCli(['operator', 'generate-root', `-nonce=${nonce}`, key], { addr });
    if (res.code !== 0) {
      await cliOk(addr, ['operator', 'generate-root', '-cancel']);
      return { refused: res };
    }
    last = res.stdout;
  }
  assert.equal(row(last, 'Complete'), 'true', last);
  const token = (await cliOk(addr, ['operator', 'generate-root', `-decode=${row(last, 'Encoded Token')}`, `-otp=${otp}`])).trim();
  return { token };
}

/** Asserts `token` is a working root token on `api`. */
async function assertRootToken(api: Api, token: string | undefined): Promise<void> {
  assert.ok(token, 'no token was generated');
  const lookup = await api.get('auth/token/lookup-self', token);
  assert.equal(lookup.status, 200, JSON.stringify(lookup.body));
  assert.deepEqual(lookup.body.data.policies, ['root']);
}

/**
 * Rekeys through the CLI with `target` flags: `-init -key-shares=3
 * -key-threshold=2`, then `-nonce=N KEY` for each of `keys`; returns the
 * new shares printed by the last holder's command.
 */
async function rekeyByCli(addr: string, targetFlags: string[], keys: string[]): Promise<string[]> {
  const init = await cliOk(addr, ['operator', 'rekey', ...targetFlags, '-init', '-key-shares=3', '-key-threshold=2']);
  const nonce = row(init, 'Nonce');
  assert.equal(row(init, 'New Shares'), '3');
  let last = '';
  for (const key of keys) last = await cliOk(addr, ['operator', 'rekey', ...targetFlags, `-nonce=${nonce}`, key]);
  assert.match(last, new RegExp(`Operation nonce: ${nonce}`));
  const newKeys = printedKeys(last);
  assert.equal(newKeys.length, 3, last);
  return newKeys;
}

describe('operator rekey and generate-root through the CLI', { concurrency: true }, () => {
  describe('Shamir seal', { concurrency: false }, () => {
    let server: TestServer;
    let addr: string;
    let keys: string[];

    before(async () => {
      server = await TestServer.start();
      addr = server.api.addr;
      const init = await server.api.put('sys/init', { secret_shares: 3, secret_threshold: 2 });
      assert.equal(init.status, 200, JSON.stringify(init.body));
      keys = init.body.keys;
      for (const key of keys.slice(0, 2)) await server.api.put('sys/unseal', { key });
    });
    after(async () => {
      await server?.kill();
      server?.cleanup();
    });

    it('rekey -status shows an attempt while the holders give their keys, and nothing once it is done', async () => {
      const init = await cliOk(addr, ['operator', 'rekey', '-init', '-key-shares=3', '-key-threshold=2']);
      const nonce = row(init, 'Nonce');
      const midway = await cliOk(addr, ['operator', 'rekey', `-nonce=${nonce}`, keys[0]!]);
      assert.equal(row(midway, 'Rekey Progress'), '1/2');
      const status = await cliOk(addr, ['operator', 'rekey', '-status']);
      assert.deepEqual([row(status, 'Nonce'), row(status, 'Started'), row(status, 'Rekey Progress')], [nonce, 'true', '1/2']);

      const done = await cliOk(addr, ['operator', 'rekey', `-nonce=${nonce}`, keys[1]!]);
      const newKeys = printedKeys(done);
      assert.equal(newKeys.length, 3, done);
      assert.match(done, /rekeyed with 3 key shares and a key threshold of 2/);
      assert.equal(row(await cliOk(addr, ['operator', 'rekey', '-status']), 'Started'), 'false');
      keys = newKeys;
    });

    it('the keys printed by a rekey authorise generate-root and the old ones are refused', async () => {
      const oldKeys = keys;
      keys = await rekeyByCli(addr, [], oldKeys.slice(1));
      const refused = (await generateRootByCli(addr, oldKeys.slice(0, 2))).refused;
      assert.ok(refused, 'old keys must be refused');
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /do not reconstruct the root key/);
      await assertRootToken(server.api, (await generateRootByCli(addr, [keys[2]!, keys[0]!])).token);
    });

    it('rekey -init -pgp-keys=a.asc,b.asc,c.asc prints shares that `base64 -d | gpg -dq` turns into working keys', async () => {
      const holders = await Promise.all(['ann', 'bob', 'cat'].map((name) => pgpPair(name)));
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresor-pgp-'));
      try {
        const files = holders.map((h, i) => {
          const file = path.join(dir, `holder${i}.asc`);
          fs.writeFileSync(file, h.privateKey.toPublic().armor());
          return file;
        });
        const init = await cliOk(addr, ['operator', 'rekey', '-init', '-key-shares=3', '-key-threshold=2', `-pgp-keys=${files.join(',')}`]);
        const nonce = row(init, 'Nonce');
        let last = '';
        for (const key of keys.slice(0, 2)) last = await cliOk(addr, ['operator', 'rekey', `-nonce=${nonce}`, key]);
        const encrypted = printedKeys(last);
        assert.equal(encrypted.length, 3, last);
        keys = await Promise.all(encrypted.map((share, i) => pgpDecrypt(share, holders[i]!.privateKey)));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
      await assertRootToken(server.api, (await generateRootByCli(addr, keys.slice(1))).token);
    });

    it('rekey -init -verify: the old keys rule until -verify -nonce=VNONCE NEWKEY reaches the new threshold', async () => {
      const init = await cliOk(addr, ['operator', 'rekey', '-init', '-key-shares=3', '-key-threshold=2', '-verify']);
      assert.equal(row(init, 'Verification Required'), 'true');
      let issued = '';
      for (const key of keys.slice(0, 2)) issued = await cliOk(addr, ['operator', 'rekey', `-nonce=${row(init, 'Nonce')}`, key]);
      const newKeys = printedKeys(issued);
      const verificationNonce = /verification nonce (\S+)\.$/m.exec(issued)?.[1];
      assert.ok(verificationNonce, issued);

      const first = await cliOk(addr, ['operator', 'rekey', '-verify', `-nonce=${verificationNonce}`, newKeys[2]!]);
      assert.equal(row(first, 'Verification Progress'), '1/2');
      await assertRootToken(server.api, (await generateRootByCli(addr, keys.slice(1))).token);
      const done = await cliOk(addr, ['operator', 'rekey', '-verify', `-nonce=${verificationNonce}`, newKeys[0]!]);
      assert.match(done, /Success! Rekey verified/);
      assert.ok((await generateRootByCli(addr, keys.slice(1))).refused, 'old keys must be refused once verified');
      keys = newKeys;
    });

    it('rekey -cancel -nonce=NONCE ends the attempt; a wrong nonce exits 2 and keeps it', async () => {
      const nonce = row(await cliOk(addr, ['operator', 'rekey', '-init', '-key-shares=3', '-key-threshold=2']), 'Nonce');
      const wrong = await runCli(['operator', 'rekey', '-cancel', '-nonce=not-the-nonce'], { addr });
      assert.equal(wrong.code, 2);
      assert.match(wrong.stderr, /incorrect nonce/);
      assert.equal(row(await cliOk(addr, ['operator', 'rekey', '-status']), 'Started'), 'true');
      assert.match(await cliOk(addr, ['operator', 'rekey', '-cancel', `-nonce=${nonce}`]), /Success! Canceled rekeying/);
      assert.equal(row(await cliOk(addr, ['operator', 'rekey', '-status']), 'Started'), 'false');
    });

    it('generate-root -status follows an attempt and -cancel drops it', async () => {
      const init = await cliOk(addr, ['operator', 'generate-root', '-init']);
      const nonce = row(init, 'Nonce');
      assert.match(row(init, 'OTP'), /^[A-Za-z0-9]{28}$/);
      await cliOk(addr, ['operator', 'generate-root', `-nonce=${nonce}`, keys[1]!]);
      const status = await cliOk(addr, ['operator', 'generate-root', '-status']);
      assert.deepEqual([row(status, 'Nonce'), row(status, 'Started'), row(status, 'Progress')], [nonce, 'true', '1/2']);
      assert.doesNotMatch(status, /^OTP\s{2,}\S/m, 'the OTP is shown only once, at -init');
      assert.match(await cliOk(addr, ['operator', 'generate-root', '-cancel']), /Success! Root token generation canceled/);
      const after = await cliOk(addr, ['operator', 'generate-root', '-status']);
      assert.deepEqual([row(after, 'Started'), row(after, 'Progress')], ['false', '0/2']);
    });
  });

  describe('SoftHSM2 seal', { concurrency: false }, () => {
    let token: SoftHsmToken;
    let server: TestServer;
    let addr: string;
    let recoveryKeys: string[];

    before(async () => {
      token = createSoftHsmToken({ label: 'recovery-cli' });
      server = await TestServer.start({ config: hsmServerConfig(token), env: { ...token.env, VAULT_HSM_PIN: token.pin } });
      await server.waitFor('pkcs11 seal opened', 15_000);
      addr = server.api.addr;
      const init = await server.api.put('sys/init', { recovery_shares: 5, recovery_threshold: 3 });
      assert.equal(init.status, 200, JSON.stringify(init.body));
      recoveryKeys = init.body.recovery_keys;
    });
    after(async () => {
      await server?.kill();
      server?.cleanup();
      token?.cleanup();
    });

    it('generate-root with recovery keys gives a working root token', async () => {
      await assertRootToken(server.api, (await generateRootByCli(addr, recoveryKeys.slice(2))).token);
    });

    it('rekey -init with no share flags rekeys the HSM-wrapped root key 1-of-1 and says no keys are shown', async () => {
      const init = await cliOk(addr, ['operator', 'rekey', '-init']);
      assert.deepEqual([row(init, 'New Shares'), row(init, 'New Threshold'), row(init, 'Rekey Progress')], ['1', '1', '0/3']);
      let last = '';
      for (const key of recoveryKeys.slice(0, 3)) last = await cliOk(addr, ['operator', 'rekey', `-nonce=${row(init, 'Nonce')}`, key]);
      assert.deepEqual(printedKeys(last), []);
      assert.match(last, /wrapped by the HSM/);
      assert.doesNotMatch(last, /0 key shares|Hand each new share/);
      assert.equal(row(await cliOk(addr, ['operator', 'rekey', '-status']), 'Started'), 'false');
    });

    it('rekey -target=recovery replaces 3-of-5 recovery keys with 2-of-3: the new ones work, the old ones do not', async () => {
      const newKeys = await rekeyByCli(addr, ['-target=recovery'], recoveryKeys.slice(0, 3));
      const seal = (await server.api.get('sys/seal-status')).body;
      assert.deepEqual({ t: seal.t, n: seal.n }, { t: 2, n: 3 });
      const refused = (await generateRootByCli(addr, recoveryKeys.slice(3))).refused;
      assert.ok(refused, 'old recovery keys must be refused');
      assert.match(refused.stderr, /recovery key/);
      await assertRootToken(server.api, (await generateRootByCli(addr, newKeys.slice(1))).token);
    });
  });
});
