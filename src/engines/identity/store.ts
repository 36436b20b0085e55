/**
 * The identity store: entities (a person or service), their aliases (the
 * same entity as an auth method knows it: a mount accessor and a name) and
 * internal groups (policies shared by member entities and member groups).
 *
 * Everything is kept in memory, loaded from the identity mount's storage on
 * first use, and each change is written through: `entity/<id>` holds an
 * entity with its aliases, `group/<id>` a group (JSON). Names of entities,
 * groups and aliases match case-insensitively, as Vault's default. Changes
 * run one at a time; a failed check changes nothing.
 *
 * The core asks it for the identity behind a token (policies from the
 * entity and its groups, and the values templated policies substitute),
 * and auth methods call `identityFor` at login.
 */
import { randomUUID } from 'node:crypto';
import { badRequest, internalError } from '../../core/errors.ts';
import { KeyedLock } from '../../core/keyed-lock.ts';
import type { LogicalStorage } from '../types.ts';

export interface Alias {
  id: string;
  canonical_id: string;
  mount_accessor: string;
  name: string;
  /** Set by the auth method at login. */
  metadata: Record<string, string> | null;
  /** Set through the API. */
  custom_metadata: Record<string, string>;
  creation_time: string;
  last_update_time: string;
}

export interface Entity {
  id: string;
  name: string;
  policies: string[];
  metadata: Record<string, string> | null;
  disabled: boolean;
  creation_time: string;
  last_update_time: string;
  aliases: Alias[];
}

export interface Group {
  id: string;
  name: string;
  type: 'internal';
  policies: string[];
  metadata: Record<string, string> | null;
  member_entity_ids: string[];
  parent_group_ids: string[];
  creation_time: string;
  last_update_time: string;
  modify_index: number;
}

/** What the identity store needs to know about a mount (from its accessor). */
export interface MountInfo {
  accessor: string;
  path: string;
  type: string;
  local: boolean;
}

export interface IdentityStoreDeps {
  /** The identity mount's storage view (resolved on first use: mounts load after the store exists). */
  storage: () => LogicalStorage | undefined;
  /** The mount (auth method or secrets engine) an accessor names; undefined when none. */
  mountByAccessor: (accessor: string) => MountInfo | undefined;
  now?: () => number;
}

/** An entity as the core sees it for a request: itself, its groups (direct and inherited) and the policies they bring. */
export interface IdentityContext {
  entity: Entity;
  groups: Group[];
  /** The entity's and its groups' policies, lower-cased, unique, sorted. */
  policies: string[];
}

const ENTITY_PREFIX = 'entity/';
const GROUP_PREFIX = 'group/';
const LOCK = 'identity';

// Vault's metadata limits (identity store_structs.go).
const META_MAX_PAIRS = 64;
const META_KEY_MAX = 128;
const META_VALUE_MAX = 512;
const META_KEY_FORMAT = /^[a-zA-Z0-9=/+_-]+$/;
const META_RESERVED_PREFIX = 'vault-';

const lower = (s: string) => s.toLowerCase();
const factorKey = (accessor: string, name: string) => `${accessor}\u0000${lower(name)}`;

/** Vault's strutil.RemoveDuplicates(list, true): trimmed, lower-cased, no empties, unique, sorted. */
export function uniquePolicies(items: readonly string[]): string[] {
  return [...new Set(items.map((p) => p.trim().toLowerCase()).filter((p) => p !== ''))].sort();
}

/**
 * Vault's validateMetadata, as a 400 naming what is wrong (never the pair
 * itself: metadata may hold anything a client considers private).
 */
export function checkMetadata(meta: Record<string, string> | null | undefined, what: string): void {
  if (!meta) return;
  const keys = Object.keys(meta);
  if (keys.length > META_MAX_PAIRS) throw badRequest(`invalid ${what} metadata: metadata cannot contain more than ${META_MAX_PAIRS} key/value pairs`);
  for (const key of keys) {
    const problem =
      key === '' ? 'key cannot be blank'
      : !META_KEY_FORMAT.test(key) ? 'key contains invalid characters'
      : key.length > META_KEY_MAX ? `key is too long (limit: ${META_KEY_MAX} characters)`
      : key.startsWith(META_RESERVED_PREFIX) ? `key prefix "${META_RESERVED_PREFIX}" is reserved for internal use`
      : String(meta[key]).length > META_VALUE_MAX ? `value is too long (limit: ${META_VALUE_MAX} characters)`
      : '';
    if (problem) throw badRequest(`invalid ${what} metadata: failed to load metadata pair: ${problem}`);
  }
}

/** Vault's custommetadata.Validate for an alias's custom_metadata (keys and values 1..128 / 1..512 printable characters). */
export function checkCustomMetadata(meta: Record<string, string>): void {
  const prefix = 'custom_metadata validation failed';
  const keys = Object.keys(meta);
  if (keys.length > 64) throw badRequest(`${prefix}: payload must contain at most 64 keys, provided ${keys.length}`);
  const printable = (s: string) => !/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(s);
  for (const key of keys) {
    const value = meta[key];
    if (key.length === 0 || key.length > 128) throw badRequest(`${prefix}: length of a key is ${key.length} but must be 0 < len(key) <= 128`);
    if (value.length === 0 || value.length > 512) throw badRequest(`${prefix}: length of a value is ${value.length} but must be 0 < len(value) <= 512`);
    if (!printable(key)) throw badRequest(`${prefix}: a key contains unprintable characters`);
    if (!printable(value)) throw badRequest(`${prefix}: a value contains unprintable characters`);
  }
}

export class IdentityStore {
  /** Bumped on every change: the core's ACL cache keys include it. */
  generation = 0;
  private readonly lock = new KeyedLock();
  private loading?: Promise<void>;
  private readonly entities = new Map<string, Entity>();
  private readonly entityByName = new Map<string, string>();
  /** alias id -> entity id */
  private readonly aliasOwner = new Map<string, string>();
  /** accessor + lower-cased name -> alias id */
  private readonly aliasByFactors = new Map<string, string>();
  private readonly groups = new Map<string, Group>();
  private readonly groupByName = new Map<string, string>();
  private readonly now: () => number;

  constructor(private readonly deps: IdentityStoreDeps) {
    this.now = deps.now ?? Date.now;
  }

  // --- reads -------------------------------------------------------------

  async entity(id: string): Promise<Entity | undefined> {
    await this.load();
    return this.entities.get(id);
  }

  async entityNamed(name: string): Promise<Entity | undefined> {
    await this.load();
    const id = this.entityByName.get(lower(name));
    return id === undefined ? undefined : this.entities.get(id);
  }

  async alias(id: string): Promise<{ alias: Alias; entity: Entity } | undefined> {
    await this.load();
    const owner = this.aliasOwner.get(id);
    const entity = owner === undefined ? undefined : this.entities.get(owner);
    const alias = entity?.aliases.find((a) => a.id === id);
    return alias && entity ? { alias, entity } : undefined;
  }

  async aliasByName(accessor: string, name: string): Promise<{ alias: Alias; entity: Entity } | undefined> {
    await this.load();
    const id = this.aliasByFactors.get(factorKey(accessor, name));
    return id === undefined ? undefined : this.alias(id);
  }

  async allEntities(): Promise<Entity[]> {
    await this.load();
    return [...this.entities.values()];
  }

  async group(id: string): Promise<Group | undefined> {
    await this.load();
    return this.groups.get(id);
  }

  async groupNamed(name: string): Promise<Group | undefined> {
    await this.load();
    const id = this.groupByName.get(lower(name));
    return id === undefined ? undefined : this.groups.get(id);
  }

  async allGroups(): Promise<Group[]> {
    await this.load();
    return [...this.groups.values()];
  }

  /** The groups whose parent_group_ids name `groupId` (its member groups). */
  async memberGroupIds(groupId: string): Promise<string[]> {
    await this.load();
    return [...this.groups.values()].filter((g) => g.parent_group_ids.includes(groupId)).map((g) => g.id).sort();
  }

  /**
   * The groups an entity belongs to: `direct` (it is a member) and
   * `inherited` (a parent, grandparent... of a direct group), as Vault's
   * GroupsByEntityID. Cycles cannot form (writes refuse them), and a walk
   * never visits a group twice anyway.
   */
  async groupsOf(entityId: string): Promise<{ direct: Group[]; inherited: Group[] }> {
    await this.load();
    const direct = [...this.groups.values()].filter((g) => g.member_entity_ids.includes(entityId));
    const seen = new Set(direct.map((g) => g.id));
    const inherited: Group[] = [];
    const stack = direct.flatMap((g) => g.parent_group_ids);
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (seen.has(id)) continue;
      seen.add(id);
      const parent = this.groups.get(id);
      if (!parent) continue;
      inherited.push(parent);
      stack.push(...parent.parent_group_ids);
    }
    return { direct: sortById(direct), inherited: sortById(inherited) };
  }

  /** The entity behind a token, with its groups and the policies they bring; undefined when it is gone. */
  async context(entityId: string): Promise<IdentityContext | undefined> {
    const entity = await this.entity(entityId);
    if (!entity) return undefined;
    const { direct, inherited } = await this.groupsOf(entityId);
    const groups = [...direct, ...inherited];
    return { entity, groups, policies: uniquePolicies([...entity.policies, ...groups.flatMap((g) => g.policies)]) };
  }

  /** Mount details for an accessor (alias reads show mount_path and mount_type). */
  mount(accessor: string): MountInfo | undefined {
    return this.deps.mountByAccessor(accessor);
  }

  // --- changes -----------------------------------------------------------

  /**
   * Vault's CreateOrFetchEntity, for auth methods at login: the entity of
   * the alias (mount accessor, name), created with a generated name when
   * the alias is new; the alias's metadata is replaced when it changed.
   */
  async identityFor(mountAccessor: string, aliasName: string, metadata: Record<string, string> | null = null): Promise<Entity> {
    if (aliasName === '') throw badRequest('empty alias name');
    if (!this.deps.mountByAccessor(mountAccessor)) throw badRequest('invalid mount accessor');
    checkMetadata(metadata, 'alias');
    return this.change(async () => {
      const found = await this.aliasByName(mountAccessor, aliasName);
      if (found) {
        if (sameMap(found.alias.metadata, metadata)) return found.entity;
        const entity = cloneEntity(found.entity);
        const alias = entity.aliases.find((a) => a.id === found.alias.id)!;
        alias.metadata = metadata ? { ...metadata } : null;
        alias.last_update_time = this.stamp();
        await this.saveEntity(entity);
        return entity;
      }
      const entity = this.newEntity();
      entity.aliases.push(this.newAlias(entity.id, mountAccessor, aliasName, metadata, {}));
      await this.saveEntity(entity);
      return entity;
    });
  }

  /** Serialises a change and bumps the generation once it is done (whether or not it succeeded). */
  change<T>(work: () => Promise<T>): Promise<T> {
    return this.lock.run(LOCK, async () => {
      await this.load();
      try {
        return await work();
      } finally {
        this.generation++;
      }
    });
  }

  newEntity(name?: string): Entity {
    const at = this.stamp();
    return {
      id: randomUUID(), name: name ?? this.generatedName('entity'), policies: [], metadata: null, disabled: false,
      creation_time: at, last_update_time: at, aliases: [],
    };
  }

  newAlias(canonicalId: string, accessor: string, name: string, metadata: Record<string, string> | null, custom: Record<string, string>): Alias {
    const at = this.stamp();
    return {
      id: randomUUID(), canonical_id: canonicalId, mount_accessor: accessor, name,
      metadata: metadata ? { ...metadata } : null, custom_metadata: { ...custom }, creation_time: at, last_update_time: at,
    };
  }

  newGroup(name?: string): Group {
    const at = this.stamp();
    return {
      id: randomUUID(), name: name ?? this.generatedName('group'), type: 'internal', policies: [], metadata: null,
      member_entity_ids: [], parent_group_ids: [], creation_time: at, last_update_time: at, modify_index: 0,
    };
  }

  stamp(): string {
    return new Date(this.now()).toISOString();
  }

  /** Writes an entity (with its aliases) and re-indexes it. Callers hold the change lock. */
  async saveEntity(entity: Entity): Promise<void> {
    await this.storage().put(ENTITY_PREFIX + entity.id, Buffer.from(JSON.stringify(entity), 'utf8'));
    this.unindexEntity(entity.id);
    this.indexEntity(entity);
  }

  async deleteEntity(id: string): Promise<void> {
    await this.storage().delete(ENTITY_PREFIX + id);
    this.unindexEntity(id);
  }

  async saveGroup(group: Group): Promise<void> {
    await this.storage().put(GROUP_PREFIX + group.id, Buffer.from(JSON.stringify(group), 'utf8'));
    this.unindexGroup(group.id);
    this.indexGroup(group);
  }

  async deleteGroup(id: string): Promise<void> {
    await this.storage().delete(GROUP_PREFIX + id);
    this.unindexGroup(id);
  }

  // --- internals ---------------------------------------------------------

  private generatedName(kind: 'entity' | 'group'): string {
    const taken = kind === 'entity' ? this.entityByName : this.groupByName;
    for (;;) {
      const name = `${kind}_${randomUUID().slice(0, 8)}`;
      if (!taken.has(name)) return name;
    }
  }

  private storage(): LogicalStorage {
    const storage = this.deps.storage();
    if (!storage) throw internalError('the identity store is not mounted');
    return storage;
  }

  private load(): Promise<void> {
    this.loading ??= (async () => {
      const storage = this.storage();
      for (const id of await storage.list(ENTITY_PREFIX)) {
        if (id.endsWith('/')) continue;
        const entity = await readJson<Entity>(storage, ENTITY_PREFIX + id);
        if (!entity) continue;
        // Entities written before aliases existed.
        entity.aliases ??= [];
        entity.policies ??= [];
        this.indexEntity(entity);
      }
      for (const id of await storage.list(GROUP_PREFIX)) {
        if (id.endsWith('/')) continue;
        const group = await readJson<Group>(storage, GROUP_PREFIX + id);
        if (group) this.indexGroup(group);
      }
    })().catch((err) => {
      this.loading = undefined;
      this.entities.clear();
      this.entityByName.clear();
      this.aliasOwner.clear();
      this.aliasByFactors.clear();
      this.groups.clear();
      this.groupByName.clear();
      throw err;
    });
    return this.loading;
  }

  private indexEntity(entity: Entity): void {
    this.entities.set(entity.id, entity);
    this.entityByName.set(lower(entity.name), entity.id);
    for (const alias of entity.aliases) {
      this.aliasOwner.set(alias.id, entity.id);
      this.aliasByFactors.set(factorKey(alias.mount_accessor, alias.name), alias.id);
    }
  }

  private unindexEntity(id: string): void {
    const old = this.entities.get(id);
    if (!old) return;
    this.entities.delete(id);
    if (this.entityByName.get(lower(old.name)) === id) this.entityByName.delete(lower(old.name));
    for (const alias of old.aliases) {
      if (this.aliasOwner.get(alias.id) === id) this.aliasOwner.delete(alias.id);
      const key = factorKey(alias.mount_accessor, alias.name);
      if (this.aliasByFactors.get(key) === alias.id) this.aliasByFactors.delete(key);
    }
  }

  private indexGroup(group: Group): void {
    this.groups.set(group.id, group);
    this.groupByName.set(lower(group.name), group.id);
  }

  private unindexGroup(id: string): void {
    const old = this.groups.get(id);
    if (!old) return;
    this.groups.delete(id);
    if (this.groupByName.get(lower(old.name)) === id) this.groupByName.delete(lower(old.name));
  }
}

/** A copy a change can edit before it is saved (the stored object stays as it was if the change fails). */
export function cloneEntity(entity: Entity): Entity {
  return { ...entity, policies: [...entity.policies], aliases: entity.aliases.map((a) => ({ ...a })) };
}

export function cloneGroup(group: Group): Group {
  return { ...group, policies: [...group.policies], member_entity_ids: [...group.member_entity_ids], parent_group_ids: [...group.parent_group_ids] };
}

function sortById<T extends { id: string }>(items: T[]): T[] {
  return items.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function sameMap(a: Record<string, string> | null, b: Record<string, string> | null): boolean {
  const ak = Object.keys(a ?? {});
  const bk = Object.keys(b ?? {});
  return ak.length === bk.length && ak.every((k) => Object.hasOwn(b ?? {}, k) && (b ?? {})[k] === (a ?? {})[k]);
}

async function readJson<T>(storage: LogicalStorage, key: string): Promise<T | undefined> {
  const raw = await storage.get(key);
  if (!raw) return undefined;
  try {
    return JSON.parse(raw.toString('utf8')) as T;
  } catch {
    throw internalError(`stored identity entry "${key}" is not valid JSON`);
  }
}
