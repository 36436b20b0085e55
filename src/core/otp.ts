/**
 * The one-time-password codec of `sys/generate-root` (Vault 1.10+ style).
 *
 * The operator's OTP is a base62 string exactly as long as the token it will
 * hide (28 characters for an `hvs.` token). When the quorum is reached the
 * server returns `encoded_token` = unpadded standard base64 of
 * (token bytes XOR otp bytes); the CLI's `-decode` reverses it. The XOR is a
 * one-time pad, so the OTP must be fresh per attempt and as long as the token.
 */
import { randomBytes as osRandomBytes } from 'node:crypto';
import { badRequest } from './errors.ts';

/** Vault's base62 alphabet order (go-secure-stdlib/base62). */
const BASE62_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** Largest multiple of 62 that fits in a byte: bytes >= this are discarded so every character is equally likely. */
const UNBIASED_BYTE_LIMIT = BASE62_ALPHABET.length * 4;

const STANDARD_BASE64 = /^[A-Za-z0-9+/]*$/;
const URL_SAFE_BASE64 = /^[A-Za-z0-9\-_]*$/;

/**
 * Strictly parses base64 (Node's own decoder silently skips junk characters,
 * which would turn typos into wrong keys). Accepts padded or unpadded input;
 * `urlSafe` also admits the `-`/`_` alphabet. Returns undefined when `text`
 * is not base64; callers turn that into their own 400 message.
 */
export function parseBase64(text: string, options: { urlSafe?: boolean } = {}): Buffer | undefined {
  const unpadded = text.replace(/={1,2}$/, '');
  const padded = unpadded.length !== text.length;
  if (padded && text.length % 4 !== 0) return undefined;
  // One leftover character carries only 6 bits: never a whole byte.
  if (unpadded.length % 4 === 1) return undefined;
  const alphabetOk = STANDARD_BASE64.test(unpadded) || (options.urlSafe === true && URL_SAFE_BASE64.test(unpadded));
  if (!alphabetOk) return undefined;
  return Buffer.from(unpadded, 'base64');
}

/**
 * Draws a base62 OTP of `length` characters, rejection-sampling bytes from
 * `randomBytes` (pass `crypto.randomBytes`, or the seal's entropy source) so
 * there is no modulo bias. Same alphabet and sampling as Vault.
 */
export function generateOtp(length: number, randomBytes: (n: number) => Buffer): string {
  if (!Number.isInteger(length) || length < 0) throw badRequest('OTP length must be a non-negative integer');
  let otp = '';
  // A little over `length` per batch so one draw usually suffices.
  const batchSize = length + Math.floor(length / 4);
  while (otp.length < length) {
    for (const byte of randomBytes(batchSize)) {
      if (byte >= UNBIASED_BYTE_LIMIT) continue;
      otp += BASE62_ALPHABET[byte % BASE62_ALPHABET.length];
      if (otp.length === length) break;
    }
  }
  return otp;
}

/**
 * `length` base62 characters (as {@link generateOtp}) from an asynchronous
 * source such as the core's HSM-augmented key randomness. generateOtp wants
 * a synchronous source, so a pool four times the length is prefetched (with
 * 8 of 256 byte values rejected, one pool all but always suffices) and the
 * OS CSPRNG tops up the rare rest. The pool is zeroed afterwards.
 */
export async function randomBase62(length: number, randomBytes: (n: number) => Promise<Buffer>): Promise<string> {
  const pool = await randomBytes(length * 4);
  let used = 0;
  const text = generateOtp(length, (n) => {
    if (used + n > pool.length) return osRandomBytes(n);
    used += n;
    return pool.subarray(used - n, used);
  });
  pool.fill(0);
  return text;
}

function xorSameLength(data: Buffer, otp: Buffer): Buffer {
  if (data.length !== otp.length) {
    // Lengths are public (the OTP length is advertised by the API); contents never appear here.
    throw badRequest(`OTP length ${otp.length} does not match token length ${data.length}`);
  }
  return xorBytes(data, otp);
}

/** Byte-wise XOR of two buffers of the same length (the one-time pad of encoded tokens). */
export function xorBytes(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/**
 * Hides `token` under `otp`: returns unpadded standard base64 of
 * (UTF-8 token bytes XOR UTF-8 otp bytes), Vault's `encoded_token` format.
 * Throws TresorError(400) if either is empty or their byte lengths differ.
 */
export function encodeToken(token: string, otp: string): string {
  if (token.length === 0) throw badRequest('no token provided');
  if (otp.length === 0) throw badRequest('no otp provided');
  const xored = xorSameLength(Buffer.from(token, 'utf8'), Buffer.from(otp, 'utf8'));
  return xored.toString('base64').replace(/=+$/, '');
}

/**
 * Reverses {@link encodeToken}. `encoded` is standard base64, padded or not
 * (Vault emits it unpadded; people often re-pad it). Throws TresorError(400)
 * on malformed base64 or when the decoded length differs from the OTP's.
 */
export function decodeToken(encoded: string, otp: string): string {
  if (otp.length === 0) throw badRequest('no otp provided');
  const xored = parseBase64(encoded.trim());
  if (xored === undefined || xored.length === 0) throw badRequest('encoded token is not valid base64');
  return xorSameLength(xored, Buffer.from(otp, 'utf8')).toString('utf8');
}
