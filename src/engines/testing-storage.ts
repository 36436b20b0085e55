/**
 * Test support shared by the engine tests: an in-memory LogicalStorage that
 * follows the same one-level listing rule as the real storage backends, and
 * a builder for LogicalRequests.
 */
import { randomBytes } from 'node:crypto';
import type { LogicalRequest, LogicalStorage, Operation, RequestAuth } from './types.ts';

export class MemoryLogicalStorage implements LogicalStorage {
  private readonly entries = new Map<string, Buffer>();

  async get(key: string): Promise<Buffer | undefined> {
    const value = this.entries.get(key);
    return value === undefined ? undefined : Buffer.from(value);
  }

  async put(key: string, value: Buffer): Promise<void> {
    // Copy so a caller mutating its buffer later cannot change what is stored.
    this.entries.set(key, Buffer.from(value));
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }

  /** One level below `prefix`: plain keys and folder names ending in "/", sorted. */
  async list(prefix: string): Promise<string[]> {
    const children = new Set<string>();
    for (const key of this.entries.keys()) {
      if (!key.startsWith(prefix)) continue;
      const rest = key.slice(prefix.length);
      const slash = rest.indexOf('/');
      children.add(slash === -1 ? rest : rest.slice(0, slash + 1));
    }
    return [...children].sort();
  }

  /** Every key with its value as text, sorted by key: compare two to prove nothing changed. */
  snapshot(): Array<[string, string]> {
    return [...this.entries.entries()]
      .map(([key, value]): [string, string] => [key, value.toString('base64')])
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  keys(): string[] {
    return [...this.entries.keys()].sort();
  }
}

/** Builds a request the way the core's router would hand it to an engine. */
export function testRequest(
  storage: LogicalStorage,
  operation: Operation,
  path: string,
  data: Record<string, unknown> = {},
  auth?: Partial<RequestAuth>,
): LogicalRequest {
  return {
    operation,
    path,
    data,
    storage,
    defaultLeaseTtl: 2764800,
    mountPoint: 'test/',
    auth: auth === undefined ? undefined : {
      clientToken: 'test-token',
      accessor: 'test-accessor',
      policies: ['default'],
      tokenId: 'test-token-id',
      displayName: 'test',
      entityId: '',
      ...auth,
    },
    randomBytes: async (length: number) => randomBytes(length),
  };
}
