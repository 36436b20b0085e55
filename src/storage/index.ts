import type { StorageBackend, StorageOptions } from './backend.ts';
import { FileBackend } from './file.ts';
import { InmemBackend } from './inmem.ts';
import { EtcdBackend, etcdOptionsFrom } from './etcd.ts';
import { badRequest } from '../core/errors.ts';

export type { StorageBackend, StorageOptions } from './backend.ts';
export { FileBackend } from './file.ts';
export { InmemBackend } from './inmem.ts';
export { isTransactional, type TransactionalBackend, type TxOp } from './transactional.ts';

/** The storage types a `storage "<type>" { ... }` stanza may name. */
export const STORAGE_TYPES = ['file', 'inmem', 'etcd'] as const;

/**
 * Builds the backend named by a config `storage` stanza.
 * - `file`: options.path (required) is the data directory.
 * - `inmem`: no options; data is lost on exit.
 * - `etcd`: etcd v3 (storage/etcd.ts), with Vault's options and ETCD_* environment overrides.
 * An unknown type or a missing required option is a 400 TresorError.
 */
export function createStorage(type: string, options: StorageOptions, env: NodeJS.ProcessEnv = process.env): StorageBackend {
  switch (type) {
    case 'file': {
      const dir = options.path;
      if (typeof dir !== 'string' || dir === '') throw badRequest('storage "file" requires a "path" option');
      return new FileBackend({ path: dir });
    }
    case 'inmem':
      return new InmemBackend();
    case 'etcd':
      return new EtcdBackend(etcdOptionsFrom(options, env));
    default:
      throw badRequest(`unknown storage type "${type}" (supported: ${STORAGE_TYPES.join(', ')})`);
  }
}
