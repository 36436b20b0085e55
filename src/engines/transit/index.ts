import { legacyBackend } from '../../framework/index.ts';
/**
 * The `transit` secrets engine (encryption as a service). Paths in the mount:
 *   keys/                          list
 *   keys/<name>                    read | create/update | delete
 *   keys/<name>/config             create/update
 *   keys/<name>/rotate             create/update
 *   encrypt/<name>                 create/update (read only answers the create-vs-update probe)
 *   decrypt/<name>, rewrap/<name>  create/update
 *   datakey/(plaintext|wrapped)/<name>                  create/update
 *   random[/<bytes>], random/<source>[/<bytes>]         create/update
 *   hash[/<algorithm>]                                  create/update
 *   hmac/<name>[/<algorithm>], verify/<name>[/<algorithm>]   create/update (verify: HMACs only)
 * Unknown paths are not ours (null → 404); a known path with an operation it
 * does not support is 405.
 */
import { notFound } from '../../core/errors.ts';
import type { LogicalBackend, LogicalRequest, LogicalResponse, LogicalStorage } from '../types.ts';
import { unsupportedOperation } from '../kv/responses.ts';
import { decrypt, encrypt, rewrap } from './crypt.ts';
import { generateDataKey, type DataKeyFlavour } from './datakey.ts';
import { hash } from './hash.ts';
import { generateHmac, verifyHmac } from './hmac.ts';
import { KeyStore } from './key-store.ts';
import { configureKey, createKey, deleteKey, listKeys, readKey, rotateKey } from './keys.ts';
import { generateRandom, randomPathParams } from './random.ts';

// Vault's key-name rule: word characters, with "-" and "." allowed inside.
const NAME = String.raw`(\w(?:[\w.-]*\w)?)`;

type Verb = 'read' | 'write' | 'list' | 'delete';
type Handler = (ctx: { req: LogicalRequest; store: KeyStore }, params: string[]) => Promise<LogicalResponse>;

interface Route {
  pattern: RegExp;
  verbs: Partial<Record<Verb, Handler>>;
}

const ROUTES: Route[] = [
  { pattern: /^keys\/?$/, verbs: { list: ({ store }) => listKeys(store) } },
  {
    pattern: new RegExp(`^keys/${NAME}$`),
    verbs: {
      read: ({ store }, [name]) => readKey(store, name),
      write: ({ req, store }, [name]) => createKey(store, name, req.data, req.randomBytes),
      delete: ({ store }, [name]) => deleteKey(store, name),
    },
  },
  { pattern: new RegExp(`^keys/${NAME}/config$`), verbs: { write: ({ req, store }, [name]) => configureKey(store, name, req.data) } },
  { pattern: new RegExp(`^keys/${NAME}/rotate$`), verbs: { write: ({ req, store }, [name]) => rotateKey(store, name, req.randomBytes) } },
  {
    pattern: new RegExp(`^encrypt/${NAME}$`),
    verbs: {
      // The core's create-vs-update probe: 404 means the write would create the key.
      read: async ({ store }, [name]) => {
        if ((await store.get(name)) === undefined) throw notFound();
        throw unsupportedOperation();
      },
      write: ({ req, store }, [name]) => encrypt(store, name, req.data, req.randomBytes),
    },
  },
  { pattern: new RegExp(`^decrypt/${NAME}$`), verbs: { write: ({ req, store }, [name]) => decrypt(store, name, req.data) } },
  { pattern: new RegExp(`^rewrap/${NAME}$`), verbs: { write: ({ req, store }, [name]) => rewrap(store, name, req.data, req.randomBytes) } },
  {
    pattern: new RegExp(`^datakey/(plaintext|wrapped)/${NAME}$`),
    verbs: { write: ({ req, store }, [flavour, name]) => generateDataKey(store, name, flavour as DataKeyFlavour, req.data, req.randomBytes) },
  },
  {
    pattern: /^random((?:\/[^/]+){0,2})$/,
    verbs: {
      write: ({ req }, [rest]) => generateRandom(req.data, randomPathParams(rest.split('/').slice(1)), req.randomBytes),
    },
  },
  { pattern: /^hash(?:\/([^/]+))?$/, verbs: { write: ({ req }, [algorithm]) => hash(req.data, algorithm) } },
  {
    pattern: new RegExp(`^hmac/${NAME}(?:/([^/]+))?$`),
    verbs: { write: ({ req, store }, [name, algorithm]) => generateHmac(store, name, req.data, algorithm) },
  },
  {
    pattern: new RegExp(`^verify/${NAME}(?:/([^/]+))?$`),
    verbs: { write: ({ req, store }, [name, algorithm]) => verifyHmac(store, name, req.data, algorithm) },
  },
];

function verbOf(req: LogicalRequest): Verb | undefined {
  switch (req.operation) {
    case 'create':
    case 'update':
      return 'write';
    case 'read':
    case 'list':
    case 'delete':
      return req.operation;
    default:
      return undefined;
  }
}

/**
 * A transit engine for one mount. Parsed keys are cached per mount storage
 * (see KeyStore); `_options` is accepted for the mount table's factory shape.
 */
export function createTransitBackend(_options: Record<string, string> = {}): LogicalBackend {
  const stores = new WeakMap<LogicalStorage, KeyStore>();
  const storeFor = (storage: LogicalStorage): KeyStore => {
    let store = stores.get(storage);
    if (store === undefined) {
      store = new KeyStore(storage);
      stores.set(storage, store);
    }
    return store;
  };
  return legacyBackend('transit', async (req) => {
      for (const route of ROUTES) {
        const match = route.pattern.exec(req.path);
        if (match === null) continue;
        const verb = verbOf(req);
        const handler = verb === undefined ? undefined : route.verbs[verb];
        if (handler === undefined) throw unsupportedOperation();
        return handler({ req, store: storeFor(req.storage) }, match.slice(1));
      }
      return null;
    });
}
