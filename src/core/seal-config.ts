import type { StorageBackend } from '../storage/backend.ts';
import type { SealWrapper } from '../seal/seal.ts';

/**
 * Plaintext entries the core must read while sealed. They hold share counts
 * and types only, never key material.
 */
export const SEAL_CONFIG_PATH = 'core/seal-config';
export const RECOVERY_CONFIG_PATH = 'core/recovery-config';
/** The root key wrapped by the HSM seal (Vault keeps it at the same path). */
export const HSM_ROOT_KEY_PATH = 'core/hsm/barrier-unseal-keys';
/** The recovery key wrapped by the HSM seal. */
export const RECOVERY_KEY_PATH = 'core/recovery-key';
/**
 * Plaintext marker written first by an init and removed together with the
 * write of the seal config that ends it: storage without a seal config but
 * with this marker holds the leftovers of an interrupted init (and nothing
 * else), which the next init may clear.
 */
export const INIT_IN_PROGRESS_PATH = 'core/init-in-progress';

export interface SharesConfig {
  /** "shamir" or "pkcs11" for the seal config; always "shamir" for recovery. */
  type: string;
  secret_shares: number;
  secret_threshold: number;
  stored_shares?: number;
  pgp_keys?: string[];
  backup?: boolean;
}

export async function readJson<T>(physical: StorageBackend, path: string): Promise<T | undefined> {
  const raw = await physical.get(path);
  return raw === undefined ? undefined : (JSON.parse(raw.toString('utf8')) as T);
}

export async function writeJson(physical: StorageBackend, path: string, value: unknown): Promise<void> {
  await physical.put(path, Buffer.from(JSON.stringify(value)));
}

/**
 * `key` wrapped by `hsm` for the entry at `path`. The path is the wrap's
 * associated data, so a blob copied to another entry does not unwrap.
 */
export function wrapKeyAt(hsm: SealWrapper, path: string, key: Buffer): Promise<Buffer> {
  return hsm.wrap(key, Buffer.from(path));
}

/** Reverses {@link wrapKeyAt} for the `blob` stored at `path`. */
export function unwrapKeyAt(hsm: SealWrapper, path: string, blob: Buffer): Promise<Buffer> {
  return hsm.unwrap(blob, Buffer.from(path));
}
