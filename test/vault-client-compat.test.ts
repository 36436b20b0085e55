/**
 * An unmodified Vault client library (node-vault, which sends Vault's LIST
 * verb) against a real `tresor server` child process.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import nodeVault from 'node-vault';
import { TestServer } from './helpers/server.ts';

describe('node-vault against Tresor', () => {
  let server: TestServer;
  after(async () => {
    await server?.kill();
    server?.cleanup();
  });

  it('init, unseal, mounts, kv, LIST, policies, tokens and seal work unchanged', async () => {
    server = await TestServer.start();
    const vault = nodeVault({ apiVersion: 'v1', endpoint: server.api.addr });
    assert.deepEqual(await vault.initialized(), { initialized: false });
    const init = await vault.init({ secret_shares: 3, secret_threshold: 2 });
    assert.equal(init.keys.length, 3);
    vault.token = init.root_token;
    await vault.unseal({ secret_shares: 1, key: init.keys[0] });
    const unsealed = await vault.unseal({ secret_shares: 1, key: init.keys[1] });
    assert.equal(unsealed.sealed, false);
    assert.equal((await vault.status()).sealed, false);
    assert.equal((await vault.health()).initialized, true);

    await vault.mount({ mount_point: 'kv', type: 'kv' });
    assert.ok('kv/' in (await vault.mounts()).data);
    await vault.write('kv/hello', { value: 'world' });
    await vault.write('kv/nested/deeper', { value: 'x' });
    assert.equal((await vault.read('kv/hello')).data.value, 'world');
    // The LIST verb, as node-vault sends it by default.
    assert.deepEqual((await vault.list('kv/')).data.keys, ['hello', 'nested/']);
    const getVerb = nodeVault({ apiVersion: 'v1', endpoint: server.api.addr, token: init.root_token, noCustomHTTPVerbs: true });
    assert.deepEqual((await getVerb.list('kv/nested')).data.keys, ['deeper']);

    await vault.addPolicy({ name: 'reader', rules: 'path "kv/*" { capabilities = ["read", "list"] }' });
    assert.ok((await vault.policies()).policies.includes('reader'));
    const child = await vault.tokenCreate({ policies: ['reader'], ttl: '1h' });
    // node-vault switches its own token to the one it just created.
    vault.token = init.root_token;
    const reader = nodeVault({ apiVersion: 'v1', endpoint: server.api.addr, token: child.auth.client_token });
    assert.deepEqual((await reader.tokenLookupSelf()).data.policies, ['default', 'reader']);
    assert.equal((await reader.read('kv/hello')).data.value, 'world');
    await assert.rejects(reader.write('kv/hello', { value: 'no' }), (e: { response?: { statusCode: number } }) => e.response?.statusCode === 403);

    await vault.seal();
    assert.equal((await vault.status()).sealed, true);
  });
});
