/**
 * KV version 2 router. Paths inside the mount:
 *   config                      read | create/update
 *   data/<path>                 read | create/update | patch | delete
 *   metadata/<path>             read | create/update | patch | delete | list
 *   delete|undelete|destroy/<path>   create/update
 *   subkeys/<path>              read
 * Anything else is not ours (null → 404); a known path with an operation it
 * does not support is 405. Changes to one secret run one at a time.
 */
import type { LogicalBackend, LogicalRequest, LogicalResponse } from '../../types.ts';
import { KeyedLock } from '../keyed-lock.ts';
import { requireSecretPath, unsupportedOperation } from '../params.ts';
import { readConfig, writeConfig } from './config.ts';
import { deleteLatestData, patchData, readData, writeData } from './data.ts';
import { deleteMetadata, listMetadata, readMetadata, writeMetadata } from './metadata.ts';
import { readSubkeys } from './subkeys.ts';
import { changeVersions } from './version-state.ts';

const ROUTE = /^(data|metadata|delete|undelete|destroy|subkeys)(?:\/(.*))?$/s;
const CONFIG_LOCK_KEY = '\0config';

export function createKvV2Backend(): LogicalBackend {
  const lock = new KeyedLock();
  return {
    type: 'kv',
    async handle(req: LogicalRequest): Promise<LogicalResponse | null> {
      const { storage, operation, data: body } = req;
      const write = operation === 'create' || operation === 'update';
      if (req.path === 'config') {
        if (operation === 'read') return readConfig(storage);
        if (write) return lock.run(CONFIG_LOCK_KEY, () => writeConfig(storage, body));
        throw unsupportedOperation();
      }
      const match = ROUTE.exec(req.path);
      if (match === null) return null;
      const [, area, path = ''] = match;
      if (area === 'metadata' && operation === 'list') return listMetadata(storage, path);
      requireSecretPath(path);
      const now = Date.now();
      // The clock is read inside the lock so versions' times follow their numbers.
      const exclusive = (work: (nowMs: number) => Promise<LogicalResponse>) => lock.run(path, () => work(Date.now()));
      switch (`${area} ${operation}`) {
        case 'data read': return readData(storage, path, body, now);
        case 'data create': case 'data update': return exclusive((nowMs) => writeData(storage, path, body, nowMs));
        case 'data patch': return exclusive((nowMs) => patchData(storage, path, body, nowMs));
        case 'data delete': return exclusive((nowMs) => deleteLatestData(storage, path, nowMs));
        case 'metadata read': return readMetadata(storage, path);
        case 'metadata create': case 'metadata update':
          return exclusive((nowMs) => writeMetadata(storage, path, body, nowMs, false));
        case 'metadata patch': return exclusive((nowMs) => writeMetadata(storage, path, body, nowMs, true));
        case 'metadata delete': return exclusive(() => deleteMetadata(storage, path));
        case 'subkeys read': return readSubkeys(storage, path, body, now);
      }
      if (write && (area === 'delete' || area === 'undelete' || area === 'destroy')) {
        return exclusive((nowMs) => changeVersions(area, storage, path, body, nowMs));
      }
      throw unsupportedOperation();
    },
  };
}
