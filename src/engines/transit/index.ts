/**
 * The `transit` secrets engine (encryption as a service), as declared paths:
 *   keys/                                               list
 *   keys/<name>                                         read | create/update | delete
 *   keys/<name>/config | rotate | trim                  create/update
 *   keys/<name>/import | import_version, wrapping_key   create/update, read
 *   encrypt/<name> (upserts), decrypt/<name>, rewrap/<name>
 *   sign/<name>[/<algorithm>], verify/<name>[/<algorithm>]  (verify: signatures and HMACs)
 *   hmac/<name>[/<algorithm>], datakey/(plaintext|wrapped)/<name>
 *   export/<type>/<name>[/<version>], backup/<name>, restore[/<name>]
 *   random[/<source>][/<bytes>], hash[/<algorithm>], cache-config
 * Each module declares its paths next to its handlers; the framework
 * matches them, decodes their fields and answers 404/405. The engine's
 * periodic hook rotates keys whose auto_rotate_period has passed (the core
 * calls it every minute, as Vault's rollback manager calls PeriodicFunc);
 * the schedule is each key's stored period and latest version's creation
 * time, so it carries over restarts.
 */
import { defineBackend } from '../../framework/index.ts';
import type { LogicalBackend } from '../types.ts';
import { backupPaths } from './backup.ts';
import { cacheConfigPaths } from './cache-config.ts';
import { cryptPaths } from './crypt.ts';
import { dataKeyPaths } from './datakey.ts';
import { exportPaths } from './export.ts';
import { hashPaths } from './hash.ts';
import { hmacPaths } from './hmac.ts';
import { importPaths } from './import.ts';
import { keyStores } from './key-store.ts';
import { withManagedKeys } from './managed.ts';
import { keyPaths, rotateIfDue } from './keys.ts';
import { randomPaths } from './random.ts';
import { signPaths } from './sign.ts';

/**
 * A transit engine for one mount. Parsed keys are cached per mount storage
 * (see KeyStore); `_options` is accepted for the mount table's factory shape.
 */
export function createTransitBackend(_options: Record<string, string> = {}): LogicalBackend {
  const storeFor = keyStores();
  // encrypt/decrypt first: the paths are tried in order and those are the busiest.
  return defineBackend('transit', withManagedKeys([
    ...cryptPaths(storeFor),
    ...signPaths(storeFor),
    ...hmacPaths(storeFor),
    ...keyPaths(storeFor),
    ...importPaths(storeFor),
    ...dataKeyPaths(storeFor),
    ...exportPaths(storeFor),
    ...backupPaths(storeFor),
    ...cacheConfigPaths(storeFor),
    ...hashPaths(),
    ...randomPaths(),
  ], storeFor), {
    periodic: async ({ storage, randomBytes }) => {
      const store = storeFor({ storage });
      const failures: string[] = [];
      for (const name of await store.list()) {
        try {
          await rotateIfDue(store, name, randomBytes);
        } catch (err) {
          failures.push(`transit: automatic rotation of key "${name}" failed: ${(err as Error).message}`);
        }
      }
      if (failures.length) throw new Error(failures.join('; '));
    },
  });
}
