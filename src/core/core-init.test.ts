import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Core } from './core.ts';
import { INIT_IN_PROGRESS_PATH, SEAL_CONFIG_PATH } from './seal-config.ts';
import { InmemBackend } from '../storage/inmem.ts';
import type { StorageBackend } from '../storage/backend.ts';
import { recordingLogger, rejectsWith, unsealWith } from '../../test/recovery-helpers.ts';

/** Every key in `physical` (recursively). */
async function allKeys(physical: StorageBackend, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await physical.list(prefix)) {
    if (entry.endsWith('/')) out.push(...(await allKeys(physical, prefix + entry)));
    else out.push(prefix + entry);
  }
  return out;
}

describe('init over storage that is not empty', () => {
  it('refuses (Vault\'s 400) when data exists without a seal config, and changes nothing', async () => {
    const physical = new InmemBackend();
    const first = new Core({ physical, storageType: 'inmem', logger: recordingLogger() });
    const init = await first.initialize({ secret_shares: 1, secret_threshold: 1 });
    await physical.delete(SEAL_CONFIG_PATH);
    const before = await allKeys(physical);
    assert.ok(before.length > 3);

    const logger = recordingLogger();
    const again = new Core({ physical, storageType: 'inmem', logger });
    assert.equal(await again.isInitialized(), false);
    await rejectsWith(again.initialize({ secret_shares: 1, secret_threshold: 1 }), 400, 'core: barrier reports initialized but no seal configuration found');
    assert.deepEqual(await allKeys(physical), before);
    assert.match(logger.lines.join('\n'), /init refused: the storage holds data but no seal configuration/);
    assert.ok(!logger.lines.join('\n').includes(init.keys[0]!));
  });

  it('clears the leftovers of an interrupted init (its marker present) and initialises', async () => {
    const physical = new InmemBackend();
    await physical.put(INIT_IN_PROGRESS_PATH, Buffer.from('{}'));
    await physical.put('core/keyring', Buffer.from('half-written'));
    await physical.put('sys/token/id/abc', Buffer.from('orphan'));
    const logger = recordingLogger();
    const core = new Core({ physical, storageType: 'inmem', logger });
    const init = await core.initialize({ secret_shares: 1, secret_threshold: 1 });
    assert.equal(await physical.get('sys/token/id/abc'), undefined);
    assert.equal(await physical.get(INIT_IN_PROGRESS_PATH), undefined, 'a completed init leaves no marker');
    assert.match(logger.lines.join('\n'), /removing the leftovers of an interrupted initialisation/);
    await unsealWith(core, init.keys);
  });
});
