/**
 * Password storage for userpass: a salted scrypt hash (never the password),
 * computed on libuv's thread pool so logins do not block the event loop,
 * compared in constant time. The parameters are kept with each hash, so
 * they can be raised later without breaking stored users.
 */
import crypto from 'node:crypto';

/**
 * N = 2^15, r = 8, p = 1: 32 MiB and some tens of milliseconds per hash on
 * a current core; OWASP's floor for scrypt is N = 2^13 with p = 10 or
 * N = 2^15 with p = 3 at r = 8, this trades p for latency.
 */
export const SCRYPT_PARAMS = { N: 32768, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
/** Stored parameters outside these bounds are refused rather than run (a corrupt entry must not stall the server). */
const MAX_N = 1 << 20;
const MAX_RP = 64;

export interface PasswordHash {
  alg: 'scrypt';
  N: number;
  r: number;
  p: number;
  /** Base64. */
  salt: string;
  /** Base64, KEY_LENGTH bytes. */
  hash: string;
}

function scrypt(password: string, salt: Buffer, params: { N: number; r: number; p: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // maxmem must exceed 128 * N * r bytes; twice that leaves room for the rest.
    crypto.scrypt(password, salt, KEY_LENGTH, { ...params, maxmem: 256 * params.N * params.r }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** A new hash of `password` with a fresh salt from `randomBytes`. */
export async function hashPassword(password: string, randomBytes: (n: number) => Promise<Buffer>): Promise<PasswordHash> {
  const salt = await randomBytes(SALT_LENGTH);
  const hash = await scrypt(password, salt, SCRYPT_PARAMS);
  return { alg: 'scrypt', ...SCRYPT_PARAMS, salt: salt.toString('base64'), hash: hash.toString('base64') };
}

/** Whether `password` matches `stored`: the same derivation, compared in constant time. */
export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  if (stored.alg !== 'scrypt' || !(stored.N > 1 && stored.N <= MAX_N) || !(stored.r >= 1 && stored.r <= MAX_RP) || !(stored.p >= 1 && stored.p <= MAX_RP)) {
    return false;
  }
  const expected = Buffer.from(stored.hash, 'base64');
  const actual = await scrypt(password, Buffer.from(stored.salt, 'base64'), stored);
  return expected.length === actual.length && crypto.timingSafeEqual(expected, actual);
}

let dummy: Promise<PasswordHash> | undefined;

/**
 * A hash of a random password with the current parameters: checked against
 * when the user does not exist, so an unknown user costs the same scrypt
 * run as a wrong password (no user enumeration by timing).
 */
export function dummyHash(): Promise<PasswordHash> {
  dummy ??= hashPassword(crypto.randomBytes(32).toString('base64'), async (n) => crypto.randomBytes(n)).catch((err) => {
    dummy = undefined;
    throw err;
  });
  return dummy;
}
