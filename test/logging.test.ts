/**
 * Server logs (pino): JSON by default in server mode, `standard` by flag,
 * log_file (a directory: tresor.log in it), log level by config, flag, env
 * and SIGHUP; and none of the secrets a server handled appears in any line.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Api, SHAMIR_FILE_CONFIG, TestServer } from './helpers/server.ts';
import { createSoftHsmToken, hsmServerConfig, type SoftHsmToken } from './helpers/softhsm.ts';
import { assertNoSecretsInLog, jsonLogLines } from './helpers/logs.ts';

const servers: TestServer[] = [];
let token: SoftHsmToken | undefined;
after(async () => {
  for (const s of servers) {
    await s.kill();
    s.cleanup();
  }
  token?.cleanup();
});

async function start(opts: Parameters<typeof TestServer.start>[0]): Promise<TestServer> {
  const s = await TestServer.start(opts);
  servers.push(s);
  return s;
}

describe('server logs', () => {
  it('never contain the unseal keys, root token, a KV secret, a transit plaintext or the HSM PIN', async () => {
    const logDir = fs.mkdtempSync(path.join(fs.realpathSync('/tmp'), 'tresor-logs-'));
    const config = `${SHAMIR_FILE_CONFIG}log_level = "trace"\nlog_file = "${logDir}"\n`;
    const server = await start({ config });
    const init = await server.api.put('sys/init', { secret_shares: 3, secret_threshold: 2 });
    assert.equal(init.status, 200);
    for (const key of init.body.keys.slice(0, 2)) assert.equal((await server.api.put('sys/unseal', { key })).status, 200);
    const api = new Api(server.api.addr, init.body.root_token);
    const kvSecret = 'kv-secret-value-7f3a9c';
    const plaintext = 'transit-plaintext-5be21d';
    assert.equal((await api.post('sys/mounts/kv', { type: 'kv' })).status, 204);
    assert.equal((await api.put('kv/app', { password: kvSecret })).status, 204);
    assert.equal((await api.get('kv/app')).body.data.password, kvSecret);
    assert.equal((await api.post('sys/mounts/transit', { type: 'transit' })).status, 204);
    await api.post('transit/keys/k', {});
    const enc = await api.post('transit/encrypt/k', { plaintext: Buffer.from(plaintext).toString('base64') });
    assert.equal(enc.status, 200);
    const dec = await api.post('transit/decrypt/k', { ciphertext: enc.body.data.ciphertext });
    assert.equal(Buffer.from(dec.body.data.plaintext, 'base64').toString(), plaintext);
    // A refused request whose body holds a secret: error paths must not echo it either.
    await api.put('sys/unseal', { key: init.body.keys[2] });
    await api.post('transit/encrypt/k', { plaintext: kvSecret }); // not base64: a 400
    await api.post('auth/token/create', { id: 'custom-token-id-93ab', policies: ['default'] });
    await server.stop();

    const fileText = fs.readFileSync(path.join(logDir, 'tresor.log'), 'utf8');
    assert.ok(jsonLogLines(fileText).length > 0, 'log_file holds the JSON lines');
    for (const line of jsonLogLines(fileText)) assert.equal(typeof line['@message'], 'string');
    assert.match(fileText, /shutdown complete/);

    token = createSoftHsmToken({ pin: '918273645' });
    const hsm = await start({ config: hsmServerConfig(token), env: { ...token.env, VAULT_HSM_PIN: token.pin, VAULT_LOG_LEVEL: 'trace' } });
    await hsm.waitFor('pkcs11 seal opened', 15_000);
    const hsmInit = await hsm.api.put('sys/init', { recovery_shares: 3, recovery_threshold: 2 });
    assert.equal(hsmInit.status, 200);
    await new Api(hsm.api.addr, hsmInit.body.root_token).put('sys/rotate', {});
    await hsm.stop();

    const secrets = {
      unsealKeys: [...init.body.keys, ...init.body.keys_base64],
      rootToken: init.body.root_token,
      kvSecret,
      plaintext,
      customTokenId: 'custom-token-id-93ab',
      hsmPin: token.pin,
      soPin: token.soPin,
      recoveryKeys: [...hsmInit.body.recovery_keys, ...hsmInit.body.recovery_keys_base64],
      hsmRootToken: hsmInit.body.root_token,
    };
    for (const text of [server.output, fileText, hsm.output]) assertNoSecretsInLog(text, secrets);
  });

  it('is JSON with Vault\'s keys by default in server mode, and standard with -log-format (flag over config)', async () => {
    const json = await start({ config: SHAMIR_FILE_CONFIG });
    await json.stop();
    const lines = jsonLogLines(json.output);
    assert.ok(lines.length > 0, json.output);
    for (const l of lines) {
      assert.ok(['trace', 'debug', 'info', 'warn', 'error'].includes(l['@level'] as string));
      assert.ok(!Number.isNaN(Date.parse(l['@timestamp'] as string)));
    }
    const standard = await start({ config: `${SHAMIR_FILE_CONFIG}log_format = "json"\n`, args: ['-log-format=standard'] });
    await standard.stop();
    assert.match(standard.output, /^\d{4}-\d\d-\d\dT[\d:.]+Z \[INFO\] server: SIGTERM received/m);
    assert.equal(jsonLogLines(standard.output).length, 0);
  });

  it('takes the level from -log-level over VAULT_LOG_LEVEL over log_level, and refuses a bad one', async () => {
    const quiet = await start({ config: `${SHAMIR_FILE_CONFIG}log_level = "trace"\n`, env: { VAULT_LOG_LEVEL: 'info' }, args: ['-log-level=error'] });
    await quiet.stop();
    assert.doesNotMatch(quiet.output, /SIGTERM received/);
    const bad = await TestServer.start({ config: SHAMIR_FILE_CONFIG, args: ['-log-level=loud'] }).catch((e: Error) => e);
    assert.ok(bad instanceof Error);
    assert.match(bad.message, /log level must be one of trace, debug, info, warn, error/);
  });

  it('re-reads log_level from the config file on SIGHUP', async () => {
    const server = await start({ config: `${SHAMIR_FILE_CONFIG}log_level = "warn"\n` });
    const cfg = path.join(server.dir, 'server.hcl');
    fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace('log_level = "warn"', 'log_level = "info"'));
    server.proc.kill('SIGHUP');
    await server.waitFor('log level is now info', 10_000);
    await server.stop();
    assert.match(server.output, /SIGTERM received/);
    assert.equal(server.exitCode, 0);
  });
});
