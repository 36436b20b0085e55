import type { AesGcmBarrier } from '../barrier/aes-gcm-barrier.ts';
import type { SealWrapper } from '../seal/seal.ts';
import type { TxOp } from '../storage/transactional.ts';
import type { RandomSource } from './entropy.ts';
import { HSM_ROOT_KEY_PATH, RECOVERY_CONFIG_PATH, RECOVERY_KEY_PATH, SEAL_CONFIG_PATH, type SharesConfig, wrapKeyAt } from './seal-config.ts';

/**
 * Seal migration, as Vault's `operator unseal -migrate`: the operator changes
 * the config (the old seal stays in it, marked `disabled = "true"`, or for
 * Shamir is simply absent) and unseals with the old seal's keys.
 *
 * Tresor's Shamir shares reconstruct the root key itself, so each direction
 * also replaces the root key; the switch is one storage transaction, so an
 * interrupted migration is either not started or complete, and simply runs
 * again after a restart.
 */
export type MigrationDirection = 'shamir-to-hsm' | 'hsm-to-shamir';

export function migrationDirection(stored: SharesConfig | undefined, activeHsm: SealWrapper | undefined): MigrationDirection | undefined {
  if (!stored) return undefined;
  if (stored.type === 'shamir' && activeHsm) return 'shamir-to-hsm';
  if (stored.type !== 'shamir' && !activeHsm) return 'hsm-to-shamir';
  return undefined;
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v));

/**
 * Shamir → HSM. `oldRootKey` (combined from the unseal shares) has opened the
 * barrier. The old unseal shares become the recovery shares (the old root
 * key becomes the recovery key, as in Vault), and a fresh root key, wrapped by
 * the HSM, takes over the keyring, so the old shares no longer decrypt data.
 */
export async function migrateShamirToHsm(args: {
  barrier: AesGcmBarrier;
  hsm: SealWrapper;
  oldRootKey: Buffer;
  shamirConfig: SharesConfig;
  keyRandom: RandomSource;
}): Promise<void> {
  const { barrier, hsm, oldRootKey, shamirConfig } = args;
  const newRootKey = await args.keyRandom(32);
  const recovery: SharesConfig = { type: 'shamir', secret_shares: shamirConfig.secret_shares, secret_threshold: shamirConfig.secret_threshold };
  const seal: SharesConfig = { type: hsm.type, secret_shares: 1, secret_threshold: 1, stored_shares: 1 };
  const ops: TxOp[] = [
    { op: 'put', key: HSM_ROOT_KEY_PATH, value: await wrapKeyAt(hsm, HSM_ROOT_KEY_PATH, newRootKey) },
    { op: 'put', key: RECOVERY_KEY_PATH, value: await wrapKeyAt(hsm, RECOVERY_KEY_PATH, oldRootKey) },
    { op: 'put', key: RECOVERY_CONFIG_PATH, value: json(recovery) },
    { op: 'put', key: SEAL_CONFIG_PATH, value: json(seal) },
  ];
  // The barrier's keyring seal is already the new HSM: the keyring is written seal-wrapped.
  await barrier.rekeyWith(newRootKey, ops);
  newRootKey.fill(0);
}

/**
 * HSM → Shamir. The recovery key has been verified and the barrier opened
 * through the old HSM. Seal-wrapped values must already be unwrapped (the
 * HSM will be gone). The recovery shares become the unseal shares: the
 * recovery key becomes the root key, and the HSM-only entries are removed.
 */
export async function migrateHsmToShamir(args: {
  barrier: AesGcmBarrier;
  recoveryKey: Buffer;
  recoveryConfig: SharesConfig;
}): Promise<void> {
  const { barrier, recoveryKey, recoveryConfig } = args;
  const seal: SharesConfig = {
    type: 'shamir',
    secret_shares: recoveryConfig.secret_shares,
    secret_threshold: recoveryConfig.secret_threshold,
    stored_shares: 0,
  };
  const ops: TxOp[] = [
    { op: 'put', key: SEAL_CONFIG_PATH, value: json(seal) },
    { op: 'delete', key: HSM_ROOT_KEY_PATH },
    { op: 'delete', key: RECOVERY_KEY_PATH },
    { op: 'delete', key: RECOVERY_CONFIG_PATH },
  ];
  const previousKeyringSeal = barrier.keyringSealInUse();
  barrier.setKeyringSeal(undefined);
  try {
    await barrier.rekeyWith(recoveryKey, ops);
  } catch (err) {
    barrier.setKeyringSeal(previousKeyringSeal);
    throw err;
  }
}
