import { timingSafeEqual } from 'node:crypto';
import type { StorageBackend } from '../storage/backend.ts';
import { isTransactional, type TxOp } from '../storage/transactional.ts';
import type { SealWrapper } from '../seal/seal.ts';
import { AesGcmBarrier, BarrierKeyError } from '../barrier/aes-gcm-barrier.ts';
import type { KmsLibraryConfig } from '../config/types.ts';
import { ManagedKeys } from './managed-keys.ts';
import { combineShares, decodeShare, splitKey, validateShareParams } from '../seal/shamir.ts';
import { encryptForKey, encryptShares, readPgpKeys } from './pgp.ts';
import { badRequest, sealedError, TresorError } from './errors.ts';
import { ShareCollector } from './share-collector.ts';
import { parseNonNegativeInt } from './request-fields.ts';
import { pgpKeysField } from './recovery-ops.ts';
import { augmentedRandom, osRandom, type RandomSource } from './entropy.ts';
import {
  HSM_ROOT_KEY_PATH,
  INIT_IN_PROGRESS_PATH,
  RECOVERY_CONFIG_PATH,
  RECOVERY_KEY_PATH,
  SEAL_CONFIG_PATH,
  readJson,
  unwrapKeyAt,
  wrapKeyAt,
  writeJson,
  type SharesConfig,
} from './seal-config.ts';
import { UnsealedState } from './unsealed-state.ts';
import { deleteTree, PrefixedStorage, SealWrappedStorage } from './storage-view.ts';
import { migrateHsmToShamir, migrateShamirToHsm, migrationDirection, type MigrationDirection } from './seal-migration.ts';
import { MOUNT_TABLE_PATH, storagePrefix, type MountEntry } from './mounts.ts';
import type { Logger } from '../logger.ts';
import { AuditBroker } from './audit/index.ts';
import type { HaCoordinator } from './ha/coordinator.ts';
import { standbyError } from './ha/standby.ts';

import { BUILD_DATE, VERSION } from '../version.ts';

export { BUILD_DATE, VERSION };

export interface CoreOptions {
  physical: StorageBackend;
  storageType: string;
  /** The HSM seal, when one is configured and enabled. */
  hsm?: SealWrapper;
  /** The disabled HSM seal of a migration to Shamir (`seal "pkcs11" { disabled = "true" }`). */
  migrationSource?: SealWrapper;
  /** `entropy "seal" { mode = "augmentation" }`. */
  entropyAugmentation?: boolean;
  clusterName?: string;
  logger: Logger;
  /** Directories an audit file_path may not be inside (the storage path, plugin_directory). */
  auditForbiddenDirs?: string[];
  /** HA on etcd: the node serves only while it holds the leader lock. */
  ha?: HaCoordinator;
  /** `kms_library` stanzas: the PKCS#11 libraries managed keys may name. */
  kmsLibraries?: KmsLibraryConfig[];
}

export interface InitRequest {
  secret_shares?: number;
  secret_threshold?: number;
  stored_shares?: number;
  pgp_keys?: string[];
  root_token_pgp_key?: string;
  recovery_shares?: number;
  recovery_threshold?: number;
  recovery_pgp_keys?: string[];
}

export interface InitResult {
  keys: string[];
  keys_base64: string[];
  recovery_keys?: string[];
  recovery_keys_base64?: string[];
  root_token: string;
}

export interface SealStatus {
  type: string;
  initialized: boolean;
  sealed: boolean;
  t: number;
  n: number;
  progress: number;
  nonce: string;
  version: string;
  build_date: string;
  migration: boolean;
  cluster_name?: string;
  cluster_id?: string;
  recovery_seal: boolean;
  /** With enable_multiseal: every seal's name, type, priority and health. */
  seals?: import('../seal/seal.ts').SealBackendStatus[];
  recovery_seal_type?: string;
  storage_type: string;
}

/**
 * The init/unseal/seal state machine. While sealed only the plaintext seal
 * configuration is readable; unsealing hands the root key to the barrier and
 * builds the unsealed state (mounts, tokens, policies) on top of it.
 */
export class Core {
  readonly barrier: AesGcmBarrier;
  readonly physical: StorageBackend;
  readonly hsm: SealWrapper | undefined;
  readonly oldHsm: SealWrapper | undefined;
  readonly logger: Logger;
  /** Managed keys (sys/managed-keys): their libraries and token connections. */
  readonly managedKeys: ManagedKeys;
  readonly storageType: string;
  /** `cluster_name` from the config; otherwise one is generated at init and stored. */
  readonly configuredClusterName: string | undefined;
  /** Random for keys and root tokens: HSM-augmented when configured. */
  readonly keyRandom: RandomSource;
  /** The audit devices (loaded from the barrier on unseal, closed on seal). */
  readonly audit: AuditBroker;
  readonly ha: HaCoordinator | undefined;
  private unsealProgress: ShareCollector | undefined;
  private state: UnsealedState | undefined;
  /** Set by a manual seal: auto-unseal then waits for recovery keys or a restart. */
  private sealedByOperator = false;
  /** Serialises init/unseal/seal so two requests cannot interleave state changes. */
  private lifecycle: Promise<unknown> = Promise.resolve();

  constructor(opts: CoreOptions) {
    this.physical = opts.physical;
    this.hsm = opts.hsm;
    this.oldHsm = opts.migrationSource;
    this.logger = opts.logger;
    this.managedKeys = new ManagedKeys(opts.kmsLibraries ?? [], opts.logger);
    this.storageType = opts.storageType;
    this.configuredClusterName = opts.clusterName;
    this.ha = opts.ha;
    this.ha?.attach({ becomeActive: () => this.becomeActive(), becomeStandby: () => this.becomeStandby() });
    this.keyRandom = opts.entropyAugmentation && opts.hsm ? augmentedRandom(opts.hsm) : osRandom;
    this.audit = new AuditBroker({ logger: opts.logger, forbiddenDirs: opts.auditForbiddenDirs });
    this.barrier = new AesGcmBarrier(this.physical, { random: this.keyRandom, logger: this.logger });
    // Under the HSM seal the keyring is seal-wrapped too (it is Tresor's most sensitive entry).
    // (During a migration to Shamir, the old HSM still opens the keyring.)
    this.barrier.setKeyringSeal(opts.hsm ?? opts.migrationSource);
  }

  get sealType(): string {
    return this.hsm ? this.hsm.type : 'shamir';
  }

  get clusterId(): string {
    return this.state?.clusterId ?? '';
  }

  get clusterName(): string {
    return this.state?.clusterName ?? this.configuredClusterName ?? '';
  }

  get sealed(): boolean {
    // An HA standby is unsealed (its barrier is open) but holds no state until it is active.
    return this.barrier.sealed || (this.state === undefined && this.ha === undefined);
  }

  /** Unsealed, in HA, and not the active node. */
  get standby(): boolean {
    return this.ha !== undefined && !this.barrier.sealed && this.state === undefined;
  }

  /** The unsealed state; throws Vault's 503 when sealed (or on an HA standby). */
  unsealed(): UnsealedState {
    if (this.barrier.sealed) throw sealedError();
    if (!this.state) throw this.ha ? standbyError() : sealedError();
    return this.state;
  }

  async isInitialized(): Promise<boolean> {
    return (await this.physical.get(SEAL_CONFIG_PATH)) !== undefined;
  }

  async sealConfig(): Promise<SharesConfig | undefined> {
    return readJson<SharesConfig>(this.physical, SEAL_CONFIG_PATH);
  }

  async recoveryConfig(): Promise<SharesConfig | undefined> {
    return readJson<SharesConfig>(this.physical, RECOVERY_CONFIG_PATH);
  }

  /** The config whose shares authorise operations: recovery under the HSM, unseal keys under Shamir. */
  async authorisingConfig(): Promise<SharesConfig | undefined> {
    const sealCfg = await this.sealConfig();
    return sealCfg && sealCfg.type !== 'shamir' ? this.recoveryConfig() : sealCfg;
  }

  /** Set when the configured seal differs from the one storage was initialised with. */
  async pendingMigration(): Promise<MigrationDirection | undefined> {
    return migrationDirection(await this.sealConfig(), this.hsm);
  }

  async sealStatus(): Promise<SealStatus> {
    const sealCfg = await this.sealConfig();
    const recoverySeal = sealCfg ? sealCfg.type !== 'shamir' : this.hsm !== undefined;
    const sharesCfg = recoverySeal ? await this.recoveryConfig() : sealCfg;
    const sealed = this.sealed;
    const status: SealStatus = {
      type: sealCfg?.type ?? this.sealType,
      initialized: sealCfg !== undefined,
      sealed,
      t: sharesCfg?.secret_threshold ?? 0,
      n: sharesCfg?.secret_shares ?? 0,
      progress: this.unsealProgress?.progress ?? 0,
      nonce: this.unsealProgress?.nonce ?? '',
      version: VERSION,
      build_date: BUILD_DATE,
      migration: migrationDirection(sealCfg, this.hsm) !== undefined,
      recovery_seal: recoverySeal,
      storage_type: this.storageType,
    };
    if (recoverySeal) status.recovery_seal_type = 'shamir';
    // enable_multiseal only: each seal with its health (Tresor's addition).
    const backends = this.hsm?.backends?.();
    if (backends) status.seals = backends;
    if (!sealed) {
      status.cluster_name = this.clusterName;
      status.cluster_id = this.clusterId;
    }
    return status;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lifecycle.then(fn);
    this.lifecycle = run.catch(() => {});
    return run;
  }

  // ---------------------------------------------------------------- init

  initialize(req: InitRequest): Promise<InitResult> {
    return this.exclusive(() => this.doInitialize(req));
  }

  private async doInitialize(req: InitRequest): Promise<InitResult> {
    if (await this.isInitialized()) throw badRequest('Vault is already initialized');
    const plan = this.validateInit(req);
    // Refuse a bad PGP key before anything is written.
    if (plan.pgpKeys) await readPgpKeys(plan.pgpKeys);
    if (req.root_token_pgp_key) await readPgpKeys([req.root_token_pgp_key]);
    await this.hsm?.waitOpen?.();
    if (this.hsm?.hasKey?.() === false) {
      throw badRequest('no key found in the HSM under key_label and generate_key is not set; refusing to initialise');
    }
    await this.clearInterruptedInit();

    const rootKey = await this.keyRandom(32);
    const result: InitResult = { keys: [], keys_base64: [], root_token: '' };

    // Everything is written between the in-progress marker and the seal
    // config, which alone marks the server initialised (and is written with
    // the marker's removal): a failure half-way (an HSM error, a crash)
    // leaves an uninitialised server on which init can simply run again.
    await writeJson(this.physical, INIT_IN_PROGRESS_PATH, { started: new Date().toISOString() });
    await this.barrier.initialize(rootKey);
    if (this.hsm) {
      const recoveryKey = await this.keyRandom(32);
      const recoveryShares = await splitKey(recoveryKey, plan.shares, plan.threshold);
      await this.physical.put(HSM_ROOT_KEY_PATH, await wrapKeyAt(this.hsm, HSM_ROOT_KEY_PATH, rootKey));
      await this.physical.put(RECOVERY_KEY_PATH, await wrapKeyAt(this.hsm, RECOVERY_KEY_PATH, recoveryKey));
      recoveryKey.fill(0);
      const shown = await this.presentShares(recoveryShares, plan.pgpKeys);
      result.recovery_keys = shown.hex;
      result.recovery_keys_base64 = shown.base64;
    } else {
      const shares = await splitKey(rootKey, plan.shares, plan.threshold);
      const shown = await this.presentShares(shares, plan.pgpKeys);
      result.keys = shown.hex;
      result.keys_base64 = shown.base64;
    }

    await this.barrier.unseal(rootKey);
    try {
      const state = await UnsealedState.create(this, { firstTime: true });
      const root = await state.tokens.createRoot();
      result.root_token = req.root_token_pgp_key
        ? (await encryptForKey(Buffer.from(root.token), req.root_token_pgp_key)).encrypted
        : root.token;
      if (this.hsm) {
        await writeJson(this.physical, RECOVERY_CONFIG_PATH, {
          type: 'shamir',
          secret_shares: plan.shares,
          secret_threshold: plan.threshold,
          pgp_keys: plan.pgpKeys,
        } satisfies SharesConfig);
        await this.completeInit({
          type: this.hsm.type,
          secret_shares: 1,
          secret_threshold: 1,
          stored_shares: 1,
        });
        // Under the HSM seal the server stays unsealed after init (in HA: as a standby that campaigns).
        if (this.ha) {
          await state.close();
          this.ha.start();
        } else {
          this.state = state;
        }
      } else {
        await this.completeInit({
          type: 'shamir',
          secret_shares: plan.shares,
          secret_threshold: plan.threshold,
          stored_shares: 0,
          pgp_keys: plan.pgpKeys,
        });
        await state.close();
        this.barrier.seal();
      }
    } catch (err) {
      this.barrier.seal();
      throw err;
    } finally {
      rootKey.fill(0);
    }
    this.logger.info(`core: initialised with the ${this.sealType} seal`);
    return result;
  }

  /**
   * Storage without a seal config may still hold everything: the seal config
   * is one plaintext row that someone with write access to the storage (or
   * a botched restore) can remove. Init then must not wipe the rest and
   * start over (handing out a new root token for an emptied server), so it
   * is refused, with Vault's message. Only the leftovers of an interrupted
   * init, recognised by its in-progress marker, are removed so that init
   * can simply run again.
   */
  private async clearInterruptedInit(): Promise<void> {
    const leftovers = await this.physical.list('');
    if (leftovers.length === 0) return;
    if ((await this.physical.get(INIT_IN_PROGRESS_PATH)) === undefined) {
      this.logger.error(
        'core: init refused: the storage holds data but no seal configuration (core/seal-config). Restore that entry ' +
          'from a backup; only if this storage holds nothing worth keeping, empty it and run init again',
      );
      throw badRequest('core: barrier reports initialized but no seal configuration found');
    }
    this.logger.warn('core: removing the leftovers of an interrupted initialisation');
    await deleteTree(this.physical);
  }

  /** Writes the seal config that marks the server initialised, and drops the in-progress marker with it (one transaction where the backend has them). */
  private async completeInit(sealConfig: SharesConfig): Promise<void> {
    const value = Buffer.from(JSON.stringify(sealConfig));
    if (isTransactional(this.physical)) {
      await this.physical.transaction([
        { op: 'put', key: SEAL_CONFIG_PATH, value },
        { op: 'delete', key: INIT_IN_PROGRESS_PATH },
      ]);
      return;
    }
    await this.physical.put(SEAL_CONFIG_PATH, value);
    await this.physical.delete(INIT_IN_PROGRESS_PATH);
  }

  private validateInit(req: InitRequest): { shares: number; threshold: number; pgpKeys?: string[] } {
    // An empty string is a malformed count here, not an absent one.
    const num = (v: unknown, name: string) => (v === undefined || v === null ? undefined : parseNonNegativeInt(v, name));
    const secretShares = num(req.secret_shares, 'secret_shares');
    const secretThreshold = num(req.secret_threshold, 'secret_threshold');
    const storedShares = num(req.stored_shares, 'stored_shares');
    const recoveryShares = num(req.recovery_shares, 'recovery_shares');
    const recoveryThreshold = num(req.recovery_threshold, 'recovery_threshold');
    // sys/init takes JSON arrays only, as Vault's does.
    const pgpKeys = pgpKeysField(req.pgp_keys, 'pgp_keys', { arrayOnly: true });
    const recoveryPgpKeys = pgpKeysField(req.recovery_pgp_keys, 'recovery_pgp_keys', { arrayOnly: true });
    if (req.root_token_pgp_key !== undefined && typeof req.root_token_pgp_key !== 'string') {
      throw badRequest('root_token_pgp_key must be a base64-encoded PGP key');
    }

    if (this.hsm) {
      // The root key is not split under the HSM: anything but 1 is refused, never adjusted.
      const wrong = (
        [
          ['secret_shares', secretShares],
          ['secret_threshold', secretThreshold],
          ['stored_shares', storedShares],
        ] as const
      ).filter(([, v]) => v !== undefined && v !== 1);
      if (wrong.length) {
        // Vault's wording; only 1 (the root key is wrapped by the HSM, not split) is accepted.
        throw badRequest(`parameters ${wrong.map(([k]) => k).join(',')} not applicable to seal type ${this.hsm.type}`);
      }
      if (pgpKeys) throw badRequest('pgp_keys is not supported when using an HSM seal; use recovery_pgp_keys');
      if (recoveryShares === undefined || recoveryThreshold === undefined) {
        throw badRequest('recovery_shares and recovery_threshold are required when using an HSM seal');
      }
      validateShareParams(recoveryShares, recoveryThreshold, { shares: 'recovery_shares', threshold: 'recovery_threshold' });
      if (recoveryPgpKeys && recoveryPgpKeys.length !== recoveryShares) {
        throw badRequest('the number of recovery_pgp_keys must equal recovery_shares');
      }
      return { shares: recoveryShares, threshold: recoveryThreshold, pgpKeys: recoveryPgpKeys };
    }

    const recoveryGiven = (
      [
        ['recovery_shares', recoveryShares],
        ['recovery_threshold', recoveryThreshold],
        ['recovery_pgp_keys', recoveryPgpKeys],
      ] as const
    ).filter(([, v]) => v !== undefined);
    if (recoveryGiven.length) {
      throw badRequest(`${recoveryGiven.map(([k]) => k).join(', ')} cannot be used with the Shamir seal: there are no recovery keys`);
    }
    if (secretShares === undefined || secretThreshold === undefined) {
      throw badRequest('secret_shares and secret_threshold are required');
    }
    if (storedShares !== undefined && storedShares !== 0) {
      throw badRequest('stored_shares is only supported with an auto-unseal (HSM) seal');
    }
    validateShareParams(secretShares, secretThreshold, { shares: 'secret_shares', threshold: 'secret_threshold' });
    if (pgpKeys && pgpKeys.length !== secretShares) throw badRequest('the number of pgp_keys must equal secret_shares');
    return { shares: secretShares, threshold: secretThreshold, pgpKeys };
  }

  /** Shares as the API returns them: hex and base64, or PGP-encrypted base64 (both fields alike, as Vault does). */
  async presentShares(shares: Buffer[], pgpKeys?: string[]): Promise<{ hex: string[]; base64: string[]; fingerprints?: string[] }> {
    if (pgpKeys) {
      const { encrypted, fingerprints } = await encryptShares(shares, pgpKeys);
      for (const s of shares) s.fill(0);
      return { hex: encrypted.map((b64) => Buffer.from(b64, 'base64').toString('hex')), base64: encrypted, fingerprints };
    }
    const out = { hex: shares.map((s) => s.toString('hex')), base64: shares.map((s) => s.toString('base64')) };
    for (const s of shares) s.fill(0);
    return out;
  }

  // ---------------------------------------------------------------- unseal

  /**
   * `PUT sys/unseal`: adds one share. Normally an unseal key (Shamir) or a
   * recovery key (HSM seal, after a manual seal); with `migrate`, a key of the
   * OLD seal during a seal migration (see seal-migration.ts).
   */
  submitUnsealKey(keyText: string | undefined, reset: boolean, migrate = false): Promise<SealStatus> {
    return this.exclusive(async () => {
      if (reset) {
        if (!this.sealed) throw badRequest('vault is unsealed');
        this.unsealProgress?.clear();
        this.unsealProgress = undefined;
        return this.sealStatus();
      }
      // The key is checked before the seal state, as Vault does: a bad key is a 400 even when unsealed.
      if (typeof keyText !== 'string' || keyText === '') throw badRequest("'key' must be specified in request body as JSON, or 'reset' set to true");
      const share = decodeShare(keyText);
      const cfg = await this.authorisingConfig();
      if (!cfg) throw badRequest('Vault is not initialized');
      const direction = await this.pendingMigration();
      if (migrate) {
        if (!direction) throw badRequest('no seal migration is pending: the configured seal matches the one in storage');
        if (direction === 'hsm-to-shamir' && !this.oldHsm) {
          throw badRequest('migrating away from the pkcs11 seal needs its stanza kept in the config with disabled = "true"');
        }
        if (!this.sealed) throw badRequest('seal migration happens while sealed; restart the server with the new configuration');
      } else {
        if (!this.sealed) return this.sealStatus();
        if (direction) {
          throw badRequest("a seal migration is pending: unseal with migrate=true (operator unseal -migrate) using the old seal's keys");
        }
      }
      this.unsealProgress ??= new ShareCollector(cfg.secret_threshold);
      const shares = this.unsealProgress.add(share);
      if (!shares) return this.sealStatus();
      this.unsealProgress.clear();
      this.unsealProgress = undefined;
      const secret = await combineShares(shares);
      try {
        if (direction === 'shamir-to-hsm') await this.finishMigrationToHsm(secret, cfg);
        else if (direction === 'hsm-to-shamir') await this.finishMigrationToShamir(secret, cfg);
        else if (this.hsm) {
          await this.verifyRecoveryKey(secret);
          await this.unsealThroughHsm();
        } else {
          await this.unsealWithRootKey(secret);
        }
      } finally {
        secret.fill(0);
      }
      this.sealedByOperator = false;
      return this.sealStatus();
    });
  }

  private async finishMigrationToHsm(oldRootKey: Buffer, shamirConfig: SharesConfig): Promise<void> {
    if (!(await this.barrier.verifyRootKey(oldRootKey))) {
      throw badRequest('the unseal key shares given do not reconstruct the root key; progress has been reset');
    }
    await this.barrier.unseal(oldRootKey);
    try {
      await migrateShamirToHsm({ barrier: this.barrier, hsm: this.hsm!, oldRootKey, shamirConfig, keyRandom: this.keyRandom });
    } catch (err) {
      this.barrier.seal();
      throw err;
    }
    this.logger.info('core: seal migrated from shamir to pkcs11; the old unseal keys are now recovery keys');
    await this.afterBarrierUnsealed();
  }

  private async finishMigrationToShamir(recoveryKey: Buffer, recoveryConfig: SharesConfig): Promise<void> {
    await this.verifyRecoveryKey(recoveryKey);
    const oldHsm = this.oldHsm!;
    const { rootKey } = await this.unwrapStoredRootKey(oldHsm);
    try {
      await this.barrier.unseal(rootKey);
    } finally {
      rootKey.fill(0);
    }
    try {
      // Values the HSM wrapped must be readable without it before the switch.
      const unwrapped = await unwrapSealWrappedMounts(this.barrier, oldHsm);
      if (unwrapped) this.logger.info(`core: unwrapped ${unwrapped} seal-wrapped values for the migration to shamir`);
      await migrateHsmToShamir({ barrier: this.barrier, recoveryKey, recoveryConfig });
    } catch (err) {
      this.barrier.seal();
      throw err;
    }
    this.logger.info('core: seal migrated from pkcs11 to shamir; the recovery keys are now unseal keys');
    await this.afterBarrierUnsealed();
  }

  /** Compares a reconstructed recovery key with the HSM-wrapped stored one, in constant time. */
  async verifyRecoveryKey(candidate: Buffer): Promise<void> {
    const actual = await this.readRecoveryKey();
    const ok = actual.length === candidate.length && timingSafeEqual(actual, candidate);
    actual.fill(0);
    if (!ok) throw badRequest('the recovery key shares given do not reconstruct the recovery key; progress has been reset');
  }

  async readRecoveryKey(): Promise<Buffer> {
    const hsm = this.hsm ?? this.oldHsm;
    if (!hsm) throw badRequest('recovery keys exist only under an HSM seal');
    const blob = await this.physical.get(RECOVERY_KEY_PATH);
    if (!blob) throw new TresorError(500, 'recovery key not found in storage');
    return unwrapKeyAt(hsm, RECOVERY_KEY_PATH, blob);
  }

  async writeRecoveryKey(key: Buffer): Promise<void> {
    if (!this.hsm) throw badRequest('recovery keys exist only under an HSM seal');
    await this.physical.put(RECOVERY_KEY_PATH, await wrapKeyAt(this.hsm, RECOVERY_KEY_PATH, key));
  }

  /**
   * Installs a new recovery key in ONE atomic storage transaction: the
   * HSM-wrapped key at RECOVERY_KEY_PATH, `config` (JSON) at
   * RECOVERY_CONFIG_PATH, and `extraOps`. The old recovery shares keep
   * working until the batch is durable, and never stop working half-way.
   */
  async replaceRecoveryKey(newKey: Buffer, config: SharesConfig, extraOps: TxOp[] = []): Promise<void> {
    if (!this.hsm) throw badRequest('recovery keys exist only under an HSM seal');
    const physical = this.atomicPhysical();
    await physical.transaction([
      { op: 'put', key: RECOVERY_KEY_PATH, value: await wrapKeyAt(this.hsm, RECOVERY_KEY_PATH, newKey) },
      { op: 'put', key: RECOVERY_CONFIG_PATH, value: Buffer.from(JSON.stringify(config)) },
      ...extraOps,
    ]);
  }

  /**
   * Installs a new root key in ONE atomic storage transaction: the keyring
   * re-encrypted under it, plus under the HSM seal its HSM-wrapped copy at
   * HSM_ROOT_KEY_PATH, plus `sealConfig` (JSON) at SEAL_CONFIG_PATH when
   * given (Shamir: the new share counts), plus `extraOps`.
   */
  async replaceRootKey(newRootKey: Buffer, sealConfig: SharesConfig | undefined, extraOps: TxOp[] = []): Promise<void> {
    this.atomicPhysical();
    const ops: TxOp[] = [];
    if (this.hsm) {
      ops.push({ op: 'put', key: HSM_ROOT_KEY_PATH, value: await wrapKeyAt(this.hsm, HSM_ROOT_KEY_PATH, newRootKey) });
    }
    if (sealConfig) ops.push({ op: 'put', key: SEAL_CONFIG_PATH, value: Buffer.from(JSON.stringify(sealConfig)) });
    await this.barrier.rekeyWith(newRootKey, [...ops, ...extraOps]);
  }

  private atomicPhysical() {
    if (!isTransactional(this.physical)) {
      throw new TresorError(500, `the ${this.storageType} storage backend cannot apply atomic transactions; key replacement refused`);
    }
    return this.physical;
  }

  private async unsealWithRootKey(rootKey: Buffer): Promise<void> {
    try {
      await this.barrier.unseal(rootKey);
    } catch (err) {
      if (err instanceof BarrierKeyError) {
        throw badRequest('the unseal key shares given do not reconstruct the root key; progress has been reset');
      }
      throw err;
    }
    await this.afterBarrierUnsealed();
  }

  /** The stored HSM-wrapped root key (`blob`) and what `hsm` unwraps it to; 500 when it is missing. */
  private async unwrapStoredRootKey(hsm: SealWrapper): Promise<{ blob: Buffer; rootKey: Buffer }> {
    const blob = await this.physical.get(HSM_ROOT_KEY_PATH);
    if (!blob) throw new TresorError(500, 'the HSM-wrapped root key is missing from storage');
    return { blob, rootKey: await unwrapKeyAt(hsm, HSM_ROOT_KEY_PATH, blob) };
  }

  /** Decrypts the stored root key through the HSM and unseals with it. */
  private async unsealThroughHsm(): Promise<void> {
    const { blob, rootKey } = await this.unwrapStoredRootKey(this.hsm!);
    try {
      await this.barrier.unseal(rootKey);
    } catch (err) {
      if (err instanceof BarrierKeyError) throw new TresorError(500, 'the HSM-unwrapped root key does not open the keyring');
      throw err;
    } finally {
      rootKey.fill(0);
    }
    await this.afterBarrierUnsealed();
    // In HA a standby writes nothing: the node that becomes active re-wraps (becomeActive).
    if (!this.ha) await this.rewrapCoreEntries(blob);
  }

  /** After an HSM key switch, writes the core's HSM-wrapped entries again under the current key. */
  private async rewrapCoreEntries(rootBlob: Buffer): Promise<void> {
    const hsm = this.hsm!;
    if (!hsm.needsRewrap(rootBlob)) return;
    const rootKey = this.barrier.rootKey();
    await this.physical.put(HSM_ROOT_KEY_PATH, await wrapKeyAt(hsm, HSM_ROOT_KEY_PATH, rootKey));
    rootKey.fill(0);
    const recovery = await this.readRecoveryKey();
    await this.writeRecoveryKey(recovery);
    recovery.fill(0);
    await this.barrier.persistKeyring();
    this.logger.info(`core: re-wrapped the root key, recovery key and keyring under ${hsm.keyInfo().keyId}`);
  }

  private async afterBarrierUnsealed(): Promise<void> {
    if (this.ha) {
      // A standby builds nothing: the active node's data is read when (if) this node wins.
      this.ha.start();
      this.logger.info('core: unsealed (HA standby, campaigning)');
      return;
    }
    try {
      this.state = await UnsealedState.create(this, { firstTime: false });
    } catch (err) {
      this.barrier.seal();
      throw err;
    }
    this.logger.info('core: unsealed');
  }

  /**
   * Auto-unseal under the HSM seal. Returns true once unsealed; false when
   * there is nothing to do (not initialised, no HSM, sealed by an operator).
   */
  autoUnseal(): Promise<boolean> {
    return this.exclusive(async () => {
      if (!this.hsm || !this.sealed || this.sealedByOperator) return !this.sealed;
      const cfg = await this.sealConfig();
      if (!cfg) return false;
      if (migrationDirection(cfg, this.hsm)) {
        this.logger.warn(`core: storage uses the ${cfg.type} seal but ${this.hsm.type} is configured: unseal with -migrate to migrate`);
        return false;
      }
      await this.unsealThroughHsm();
      return true;
    });
  }

  seal(): Promise<void> {
    return this.exclusive(async () => {
      if (this.sealed) return;
      await this.ha?.stop();
      await this.state?.close();
      this.state = undefined;
      this.barrier.seal();
      this.managedKeys.forgetRecords();
      this.sealedByOperator = true;
      this.logger.info('core: sealed by operator');
    });
  }

  /**
   * HA: this node won the election. The barrier is re-opened from storage
   * (the active node may have rotated the keyring or, under the HSM, the root
   * key) and the state is built fresh, so nothing from before is reused.
   */
  becomeActive(): Promise<void> {
    return this.exclusive(async () => {
      if (this.barrier.sealed) throw sealedError();
      if (this.state) return;
      let rootBlob: Buffer | undefined;
      if (this.hsm) {
        this.barrier.seal();
        const { blob, rootKey } = await this.unwrapStoredRootKey(this.hsm);
        rootBlob = blob;
        try {
          await this.barrier.unseal(rootKey);
        } finally {
          rootKey.fill(0);
        }
      } else {
        const rootKey = this.barrier.rootKey();
        try {
          this.barrier.seal();
          await this.barrier.unseal(rootKey);
        } catch (err) {
          this.logger.error('core: the root key held since unseal no longer opens the keyring (rekeyed by another node?): unseal this node again');
          throw err;
        } finally {
          rootKey.fill(0);
        }
      }
      this.state = await UnsealedState.create(this, { firstTime: false });
      if (rootBlob) await this.rewrapCoreEntries(rootBlob);
      this.logger.info('core: active: keyring, mounts, policies and tokens loaded from storage');
    });
  }

  /** HA: this node lost (or gave up) the lock: drop every cached state, keep the barrier open. */
  becomeStandby(): Promise<void> {
    const state = this.state;
    // At once, outside the lifecycle queue: no request may reach the old state from here on.
    this.state = undefined;
    return this.exclusive(async () => {
      await state?.close();
      this.logger.info('core: standby');
    });
  }

  /** Seals on shutdown without marking it as an operator's seal. */
  async shutdown(): Promise<void> {
    await this.exclusive(async () => {
      await this.ha?.stop();
      await this.state?.close();
      this.state = undefined;
      this.barrier.seal();
    });
  }
}

/** Rewrites every value of every seal-wrapped mount as plain, using the HSM that wrapped it. */
async function unwrapSealWrappedMounts(barrier: AesGcmBarrier, hsm: SealWrapper): Promise<number> {
  const raw = await barrier.get(MOUNT_TABLE_PATH);
  if (!raw) return 0;
  let count = 0;
  for (const entry of JSON.parse(raw.toString('utf8')) as MountEntry[]) {
    if (!entry.seal_wrap) continue;
    const prefix = storagePrefix(entry);
    count += await new SealWrappedStorage(new PrefixedStorage(barrier, prefix), hsm, prefix).unwrapAll();
  }
  return count;
}
