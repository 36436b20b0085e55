/**
 * Pieces shared by the quorum operations that run without a token
 * (generate-root, rekey, recovery-key rekey): per-core in-memory state,
 * serialisation, start-rate limiting, nonce checks, share intake and
 * verification of the authorising key set, and request field parsing.
 */
import { timingSafeEqual } from 'node:crypto';
import { isIPv6 } from 'node:net';
import type { Core } from './core.ts';
import type { UnsealedState } from './unsealed-state.ts';
import { badRequest, TresorError } from './errors.ts';
import { optionalNonNegativeInt, optionalStringArray, optionalStringList } from './request-fields.ts';
import { ShareCollector } from './share-collector.ts';
import { combineShares, decodeShare, validateShareParams } from '../seal/shamir.ts';

/**
 * Starts and cancels allowed per operation kind and client address within
 * {@link START_WINDOW_MS}: these endpoints need no token.
 */
export const MAX_STARTS_PER_WINDOW = 10;
export const START_WINDOW_MS = 60_000;
/** Addresses tracked at once per limiter; past this the least recently seen are forgotten. */
export const MAX_TRACKED_SOURCES = 4096;

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
 * The key a client's address is counted under: IPv4 (also IPv4-mapped IPv6)
 * as is, IPv6 by its /64 network, since one host usually holds a whole /64
 * and could otherwise rotate through addresses. "unknown" when not given.
 */
export function sourceKey(address: string | undefined): string {
  if (!address) return 'unknown';
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (isIPv6(address)) {
    const groups = expandIPv6(address.split('%')[0]!);
    if (groups) return `${groups.slice(0, 4).join(':')}::/64`;
  }
  return address;
}

/** The eight 16-bit groups of an IPv6 address (lower-case, no leading zeros), or undefined. */
function expandIPv6(address: string): string[] | undefined {
  let text = address.toLowerCase();
  // A trailing dotted quad stands for the last two groups.
  const quad = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = text.slice(0, quad.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return undefined;
  return [...head, ...Array<string>(missing).fill('0'), ...tail].map((g) => (parseInt(g, 16) || 0).toString(16));
}

/**
 * Bounds how often one client may start or cancel an operation: a sliding
 * window of times per client address (see {@link sourceKey}). Over the limit
 * is a 429 and nothing changes. Counting per address means a client that
 * loops start/cancel locks out only itself, never the operators.
 */
export class StartLimiter {
  /** Per source, its times in the window; Map order is least recently used first. */
  private readonly bySource = new Map<string, number[]>();

  constructor(
    private readonly what: string,
    private readonly limit = MAX_STARTS_PER_WINDOW,
    private readonly windowMs = START_WINDOW_MS,
    private readonly now: () => number = Date.now,
    private readonly maxSources = MAX_TRACKED_SOURCES,
  ) {}

  /** Records one start or cancel by `source` (a client address), or throws TresorError(429) when its window is full. */
  take(source: string | undefined): void {
    const t = this.now();
    const key = sourceKey(source);
    const times = (this.bySource.get(key) ?? []).filter((s) => s > t - this.windowMs);
    if (times.length >= this.limit) {
      this.bySource.set(key, times);
      throw new TresorError(
        429,
        `too many ${this.what} attempts started or cancelled from this address: at most ${this.limit} per ${this.windowMs / 1000} seconds; try again later`,
      );
    }
    times.push(t);
    this.bySource.delete(key);
    this.bySource.set(key, times);
    if (this.bySource.size > this.maxSources) this.prune(t);
  }

  /** Drops sources whose window is empty, then (if still too many) the least recently seen. */
  private prune(t: number): void {
    for (const [key, times] of this.bySource) {
      if (times.every((s) => s <= t - this.windowMs)) this.bySource.delete(key);
    }
    for (const key of this.bySource.keys()) {
      if (this.bySource.size <= this.maxSources) break;
      this.bySource.delete(key);
    }
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
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  if (a.length !== b.length || !timingSafeEqual(a, b)) throw badRequest(`incorrect nonce supplied for this ${operation} operation`);
}

/**
 * The nonce check of a cancel: 400 (logged as `what`, without either
 * nonce's value) unless `data.nonce` is the attempt's nonce.
 */
export function checkCancelNonce(core: Core, expected: string, data: Record<string, unknown>, operation: string, what: string): void {
  try {
    requireNonce(expected, data.nonce, operation);
  } catch (err) {
    core.logger.warn(`${what} refused: ${typeof data.nonce === 'string' && data.nonce !== '' ? 'wrong' : 'no'} nonce given`);
    throw err;
  }
}

/** `limiter.take(source)`, logging a refusal as `what`. */
export function takeLimited(core: Core, limiter: StartLimiter, source: string | undefined, what: string): void {
  try {
    limiter.take(source);
  } catch (err) {
    core.logger.warn(`${what} refused from ${sourceKey(source)}: too many starts and cancels from this address`);
    throw err;
  }
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
