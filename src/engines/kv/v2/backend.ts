/**
 * KV version 2, as declared paths (Vault's kv plugin paths, field for field):
 *   config                             read | write
 *   data/<path>                        read | write | patch | delete
 *   metadata/<path>                    read | list | write | patch | delete
 *   delete|undelete|destroy/<path>     write
 *   subkeys/<path>                     read
 * Changes to one secret run one at a time (the mount's KeyedLock).
 */
import { KeyedLock } from '../../../core/keyed-lock.ts';
import { defineBackend } from '../../../framework/index.ts';
import type { LogicalBackend } from '../../types.ts';
import { configPath } from './config.ts';
import { dataPath } from './data.ts';
import { metadataPath } from './metadata.ts';
import type { KvV2Mount } from './shared.ts';
import { subkeysPath } from './subkeys.ts';
import { versionStatePaths } from './version-state.ts';

/** A KV v2 engine instance for one mount. */
export function createKvV2Backend(): LogicalBackend {
  const mount: KvV2Mount = { lock: new KeyedLock() };
  return defineBackend('kv', [
    configPath(mount),
    dataPath(mount),
    metadataPath(mount),
    ...versionStatePaths(mount),
    subkeysPath(),
  ]);
}
