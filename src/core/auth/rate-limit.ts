/**
 * Login rate limiting: each client address (IPv6 by its /64, see
 * sourceKey) gets a token bucket per auth mount. A burst of
 * `login_rate_burst` attempts passes at once, then `login_rate_limit` per
 * second; past that the login is refused with Vault's 429 before the method
 * runs (so no password is hashed for it). Both are options of the auth
 * mount (`sys/auth/<path>/tune` with `options`), `login_rate_limit=0` turns
 * the limit off. Counted in memory, per server.
 */
import { badRequest, TresorError } from '../errors.ts';
import type { MountEntry } from '../mounts.ts';
import { sourceKey } from '../recovery-ops.ts';

export const DEFAULT_LOGIN_RATE = 5;
export const DEFAULT_LOGIN_BURST = 20;
export const RATE_OPTION = 'login_rate_limit';
export const BURST_OPTION = 'login_rate_burst';
/** Buckets kept at once (all mounts); past this the least recently used are forgotten. */
const MAX_BUCKETS = 16384;

export interface LoginRate {
  /** Attempts per second once the burst is spent; 0 = unlimited. */
  rate: number;
  burst: number;
}

const parseRate = (text: string) => (/^\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : NaN);
const parseBurst = (text: string) => (/^\d+$/.test(text.trim()) ? Number(text) : NaN);

/** Throws a 400 for a login rate option that is not a number of the right kind. */
export function checkLoginRateOptions(options: Record<string, string> | null | undefined): void {
  const rate = options?.[RATE_OPTION];
  if (rate !== undefined && rate !== '' && !Number.isFinite(parseRate(rate))) {
    throw badRequest(`options.${RATE_OPTION} must be a non-negative number of logins per second`);
  }
  const burst = options?.[BURST_OPTION];
  if (burst !== undefined && burst !== '' && !(parseBurst(burst) >= 1)) {
    throw badRequest(`options.${BURST_OPTION} must be a positive integer`);
  }
}

/** The mount's limit: its options, else the defaults. */
export function loginRate(mount: MountEntry): LoginRate {
  const rate = mount.options?.[RATE_OPTION];
  const burst = mount.options?.[BURST_OPTION];
  return {
    rate: rate ? parseRate(rate) : DEFAULT_LOGIN_RATE,
    burst: burst ? parseBurst(burst) : DEFAULT_LOGIN_BURST,
  };
}

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date (ms). */
  at: number;
}

export class LoginRateLimiter {
  /** Map order is least recently used first. */
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly maxBuckets = MAX_BUCKETS,
  ) {}

  /** Spends one attempt for `address` on `mount`, or throws Vault's 429 naming `path`. */
  take(mount: MountEntry, address: string | undefined, path: string): void {
    const { rate, burst } = loginRate(mount);
    if (!(rate > 0)) return;
    const key = `${mount.accessor}|${sourceKey(address)}`;
    const t = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: burst, at: t };
    bucket.tokens = Math.min(burst, bucket.tokens + ((t - bucket.at) / 1000) * rate);
    bucket.at = t;
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.maxBuckets) this.buckets.delete(this.buckets.keys().next().value!);
    if (bucket.tokens < 1) throw new TresorError(429, `request path "${path}": rate limit quota exceeded`);
    bucket.tokens -= 1;
  }

  /** Forgets a mount's buckets (it was disabled). */
  forget(mountAccessor: string): void {
    for (const key of this.buckets.keys()) if (key.startsWith(`${mountAccessor}|`)) this.buckets.delete(key);
  }
}
