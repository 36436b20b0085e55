import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestEtcd } from './helpers/etcd.ts';
import { waitForActive } from './helpers/ha.ts';
import { TestServer } from './helpers/server.ts';

/** HA under the Shamir seal: each node is unsealed with the keys; a standby takes over with what it holds. */
let etcd: TestEtcd;
const nodes: TestServer[] = [];

const config = () => `
storage "etcd" {
  address      = "${etcd.address}"
  path         = "/shamir-ha/"
  ha_enabled   = "true"
  lock_timeout = "2s"
}
listener "tcp" {
  address     = "127.0.0.1:{{PORT}}"
  tls_disable = true
}
api_addr = "http://127.0.0.1:{{PORT}}"
`;

before(async () => {
  etcd = await TestEtcd.start();
});
after(async () => {
  for (const n of nodes) await n.kill().catch(() => {});
  for (const n of nodes) n.cleanup();
  await etcd?.destroy();
});

describe('HA on etcd under the Shamir seal', () => {
  it('a node unsealed with its keys is a standby until the active node dies, then serves fresh data', async () => {
    const a = await TestServer.start({ config: config() });
    const b = await TestServer.start({ config: config() });
    nodes.push(a, b);
    const init = await a.api.put('sys/init', { secret_shares: 1, secret_threshold: 1 });
    assert.equal(init.status, 200, JSON.stringify(init.body));
    const key = init.body.keys_base64[0];
    const root = init.body.root_token;
    // Sealed HA nodes do not campaign: nobody is active yet.
    assert.equal((await a.api.get('sys/leader')).body.is_self, false);
    assert.equal((await a.api.get('sys/health')).status, 503);
    assert.equal((await a.api.put('sys/unseal', { key })).body.sealed, false);
    assert.equal(await waitForActive([a, b]), a);
    a.api.token = root;
    b.api.token = root;
    assert.equal((await a.api.post('sys/mounts/kv', { type: 'kv' })).status, 204);
    assert.equal((await a.api.put('kv/x', { v: 1 })).status, 204);

    assert.equal((await b.api.put('sys/unseal', { key })).body.sealed, false);
    const health = await b.api.get('sys/health');
    assert.equal(health.status, 429);
    // Changes after the standby unsealed: a rotated keyring, a new policy, a new token.
    assert.equal((await a.api.put('sys/rotate', {})).status, 204);
    assert.equal((await a.api.put('sys/policies/acl/reader', { policy: 'path "kv/*" { capabilities = ["read"] }' })).status, 204);
    const child = await a.api.post('auth/token/create', { policies: ['reader'] });
    assert.equal(child.status, 200);
    assert.equal((await a.api.put('kv/y', { v: 2 })).status, 204);

    await a.kill();
    const started = Date.now();
    assert.equal(await waitForActive([b], 10_000), b);
    assert.ok(Date.now() - started < 3000, `takeover took ${Date.now() - started} ms`);
    assert.equal((await b.api.get('sys/key-status')).body.data.term, 2);
    assert.equal((await b.api.get('kv/y')).body.data.v, 2);
    const asChild = await b.api.get('kv/x', child.body.auth.client_token);
    assert.equal(asChild.status, 200);
    assert.equal(asChild.body.data.v, 1);
    assert.equal((await b.api.put('kv/z', { v: 3 }, child.body.auth.client_token)).status, 403);

    // Sealing the active node hands over too; unsealed again, it rejoins as a standby (once, not twice).
    const c = await TestServer.start({ config: config() });
    nodes.push(c);
    c.api.token = root;
    assert.equal((await c.api.put('sys/unseal', { key })).body.sealed, false);
    assert.equal((await c.api.get('sys/health')).status, 429);
    assert.equal((await b.api.put('sys/seal', {})).status, 204);
    assert.equal(await waitForActive([b, c], 10_000), c);
    assert.equal((await b.api.get('sys/seal-status')).body.sealed, true);
    assert.equal((await b.api.put('sys/unseal', { key })).body.sealed, false);
    await b.until(async () => (await b.api.get('sys/health')).status === 429, 10_000, 'b standby');
    assert.equal(await waitForActive([b, c]), c);
    assert.equal((await b.api.get('kv/y')).body.data.v, 2, 'read through the standby');
  });
});
