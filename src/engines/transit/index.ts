/**
 * The `transit` secrets engine (encryption as a service), as declared paths:
 *   keys/                          list
 *   keys/<name>                    read | create/update | delete
 *   keys/<name>/config             create/update
 *   keys/<name>/rotate             create/update
 *   encrypt/<name>                 create/update (create when the key does not exist yet: encrypt creates it)
 *   decrypt/<name>, rewrap/<name>  create/update
 *   datakey/(plaintext|wrapped)/<name>                  create/update
 *   random[/<source>][/<bytes>]                         create/update
 *   hash[/<algorithm>]                                  create/update
 *   hmac/<name>[/<algorithm>], verify/<name>[/<algorithm>]   create/update (verify: HMACs only)
 * Each module declares its paths next to its handlers; the framework
 * matches them, decodes their fields and answers 404/405.
 */
import { defineBackend } from '../../framework/index.ts';
import type { LogicalBackend, LogicalStorage } from '../types.ts';
import { cryptPaths } from './crypt.ts';
import { dataKeyPaths } from './datakey.ts';
import { hashPaths } from './hash.ts';
import { hmacPaths } from './hmac.ts';
import { KeyStore, type StoreFor } from './key-store.ts';
import { keyPaths } from './keys.ts';
import { randomPaths } from './random.ts';

/**
 * A transit engine for one mount. Parsed keys are cached per mount storage
 * (see KeyStore); `_options` is accepted for the mount table's factory shape.
 */
export function createTransitBackend(_options: Record<string, string> = {}): LogicalBackend {
  const stores = new WeakMap<LogicalStorage, KeyStore>();
  const storeFor: StoreFor = (req) => {
    let store = stores.get(req.storage);
    if (store === undefined) {
      store = new KeyStore(req.storage);
      stores.set(req.storage, store);
    }
    return store;
  };
  // encrypt/decrypt first: the paths are tried in order and those are the busiest.
  return defineBackend('transit', [
    ...cryptPaths(storeFor),
    ...keyPaths(storeFor),
    ...dataKeyPaths(storeFor),
    ...hmacPaths(storeFor),
    ...hashPaths(),
    ...randomPaths(),
  ]);
}
