import { legacyBackend } from '../../../framework/index.ts';
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
import type { LogicalBackend, LogicalRequest, LogicalResponse, LogicalStorage, Operation } from '../../types.ts';
import { KeyedLock } from '../../../core/keyed-lock.ts';
import { type JsonObject } from '../../../core/request-fields.ts';
import { requireSecretPath } from '../params.ts';
import { readConfig, writeConfig } from './config.ts';
import { deleteLatestData, patchData, readData, writeData } from './data.ts';
import { deleteMetadata, listMetadata, readMetadata, writeMetadata } from './metadata.ts';
import { readSubkeys } from './subkeys.ts';
import { changeVersions } from './version-state.ts';
import { unsupportedOperation } from '../responses.ts';

const ROUTE = /^(data|metadata|delete|undelete|destroy|subkeys)(?:\/(.*))?$/s;
const CONFIG_LOCK_KEY = '\0config';

/** A KV v2 engine instance for one mount (its lock serialises writes to each secret). */
export function createKvV2Backend(): LogicalBackend {
  const lock = new KeyedLock();
  return legacyBackend('kv', async (req: LogicalRequest): Promise<LogicalResponse | null> => {
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
      const handler = pickHandler(area, operation);
      if (handler === undefined) throw unsupportedOperation();
      requireSecretPath(path);
      if (operation === 'read') return handler(storage, path, body, Date.now());
      // The clock is read inside the lock so versions' times follow their numbers.
      return lock.run(path, () => handler(storage, path, body, Date.now()));
    });
}

type Handler = (storage: LogicalStorage, path: string, body: JsonObject, nowMs: number) => Promise<LogicalResponse>;

/** The handler for `operation` on `<area>/<path>`; undefined when unsupported. */
function pickHandler(area: string, operation: Operation): Handler | undefined {
  const write = operation === 'create' || operation === 'update';
  switch (area) {
    case 'data':
      if (operation === 'read') return readData;
      if (write) return writeData;
      if (operation === 'patch') return patchData;
      if (operation === 'delete') return (storage, path, _body, nowMs) => deleteLatestData(storage, path, nowMs);
      return undefined;
    case 'metadata':
      if (operation === 'read') return (storage, path) => readMetadata(storage, path);
      if (write) return (storage, path, body, nowMs) => writeMetadata(storage, path, body, nowMs, false);
      if (operation === 'patch') return (storage, path, body, nowMs) => writeMetadata(storage, path, body, nowMs, true);
      if (operation === 'delete') return (storage, path) => deleteMetadata(storage, path);
      return undefined;
    case 'subkeys':
      return operation === 'read' ? readSubkeys : undefined;
    case 'delete':
    case 'undelete':
    case 'destroy':
      return write ? (storage, path, body, nowMs) => changeVersions(area, storage, path, body, nowMs) : undefined;
    default:
      return undefined;
  }
}
