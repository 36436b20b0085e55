import { badRequest } from '../../core/errors.ts';
import type { LogicalBackend } from '../types.ts';
import { defineBackend } from '../../framework/index.ts';
import { plainKvPaths } from './v1.ts';
import { createKvV2Backend } from './v2/backend.ts';

/**
 * The `kv` secrets engine. `options.version` is "1" (default) or "2", as in
 * `vault secrets enable -version=2 kv`; anything else is a 400.
 */
export function createKvBackend(options: Record<string, string>): LogicalBackend {
  const version = options.version || '1';
  if (version === '2') return createKvV2Backend();
  if (version !== '1') throw badRequest('kv "version" option must be "1" or "2"');
  return defineBackend('kv', plainKvPaths({
    ttlAsLeaseHint: true,
    storageFor: (req) => req.storage,
    synopsis: 'Pass-through secret storage: each secret is stored as given.',
  }));
}
