import { randomUUID } from 'node:crypto';
import type { LogicalBackend, LogicalRequest, LogicalResponse, ManagedKeyAccess, Operation, RequestAuth } from '../engines/types.ts';
import { createKvBackend } from '../engines/kv/index.ts';
import { createCubbyholeBackend, destroyCubbyhole } from '../engines/cubbyhole/index.ts';
import { createIdentityBackend, IdentityStore, type Entity, type IdentityContext, type MountInfo } from '../engines/identity/index.ts';
import { createTransitBackend } from '../engines/transit/index.ts';
import { createUserpassBackend } from '../credential/userpass/index.ts';
import { createAppRoleBackend } from '../credential/approle/index.ts';
import { issueLoginToken } from './auth/login.ts';
import { LoginRateLimiter } from './auth/rate-limit.ts';
import { TokenStore, type TokenEntry } from './tokens/index.ts';
import { addressAllowed } from './cidr.ts';
import { PolicyStore, type ACL, type AclRequest } from './acl/index.ts';
import type { TemplateIdentity } from './acl/templating.ts';
import { MountTable, notMountable, SINGLETON_MOUNTS, SYSTEM_DEFAULT_LEASE_TTL, unknownEngineType, type MountEntry, type RouteMatch } from './mounts.ts';
import { CachingStorage, PrefixedStorage } from './storage-view.ts';
import { badRequest, notFound, permissionDenied, TresorError } from './errors.ts';
import { osRandom } from './entropy.ts';
import { defineBackend } from '../framework/index.ts';
import { isWrappingToken } from './wrapping.ts';
import type { Core } from './core.ts';
import type { ApiRequest, BeforeHandle } from './api.ts';

const CLUSTER_INFO_PATH = 'core/cluster';
/** How often mounts' periodic hooks run (Vault's rollback manager period). */
const DEFAULT_PERIODIC_INTERVAL_MS = 60_000;

/**
 * `TRESOR_PERIODIC_INTERVAL_MS`: the period of the mounts' periodic hooks in
 * milliseconds (positive integer; default 60 000). Integration tests
 * shorten it to see transit's automatic rotation within seconds.
 */
function periodicIntervalFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.TRESOR_PERIODIC_INTERVAL_MS?.trim();
  return raw && /^[1-9]\d*$/.test(raw) ? Number(raw) : DEFAULT_PERIODIC_INTERVAL_MS;
}
/** Vault's warning when a wrapping token reads its answer straight from its cubbyhole. */
const CUBBYHOLE_RESPONSE_DEPRECATED =
  "Reading from 'cubbyhole/response' is deprecated. Please use sys/wrapping/unwrap to unwrap responses, as it provides additional security checks and other benefits.";

/** An authenticated caller: the token entry and its compiled ACL. */
export interface Caller {
  token: string;
  entry: TokenEntry;
  acl: ACL;
  auth: RequestAuth;
  /** This request spends the token's last use: revoke it once the request is done. */
  lastUse: boolean;
}


/**
 * Everything that exists only while unsealed: the mount table, token store,
 * policy store and the router between them. Built on unseal, dropped on seal.
 */
export class UnsealedState {
  /** Login attempts per client address and auth mount (see rate-limit.ts). */
  readonly loginLimiter = new LoginRateLimiter();
  private periodicTimer: NodeJS.Timeout | undefined;
  private periodicRunning = false;

  private constructor(
    readonly core: Core,
    readonly clusterId: string,
    readonly clusterName: string,
    readonly tokens: TokenStore,
    readonly policies: PolicyStore,
    readonly mounts: MountTable,
    readonly identity: IdentityStore,
  ) {}

  static async create(core: Core, opts: { firstTime: boolean }): Promise<UnsealedState> {
    const barrier = core.barrier;
    // The cluster's id and name are chosen once, at init, and kept (a configured name wins).
    const info = await barrier.get(CLUSTER_INFO_PATH);
    let cluster: { id: string; name: string };
    if (info && !opts.firstTime) {
      const stored = JSON.parse(info.toString('utf8')) as { id: string; name: string };
      cluster = { id: stored.id, name: core.configuredClusterName ?? stored.name };
    } else {
      cluster = { id: randomUUID(), name: core.configuredClusterName ?? `tresor-cluster-${randomUUID().slice(0, 8)}` };
      await barrier.put(CLUSTER_INFO_PATH, Buffer.from(JSON.stringify(cluster)));
    }
    const clusterId = cluster.id;
    const clusterName = cluster.name;
    const policies = new PolicyStore(new PrefixedStorage(barrier, 'sys/policy/'));
    const cubbyholeStorage: { current?: import('../engines/types.ts').LogicalStorage } = {};
    const mountsRef: { current?: MountTable } = {};
    const identity = new IdentityStore({
      storage: () => mountsRef.current?.get('identity/')?.storage,
      mountByAccessor: (accessor) => (mountsRef.current ? mountByAccessor(mountsRef.current, accessor) : undefined),
    });
    const tokens = new TokenStore({
      storage: new CachingStorage(new PrefixedStorage(barrier, 'sys/token/')),
      randomBytes: (n) => core.keyRandom(n),
      onRevoke: async (entry) => {
        if (cubbyholeStorage.current) await destroyCubbyhole(cubbyholeStorage.current, entry.id);
      },
      // entity_alias on auth/token/create/<role>: an alias on the token store's own mount.
      entityForAlias: (aliasName) => {
        const accessor = mountsRef.current?.get('auth/token/')?.entry.accessor ?? '';
        return identity.identityFor(accessor, aliasName);
      },
      identityPolicies: async (entityId) => (await identity.context(entityId))?.policies ?? [],
    });
    const mounts = new MountTable(barrier, (entry) => resolveBackend(entry, tokens, identity), core.hsm, (msg) => core.logger.warn(msg));
    mountsRef.current = mounts;
    const state = new UnsealedState(core, clusterId, clusterName, tokens, policies, mounts, identity);
    if (opts.firstTime || !(await mounts.load())) await state.createDefaultMounts();
    cubbyholeStorage.current = mounts.get('cubbyhole/')?.storage;
    await core.audit.load(barrier);
    tokens.startExpiryTimer();
    state.startPeriodic();
    return state;
  }

  /** Calls every mount's periodic hook once per interval (the first time one interval after unseal). */
  private startPeriodic(intervalMs = periodicIntervalFromEnv()): void {
    this.periodicTimer = setInterval(() => void this.runPeriodic(), intervalMs);
    this.periodicTimer.unref();
  }

  /** One round of the mounts' periodic hooks; a round still running is not overlapped. */
  async runPeriodic(): Promise<void> {
    if (this.periodicRunning) return;
    this.periodicRunning = true;
    try {
      for (const entry of this.mounts.list('secret')) {
        const mounted = this.mounts.get(entry.path);
        if (!mounted?.backend.periodic) continue;
        const randomBytes = entry.external_entropy_access ? (n: number) => this.core.keyRandom(n) : osRandom;
        try {
          await mounted.backend.periodic({ storage: mounted.storage, randomBytes });
        } catch (err) {
          this.core.logger.warn(`periodic: mount ${entry.path}: ${(err as Error).message}`);
        }
      }
    } finally {
      this.periodicRunning = false;
    }
  }

  private async createDefaultMounts(): Promise<void> {
    const base = {
      description: '',
      config: { default_lease_ttl: 0, max_lease_ttl: 0, force_no_cache: false },
      options: null,
      local: false,
      seal_wrap: false,
      external_entropy_access: false,
    };
    await this.mounts.mount({ ...base, path: 'cubbyhole/', type: 'cubbyhole', description: 'per-token private secret storage', local: true, table: 'secret' }, { system: true });
    await this.mounts.mount({ ...base, path: 'identity/', type: 'identity', description: 'identity store', table: 'secret' }, { system: true });
    await this.mounts.mount({ ...base, path: 'sys/', type: 'system', description: 'system endpoints used for control, policy and debugging', seal_wrap: true, table: 'secret' }, { system: true });
    await this.mounts.mount({ ...base, path: 'auth/token/', type: 'token', description: 'token based credentials', table: 'auth' }, { system: true });
  }

  async close(): Promise<void> {
    if (this.periodicTimer) clearInterval(this.periodicTimer);
    this.periodicTimer = undefined;
    this.tokens.stop();
    // Audit devices are flushed and closed with the unsealed state (seal, shutdown).
    await this.core.audit.unload();
  }

  /**
   * Resolves the client token; 403 when missing, unknown or expired, used
   * from outside its bound CIDRs (`remoteAddress`: the connection's peer),
   * issued by an auth mount that is gone, or tied to an entity that is gone
   * or disabled (Vault's rules).
   */
  async authenticate(token: string | undefined, remoteAddress?: string): Promise<Caller> {
    if (!token) throw permissionDenied();
    const entry = await this.tokens.lookup(token);
    if (!entry) throw permissionDenied();
    // Vault binds every token but non-expiring (root) ones.
    if (entry.ttl !== 0 && entry.boundCidrs?.length && !addressAllowed(remoteAddress, entry.boundCidrs)) throw permissionDenied();
    if (entry.mountAccessor && !this.mounts.hasAccessor(entry.mountAccessor)) throw permissionDenied();
    const acl = await this.aclFor(entry);
    const lastUse = await this.tokens.use(entry);
    return {
      lastUse,
      token,
      entry,
      acl,
      auth: {
        clientToken: token,
        accessor: entry.accessor,
        policies: entry.policies,
        tokenId: entry.id,
        displayName: entry.displayName,
        entityId: entry.entityId,
      },
    };
  }

  /**
   * The ACL of a token: its own policies plus, when it is tied to an
   * entity, the entity's and its groups' policies, with templated
   * policies resolved for that identity. 403 when the entity is gone or
   * disabled.
   */
  async aclFor(entry: TokenEntry): Promise<ACL> {
    if (!entry.entityId) return this.policies.acl(entry.policies);
    const context = await this.identity.context(entry.entityId);
    if (!context || context.entity.disabled) throw permissionDenied();
    return this.policies.acl([...entry.policies, ...context.policies], templateIdentity(context, this.identity.generation));
  }

  /**
   * For auth methods at login: the entity of the alias (mount accessor,
   * alias name), created on first login, with the alias's metadata set to
   * `metadata`. The token issued should carry the entity's id (entityId);
   * a disabled entity (`disabled`) must not get one.
   */
  identityFor(mountAccessor: string, aliasName: string, metadata: Record<string, string> | null = null): Promise<Entity> {
    return this.identity.identityFor(mountAccessor, aliasName, metadata);
  }

  /** Ends a request: a token that spent its last use on it is revoked now (Vault's order). */
  async finishRequest(caller: Caller): Promise<void> {
    if (!caller.lastUse) return;
    try {
      await this.tokens.revokeTree(caller.entry.id);
    } catch (err) {
      // E.g. the request sealed the server. The token is already unusable (marked as in its last use).
      this.core.logger.warn(`tokens: revoking a token after its last use failed: ${(err as Error).message}`);
    }
  }

  /**
   * Checks `op` on `path` for the caller, with the request's parameters and
   * wrap TTL against the deciding rule's constraints; `sudo` paths also need
   * the sudo capability. Any refusal is a bare 403 "permission denied".
   */
  authorize(caller: Caller, path: string, op: Operation, request: AclRequest, needsSudo = false): void {
    const verdict = caller.acl.allowed(aclPath(path, op), op, request);
    if (!verdict.allowed || (needsSudo && !verdict.sudo)) throw permissionDenied();
  }

  /** Routes a request to the engine mounted under its path. */
  async handleLogical(req: ApiRequest, caller: Caller, beforeHandle?: BeforeHandle): Promise<LogicalResponse> {
    // A list is of a folder: "kv/dir" and "kv/dir/" are the same request, for the ACL and the engine.
    const path = aclPath(req.path, req.operation);
    const aclRequest: AclRequest = { data: req.data, wrapTtlSeconds: req.wrapTtlSeconds };
    const match = this.mounts.route(path);
    if (!match || match.entry.type === 'system') {
      // ACL first, as in Vault: a token must not learn which mount points exist by probing.
      this.authorize(caller, path, req.operation, aclRequest);
      throw notFound(`no handler for route "${req.path}"`);
    }
    if (match.entry.type === 'cubbyhole' && caller.entry.type === 'batch') {
      throw new TresorError(400, 'cubbyhole operations are only supported by "service" type tokens');
    }
    const external = match.entry.external_entropy_access;
    const base = {
      path: match.relPath,
      data: req.data,
      storage: match.storage,
      // Sudo belongs to the path's rules, whichever write operation it turns out to be.
      auth: { ...caller.auth, sudo: caller.acl.allowed(path, req.operation).sudo },
      mountPoint: match.entry.path,
      defaultLeaseTtl: match.entry.config.default_lease_ttl || SYSTEM_DEFAULT_LEASE_TTL,
      maxLeaseTtl: match.entry.config.max_lease_ttl || SYSTEM_DEFAULT_LEASE_TTL,
      randomBytes: external ? (n: number) => this.core.keyRandom(n) : osRandom,
      remoteAddress: req.remoteAddress,
      managedKeys: this.managedKeyAccess(match.entry),
    };
    const logical: LogicalRequest = { operation: req.operation, ...base };
    logical.operation = await this.writeOperation(caller, path, match.backend, logical);
    this.authorize(caller, path, logical.operation, aclRequest, match.backend.route(match.relPath)?.declaration.sudo === true);
    if (beforeHandle) await beforeHandle({ type: match.entry.type, accessor: match.entry.accessor, path: match.entry.path });
    const res = await match.backend.handle(logical);
    if (res === null) throw notFound(`unsupported path "${req.path}"`);
    res.mountType = match.entry.type;
    if (path === 'cubbyhole/response' && isWrappingToken(caller.entry)) {
      res.warnings = [...(res.warnings ?? []), CUBBYHOLE_RESPONSE_DEPRECATED];
    }
    return res;
  }

  private readonly managedKeyViews = new WeakMap<MountEntry, ManagedKeyAccess>();

  /**
   * A mount's view of the managed keys (made once per mount entry; it reads
   * allowed_managed_keys at each use, so a tune takes effect at once).
   */
  private managedKeyAccess(entry: MountEntry): ManagedKeyAccess {
    let view = this.managedKeyViews.get(entry);
    if (!view) {
      const core = this.core;
      view = {
        hsm: core.managedKeys,
        resolve: async (ref) => {
          const record = await core.managedKeys.find(core.barrier, ref);
          const shown = (ref.name ?? ref.id ?? '').slice(0, 64);
          if (!record) throw badRequest(`managed key "${shown}" not found`);
          const allowed = entry.config.allowed_managed_keys ?? [];
          if (!record.any_mount && !allowed.includes(record.name) && !allowed.includes(record.uuid)) {
            throw badRequest(`managed key "${shown}" is not allowed on mount "${entry.path}" (see allowed_managed_keys)`);
          }
          return record;
        },
      };
      this.managedKeyViews.set(entry, view);
    }
    return view;
  }

  /**
   * The auth mount and declared path of a request that needs no token (a
   * login: the path's declaration says `unauthenticated`); undefined for
   * every other request. Only auth methods can declare such paths.
   */
  unauthenticatedRoute(path: string, operation: Operation): RouteMatch | undefined {
    const match = this.mounts.route(aclPath(path, operation));
    if (!match || match.entry.table !== 'auth') return undefined;
    return match.backend.route(match.relPath)?.declaration.unauthenticated === true ? match : undefined;
  }

  /**
   * Serves a login (or another unauthenticated auth path): rate-limited per
   * client address, no token and no ACL; a login answer becomes a token
   * issued through the token store with the mount's TTL limits.
   */
  async handleUnauthenticated(req: ApiRequest, match: RouteMatch, beforeHandle?: BeforeHandle): Promise<LogicalResponse> {
    const path = aclPath(req.path, req.operation);
    this.loginLimiter.take(match.entry, req.remoteAddress, path);
    if (beforeHandle) await beforeHandle({ type: match.entry.type, accessor: match.entry.accessor, path: match.entry.path });
    const logical: LogicalRequest = {
      operation: req.operation,
      path: match.relPath,
      data: req.data,
      storage: match.storage,
      mountPoint: match.entry.path,
      defaultLeaseTtl: match.entry.config.default_lease_ttl || SYSTEM_DEFAULT_LEASE_TTL,
      maxLeaseTtl: match.entry.config.max_lease_ttl || SYSTEM_DEFAULT_LEASE_TTL,
      randomBytes: match.entry.external_entropy_access ? (n: number) => this.core.keyRandom(n) : osRandom,
      remoteAddress: req.remoteAddress,
    };
    const res = await match.backend.handle(logical);
    if (res === null) throw notFound(`unsupported path "${req.path}"`);
    if (res.login) {
      // Every login finds (or creates) the identity entity behind its alias on this mount, as Vault does.
      const entity = res.login.aliasName ? await this.identityFor(match.entry.accessor, res.login.aliasName, null) : undefined;
      if (entity?.disabled) throw permissionDenied();
      const issued = await issueLoginToken({ tokens: this.tokens, mount: match.entry, path, remoteAddress: req.remoteAddress, entityId: entity?.id }, res.login);
      res.auth = issued.auth;
      if (issued.warnings.length) res.warnings = [...(res.warnings ?? []), ...issued.warnings];
      delete res.login;
    }
    res.mountType = match.entry.type;
    return res;
  }

  /**
   * A write is "create" when the target does not exist yet and "update" when
   * it does, so a policy can grant one without the other. The path's
   * existence check runs only when the answer matters: the ACL grants
   * exactly one of the two, or the path handles them differently. A path
   * without one counts as existing.
   */
  private async writeOperation(caller: Caller, path: string, backend: LogicalBackend, req: LogicalRequest): Promise<Operation> {
    if (req.operation !== 'update') return req.operation;
    const canCreate = caller.acl.allowed(path, 'create').allowed;
    const canUpdate = caller.acl.allowed(path, 'update').allowed;
    if (canCreate === canUpdate && !backend.distinguishesCreate(req.path)) return 'update';
    const exists = await backend.existenceCheck(req);
    return exists === false ? 'create' : 'update';
  }
}

/**
 * The path the ACL sees: a list always names a folder, so it gets a
 * trailing "/" (as Vault appends one), and `kv/dir` cannot be listed past
 * a rule such as `kv/dir/*` that governs `kv/dir/`.
 */
function aclPath(path: string, op: Operation): string {
  return op === 'list' && path !== '' && !path.endsWith('/') ? `${path}/` : path;
}

/**
 * The engine for a mount entry. Which types an operator may mount is
 * decided by the mount table (MOUNTABLE_SECRET_TYPES); this only builds
 * them, and never hands out a singleton (token store, system) anywhere
 * but at its own path.
 */
function resolveBackend(entry: MountEntry, tokens: TokenStore, identity: IdentityStore): LogicalBackend {
  if (Object.hasOwn(SINGLETON_MOUNTS, entry.type) && SINGLETON_MOUNTS[entry.type] !== entry.path) throw notMountable(entry.type);
  switch (entry.type) {
    case 'kv':
    case 'generic': // Vault's old name for kv (version 1; "generic" takes no version option)
      return createKvBackend(entry.options ?? {});
    case 'cubbyhole':
      return createCubbyholeBackend();
    case 'identity':
      return createIdentityBackend(identity);
    case 'transit':
      return createTransitBackend(entry.options ?? {});
    case 'userpass':
      return createUserpassBackend();
    case 'approle':
      return createAppRoleBackend();
    case 'token':
      return tokens.backend;
    case 'system':
      // sys/ is served by the system backend before mounts are consulted.
      return defineBackend('system', []);
    default:
      throw unknownEngineType(entry.type);
  }
}

/** The mount an accessor names (secrets engines and auth methods), for the identity store. */
function mountByAccessor(mounts: MountTable, accessor: string): MountInfo | undefined {
  for (const table of ['auth', 'secret'] as const) {
    const entry = mounts.list(table).find((e) => e.accessor === accessor);
    if (entry) return { accessor, path: entry.path, type: entry.type, local: entry.local };
  }
  return undefined;
}

/** What templated policies may read about a caller's identity; the key changes with any identity change. */
function templateIdentity(context: IdentityContext, generation: number): TemplateIdentity {
  return { key: `${context.entity.id}@${generation}`, entity: context.entity, groups: context.groups };
}
