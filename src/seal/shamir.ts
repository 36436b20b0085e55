/**
 * Shamir secret sharing of the root key (unseal keys) and recovery key.
 *
 * Share wire format, byte-compatible with Vault's `shamir` package: a share
 * is `keyLength + 1` bytes, `y_1 .. y_n || x`, where `x` (the LAST byte, 1..255)
 * is the evaluation point and `y_i` is the i-th key byte's random polynomial
 * evaluated at `x` in GF(2^8) with the AES polynomial x^8+x^4+x^3+x+1. The
 * arithmetic comes from the audited `shamir-secret-sharing` package (same
 * tables as Vault); this module adds Vault's parameter rules, the 1-of-1
 * special case, and 400-class errors.
 *
 * Combining is not authenticated: shares from another split, or a corrupted
 * share, interpolate to a *different* key without any error. Callers find out
 * by trying the result (e.g. unwrapping the keyring fails) and must report
 * that as a wrong key, not as corruption.
 */
import { combine, split } from 'shamir-secret-sharing';
import { badRequest } from '../core/errors.ts';
import { parseBase64 } from '../core/otp.ts';

/** A GF(2^8) evaluation point is one byte and 0 would be the secret itself. */
const MAX_SHARES = 255;
/** One key byte plus the x coordinate; real keys are 16+ bytes, so this only catches junk. */
const MIN_SHARE_BYTES = 2;
const HEX = /^(?:[0-9a-fA-F]{2})+$/;

/**
 * Checks a share count and threshold against Vault's seal-config rules and
 * throws TresorError(400) on the first violation. `names` words the message
 * for the caller's parameters; the default reproduces Vault's own text
 * ("threshold must be greater than one for multiple shares"), to which the
 * HTTP layer prefixes e.g. "invalid seal configuration: ".
 */
export function validateShareParams(
  shares: number,
  threshold: number,
  names: { shares: string; threshold: string } = { shares: 'shares', threshold: 'threshold' },
): void {
  if (!Number.isInteger(shares)) throw badRequest(`${names.shares} must be an integer`);
  if (!Number.isInteger(threshold)) throw badRequest(`${names.threshold} must be an integer`);
  if (shares < 1) throw badRequest(`${names.shares} must be at least one`);
  if (threshold < 1) throw badRequest(`${names.threshold} must be at least one`);
  if (shares > 1 && threshold === 1) {
    throw badRequest(`${names.threshold} must be greater than one for multiple ${names.shares}`);
  }
  if (shares > MAX_SHARES) throw badRequest(`${names.shares} must be less than 256`);
  if (threshold > MAX_SHARES) throw badRequest(`${names.threshold} must be less than 256`);
  if (threshold > shares) throw badRequest(`${names.threshold} cannot be larger than ${names.shares}`);
}

/**
 * Splits `key` into `shares` shares of which any `threshold` rebuild it
 * (format in the module comment). For 1-of-1 the single "share" is a copy of
 * the key itself, exactly as Vault does, with no x byte appended.
 */
export async function splitKey(key: Buffer, shares: number, threshold: number): Promise<Buffer[]> {
  validateShareParams(shares, threshold);
  if (key.length === 0) throw badRequest('cannot split an empty key');
  if (shares === 1) return [Buffer.from(key)];
  // The library checks `constructor === Uint8Array`, which a Buffer fails.
  const parts = await split(new Uint8Array(key), shares, threshold);
  return parts.map((part) => Buffer.from(part));
}

/**
 * Rebuilds a key from shares made by {@link splitKey}. A single share is
 * returned unchanged (the 1-of-1 case: the share is the key), so only call
 * this once the configured threshold is reached. Throws TresorError(400) for
 * no shares, too many, shares of differing or too-short length, or two
 * shares with the same x coordinate. Shares from a different split produce a
 * wrong key silently; see the module comment.
 */
export async function combineShares(shares: Buffer[]): Promise<Buffer> {
  if (shares.length === 0) throw badRequest('no key shares provided');
  if (shares.length === 1) return Buffer.from(shares[0]!);
  if (shares.length > MAX_SHARES) throw badRequest(`cannot combine more than ${MAX_SHARES} key shares`);

  const shareLength = shares[0]!.length;
  if (shares.some((share) => share.length !== shareLength)) throw badRequest('all key shares must be the same length');
  if (shareLength < MIN_SHARE_BYTES) throw badRequest('key shares must be at least two bytes');

  const xCoordinates = new Set(shares.map((share) => share[shareLength - 1]!));
  if (xCoordinates.size !== shares.length) throw badRequest('duplicate key share provided');

  const secret = await combine(shares.map((share) => new Uint8Array(share)));
  return Buffer.from(secret);
}

/**
 * Parses a share typed or pasted by an operator: hex (Vault's `keys`), or
 * base64 (`keys_base64`) in the standard or URL-safe alphabet, padded or not.
 * Hex wins when the text is valid hex; a base64 share made only of hex
 * digits is astronomically unlikely at real key sizes. Throws TresorError(400)
 * without echoing the input.
 */
export function decodeShare(text: string): Buffer {
  const trimmed = text.trim();
  if (trimmed.length === 0) throw badRequest('key share must not be empty');
  const decoded = HEX.test(trimmed) ? Buffer.from(trimmed, 'hex') : parseBase64(trimmed, { urlSafe: true });
  if (decoded === undefined) throw badRequest('key share must be a valid hex or base64 string');
  if (decoded.length < MIN_SHARE_BYTES) throw badRequest('key share is too short');
  return decoded;
}
