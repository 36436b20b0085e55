/**
 * Pieces shared by the quorum operations that run without a token
 * (generate-root, rekey, recovery-key rekey): per-core in-memory state,
 * serialisation, start-rate limiting, nonce checks, share intake and
 * verification of the authorising key set, and request field parsing.
 */
import type { Core } from './core.ts';
import type { UnsealedState } from './unsealed-state.ts';
import { badRequest, TresorError } from './errors.ts';
import { optionalNonNegativeInt, optionalStringArray, optionalStringList } from './request-fields.ts';
import { ShareCollector } from './share-collector.ts';
import { combineShares, decodeShare, validateShareParams } from '../seal/shamir.ts';

/** Starts allowed per operation kind within {@link START_WINDOW_MS}: these endpoints need no token. */
export const MAX_STARTS_PER_WINDOW = 10;
export const START_WINDOW_MS = 60_000;

/**
 * One value per Core, created on first use. Attempts live in memory only
 * (as in Vault): a restart forgets them and leaves the old keys in force.
 */
export function perCore<T>(create: (core: Core) => T): (core: Core) => T {
  const values = new WeakMap<Core, T>();
  return (core) => {
    let value = values.get(core);
    if (value === undefined) {
      value = create(core);
      values.set(core, value);
    }
    return value;
  };
}

/** Runs async steps one at a time, so two requests never interleave a completion. */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(step: () => Promise<T>): Promise<T> {
    const result = this.tail.then(step);
    this.tail = result.catch(() => {});
    return result;
  }
}

/**
 * Bounds how often an operation may be (re)started: a sliding window of
 * start times. Over the limit is a 429 and nothing starts.
 */
export class StartLimiter {
  private readonly starts: number[] = [];

  constructor(
    private readonly what: string,
    private readonly limit = MAX_STARTS_PER_WINDOW,
    private readonly windowMs = START_WINDOW_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records a start, or throws TresorError(429) when the window is full. */
  take(): void {
    const t = this.now();
    while (this.starts.length && this.starts[0]! <= t - this.windowMs) this.starts.shift();
    if (this.starts.length >= this.limit) {
      throw new TresorError(
        429,
        `too many ${this.what} attempts started: at most ${this.limit} per ${this.windowMs / 1000} seconds; try again later`,
      );
    }
    this.starts.push(t);
  }
}

/** Something an attempt must overwrite when it ends: collected shares, new key material. */
export interface Wipeable {
  wipe(): void;
}

/**
 * Holds the one attempt of an operation kind. Every access needs the server
 * unsealed (503 otherwise, as Vault answers these while sealed), and an
 * attempt begun before a seal is dropped rather than carried into the next
 * unseal, so each remembers the unsealed state it began in.
 */
export class AttemptSlot<A extends Wipeable> {
  private held: { state: UnsealedState; attempt: A } | undefined;

  /** The attempt in progress, or undefined. */
  current(core: Core): A | undefined {
    const state = core.unsealed();
    if (this.held && this.held.state !== state) this.end();
    return this.held?.attempt;
  }

  begin(core: Core, attempt: A): void {
    this.end();
    this.held = { state: core.unsealed(), attempt };
  }

  end(): void {
    this.held?.attempt.wipe();
    this.held = undefined;
  }
}

/** 400 unless `given` is the attempt's nonce. The message never echoes either value. */
export function requireNonce(expected: string, given: unknown, operation: string): void {
  if (typeof given !== 'string' || given === '') throw badRequest(`'nonce' must be specified for this ${operation} operation`);
  if (given !== expected) throw badRequest(`incorrect nonce supplied for this ${operation} operation`);
}

/** Keys are 16 to 32 bytes; a Shamir share adds one x-coordinate byte (Vault's bounds). */
const MIN_SHARE_BYTES = 16;
const MAX_SHARE_BYTES = 33;

/**
 * The `key` field of an update: a hex or base64 share of 16 to 33 bytes;
 * 400 when missing, malformed or of an impossible length.
 */
export function shareFromBody(data: Record<string, unknown>): Buffer {
  const key = data.key;
  if (typeof key !== 'string' || key.trim() === '') throw badRequest("'key' must be specified in the request body as a string");
  const share = decodeShare(key);
  if (share.length < MIN_SHARE_BYTES || share.length > MAX_SHARE_BYTES) {
    share.fill(0);
    throw badRequest(`key share must be between ${MIN_SHARE_BYTES} and ${MAX_SHARE_BYTES} bytes long`);
  }
  return share;
}

/**
 * Adds a share to `collector`. Returns every share once the threshold is
 * met (and clears the collector, so the next share starts a new round),
 * else undefined. A duplicate share is a 400 that counts for nothing.
 */
export function addShare(collector: ShareCollector, share: Buffer): Buffer[] | undefined {
  try {
    const shares = collector.add(share);
    if (shares) collector.clear();
    return shares;
  } finally {
    share.fill(0);
  }
}

/**
 * Rebuilds the authorising key from `shares` and checks it against what is
 * stored: the recovery key under the HSM seal, the root key under Shamir.
 * A wrong key (shares of another key set, a corrupted share) is a 400.
 */
export async function verifyAuthorisingShares(core: Core, shares: Buffer[]): Promise<void> {
  let key: Buffer | undefined;
  try {
    key = await combineShares(shares);
    if (core.hsm) {
      await core.verifyRecoveryKey(key);
    } else if (!(await core.barrier.verifyRootKey(key))) {
      throw badRequest('the unseal key shares given do not reconstruct the root key; progress has been reset');
    }
  } finally {
    key?.fill(0);
    for (const s of shares) s.fill(0);
  }
}

/**
 * Takes one share of the authorising key set for an attempt whose shares
 * `collector` gathers: checks the attempt's nonce (`operation` names it in
 * the 400), adds the share and, at the threshold, verifies the whole set.
 * True when a verified set is complete, false below the threshold; a wrong
 * set is logged under `logPrefix` and its 400 rethrown (progress reset).
 */
export async function takeAuthorisingShare(
  core: Core,
  collector: ShareCollector,
  data: Record<string, unknown>,
  { operation, logPrefix }: { operation: string; logPrefix: string },
): Promise<boolean> {
  requireNonce(collector.nonce, data.nonce, operation);
  const shares = addShare(collector, shareFromBody(data));
  if (!shares) return false;
  try {
    await verifyAuthorisingShares(core, shares);
  } catch (err) {
    core.logger.warn(`${logPrefix}: shares rejected, progress reset (nonce ${collector.nonce})`);
    throw err;
  }
  return true;
}

/** The threshold of the authorising key set (recovery keys under the HSM seal, unseal keys under Shamir). */
export async function authorisingThreshold(core: Core): Promise<number> {
  const cfg = await core.authorisingConfig();
  if (!cfg) throw badRequest('Vault is not initialized');
  return cfg.secret_threshold;
}

/**
 * A list of base64 PGP public keys, undefined when empty: a JSON array, or
 * also one comma-separated string (as the CLI may send) unless `arrayOnly`.
 */
export function pgpKeysField(value: unknown, field: string, { arrayOnly = false } = {}): string[] | undefined {
  const readList = arrayOnly ? optionalStringArray : optionalStringList;
  const keys = readList(value, field, 'base64-encoded PGP public keys');
  return keys?.length ? keys : undefined;
}

/** Share count and threshold for a new key set, checked against Vault's rules. */
export function newShareParams(data: Record<string, unknown>): { shares: number; threshold: number } {
  const shares = optionalNonNegativeInt(data.secret_shares, 'secret_shares');
  const threshold = optionalNonNegativeInt(data.secret_threshold, 'secret_threshold');
  if (shares === undefined || threshold === undefined) throw badRequest('secret_shares and secret_threshold are required');
  validateShareParams(shares, threshold, { shares: 'secret_shares', threshold: 'secret_threshold' });
  return { shares, threshold };
}
