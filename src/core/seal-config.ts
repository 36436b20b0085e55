import type { StorageBackend } from '../storage/backend.ts';

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
