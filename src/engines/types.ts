/**
 * The seam between the core's router and a secrets engine (or an auth
 * method such as auth/token/). The router strips the mount prefix, checks the
 * ACL, and hands the engine a storage view that can only see the mount's own
 * keys (already behind the barrier, and seal-wrapped when the mount asks).
 */

/** One write of a logical transaction (a put carries its value). */
export type LogicalWrite = { op: 'put'; key: string; value: Buffer } | { op: 'delete'; key: string };

/** Plaintext storage as an engine sees it; same listing rule as StorageBackend. */
export interface LogicalStorage {
  get(key: string): Promise<Buffer | undefined>;
  put(key: string, value: Buffer): Promise<void>;
  delete(key: string): Promise<void>;
  list(prefix: string): Promise<string[]>;
  /**
   * Applies the writes in order and all-or-nothing, in one storage commit.
   * Optional: engines call writeAll(), which falls back to one write after
   * another (in order) on a view without it.
   */
  transaction?(writes: LogicalWrite[]): Promise<void>;
}

/**
 * Several writes that belong together (a KV version and the metadata that
 * points at it): one atomic commit where the storage offers it, else the same
 * writes in order, which the caller has arranged to be crash-safe.
 */
export async function writeAll(storage: LogicalStorage, writes: LogicalWrite[]): Promise<void> {
  if (writes.length === 1) {
    const [w] = writes as [LogicalWrite];
    return w.op === 'put' ? storage.put(w.key, w.value) : storage.delete(w.key);
  }
  if (storage.transaction) return storage.transaction(writes);
  for (const w of writes) {
    if (w.op === 'put') await storage.put(w.key, w.value);
    else await storage.delete(w.key);
  }
}

export const OPERATIONS = ['read', 'list', 'create', 'update', 'delete', 'patch'] as const;
export type Operation = (typeof OPERATIONS)[number];

/** What the core knows about the caller, after the token check. */
export interface RequestAuth {
  /** The raw client token (needed by cubbyhole and token self-operations). */
  clientToken: string;
  accessor: string;
  policies: string[];
  /** Token's own storage id (salted hash): cubbyhole scopes by this. */
  tokenId: string;
  displayName: string;
  entityId: string;
  /** The caller holds `sudo` on this request's path (root tokens always do): Vault's "root or sudo" operations. */
  sudo?: boolean;
}

export interface LogicalRequest {
  operation: Operation;
  /** Path inside the mount, no leading slash (e.g. "data/foo"). */
  path: string;
  /** JSON body merged with query parameters. */
  data: Record<string, unknown>;
  storage: LogicalStorage;
  auth?: RequestAuth;
  mountPoint: string;
  /** The mount's default lease TTL in seconds (its tuned value, else the system's 768h). */
  defaultLeaseTtl: number;
  /** Random bytes: from the HSM (mixed with the OS) when the mount has external_entropy_access. */
  randomBytes(length: number): Promise<Buffer>;
  /** The client's IP address as the listener saw it (CIDR-bound logins and tokens). */
  remoteAddress?: string;
  /** The mount's max lease TTL in seconds (its tuned value, else the system's 768h). */
  maxLeaseTtl?: number;
  /** Managed keys this mount may use (sys/managed-keys, allowed_managed_keys); absent outside secret mounts. */
  managedKeys?: ManagedKeyAccess;
}

/** A mount's view of the managed keys: only those it is allowed (any_mount, or named in allowed_managed_keys). */
export interface ManagedKeyAccess {
  /** The managed key by name or id; a 400 naming it when it does not exist or the mount may not use it. */
  resolve(ref: { name?: string; id?: string }): Promise<import('../core/managed-keys.ts').ManagedKeyRecord>;
  /** The HSM operations (session pool, max_parallel cap, recovery). */
  readonly hsm: import('../core/managed-keys.ts').ManagedKeys;
}

/**
 * What an auth method answers a successful login with (Vault's logical.Auth):
 * the core turns it into a token, with the mount's TTL limits, and answers
 * the client with the token's `auth` block.
 */
export interface LoginAuth {
  /** The method's token_policies; "default" is added unless noDefaultPolicy. */
  policies: string[];
  noDefaultPolicy: boolean;
  /** Shown as the token's `meta` and the auth block's `metadata`. */
  metadata: Record<string, string>;
  /** Appended to the mount's name ("userpass-alice"); '' for the mount's name alone. */
  displayName: string;
  /** Seconds; 0 = the mount's default. */
  ttl: number;
  /** Seconds; 0 = the mount's max. */
  maxTtl: number;
  explicitMaxTtl: number;
  period: number;
  numUses: number;
  /** The token may only be used from these addresses (CIDR blocks or plain IPs). */
  boundCidrs: string[];
  /**
   * The name the caller is known by on this mount (userpass: the username; AppRole: the role ID):
   * the core finds or creates the identity entity with that alias, and the token carries its id.
   */
  aliasName?: string;
}

export interface LogicalResponse {
  /** HTTP status; 200 with a body, or 204 when there is nothing to say. */
  status?: number;
  data?: Record<string, unknown> | null;
  warnings?: string[];
  /** For auth methods and token creation: Vault's `auth` block. */
  auth?: Record<string, unknown> | null;
  /** A login's outcome: the core issues the token and fills `auth` from it (auth methods only). */
  login?: LoginAuth;
  /** Vault's `wrap_info`, `lease_id`, etc. are filled in by the http layer. */
  leaseDuration?: number;
  renewable?: boolean;
  /** Sent as the whole body instead of the envelope (Vault's raw sys answers: seal-status, init, help, OpenAPI). */
  rawBody?: unknown;
  /** With rawBody: a text body sent with this Content-Type instead of JSON (sys/metrics' Prometheus format). */
  contentType?: string;
  /** The mount's engine type, shown as the envelope's `mount_type` (set by the core's router). */
  mountType?: string;
  /** Vault's older sys answers repeat `data`'s keys at the top level of the envelope (sys/mounts, sys/policy...). */
  dataAlsoAtTop?: boolean;
}

export interface LogicalBackend {
  /** The Vault type name shown by sys/mounts ("kv", "cubbyhole", ...). */
  readonly type: string;
  /** Returns null when the path is not handled (the http layer answers 404). */
  handle(req: LogicalRequest): Promise<LogicalResponse | null>;
  /**
   * Whether a write's target exists (false: the write is a `create`);
   * undefined when the path does not tell create from update.
   */
  existenceCheck(req: LogicalRequest): Promise<boolean | undefined>;
  /** Whether the path runs different handlers for create and update. */
  distinguishesCreate(path: string): boolean;
  /** The path's policy flags; undefined when no declared path matches. */
  route(path: string): { declaration: { unauthenticated?: boolean; sudo?: boolean } } | undefined;
  /** `?help=1` for a path inside the mount; null when no declared path matches. */
  help(path: string, mountPoint: string): { help: string; openapi: Record<string, unknown> } | null;
  /** OpenAPI path items for every declared path, under the mount point. */
  openApiPaths(mountPoint: string): Record<string, Record<string, unknown>>;
  /** Called when the mount is disabled, after its storage has been erased. */
  cleanup?(): Promise<void>;
  /**
   * Background work (Vault's PeriodicFunc), called by the core about once a
   * minute while unsealed with the mount's storage and random source.
   */
  periodic?(ctx: PeriodicContext): Promise<void>;
}

/** What a backend's periodic hook gets: its mount's storage and random source. */
export interface PeriodicContext {
  storage: LogicalStorage;
  randomBytes(length: number): Promise<Buffer>;
}

/** Factory the mount table calls for each mount, with its `options`. */
export type BackendFactory = (options: Record<string, string>) => LogicalBackend;
