/**
 * Batch tokens (Vault's `hvb.` tokens): the token is its own entry. The
 * properties are sealed with AES-256-GCM under a key kept in the token
 * store's storage (so behind the barrier), and nothing is written per
 * token: a batch token cannot be revoked, renewed, looked up by accessor
 * (it has none) or hold a cubbyhole; it dies with its TTL or its parent.
 */
import crypto from 'node:crypto';
import type { TokenEntry } from './token-entry.ts';

export const BATCH_TOKEN_PREFIX = 'hvb.';
/** The key's storage key, inside the token store's view. */
export const BATCH_KEY_NAME = 'batch-key';
export const BATCH_KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** Bound into every ciphertext, so nothing else sealed with the key passes for a batch token. */
const AAD = Buffer.from('tresor batch token v1', 'utf8');
/** Longer tokens are refused before any decryption (a batch token is a few hundred characters). */
const MAX_TOKEN_LENGTH = 16 * 1024;

/** What a batch token carries (short keys keep the token short). */
interface Sealed {
  p: string[];
  /** Parent's storage id, '' for an orphan. */
  pa: string;
  pt: string;
  m: Record<string, string> | null;
  d: string;
  /** Creation, unix seconds; TTL seconds; expiry unix ms. */
  c: number;
  t: number;
  x: number;
  e: string;
  r?: string;
  b?: string[];
}

export function isBatchToken(token: string): boolean {
  return token.startsWith(BATCH_TOKEN_PREFIX);
}

/** Seals a batch token's entry into the token text. */
export function sealBatchToken(key: Buffer, entry: TokenEntry): string {
  const sealed: Sealed = {
    p: entry.policies, pa: entry.parent, pt: entry.path, m: entry.meta, d: entry.displayName,
    c: entry.creationTime, t: entry.ttl, x: entry.expireTime, e: entry.entityId,
    ...(entry.role ? { r: entry.role } : {}),
    ...(entry.boundCidrs?.length ? { b: entry.boundCidrs } : {}),
  };
  const nonce = crypto.randomBytes(NONCE_BYTES);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(AAD);
  const body = Buffer.concat([cipher.update(JSON.stringify(sealed), 'utf8'), cipher.final()]);
  return BATCH_TOKEN_PREFIX + Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64url');
}

/**
 * The entry inside a batch token; undefined when the token is malformed or
 * was not sealed with `key` (a forged or altered token). `id` is the id the
 * store gives it (never stored; it names the token in locks and logs).
 */
export function openBatchToken(key: Buffer, token: string, id: string): TokenEntry | undefined {
  if (!isBatchToken(token) || token.length > MAX_TOKEN_LENGTH) return undefined;
  const encoded = token.slice(BATCH_TOKEN_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(encoded)) return undefined;
  const raw = Buffer.from(encoded, 'base64url');
  if (raw.length < NONCE_BYTES + TAG_BYTES + 2) return undefined;
  let sealed: Sealed;
  try {
    const decipher = crypto.createDecipheriv('aes-256-gcm', key, raw.subarray(0, NONCE_BYTES));
    decipher.setAAD(AAD);
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    const text = Buffer.concat([decipher.update(raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    sealed = JSON.parse(text) as Sealed;
  } catch {
    return undefined;
  }
  return {
    id, accessor: '', policies: sealed.p, path: sealed.pt, meta: sealed.m, displayName: sealed.d, numUses: 0,
    creationTime: sealed.c, ttl: sealed.t, explicitMaxTtl: 0, expireTime: sealed.x, period: 0, renewable: false,
    parent: sealed.pa, orphan: sealed.pa === '', type: 'batch', entityId: sealed.e,
    ...(sealed.r ? { role: sealed.r } : {}),
    ...(sealed.b ? { boundCidrs: sealed.b } : {}),
  };
}
