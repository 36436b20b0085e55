/**
 * `sys/generate-root`: a quorum of key shares (recovery shares under the HSM
 * seal, unseal shares under Shamir) mints a new root token. The token is
 * never returned in clear: it comes back XORed with a one-time password
 * (see otp.ts) or encrypted to a PGP key. Progress lives in memory only.
 */
import type { Core } from './core.ts';
import { badRequest } from './errors.ts';
import { encodeToken, randomBase62 } from './otp.ts';
import { encryptForKey, readPgpKeys } from './pgp.ts';
import { ShareCollector } from './share-collector.ts';
import { optionalString } from './request-fields.ts';
import {
  AttemptSlot,
  authorisingThreshold,
  checkCancelNonce,
  perCore,
  SerialQueue,
  sourceKey,
  StartLimiter,
  takeAuthorisingShare,
  takeLimited,
} from './recovery-ops.ts';

/** Length of a root token ("hvs." + 24 base62 characters), hence of the OTP hiding it. */
export const ROOT_TOKEN_OTP_LENGTH = 28;

/**
 * Wire shape of GET/PUT/DELETE `sys/generate-root/attempt` and PUT
 * `sys/generate-root/update`. `otp` is non-empty only in the answer to the
 * start that generated it; `encoded_token` (= `encoded_root_token`) only in
 * the answer that completes the attempt.
 */
export interface GenerateRootStatus {
  started: boolean;
  nonce: string;
  progress: number;
  required: number;
  encoded_token: string;
  encoded_root_token: string;
  pgp_fingerprint: string;
  otp_length: number;
  otp: string;
  complete: boolean;
}

interface Attempt {
  shares: ShareCollector;
  /** Exactly one of otp and pgpKey is set. */
  otp?: string;
  pgpKey?: string;
  pgpFingerprint: string;
  wipe(): void;
}

/** One core's generate-root state machine; obtain it with {@link generateRootFor}. */
export class GenerateRoot {
  private readonly slot = new AttemptSlot<Attempt>();
  private readonly queue = new SerialQueue();
  private readonly limiter = new StartLimiter('generate-root');

  constructor(private readonly core: Core) {}

  /** GET `sys/generate-root/attempt`. */
  status(): Promise<GenerateRootStatus> {
    return this.queue.run(async () => this.describe(this.slot.current(this.core), await authorisingThreshold(this.core)));
  }

  /**
   * PUT `sys/generate-root/attempt` `{otp?, pgp_key?}`. With neither, a fresh
   * OTP is generated and returned once as `otp`. 400 when one is already in
   * progress, when both are given, or for an OTP of the wrong length or an
   * unusable PGP key; 429 past the start limit of the client's address
   * (`source`). A start never replaces an attempt in progress.
   */
  start(data: Record<string, unknown>, source?: string): Promise<GenerateRootStatus> {
    return this.queue.run(async () => {
      if (this.slot.current(this.core)) {
        this.core.logger.warn(`generate-root: start refused from ${sourceKey(source)}: an attempt is already in progress`);
        throw badRequest('root generation already in progress');
      }
      const required = await authorisingThreshold(this.core);
      const givenOtp = optionalString(data.otp, 'otp') || undefined;
      const pgpKey = optionalString(data.pgp_key, 'pgp_key') || undefined;
      if (givenOtp && pgpKey) throw badRequest('only one of otp and pgp_key may be given');
      if (givenOtp !== undefined && givenOtp.length !== ROOT_TOKEN_OTP_LENGTH) {
        throw badRequest(`otp must be ${ROOT_TOKEN_OTP_LENGTH} characters long`);
      }
      const pgpFingerprint = pgpKey ? (await readPgpKeys([pgpKey]))[0]!.fingerprint : '';
      takeLimited(this.core, this.limiter, source, 'generate-root: start');
      const otp = pgpKey ? undefined : (givenOtp ?? (await randomBase62(ROOT_TOKEN_OTP_LENGTH, (n) => this.core.keyRandom(n))));
      const shares = new ShareCollector(required);
      const attempt: Attempt = {
        shares,
        otp,
        pgpKey,
        pgpFingerprint,
        wipe: () => shares.clear(),
      };
      this.slot.begin(this.core, attempt);
      this.core.logger.info(`generate-root: attempt started (nonce ${shares.nonce}, ${pgpKey ? 'PGP key' : 'OTP'}) from ${sourceKey(source)}`);
      const status = this.describe(attempt, required);
      if (!givenOtp && otp) status.otp = otp;
      return status;
    });
  }

  /**
   * DELETE `sys/generate-root/attempt` `{nonce}`: drops the attempt and its
   * shares (nothing to drop is fine). The attempt's nonce is required, as
   * Vault 1.20+ requires it to cancel a rekey (Vault itself does not ask it
   * here: a deliberate difference), so a client that never looked at the
   * attempt cannot wipe the key holders' progress by accident or blindly.
   * Counts against the client's start/cancel limit (429 past it).
   */
  cancel(data: Record<string, unknown> = {}, source?: string): Promise<void> {
    return this.queue.run(async () => {
      const attempt = this.slot.current(this.core);
      if (!attempt) return;
      checkCancelNonce(this.core, attempt.shares.nonce, data, 'root generation', `generate-root: cancel from ${sourceKey(source)}`);
      takeLimited(this.core, this.limiter, source, 'generate-root: cancel');
      this.slot.end();
      this.core.logger.info(`generate-root: attempt cancelled (nonce ${attempt.shares.nonce}) from ${sourceKey(source)}`);
    });
  }

  /**
   * PUT `sys/generate-root/update` `{key, nonce}`. Below the threshold,
   * returns progress. At the threshold the shares are verified and a root
   * token is created; the answer has `complete: true` and the encoded token.
   * Wrong shares: 400, progress reset, the attempt (nonce, OTP) stays.
   */
  update(data: Record<string, unknown>): Promise<GenerateRootStatus> {
    return this.queue.run(async () => {
      const attempt = this.slot.current(this.core);
      if (!attempt) throw badRequest('no root generation in progress');
      const names = { operation: 'root generation', logPrefix: 'generate-root' };
      const complete = await takeAuthorisingShare(this.core, attempt.shares, data, names);
      const required = attempt.shares.threshold;
      if (!complete) return this.describe(attempt, required);
      const { token } = await this.core.unsealed().tokens.createRoot();
      const encoded = attempt.pgpKey ? (await encryptForKey(Buffer.from(token), attempt.pgpKey)).encrypted : encodeToken(token, attempt.otp!);
      this.slot.end();
      this.core.logger.info(`generate-root: root token generated (nonce ${attempt.shares.nonce})`);
      return {
        ...this.describe(attempt, required),
        started: true,
        progress: required,
        complete: true,
        encoded_token: encoded,
        encoded_root_token: encoded,
      };
    });
  }

  private describe(attempt: Attempt | undefined, required: number): GenerateRootStatus {
    return {
      started: attempt !== undefined,
      nonce: attempt?.shares.nonce ?? '',
      progress: attempt?.shares.progress ?? 0,
      required,
      encoded_token: '',
      encoded_root_token: '',
      pgp_fingerprint: attempt?.pgpFingerprint ?? '',
      otp_length: ROOT_TOKEN_OTP_LENGTH,
      otp: '',
      complete: false,
    };
  }
}

/** The generate-root state machine of `core` (one per core, in memory). */
export const generateRootFor = perCore((core) => new GenerateRoot(core));
