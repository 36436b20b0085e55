/**
 * SIGTERM under a KV write load: every write the server acknowledged (2xx)
 * is there after a restart on the same data directory, and the process
 * exits 0. Also: SIGINT on a SoftHSM-sealed server closes the HSM and exits 0.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Api, TestServer } from './helpers/server.ts';
import { createSoftHsmToken, hsmServerConfig, type SoftHsmToken } from './helpers/softhsm.ts';

const servers: TestServer[] = [];
let token: SoftHsmToken | undefined;
after(async () => {
  for (const s of servers) {
    await s.kill();
    s.cleanup();
  }
  token?.cleanup();
});

describe('clean shutdown', () => {
  it('loses no acknowledged KV write when SIGTERM arrives under load, and exits 0', async () => {
    const first = await TestServer.start();
    servers.push(first);
    const init = await first.api.put('sys/init', { secret_shares: 1, secret_threshold: 1 });
    assert.equal(init.status, 200);
    assert.equal((await first.api.put('sys/unseal', { key: init.body.keys[0] })).status, 200);
    const api = new Api(first.api.addr, init.body.root_token);
    assert.equal((await api.post('sys/mounts/kv', { type: 'kv' })).status, 204);

    const acknowledged: string[] = [];
    let refused = 0;
    let stop = false;
    const worker = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const key = `w${w}-${i}`;
        try {
          const res = await api.put(`kv/${key}`, { v: key });
          if (res.status >= 200 && res.status < 300) acknowledged.push(key);
          else refused++;
        } catch {
          refused++; // connection closed or refused: not acknowledged
          if (stop) return;
          await new Promise((r) => setTimeout(r, 5));
        }
      }
    };
    const workers = Array.from({ length: 8 }, (_, w) => worker(w));
    while (acknowledged.length < 200) await new Promise((r) => setTimeout(r, 20));
    first.proc.kill('SIGTERM');
    const exit = await first.waitExit(30_000);
    stop = true;
    await Promise.all(workers);
    assert.deepEqual(exit, { code: 0, signal: null }, first.output);
    assert.match(first.output, /shutdown complete/);

    const second = await TestServer.start({ dir: first.dir });
    servers.push(second);
    assert.equal((await second.api.put('sys/unseal', { key: init.body.keys[0] })).status, 200);
    const again = new Api(second.api.addr, init.body.root_token);
    const missing: string[] = [];
    for (const key of acknowledged) {
      const res = await again.get(`kv/${key}`);
      if (res.status !== 200 || res.body.data.v !== key) missing.push(key);
    }
    assert.deepEqual(missing, [], `${missing.length} of ${acknowledged.length} acknowledged writes lost (${refused} refused)`);
    assert.ok(acknowledged.length >= 200);
  });

  it('closes the HSM and exits 0 on SIGINT with a SoftHSM seal', async () => {
    token = createSoftHsmToken();
    const server = await TestServer.start({ config: hsmServerConfig(token), env: { ...token.env, VAULT_HSM_PIN: token.pin } });
    servers.push(server);
    await server.waitFor('pkcs11 seal opened', 15_000);
    assert.equal((await server.api.put('sys/init', { recovery_shares: 1, recovery_threshold: 1 })).status, 200);
    server.proc.kill('SIGINT');
    const exit = await server.waitExit(30_000);
    assert.deepEqual(exit, { code: 0, signal: null }, server.output);
    assert.match(server.output, /SIGINT received/);
    assert.match(server.output, /shutdown complete/);
  });
});
