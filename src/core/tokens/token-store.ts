import crypto from 'node:crypto';
import type { LogicalBackend, LogicalStorage } from '../../engines/types.ts';
import { badRequest, permissionDenied } from '../errors.ts';
import { KeyedLock } from '../keyed-lock.ts';
import { PrefixedStorage } from '../storage-view.ts';
import { BATCH_KEY_BYTES, BATCH_KEY_NAME, isBatchToken, openBatchToken, sealBatchToken } from './batch-tokens.ts';
import { createTokenBackend } from './token-backend.ts';
import { decodeEntry, encodeEntry, isExpired, LAST_USE_IN_PROGRESS, type TokenEntry, type TokenType } from './token-entry.ts';
import { TokenRoleStore } from './token-roles.ts';
import { constantTimeEqual, generateAccessor, generateToken, saltedHash } from './token-ids.ts';

/** Vault's default and maximum lease TTL: 32 days. */
export const DEFAULT_TOKEN_TTL = 32 * 24 * 3600;
const DEFAULT_SWEEP_INTERVAL_MS = 60_000;
/** Guards parent-chain walks against a corrupted cycle. */
const MAX_TREE_DEPTH = 1024;

/*
 * Storage layout (inside the token store's own view):
 *   salt                          32 random bytes, made on first use
 *   id/<id>                       TokenEntry JSON, id = HMAC(salt, token)
 *   accessor/<HMAC(salt, acc)>    {"accessor": acc, "id": id}
 *   parent/<parentId>/<childId>   empty marker, for tree revocation
 *   mount/<mountAccessor>/<id>    empty marker: tokens an auth mount issued at login
 *   roles/<name>                  token role JSON (token-roles.ts)
 *   batch-key                     32 random bytes sealing batch tokens, made on first use
 *   expiry/<hour>/<minute>/<id>   empty marker: the token expires in that minute (unix hours/minutes,
 *                                 zero-padded so listings sort by time); the sweep reads only these
 *   expiry-index                  marker: every expiring token has its expiry marker (set by the first
 *                                 sweep after an upgrade, which builds the index from a full scan)
 */
const SALT_KEY = 'salt';
const SALT_BYTES = 32;
const entryKey = (id: string) => `id/${id}`;
const parentIndexKey = (parentId: string, childId: string) => `parent/${parentId}/${childId}`;
const childrenPrefix = (parentId: string) => `parent/${parentId}/`;
const mountIndexKey = (mountAccessor: string, id: string) => `mount/${mountAccessor}/${id}`;
const EXPIRY_PREFIX = 'expiry/';
const EXPIRY_INDEX_BUILT = 'expiry-index';
const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const hourBucket = (ms: number) => String(Math.floor(ms / HOUR_MS)).padStart(8, '0');
const minuteBucket = (ms: number) => String(Math.floor(ms / MINUTE_MS)).padStart(10, '0');
const expiryIndexKey = (expireMs: number, id: string) => `${EXPIRY_PREFIX}${hourBucket(expireMs)}/${minuteBucket(expireMs)}/${id}`;
/** Tokens the sweep handles between two yields to the event loop. */
const SWEEP_BATCH = 64;

/** A step counter that lets the event loop run once every `batch` steps of a long background loop. */
function yieldingEvery(batch: number): () => Promise<void> {
  let steps = 0;
  return async () => {
    if (++steps % batch === 0) await new Promise<void>((resolve) => setImmediate(resolve));
  };
}

export interface TokenStoreDeps {
  storage: LogicalStorage;
  randomBytes(n: number): Promise<Buffer>;
  /** Clock in unix ms (injectable for tests). */
  now?: () => number;
  /** Runs once for every revoked token, e.g. to erase its cubbyhole. */
  onRevoke?: (entry: TokenEntry) => Promise<void>;
  /** TTL (seconds) for tokens created without one. */
  defaultTtl?: number;
  /** Ceiling (seconds, from creation) for non-periodic tokens. */
  maxTtl?: number;
  /**
   * Finds or creates the entity of an alias on the token store's own mount
   * (`entity_alias` when creating against a role); wired to the identity store.
   */
  entityForAlias?: (aliasName: string) => Promise<{ id: string; disabled: boolean }>;
  /** The policies an entity brings (its own and its groups'), shown by lookups as identity_policies. */
  identityPolicies?: (entityId: string) => Promise<string[]>;
}

/** Everything needed to mint a token; rules (policies, TTL caps) are applied by the caller. */
export interface TokenSpec {
  policies: string[];
  /** Parent's id, or '' for an orphan. */
  parent: string;
  path: string;
  displayName: string;
  meta: Record<string, string> | null;
  numUses: number;
  ttl: number;
  explicitMaxTtl: number;
  period: number;
  renewable: boolean;
  entityId: string;
  /** Custom raw token (root callers, `-dev-root-token-id`); generated when absent. */
  token?: string;
  /** Addresses (CIDR blocks) the token may be used from. */
  boundCidrs?: string[];
  /** Renewal ceiling from creation (seconds) for a non-periodic token, below the store's. */
  maxTtl?: number;
  /** The auth mount that issued it at login (see {@link TokenStore.revokeByMount}). */
  mountAccessor?: string;
  /** 'service' when absent. A batch token is not stored: it carries its entry itself. */
  type?: TokenType;
  role?: string;
}

export interface RenewResult {
  entry: TokenEntry;
  /** The TTL granted, seconds. */
  ttl: number;
  warnings: string[];
}

/**
 * Vault's token store: creates, looks up, renews and revokes service tokens,
 * keeping only salted hashes of tokens and accessors in storage.
 */
export class TokenStore {
  readonly backend: LogicalBackend;
  readonly roles: TokenRoleStore;
  readonly entityForAlias?: TokenStoreDeps['entityForAlias'];
  readonly identityPolicies?: TokenStoreDeps['identityPolicies'];
  readonly defaultTtl: number;
  readonly maxTtl: number;
  private readonly storage: LogicalStorage;
  private readonly randomBytes: (n: number) => Promise<Buffer>;
  private readonly onRevoke?: (entry: TokenEntry) => Promise<void>;
  private readonly useLock = new KeyedLock();
  private saltPromise?: Promise<Buffer>;
  private batchKeyPromise?: Promise<Buffer>;
  private sweepTimer?: NodeJS.Timeout;
  private sweeping = false;
  readonly now: () => number;

  constructor(deps: TokenStoreDeps) {
    this.storage = deps.storage;
    this.randomBytes = deps.randomBytes;
    this.now = deps.now ?? Date.now;
    this.onRevoke = deps.onRevoke;
    this.defaultTtl = deps.defaultTtl ?? DEFAULT_TOKEN_TTL;
    this.maxTtl = deps.maxTtl ?? DEFAULT_TOKEN_TTL;
    this.entityForAlias = deps.entityForAlias;
    this.identityPolicies = deps.identityPolicies;
    this.roles = new TokenRoleStore(new PrefixedStorage(this.storage, 'roles/'));
    this.backend = createTokenBackend(this);
  }

  /** Mints a root token: policies ["root"], no TTL, not renewable, orphan. */
  async createRoot(opts: { id?: string; displayName?: string } = {}): Promise<{ token: string; entry: TokenEntry }> {
    return this.create({
      policies: ['root'], parent: '', path: 'auth/token/root', displayName: opts.displayName ?? 'root',
      meta: null, numUses: 0, ttl: 0, explicitMaxTtl: 0, period: 0, renewable: false, entityId: '', token: opts.id,
    });
  }

  /**
   * Stores a new token from a fully decided spec and returns the raw token
   * (shown to the client once, never stored). A custom token that is
   * already in use, or that is malformed, is a 400.
   */
  async create(spec: TokenSpec): Promise<{ token: string; entry: TokenEntry }> {
    if (spec.type === 'batch') return this.createBatch(spec);
    if (spec.token !== undefined) validateCustomToken(spec.token);
    const token = spec.token ?? (await generateToken(this.randomBytes));
    const accessor = await generateAccessor(this.randomBytes);
    const salt = await this.salt();
    const id = saltedHash(salt, token);
    if (await this.storage.get(entryKey(id))) throw badRequest('cannot create a token with a duplicate ID');

    const nowMs = this.now();
    const entry: TokenEntry = {
      id, accessor, policies: spec.policies, path: spec.path, meta: spec.meta, displayName: spec.displayName,
      numUses: spec.numUses, creationTime: Math.floor(nowMs / 1000), ttl: spec.ttl, explicitMaxTtl: spec.explicitMaxTtl,
      expireTime: spec.ttl > 0 ? nowMs + spec.ttl * 1000 : 0, period: spec.period, renewable: spec.renewable,
      parent: spec.parent, orphan: spec.parent === '', type: 'service', entityId: spec.entityId,
      ...(spec.role ? { role: spec.role } : {}),
      ...(spec.boundCidrs?.length ? { boundCidrs: spec.boundCidrs } : {}),
    };
    if (spec.maxTtl) entry.maxTtl = spec.maxTtl;
    if (spec.mountAccessor) entry.mountAccessor = spec.mountAccessor;
    // Indexes first: a crash then leaves a dangling index, never an unrevocable token.
    await this.storage.put(this.accessorKey(salt, accessor), Buffer.from(JSON.stringify({ accessor, id })));
    if (entry.parent) await this.storage.put(parentIndexKey(entry.parent, id), Buffer.alloc(0));
    if (entry.mountAccessor) await this.storage.put(mountIndexKey(entry.mountAccessor, id), Buffer.alloc(0));
    if (entry.expireTime !== 0) await this.storage.put(expiryIndexKey(entry.expireTime, id), Buffer.alloc(0));
    await this.storage.put(entryKey(id), encodeEntry(entry));
    return { token, entry };
  }

  /** The live entry for a raw token; undefined when unknown, expired, used up, or its parent is gone. */
  async lookup(token: string): Promise<TokenEntry | undefined> {
    if (typeof token !== 'string' || token === '') return undefined;
    if (isBatchToken(token)) return this.liveBatchEntry(token);
    return this.liveEntry(saltedHash(await this.salt(), token));
  }

  /**
   * A batch token (never stored, not revocable): Vault's single-use-less,
   * accessor-less token, sealed under the store's batch key. The spec has
   * passed the creation rules (no num_uses, period or explicit max TTL).
   */
  private async createBatch(spec: TokenSpec): Promise<{ token: string; entry: TokenEntry }> {
    const nowMs = this.now();
    const entry: TokenEntry = {
      id: '', accessor: '', policies: spec.policies, path: spec.path, meta: spec.meta, displayName: spec.displayName,
      numUses: 0, creationTime: Math.floor(nowMs / 1000), ttl: spec.ttl, explicitMaxTtl: 0,
      expireTime: spec.ttl > 0 ? nowMs + spec.ttl * 1000 : 0, period: 0, renewable: false,
      parent: spec.parent, orphan: spec.parent === '', type: 'batch', entityId: spec.entityId,
      ...(spec.role ? { role: spec.role } : {}),
      ...(spec.boundCidrs?.length ? { boundCidrs: spec.boundCidrs } : {}),
    };
    const token = sealBatchToken(await this.batchKey(), entry);
    entry.id = saltedHash(await this.salt(), token);
    return { token, entry };
  }

  private async liveBatchEntry(token: string): Promise<TokenEntry | undefined> {
    const entry = openBatchToken(await this.batchKey(), token, saltedHash(await this.salt(), token));
    return entry && (await this.isLive(entry)) ? entry : undefined;
  }

  /**
   * The live entry of the token making a request (RequestAuth): a batch
   * token from the token itself, a service token by its id (see requestEntry).
   */
  async entryForRequest(auth: { clientToken: string; tokenId: string }): Promise<TokenEntry | undefined> {
    return isBatchToken(auth.clientToken) ? this.lookup(auth.clientToken) : this.requestEntry(auth.tokenId);
  }

  /** The live entry for a storage id (see {@link lookup}). */
  async liveEntry(id: string): Promise<TokenEntry | undefined> {
    const entry = await this.readEntry(id);
    if (!entry || !constantTimeEqual(entry.id, id)) return undefined;
    return (await this.isLive(entry)) ? entry : undefined;
  }

  /** The live entry that owns `accessor`. */
  async lookupAccessor(accessor: string): Promise<TokenEntry | undefined> {
    if (typeof accessor !== 'string' || accessor === '') return undefined;
    const raw = await this.storage.get(this.accessorKey(await this.salt(), accessor));
    if (!raw) return undefined;
    const index = JSON.parse(raw.toString('utf8')) as { accessor: string; id: string };
    if (!constantTimeEqual(index.accessor, accessor)) return undefined;
    return this.liveEntry(index.id);
  }

  /** Every accessor in the store (Vault's `auth/token/accessors`). */
  async listAccessors(): Promise<string[]> {
    const accessors: string[] = [];
    for (const hashed of await this.storage.list('accessor/')) {
      const raw = await this.storage.get(`accessor/${hashed}`);
      if (raw) accessors.push((JSON.parse(raw.toString('utf8')) as { accessor: string }).accessor);
    }
    return accessors.sort();
  }

  /**
   * Called once per authenticated request. Tokens with a use limit lose one
   * use. On the last use the token is marked LAST_USE_IN_PROGRESS (no other
   * request can use it) and `true` is returned: the caller serves this
   * request, then calls `revokeTree` — Vault's order. Throws 403 if the token
   * is no longer valid.
   */
  async use(entry: TokenEntry): Promise<boolean> {
    // Batch tokens have no use count (and nothing stored to count it in).
    if (entry.type === 'batch') return false;
    return this.useLock.run(entry.id, async () => {
      const current = await this.liveEntry(entry.id);
      if (!current) throw permissionDenied();
      if (current.numUses === 0) return false;
      const last = current.numUses === 1;
      current.numUses = last ? LAST_USE_IN_PROGRESS : current.numUses - 1;
      entry.numUses = current.numUses;
      await this.storage.put(entryKey(current.id), encodeEntry(current));
      return last;
    });
  }

  /**
   * The entry of the token making the current request: live, or serving its
   * last use right now (self-operations such as lookup-self still answer).
   */
  async requestEntry(id: string): Promise<TokenEntry | undefined> {
    const entry = await this.readEntry(id);
    if (!entry || !constantTimeEqual(entry.id, id)) return undefined;
    const asLive = entry.numUses === LAST_USE_IN_PROGRESS ? { ...entry, numUses: 0 } : entry;
    return (await this.isLive(asLive)) ? entry : undefined;
  }

  /**
   * Extends a token's lifetime from now. Periodic tokens get their period;
   * others get `increment` seconds (or their original TTL when 0). The
   * result never passes the explicit max TTL or the store's max TTL,
   * counted from creation; capping adds a warning. 400 if not renewable.
   */
  async renew(entry: TokenEntry, increment: number): Promise<RenewResult> {
    if (!entry.renewable || (entry.ttl === 0 && entry.period === 0)) throw badRequest('token is not renewable');
    const nowMs = this.now();
    const age = nowMs / 1000 - entry.creationTime;
    const warnings: string[] = [];
    let ttl = entry.period > 0 ? entry.period : increment > 0 ? increment : entry.ttl;
    const limits: Array<[number, string]> = [];
    if (entry.explicitMaxTtl > 0) limits.push([entry.explicitMaxTtl - age, 'explicit max TTL']);
    const maxTtl = entry.maxTtl !== undefined && entry.maxTtl > 0 ? Math.min(entry.maxTtl, this.maxTtl) : this.maxTtl;
    if (entry.period === 0 && maxTtl > 0) limits.push([maxTtl - age, 'max TTL']);
    for (const [remaining, name] of limits) {
      if (ttl > remaining) {
        ttl = Math.floor(remaining);
        warnings.push(`TTL of the renewed token was capped by its ${name}`);
      }
    }
    if (ttl <= 0) throw badRequest('token has reached its maximum TTL and cannot be renewed');
    // Under the token's lock and from a fresh read: a renewal racing a
    // revocation must not write the token back, nor undo uses spent meanwhile.
    return this.useLock.run(entry.id, async () => {
      const current = await this.liveEntry(entry.id);
      if (!current) throw permissionDenied();
      const renewed: TokenEntry = { ...current, expireTime: nowMs + ttl * 1000 };
      // The new marker before the entry, the old one after: a crash leaves a stale marker (dropped by
      // the sweep), never an expiring token without one.
      await this.storage.put(expiryIndexKey(renewed.expireTime, entry.id), Buffer.alloc(0));
      await this.storage.put(entryKey(entry.id), encodeEntry(renewed));
      if (expiryIndexKey(current.expireTime, entry.id) !== expiryIndexKey(renewed.expireTime, entry.id)) {
        await this.storage.delete(expiryIndexKey(current.expireTime, entry.id));
      }
      return { entry: renewed, ttl, warnings };
    });
  }

  /**
   * Revokes a token and all its descendants (orphans are not descendants),
   * children before parents so an interrupted revocation can be retried from
   * the top. Calls onRevoke for each. A missing token is not an error.
   */
  async revokeTree(id: string, lockHeldFor?: string): Promise<void> {
    const preorder: string[] = [];
    const seen = new Set<string>();
    const stack = [id];
    while (stack.length > 0) {
      const current = stack.pop()!;
      if (seen.has(current)) continue;
      seen.add(current);
      preorder.push(current);
      for (const child of await this.storage.list(childrenPrefix(current))) stack.push(child);
    }
    for (const current of preorder.reverse()) {
      if (current === lockHeldFor) await this.revokeOne(current);
      else await this.useLock.run(current, () => this.revokeOne(current));
    }
  }

  /** Revokes only this token; its children become orphans. */
  async revokeOrphan(id: string): Promise<void> {
    for (const childId of await this.storage.list(childrenPrefix(id))) {
      const child = await this.readEntry(childId);
      if (child) await this.storage.put(entryKey(childId), encodeEntry({ ...child, parent: '', orphan: true }));
      await this.storage.delete(parentIndexKey(id, childId));
    }
    await this.useLock.run(id, () => this.revokeOne(id));
  }

  /**
   * Revokes every token an auth mount issued at login, with its children
   * (Vault revokes the mount's leases when it is disabled); returns how many.
   */
  async revokeByMount(mountAccessor: string): Promise<number> {
    const ids = await this.storage.list(`mount/${mountAccessor}/`);
    for (const id of ids) {
      await this.revokeTree(id);
      // revokeOne drops the marker with the entry; a marker whose entry is already gone is dropped here.
      await this.storage.delete(mountIndexKey(mountAccessor, id));
    }
    return ids.length;
  }

  /**
   * Revokes every expired token (with its descendants); returns how many
   * roots were revoked. Reads only the expiry markers of minutes that have
   * begun (never every token), in batches that yield to the event loop, so
   * its cost follows the tokens that expire, not the tokens stored.
   */
  async sweepExpired(): Promise<number> {
    const nowMs = this.now();
    if (!(await this.storage.get(EXPIRY_INDEX_BUILT))) await this.buildExpiryIndex();
    const nowHour = hourBucket(nowMs);
    const nowMinute = minuteBucket(nowMs);
    let revoked = 0;
    const step = yieldingEvery(SWEEP_BATCH);
    for (const hourFolder of await this.storage.list(EXPIRY_PREFIX)) {
      if (hourFolder.slice(0, -1) > nowHour) break; // listings sort by time: the rest is future
      const hourPrefix = `${EXPIRY_PREFIX}${hourFolder}`;
      for (const minuteFolder of await this.storage.list(hourPrefix)) {
        if (minuteFolder.slice(0, -1) > nowMinute) break;
        const minutePrefix = `${hourPrefix}${minuteFolder}`;
        for (const id of await this.storage.list(minutePrefix)) {
          const entry = await this.readEntry(id);
          if (entry && isExpired(entry, nowMs)) {
            await this.revokeTree(id);
            revoked++;
          }
          // Gone, revoked now, or renewed (its marker moved): this marker has done its work. A token
          // expiring later in the current minute keeps it for the next sweep.
          if (!entry || isExpired(entry, nowMs) || expiryIndexKey(entry.expireTime, id) !== `${minutePrefix}${id}`) {
            await this.storage.delete(`${minutePrefix}${id}`);
          }
          await step();
        }
      }
    }
    return revoked;
  }

  /** Once, on a store written before the expiry index: a marker for every expiring token. */
  private async buildExpiryIndex(): Promise<void> {
    const step = yieldingEvery(SWEEP_BATCH);
    for (const id of await this.storage.list('id/')) {
      const entry = await this.readEntry(id);
      if (entry && entry.expireTime !== 0) await this.storage.put(expiryIndexKey(entry.expireTime, id), Buffer.alloc(0));
      await step();
    }
    await this.storage.put(EXPIRY_INDEX_BUILT, Buffer.from('1'));
  }

  /** Starts background revocation of expired tokens (the timer does not keep the process alive). */
  startExpiryTimer(intervalMs = DEFAULT_SWEEP_INTERVAL_MS): void {
    this.stop();
    this.sweepTimer = setInterval(() => void this.sweepOnce(), intervalMs);
    this.sweepTimer.unref();
  }

  stop(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  private async sweepOnce(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      await this.sweepExpired();
    } catch (err) {
      // Storage errors only (no token material); the next tick retries.
      process.emitWarning(`token expiry sweep failed: ${(err as Error).message}`);
    } finally {
      this.sweeping = false;
    }
  }

  /**
   * Deletes the entry first (so the token stops working), then its index
   * entries, then runs onRevoke. Callers hold the token's lock, so no
   * renewal or use can write the entry back meanwhile.
   */
  private async revokeOne(id: string): Promise<void> {
    const entry = await this.readEntry(id);
    await this.storage.delete(entryKey(id));
    for (const childId of await this.storage.list(childrenPrefix(id))) await this.storage.delete(parentIndexKey(id, childId));
    if (!entry) return;
    await this.storage.delete(this.accessorKey(await this.salt(), entry.accessor));
    if (entry.parent) await this.storage.delete(parentIndexKey(entry.parent, id));
    if (entry.mountAccessor) await this.storage.delete(mountIndexKey(entry.mountAccessor, id));
    if (entry.expireTime !== 0) await this.storage.delete(expiryIndexKey(entry.expireTime, id));
    if (this.onRevoke) await this.onRevoke(entry);
  }

  /** Live = not expired, and every ancestor still exists and is not expired. */
  private async isLive(entry: TokenEntry): Promise<boolean> {
    const nowMs = this.now();
    let current: TokenEntry | undefined = entry;
    for (let depth = 0; current; depth++) {
      if (depth > MAX_TREE_DEPTH || isExpired(current, nowMs) || current.numUses === LAST_USE_IN_PROGRESS) return false;
      if (current.parent === '') return true;
      current = await this.readEntry(current.parent);
    }
    return false;
  }

  private async readEntry(id: string): Promise<TokenEntry | undefined> {
    const raw = await this.storage.get(entryKey(id));
    return raw ? decodeEntry(raw) : undefined;
  }

  private accessorKey(salt: Buffer, accessor: string): string {
    return `accessor/${saltedHash(salt, accessor)}`;
  }

  /** The batch-token key, created on first use; memoised so concurrent first calls agree. */
  private batchKey(): Promise<Buffer> {
    this.batchKeyPromise ??= (async () => {
      const existing = await this.storage.get(BATCH_KEY_NAME);
      if (existing) return existing;
      const fresh = await this.randomBytes(BATCH_KEY_BYTES);
      if (fresh.length !== BATCH_KEY_BYTES) throw new Error('random source returned the wrong number of bytes');
      await this.storage.put(BATCH_KEY_NAME, fresh);
      return fresh;
    })().catch((err) => {
      this.batchKeyPromise = undefined;
      throw err;
    });
    return this.batchKeyPromise;
  }

  /** Loads the salt, creating it on first use; memoised so concurrent first calls agree. */
  private salt(): Promise<Buffer> {
    this.saltPromise ??= (async () => {
      const existing = await this.storage.get(SALT_KEY);
      if (existing) return existing;
      const fresh = await this.randomBytes(SALT_BYTES);
      if (fresh.length !== SALT_BYTES) throw new Error('random source returned the wrong number of bytes');
      // No salt yet means no token yet: every token this store holds will have its expiry marker.
      await this.storage.put(EXPIRY_INDEX_BUILT, Buffer.from('1'));
      await this.storage.put(SALT_KEY, fresh);
      return fresh;
    })().catch((err) => {
      this.saltPromise = undefined;
      throw err;
    });
    return this.saltPromise;
  }
}

/** Custom token ids (Vault: `id` on create, `-dev-root-token-id`): printable, no '.', no spaces. */
function validateCustomToken(token: string): void {
  if (typeof token !== 'string' || token === '') throw badRequest('token id must be a non-empty string');
  if (token.length > 256) throw badRequest('token id must be at most 256 characters');
  if (token.includes('.')) throw badRequest('token id may not contain a "." character');
  if (!/^[\x21-\x7e]+$/.test(token)) throw badRequest('token id may only contain printable ASCII without spaces');
}
