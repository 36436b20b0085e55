/**
 * `cache-config` (Vault's): the bound on the mount's cache of parsed keys,
 * 0 for unbounded (the default) or at least 10; kept in `config/cache` and
 * applied at once.
 */
import { badRequest } from '../../core/errors.ts';
import type { PathDeclaration } from '../../framework/index.ts';
import type { LogicalRequest } from '../types.ts';
import type { StoreFor } from './key-store.ts';

const MIN_CACHE_SIZE = 10;

export function cacheConfigPaths(storeFor: StoreFor): PathDeclaration<LogicalRequest>[] {
  const write = {
    summary: 'Configure the cache size.',
    handler: async (req: LogicalRequest, f: import('../../framework/index.ts').FieldData) => {
      const size = f.get<number>('size');
      if (size !== 0 && size < MIN_CACHE_SIZE) throw badRequest(`size must be 0 or a value greater or equal to ${MIN_CACHE_SIZE}`);
      await storeFor(req).setCacheSize(size);
      return { data: { size } };
    },
  };
  return [
    {
      pattern: 'cache-config',
      fields: { size: { type: 'int', default: 0, description: `The most keys kept parsed in memory: 0 (the default) for all, else at least ${MIN_CACHE_SIZE}.` } },
      synopsis: 'Configure the cache of parsed keys.',
      operations: {
        read: { summary: 'Read the cache size.', handler: async (req) => ({ data: { size: await storeFor(req).cacheSize() } }) },
        create: write,
        update: write,
      },
    },
  ];
}
