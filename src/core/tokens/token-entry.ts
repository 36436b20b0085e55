/**
 * A token's properties. Service tokens are stored at `id/<id>` (JSON; the
 * raw token is never stored); batch tokens carry theirs inside the token
 * itself (see batch-tokens.ts) and are never stored.
 */
export interface TokenEntry {
  /** Storage id: lower-case hex HMAC-SHA256(salt, raw token). */
  id: string;
  accessor: string;
  policies: string[];
  /** Path that created it, e.g. "auth/token/create". */
  path: string;
  meta: Record<string, string> | null;
  displayName: string;
  /** Uses left; 0 = unlimited; LAST_USE_IN_PROGRESS while the request spending the last use runs. */
  numUses: number;
  /** Unix seconds. */
  creationTime: number;
  /** TTL at creation, seconds; 0 = never expires. */
  ttl: number;
  explicitMaxTtl: number;
  /** Unix ms; 0 = never. */
  expireTime: number;
  period: number;
  renewable: boolean;
  /** Parent's id, or '' for orphans. */
  parent: string;
  orphan: boolean;
  type: TokenType;
  entityId: string;
  /** Addresses (CIDR blocks) the token may be used from; absent = anywhere. */
  boundCidrs?: string[];
  /** Ceiling (seconds from creation) for renewals of a non-periodic token; absent = the store's. */
  maxTtl?: number;
  /** Accessor of the auth mount that issued it at login: disabling that mount revokes it. */
  mountAccessor?: string;
  /** The role it was created against (auth/token/create/<role>); absent otherwise. */
  role?: string;
}

export type TokenType = 'service' | 'batch';

/** True when the entry's lifetime has ended at `nowMs`. */
export function isExpired(entry: TokenEntry, nowMs: number): boolean {
  return entry.expireTime !== 0 && nowMs >= entry.expireTime;
}

export function encodeEntry(entry: TokenEntry): Buffer {
  return Buffer.from(JSON.stringify(entry));
}

export function decodeEntry(raw: Buffer): TokenEntry {
  return JSON.parse(raw.toString('utf8')) as TokenEntry;
}

/**
 * Marks a token whose last use is being served: no other request may use it,
 * and it is revoked once that request is done (Vault marks it with -1 too).
 */
export const LAST_USE_IN_PROGRESS = -1;
