/**
 * `sys/rekey` and `sys/rekey-recovery-key`: a quorum of the current shares
 * (recovery shares under the HSM seal, unseal shares under Shamir)
 * replaces a key with a new one split into a new set of shares.
 *
 * - target "barrier": a new root key. Under Shamir it is split and shown;
 *   under the HSM seal it is wrapped by the HSM and never shown (1-of-1,
 *   no PGP, no backup, no verification, as in Vault).
 * - target "recovery" (HSM seal only): a new recovery key, split and shown.
 *
 * With `require_verification` the new key takes effect only once a
 * threshold of the NEW shares is given back to `verify`. Every completion is
 * one atomic storage transaction (Core.replaceRootKey / replaceRecoveryKey),
 * so the old shares keep working until the new ones are fully in place.
 * Progress lives in memory only: a restart forgets it and changes nothing.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Core } from './core.ts';
import type { TxOp } from '../storage/transactional.ts';
import { badRequest } from './errors.ts';
import { readPgpKeys } from './pgp.ts';
import { ShareCollector } from './share-collector.ts';
import { combineShares, splitKey } from '../seal/shamir.ts';
import { optionalBool, optionalNonNegativeInt } from './request-fields.ts';
import type { SharesConfig } from './seal-config.ts';
import {
  addShare,
  AttemptSlot,
  authorisingThreshold,
  checkCancelNonce,
  newShareParams,
  perCore,
  pgpKeysField,
  requireNonce,
  SerialQueue,
  shareFromBody,
  sourceKey,
  StartLimiter,
  takeAuthorisingShare,
  takeLimited,
} from './recovery-ops.ts';

export type RekeyTarget = 'barrier' | 'recovery';

/** Behind-the-barrier paths of the PGP-encrypted key backups (Vault's names). */
export const BACKUP_PATHS: Record<RekeyTarget, string> = {
  barrier: 'core/unseal-keys-backup',
  recovery: 'core/recovery-keys-backup',
};

const NEW_KEY_BYTES = 32;

/** GET/PUT `.../init`, and PUT `.../update` below the threshold. `t`/`n` are the NEW threshold and share count. */
export interface RekeyStatus {
  nonce: string;
  started: boolean;
  t: number;
  n: number;
  progress: number;
  /** Threshold of the shares authorising the rekey. */
  required: number;
  pgp_fingerprints: string[] | null;
  backup: boolean;
  verification_required: boolean;
}

/**
 * PUT `.../update` at the threshold. `keys` are hex, `keys_base64` base64 of
 * the new shares (with PGP: of each binary OpenPGP message, in key order).
 * Both are empty for a barrier rekey under the HSM seal.
 * `verification_nonce` is set only when verification is required.
 */
export interface RekeyUpdateResult {
  complete: true;
  nonce: string;
  t: number;
  n: number;
  keys: string[];
  keys_base64: string[];
  pgp_fingerprints: string[] | null;
  backup: boolean;
  verification_required: boolean;
  verification_nonce: string;
}

/** GET/DELETE `.../verify`, and PUT `.../verify` below the NEW threshold. */
export interface RekeyVerifyStatus {
  nonce: string;
  started: boolean;
  t: number;
  n: number;
  progress: number;
}

/**
 * Stored backup and the `data` of GET `.../backup`: the PGP-encrypted new
 * shares grouped by key fingerprint, hex in `keys`, base64 in `keys_base64`.
 */
export interface RekeyBackup {
  nonce: string;
  keys: Record<string, string[]>;
  keys_base64: Record<string, string[]>;
}

interface Plan {
  shares: number;
  threshold: number;
  pgpKeys?: string[];
  fingerprints?: string[];
  backup: boolean;
  verificationRequired: boolean;
}

/** New key produced but not yet in force: waiting for the new shares. */
interface PendingKey {
  newKey: Buffer;
  verification: ShareCollector;
  backup?: RekeyBackup;
}

interface Attempt {
  plan: Plan;
  /** Shares of the CURRENT key set; its nonce is the rekey nonce. */
  shares: ShareCollector;
  pending?: PendingKey;
  wipe(): void;
}

/** One core's rekey state machine for one target; obtain it with {@link rekeyFor}. */
export class Rekey {
  private readonly slot = new AttemptSlot<Attempt>();
  private readonly queue = new SerialQueue();
  private readonly limiter: StartLimiter;

  constructor(
    private readonly core: Core,
    readonly target: RekeyTarget,
  ) {
    this.limiter = new StartLimiter(`${target} rekey`);
  }

  private get what(): string {
    return this.target === 'recovery' ? 'recovery key rekey' : 'rekey';
  }

  /** Under the HSM seal the barrier's new root key is HSM-wrapped, not split. */
  private get storedRootKey(): boolean {
    return this.target === 'barrier' && this.core.hsm !== undefined;
  }

  /** GET `.../init`. */
  status(): Promise<RekeyStatus> {
    return this.queue.run(async () => {
      this.requireTargetUsable();
      return this.describe(this.slot.current(this.core), await authorisingThreshold(this.core));
    });
  }

  /**
   * PUT `.../init` `{secret_shares, secret_threshold, pgp_keys?, backup?,
   * require_verification?}`. 400 for bad share parameters, a PGP key count
   * other than secret_shares, an unusable PGP key, `backup` without
   * `pgp_keys`, or an attempt already in progress (never replaced by a
   * start); 429 past the start limit of the client's address (`source`).
   */
  start(data: Record<string, unknown>, source?: string): Promise<RekeyStatus> {
    return this.queue.run(async () => {
      this.requireTargetUsable();
      if (this.slot.current(this.core)) {
        this.core.logger.warn(`${this.what}: start refused from ${sourceKey(source)}: a rekey is already in progress`);
        throw badRequest('rekey already in progress');
      }
      const required = await authorisingThreshold(this.core);
      const plan = await this.planFrom(data);
      takeLimited(this.core, this.limiter, source, `${this.what}: start`);
      const shares = new ShareCollector(required);
      const attempt: Attempt = {
        plan,
        shares,
        wipe: () => {
          shares.clear();
          attempt.pending?.newKey.fill(0);
          attempt.pending?.verification.clear();
        },
      };
      this.slot.begin(this.core, attempt);
      this.core.logger.info(
        `${this.what}: started (nonce ${shares.nonce}, ${plan.shares} shares, threshold ${plan.threshold}, ` +
          `pgp ${plan.pgpKeys ? 'yes' : 'no'}, backup ${plan.backup}, verification ${plan.verificationRequired}) from ${sourceKey(source)}`,
      );
      return this.describe(attempt, required);
    });
  }

  /**
   * DELETE `.../init` `{nonce}`: cancels the attempt, including a pending
   * verification. The nonce is required (Vault's fix for CVE-2025-4656), so
   * a caller who never saw the attempt cannot sabotage it. Nothing in
   * progress is not an error. Counts against the client's start/cancel
   * limit (429 past it).
   */
  cancel(data: Record<string, unknown>, source?: string): Promise<void> {
    return this.queue.run(async () => {
      this.requireTargetUsable();
      const attempt = this.slot.current(this.core);
      if (!attempt) return;
      checkCancelNonce(this.core, attempt.shares.nonce, data, this.what, `${this.what}: cancel from ${sourceKey(source)}`);
      takeLimited(this.core, this.limiter, source, `${this.what}: cancel`);
      this.slot.end();
      this.core.logger.info(`${this.what}: cancelled (nonce ${attempt.shares.nonce}) from ${sourceKey(source)}`);
    });
  }

  /**
   * PUT `.../update` `{key, nonce}`: one share of the current key set. At the
   * threshold the shares are verified (400 and progress reset when wrong),
   * a new key is drawn and split, and it takes effect at once or, with
   * verification, once `verify` confirms it.
   */
  update(data: Record<string, unknown>): Promise<RekeyStatus | RekeyUpdateResult> {
    return this.queue.run(async () => {
      const attempt = this.requireAttempt();
      if (attempt.pending) {
        throw badRequest(`${this.what} already finished; the new shares must now be verified with the verification nonce`);
      }
      const complete = await takeAuthorisingShare(this.core, attempt.shares, data, { operation: this.what, logPrefix: this.what });
      if (!complete) return this.describe(attempt, attempt.shares.threshold);
      return this.produceNewKey(attempt);
    });
  }

  /** GET `.../verify`. 400 when no rekey is in progress. */
  verifyStatus(): Promise<RekeyVerifyStatus> {
    return this.queue.run(async () => this.describeVerification(this.requireAttempt()));
  }

  /** DELETE `.../verify`: restarts verification with a fresh nonce, discarding its progress. */
  restartVerification(): Promise<RekeyVerifyStatus> {
    return this.queue.run(async () => {
      const attempt = this.requireAttempt();
      const pending = attempt.pending;
      if (pending) {
        pending.verification.clear();
        pending.verification = new ShareCollector(attempt.plan.threshold);
        this.core.logger.info(`${this.what}: verification restarted (nonce ${attempt.shares.nonce})`);
      }
      return this.describeVerification(attempt);
    });
  }

  /**
   * PUT `.../verify` `{key, nonce}` with `nonce` = verification_nonce: one of
   * the NEW shares. At the new threshold the shares must rebuild the new key
   * (else 400, progress reset, fresh verification nonce); then the new key
   * takes effect and the answer is `{nonce, complete: true}`.
   */
  verify(data: Record<string, unknown>): Promise<RekeyVerifyStatus | { nonce: string; complete: true }> {
    return this.queue.run(async () => {
      const attempt = this.requireAttempt();
      const pending = attempt.pending;
      if (!pending) throw badRequest(`no ${this.what} verification in progress`);
      requireNonce(pending.verification.nonce, data.nonce, `${this.what} verification`);
      const shares = addShare(pending.verification, shareFromBody(data));
      if (!shares) return this.describeVerification(attempt);
      const candidate = await combineShares(shares).finally(() => shares.forEach((s) => s.fill(0)));
      const matches = candidate.length === pending.newKey.length && timingSafeEqual(candidate, pending.newKey);
      candidate.fill(0);
      if (!matches) {
        pending.verification = new ShareCollector(attempt.plan.threshold);
        this.core.logger.warn(`${this.what}: verification failed, progress reset with a new verification nonce`);
        throw badRequest(`${this.what} verification failed: the shares given are not the new key shares; progress has been reset`);
      }
      const nonce = pending.verification.nonce;
      await this.commit(attempt, pending.newKey, pending.backup);
      return { nonce, complete: true };
    });
  }

  /** GET `.../backup` (sudo): the stored backup, or 404. */
  async readBackup(): Promise<RekeyBackup> {
    const raw = await this.core.barrier.get(BACKUP_PATHS[this.target]);
    if (!raw) throw badRequest('no backed-up keys found'); // Vault's answer (400) when nothing is backed up
    return JSON.parse(raw.toString('utf8')) as RekeyBackup;
  }

  /** DELETE `.../backup` (sudo). Deleting a missing backup is fine. */
  async deleteBackup(): Promise<void> {
    await this.core.barrier.delete(BACKUP_PATHS[this.target]);
    this.core.logger.info(`${this.what}: key backup deleted`);
  }

  // ---------------------------------------------------------------- internals

  private requireTargetUsable(): void {
    this.core.unsealed();
    if (this.target === 'recovery' && !this.core.hsm) {
      throw badRequest('recovery keys are only used with an auto-unseal seal');
    }
  }

  private requireAttempt(): Attempt {
    this.requireTargetUsable();
    const attempt = this.slot.current(this.core);
    if (!attempt) throw badRequest(`no ${this.what} in progress`);
    return attempt;
  }

  private async planFrom(data: Record<string, unknown>): Promise<Plan> {
    const pgpKeys = pgpKeysField(data.pgp_keys, 'pgp_keys');
    const backup = optionalBool(data.backup, 'backup') ?? false;
    const verificationRequired = optionalBool(data.require_verification, 'require_verification') ?? false;
    if (this.storedRootKey) {
      const shares = optionalNonNegativeInt(data.secret_shares, 'secret_shares') ?? 1;
      const threshold = optionalNonNegativeInt(data.secret_threshold, 'secret_threshold') ?? 1;
      if (shares !== 1 || threshold !== 1) {
        throw badRequest('secret_shares and secret_threshold must be 1 under an HSM seal: the new root key is wrapped by the HSM, not split');
      }
      if (pgpKeys) throw badRequest('pgp_keys is not supported when the root key is stored by the HSM seal');
      if (backup) throw badRequest('backup is not supported when the root key is stored by the HSM seal');
      if (verificationRequired) throw badRequest('require_verification is not supported when rekeying the root key with recovery keys');
      return { shares, threshold, backup, verificationRequired };
    }
    const { shares, threshold } = newShareParams(data);
    if (pgpKeys && pgpKeys.length !== shares) throw badRequest('the number of pgp_keys must equal secret_shares');
    if (backup && !pgpKeys) throw badRequest('backup requires pgp_keys: only PGP-encrypted shares are backed up');
    const fingerprints = pgpKeys ? (await readPgpKeys(pgpKeys)).map((k) => k.fingerprint) : undefined;
    return { shares, threshold, pgpKeys, fingerprints, backup, verificationRequired };
  }

  private async produceNewKey(attempt: Attempt): Promise<RekeyUpdateResult> {
    const { plan } = attempt;
    const newKey = await this.core.keyRandom(NEW_KEY_BYTES);
    const shown = this.storedRootKey
      ? { hex: [], base64: [], fingerprints: undefined }
      : await this.core.presentShares(await splitKey(newKey, plan.shares, plan.threshold), plan.pgpKeys);
    const backup = plan.backup ? backupOf(attempt.shares.nonce, shown) : undefined;
    const result: RekeyUpdateResult = {
      complete: true,
      nonce: attempt.shares.nonce,
      t: plan.threshold,
      n: plan.shares,
      keys: shown.hex,
      keys_base64: shown.base64,
      pgp_fingerprints: shown.fingerprints ?? null,
      backup: plan.backup,
      verification_required: plan.verificationRequired,
      verification_nonce: '',
    };
    if (plan.verificationRequired) {
      const verification = new ShareCollector(plan.threshold);
      attempt.pending = { newKey, verification, backup };
      result.verification_nonce = verification.nonce;
      this.core.logger.info(`${this.what}: new shares issued, pending verification (nonce ${attempt.shares.nonce})`);
      return result;
    }
    try {
      await this.commit(attempt, newKey, backup);
    } finally {
      newKey.fill(0);
    }
    return result;
  }

  /** Puts the new key in force in one transaction, with the backup (or removal of a stale one). */
  private async commit(attempt: Attempt, newKey: Buffer, backup: RekeyBackup | undefined): Promise<void> {
    const { plan } = attempt;
    const backupPath = BACKUP_PATHS[this.target];
    // A backup of shares that no longer work would only mislead: it goes with the old keys.
    const backupOp: TxOp = backup
      ? this.core.barrier.encryptedPutOp(backupPath, Buffer.from(JSON.stringify(backup)))
      : { op: 'delete', key: backupPath };
    const config: SharesConfig = {
      type: 'shamir',
      secret_shares: plan.shares,
      secret_threshold: plan.threshold,
      ...(plan.pgpKeys ? { pgp_keys: plan.pgpKeys } : {}),
      ...(plan.backup ? { backup: true } : {}),
    };
    if (this.target === 'recovery') {
      await this.core.replaceRecoveryKey(newKey, config, [backupOp]);
    } else if (this.storedRootKey) {
      await this.core.replaceRootKey(newKey, undefined, [backupOp]);
    } else {
      await this.core.replaceRootKey(newKey, { ...config, stored_shares: 0 }, [backupOp]);
    }
    this.slot.end();
    this.core.logger.info(`${this.what}: completed, the new key is in force (nonce ${attempt.shares.nonce})`);
  }

  private describe(attempt: Attempt | undefined, required: number): RekeyStatus {
    return {
      nonce: attempt?.shares.nonce ?? '',
      started: attempt !== undefined,
      t: attempt?.plan.threshold ?? 0,
      n: attempt?.plan.shares ?? 0,
      progress: attempt?.shares.progress ?? 0,
      required,
      pgp_fingerprints: attempt?.plan.fingerprints ?? null,
      backup: attempt?.plan.backup ?? false,
      verification_required: attempt?.plan.verificationRequired ?? false,
    };
  }

  private describeVerification(attempt: Attempt): RekeyVerifyStatus {
    const pending = attempt.pending;
    return {
      nonce: pending?.verification.nonce ?? '',
      started: pending !== undefined,
      t: attempt.plan.threshold,
      n: attempt.plan.shares,
      progress: pending?.verification.progress ?? 0,
    };
  }
}

/** Groups PGP-encrypted shares by fingerprint, as Vault's backup does. */
function backupOf(nonce: string, shown: { hex: string[]; base64: string[]; fingerprints?: string[] }): RekeyBackup {
  const backup: RekeyBackup = { nonce, keys: {}, keys_base64: {} };
  shown.fingerprints?.forEach((fp, i) => {
    (backup.keys[fp] ??= []).push(shown.hex[i]!);
    (backup.keys_base64[fp] ??= []).push(shown.base64[i]!);
  });
  return backup;
}

const barrierRekeys = perCore((core) => new Rekey(core, 'barrier'));
const recoveryRekeys = perCore((core) => new Rekey(core, 'recovery'));

/** The rekey state machine of `core` for `target` (one per core and target, in memory). */
export function rekeyFor(core: Core, target: RekeyTarget): Rekey {
  return target === 'barrier' ? barrierRekeys(core) : recoveryRekeys(core);
}
