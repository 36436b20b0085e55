import crypto from 'node:crypto';
import type { RandomSource } from '../entropy.ts';
import { randomBase62 } from '../otp.ts';

/** Prefix Vault 1.10+ gives service tokens. */
export const SERVICE_TOKEN_PREFIX = 'hvs.';
const RANDOM_PART_LENGTH = 24;

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
