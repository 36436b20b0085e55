/**
 * Transit's automatic rotation over HTTP, across a restart (file storage):
 * the server rotates keys whose auto_rotate_period has passed from its own
 * periodic check, not on use, and the schedule is what the key stores (its
 * period and its latest version's creation time), so a key that fell due
 * while the server was down is rotated soon after the next unseal. The
 * periodic interval is shortened with TRESOR_PERIODIC_INTERVAL_MS.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TestServer } from './helpers/server.ts';

const b64 = (data: string) => Buffer.from(data).toString('base64');

describe('transit auto-rotation across a restart (file storage)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresor-rotate-'));
  let server: TestServer | undefined;
  let unsealKey = '';
  let rootToken = '';

  const start = async (intervalMs: number) => {
    server = await TestServer.start({ dir, env: { TRESOR_PERIODIC_INTERVAL_MS: String(intervalMs) } });
    if (!rootToken) {
      const init = await server.api.put('sys/init', { secret_shares: 1, secret_threshold: 1 });
      assert.equal(init.status, 200, JSON.stringify(init.body));
      unsealKey = init.body.keys[0];
      rootToken = init.body.root_token;
    }
    const unseal = await server.api.put('sys/unseal', { key: unsealKey });
    assert.equal(unseal.body.sealed, false, JSON.stringify(unseal.body));
    server.api.token = rootToken;
    return server.api;
  };

  before(async () => {
    await start(3_600_000);
  });

  after(async () => {
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const latest = async (name: string) => {
    const res = await server!.api.get(`transit/keys/${name}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.data.latest_version as number;
  };

  /** Restores `name` from its own backup with every version made `hoursAgo` hours ago. */
  const age = async (name: string, hoursAgo: number) => {
    const api = server!.api;
    const backup = (await api.get(`transit/backup/${name}`)).body.data.backup;
    const keyData = JSON.parse(Buffer.from(backup, 'base64').toString());
    const when = new Date(Date.now() - hoursAgo * 3600_000);
    for (const entry of [...Object.values(keyData.policy.keys), ...keyData.archived_keys.keys] as Array<{ time: string; creation_time: number }>) {
      if (entry.creation_time === 0) continue;
      entry.time = when.toISOString();
      entry.creation_time = Math.floor(when.getTime() / 1000);
    }
    const restored = await api.post(`transit/restore/${name}`, { backup: Buffer.from(JSON.stringify(keyData)).toString('base64'), force: true });
    assert.equal(restored.status, 204, JSON.stringify(restored.body));
  };

  it('a key that falls due while the server is down is rotated after the restart; others are left alone', async () => {
    const api = server!.api;
    assert.equal((await api.post('sys/mounts/transit', { type: 'transit' })).status, 204);
    const create = (name: string, period: string) =>
      api.post(`transit/keys/${name}`, { auto_rotate_period: period, exportable: true, allow_plaintext_backup: true });
    for (const [name, period] of [['due', '1h'], ['fresh', '1h'], ['off', '0']] as const) assert.equal((await create(name, period)).status, 200);
    assert.equal((await api.get('transit/keys/due')).body.data.auto_rotate_period, 3600);
    await age('due', 2);
    await age('off', 2);
    const before = (await api.post('transit/encrypt/due', { plaintext: b64('written before the restart') })).body.data;
    assert.equal(before.key_version, 1, 'use does not rotate a due key: the periodic check does');
    assert.equal(await latest('due'), 1);

    await server!.stop();
    await start(200);
    await server!.until(async () => (await latest('due')) === 2, 15_000, 'the due key to rotate');
    // A few more rounds: the fresh version is not due, and the other keys never were.
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(await latest('due'), 2);
    assert.equal(await latest('fresh'), 1);
    assert.equal(await latest('off'), 1);
    const after = (await server!.api.post('transit/encrypt/due', { plaintext: b64('x') })).body.data;
    assert.equal(after.key_version, 2);
    const old = await server!.api.post('transit/decrypt/due', { ciphertext: before.ciphertext });
    assert.equal(old.body.data.plaintext, b64('written before the restart'));
  });
});
