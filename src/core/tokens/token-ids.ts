import crypto from 'node:crypto';
import { generateOtp } from '../otp.ts';

/** Prefix Vault 1.10+ gives service tokens. */
export const SERVICE_TOKEN_PREFIX = 'hvs.';
const RANDOM_PART_LENGTH = 24;

type RandomSource = (n: number) => Promise<Buffer>;

/**
 * `length` base62 characters drawn from `randomBytes`, without modulo bias.
 * The sampler in otp.ts wants a synchronous source, so we prefetch a pool
 * four times the length (rejection rate is 8/256, so one pool is all but
 * certain to suffice) and top up from the OS CSPRNG in the unlikely rest.
 */
async function randomBase62(length: number, randomBytes: RandomSource): Promise<string> {
  const pool = await randomBytes(length * 4);
  let offset = 0;
  return generateOtp(length, (n) => {
    if (offset + n > pool.length) return crypto.randomBytes(n);
    offset += n;
    return pool.subarray(offset - n, offset);
  });
}

/** A new client token: "hvs." + 24 base62 characters. */
export async function generateToken(randomBytes: RandomSource): Promise<string> {
  return SERVICE_TOKEN_PREFIX + (await randomBase62(RANDOM_PART_LENGTH, randomBytes));
}

/** A new accessor: 24 base62 characters. */
export async function generateAccessor(randomBytes: RandomSource): Promise<string> {
  return randomBase62(RANDOM_PART_LENGTH, randomBytes);
}

/** Storage id of a token or accessor: lower-case hex HMAC-SHA256 keyed by the store's salt. */
export function saltedHash(salt: Buffer, value: string): string {
  return crypto.createHmac('sha256', salt).update(value, 'utf8').digest('hex');
}

/** Constant-time equality of two strings (false when lengths differ). */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && crypto.timingSafeEqual(left, right);
}
