import { randomUUID } from 'node:crypto';
import { OPERATIONS, type LogicalBackend, type LogicalStorage } from '../engines/types.ts';
import { defineBackend } from '../framework/index.ts';
import { badRequest, quoted, TresorError } from './errors.ts';
import { PrefixedStorage, SealWrappedStorage, deleteTree } from './storage-view.ts';
import type { SealWrapper } from '../seal/seal.ts';

/** A mount as Vault's `sys/mounts` shows it (snake_case is the wire format). */
/** Vault's system default (and max) lease TTL, 768h, for mounts that do not tune their own. */
export const SYSTEM_DEFAULT_LEASE_TTL = 2764800;

export interface MountEntry {
  path: string;
  type: string;
  description: string;
  accessor: string;
  uuid: string;
  config: {
    default_lease_ttl: number;
    max_lease_ttl: number;
    force_no_cache: boolean;
    /** Auth mounts: "", "hidden" or "unauth" (Vault's listing_visibility). */
    listing_visibility?: string;
    /** Auth mounts: the token type they issue; "default-service" or "service" (service tokens only). */
    token_type?: string;
    /** Names or ids of the managed keys this mount may use (besides those with any_mount). */
    allowed_managed_keys?: string[];
  };
  options: Record<string, string> | null;
  local: boolean;
  seal_wrap: boolean;
  external_entropy_access: boolean;
  /** "secret" for secrets engines, "auth" for auth methods (storage prefix differs). */
  table: 'secret' | 'auth';
}

export interface MountedBackend {
  entry: MountEntry;
  backend: LogicalBackend;
  storage: LogicalStorage;
}

export interface RouteMatch extends MountedBackend {
  /** The request path below the mount point, no leading slash. */
  relPath: string;
}

export type BackendResolver = (entry: MountEntry) => LogicalBackend;

/**
 * The secrets-engine types an operator may mount with `sys/mounts/<path>`.
 * "generic" is Vault's old name for kv (kept as an alias, as in Vault).
 * Everything else is refused: an unknown type as Vault refuses a plugin that
 * is not in its catalog, and the built-in singletons below with Vault's
 * "not mountable" 403.
 */
export const MOUNTABLE_SECRET_TYPES: readonly string[] = ['kv', 'generic', 'transit'];

/** The auth method types an operator may enable with `sys/auth/<path>`. */
export const MOUNTABLE_AUTH_TYPES: readonly string[] = ['userpass', 'approle'];

/** Throws unless an operator may enable an auth method of `type` (Vault's texts). */
export function checkMountableAuthType(type: string): void {
  if (type === 'token') throw badRequest('token credential backend cannot be instantiated');
  if (!MOUNTABLE_AUTH_TYPES.includes(type)) throw unknownEngineType(type);
}

/**
 * Engines that exist exactly once, at a fixed path, mounted by the core
 * itself (Vault's singleton mounts). A second copy elsewhere would expose
 * the token store or the system backend under a path the ACL does not
 * treat as such (e.g. `team/token/revoke-accessor`).
 */
export const SINGLETON_MOUNTS: Readonly<Record<string, string>> = {
  system: 'sys/',
  token: 'auth/token/',
  cubbyhole: 'cubbyhole/',
  identity: 'identity/',
};

/** Vault's 403 for mounting a singleton type. */
export function notMountable(type: string): TresorError {
  return new TresorError(403, `mount type of "${type}" is not mountable`);
}

/** Vault's 400 for a type it has no engine (plugin) for; a long type is cut short rather than handed back. */
export function unknownEngineType(type: string): TresorError {
  return badRequest(`plugin not found in the catalog: ${quoted(type)}`);
}

/** Throws unless an operator may mount a secrets engine of `type`. */
export function checkMountableSecretType(type: string): void {
  if (Object.hasOwn(SINGLETON_MOUNTS, type)) throw notMountable(type);
  if (!MOUNTABLE_SECRET_TYPES.includes(type)) throw unknownEngineType(type);
}

/** True for a singleton type found anywhere but its own fixed path (only a stored table from before the check can hold one). */
function misplacedSingleton(entry: MountEntry): boolean {
  return Object.hasOwn(SINGLETON_MOUNTS, entry.type) && SINGLETON_MOUNTS[entry.type] !== entry.path;
}

/** Mount points an operator can neither create, remove nor move. */
const PROTECTED_PREFIXES = ['sys/', 'auth/token/', 'cubbyhole/', 'identity/'];
/** Prefixes that belong to auth methods and audit devices, never to secrets engines. */
const SECRET_FORBIDDEN_PREFIXES = ['auth/', 'audit/'];
export const MOUNT_TABLE_PATH = 'core/mounts';
const MOUNT_PATH_PATTERN = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*\/$/;

/**
 * The mount table: which engine answers under which path prefix, and the
 * storage view each one gets. Persisted (behind the barrier) at core/mounts.
 * Routing picks the longest mount prefix; mounts never nest.
 */
export class MountTable {
  private readonly mounts = new Map<string, MountedBackend>();
  private readonly accessors = new Set<string>();
  /** Mount points sorted longest first, so the first prefix hit is the most specific. */
  constructor(
    private readonly barrier: LogicalStorage,
    private readonly resolve: BackendResolver,
    private readonly hsm: SealWrapper | undefined,
    private readonly warn: (message: string) => void = () => {},
  ) {}

  async load(): Promise<boolean> {
    const raw = await this.barrier.get(MOUNT_TABLE_PATH);
    if (!raw) return false;
    for (const entry of JSON.parse(raw.toString('utf8')) as MountEntry[]) {
      if (misplacedSingleton(entry)) {
        // A copy of the token store or system backend mounted before such
        // mounts were refused: it stays listed (so it can be disabled) but
        // answers nothing.
        this.warn(`mounts: the ${entry.type} mount at ${entry.path} is not allowed there and is disabled; remove it with sys/mounts/${entry.path}`);
        this.attach(entry, refusingBackend(entry.type));
        continue;
      }
      this.attach(entry);
    }
    return true;
  }

  list(table: 'secret' | 'auth'): MountEntry[] {
    return [...this.mounts.values()].map((m) => m.entry).filter((e) => e.table === table).sort((a, b) => a.path.localeCompare(b.path));
  }

  get(path: string): MountedBackend | undefined {
    return this.mounts.get(normaliseMountPath(path));
  }

  /** Whether a mount with this accessor is mounted (tokens issued by a disabled auth mount stop working). */
  hasAccessor(accessor: string): boolean {
    return this.accessors.has(accessor);
  }

  /** Finds the mount answering `path` (e.g. "secret/data/foo" → mount "secret/", relPath "data/foo"). */
  route(path: string): RouteMatch | undefined {
    const probe = path.endsWith('/') ? path : path + '/';
    // Mount paths end at a segment boundary: try each "/"-terminated prefix, longest first,
    // so the cost follows the path's depth, not the number of mounts.
    for (let end = probe.length; end > 0; end = probe.lastIndexOf('/', end - 2) + 1) {
      const m = this.mounts.get(probe.slice(0, end));
      if (m) return { ...m, relPath: path.slice(end) };
      if (end === 1) break;
    }
    return undefined;
  }

  async mount(
    input: Omit<MountEntry, 'accessor' | 'uuid' | 'path'> & { path: string },
    opts: { system?: boolean } = {},
  ): Promise<MountEntry> {
    const path = normaliseMountPath(input.path);
    if (!opts.system) this.checkUserPath(path);
    if (!opts.system && input.table === 'secret') {
      checkSecretsEnginePath(path);
      checkMountableSecretType(input.type);
      if (input.type !== 'kv' && input.options?.version) throw badRequest(`secrets engine "${input.type}" does not allow setting a version`);
    }
    if (!opts.system && input.table === 'auth') {
      if (!path.startsWith('auth/') || path === 'auth/') throw badRequest('backend path must be specified');
      checkMountableAuthType(input.type);
    }
    if (opts.system && SINGLETON_MOUNTS[input.type] !== path) throw notMountable(input.type);
    for (const existing of this.mounts.keys()) {
      if (existing.startsWith(path) || path.startsWith(existing)) {
        // Vault answers a clash between auth methods with 409.
        // (Vault names auth mounts without their auth/ prefix.)
        if (input.table === 'auth' && existing.startsWith('auth/')) throw new TresorError(409, `path is already in use at ${existing.slice('auth/'.length)}`);
        throw badRequest(
          existing === path ? `path is already in use at ${path}` : `cannot mount at "${path}": it overlaps the existing mount "${existing}"`,
        );
      }
    }
    const entry: MountEntry = {
      ...input,
      path,
      uuid: randomUUID(),
      // Vault's accessor names: auth mounts carry an auth_ prefix.
      accessor: `${input.table === 'auth' ? 'auth_' : ''}${input.type}_${randomUUID().slice(0, 8)}`,
    };
    this.attach(entry); // throws for an unknown type before anything is stored
    try {
      await this.persist();
    } catch (err) {
      this.detach(path);
      throw err;
    }
    return entry;
  }

  async unmount(path: string): Promise<void> {
    path = normaliseMountPath(path);
    this.checkUserPath(path);
    const m = this.mounts.get(path);
    if (!m) return; // Vault answers 204 for a path with nothing mounted
    this.detach(path);
    await this.persist();
    await deleteTree(new PrefixedStorage(this.barrier, storagePrefix(m.entry)));
    await m.backend.cleanup?.();
  }

  /** Moves a mount; its storage keeps its uuid-based prefix, so no data is copied. */
  async remount(from: string, to: string): Promise<void> {
    from = normaliseMountPath(from);
    to = normaliseMountPath(to);
    this.checkUserPath(from);
    this.checkUserPath(to);
    const m = this.mounts.get(from);
    if (!m) throw badRequest(`no mount at "${from}"`);
    if (m.entry.table === 'auth' || from.startsWith('auth/') || to.startsWith('auth/')) {
      throw badRequest('moving auth methods is not supported');
    }
    // Only engines an operator could have mounted may move (never the system ones, wherever they sit).
    if (!MOUNTABLE_SECRET_TYPES.includes(m.entry.type)) throw badRequest(`cannot remount "${from}"`);
    checkSecretsEnginePath(to);
    for (const existing of this.mounts.keys()) {
      if (existing !== from && (existing.startsWith(to) || to.startsWith(existing))) {
        throw badRequest(`path "${to}" overlaps the existing mount "${existing}"`);
      }
    }
    this.detach(from);
    const entry = { ...m.entry, path: to };
    this.attach(entry, m.backend);
    await this.persist();
  }

  async tune(path: string, change: Partial<Pick<MountEntry, 'description' | 'options'>> & { config?: Partial<MountEntry['config']> }): Promise<void> {
    const m = this.get(path);
    if (!m) throw badRequest(`no mount at "${normaliseMountPath(path)}"`);
    const before = structuredClone(m.entry);
    if (change.description !== undefined) m.entry.description = change.description;
    if (change.config) m.entry.config = { ...m.entry.config, ...change.config };
    if (change.options) {
      if ((m.entry.type === 'kv' || m.entry.type === 'generic') && change.options.version && change.options.version !== (m.entry.options?.version ?? '1')) {
        throw badRequest('changing the KV version of an existing mount is not supported');
      }
      const options = { ...(m.entry.options ?? {}) };
      // As in Vault, an empty value removes the option (except version, which cannot be downgraded).
      for (const [key, value] of Object.entries(change.options)) {
        if (value === '' && key !== 'version') delete options[key];
        else options[key] = value;
      }
      m.entry.options = options;
    }
    try {
      await this.persist();
    } catch (err) {
      Object.assign(m.entry, before);
      throw err;
    }
  }

  private checkUserPath(path: string): void {
    if (!MOUNT_PATH_PATTERN.test(path)) throw badRequest(`invalid mount path "${path}"`);
    if (path.split('/').some((s) => s === '.' || s === '..')) throw badRequest(`invalid mount path "${path}"`);
    for (const p of PROTECTED_PREFIXES) {
      if (path.startsWith(p) || p.startsWith(path)) throw badRequest(`cannot use reserved path "${path}"`);
    }
  }

  private attach(entry: MountEntry, backend?: LogicalBackend): void {
    const base = new PrefixedStorage(this.barrier, storagePrefix(entry));
    const storage = entry.seal_wrap ? new SealWrappedStorage(base, this.hsm, storagePrefix(entry)) : base;
    this.mounts.set(entry.path, { entry, backend: backend ?? this.resolve(entry), storage });
    this.accessors.add(entry.accessor);
  }

  private detach(path: string): void {
    const m = this.mounts.get(path);
    this.mounts.delete(path);
    if (m && ![...this.mounts.values()].some((other) => other.entry.accessor === m.entry.accessor)) this.accessors.delete(m.entry.accessor);
  }

  private async persist(): Promise<void> {
    const entries = [...this.mounts.values()].map((m) => m.entry);
    await this.barrier.put(MOUNT_TABLE_PATH, Buffer.from(JSON.stringify(entries)));
  }
}

/** Stands in for a mount that must not answer (see MountTable.load). */
function refusingBackend(type: string): LogicalBackend {
  return defineBackend(type, [{
    pattern: '.*',
    synopsis: 'A mount this server cannot serve.',
    operations: Object.fromEntries(OPERATIONS.map((op) => [op, async () => { throw notMountable(type); }])),
  }]);
}

/** Secrets engines under auth/ or audit/ would shadow the routes of auth methods and audit devices. */
function checkSecretsEnginePath(path: string): void {
  if (SECRET_FORBIDDEN_PREFIXES.some((p) => path.startsWith(p))) {
    throw badRequest(`cannot mount a secrets engine under reserved path "${path}"`);
  }
}

export function normaliseMountPath(path: string): string {
  path = path.replace(/^\/+/, '');
  return path.endsWith('/') ? path : path + '/';
}

/** Vault's layout: secrets engines under logical/<uuid>/, auth methods under auth/<uuid>/. */
export function storagePrefix(entry: MountEntry): string {
  return `${entry.table === 'auth' ? 'auth' : 'logical'}/${entry.uuid}/`;
}
