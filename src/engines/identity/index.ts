/**
 * Vault's identity secrets engine (mounted at identity/): entities
 * (`entity`, `entity/id/<id>`, `entity/name/<name>`), entity aliases
 * (`entity-alias`, `entity-alias/id/<id>`), internal groups (`group`,
 * `group/id/<id>`, `group/name/<name>`) and lookups (`lookup/entity`,
 * `lookup/group`), with Vault's fields, answers and error texts. The data
 * lives in an IdentityStore (store.ts) that the core shares: a token tied to
 * an entity gets the entity's and its groups' policies, and templated
 * policies read its names and metadata.
 *
 * Not implemented: external groups and group aliases, entity merge and
 * batch-delete, the OIDC provider, MFA.
 */
import { badRequest, notFound } from '../../core/errors.ts';
import { defineBackend, genericName, type FieldData, type FieldSchemas, type PathDeclaration } from '../../framework/index.ts';
import type { LogicalBackend, LogicalRequest, LogicalResponse } from '../types.ts';
import {
  checkCustomMetadata, checkMetadata, cloneEntity, cloneGroup, IdentityStore, uniquePolicies,
  type Alias, type Entity, type Group, type IdentityStoreDeps,
} from './store.ts';

export { IdentityStore, type IdentityContext, type IdentityStoreDeps, type Entity, type Group, type Alias, type MountInfo } from './store.ts';

/** The identity engine over `store` (the core's shared one); tests may pass the store's dependencies instead. */
export function createIdentityBackend(store: IdentityStore | IdentityStoreDeps): LogicalBackend {
  return defineBackend('identity', identityPaths(store instanceof IdentityStore ? store : new IdentityStore(store)));
}

const NO_CONTENT: LogicalResponse = { status: 204 };
/** Vault's namespace for everything outside Enterprise namespaces. */
const ROOT_NAMESPACE = 'root';

const METADATA_DESCRIPTION = 'String pairs: an object, or "key=value" items (the CLI may repeat metadata=key=value).';

const ENTITY_FIELDS: FieldSchemas = {
  id: { type: 'string', description: 'ID of the entity; when set, the entity to update.' },
  name: { type: 'string', description: 'Name of the entity; generated for a new entity given none.' },
  metadata: { type: 'kv-pairs', description: `Metadata of the entity. ${METADATA_DESCRIPTION}` },
  policies: { type: 'comma-string-slice', description: 'Policies that tokens tied to the entity get (besides their own).' },
  disabled: { type: 'bool', description: 'Whether tokens tied to the entity are refused (they are not revoked).' },
};

const ALIAS_FIELDS: FieldSchemas = {
  id: { type: 'string', description: 'ID of the entity alias; when set, the alias to update.' },
  entity_id: { type: 'string', description: 'Deprecated: use canonical_id.' },
  canonical_id: { type: 'string', description: 'ID of the entity the alias belongs to; a new entity is made when a new alias names none.' },
  mount_accessor: { type: 'string', description: 'Accessor of the auth method (mount) the alias belongs to.' },
  name: { type: 'string', description: 'Name of the alias: the user or role name as the auth method knows it.' },
  custom_metadata: { type: 'kv-pairs', description: 'User-provided key-value pairs kept on the alias.' },
};

const GROUP_FIELDS: FieldSchemas = {
  id: { type: 'string', description: 'ID of the group; when set, the group to update.' },
  type: { type: 'string', description: 'Type of the group; only "internal" groups (members set here) are available.' },
  name: { type: 'string', description: 'Name of the group; generated for a new group given none.' },
  metadata: { type: 'kv-pairs', description: `Metadata of the group. ${METADATA_DESCRIPTION}` },
  policies: { type: 'comma-string-slice', description: 'Policies that tokens of member entities (direct, or through member groups) get.' },
  member_group_ids: { type: 'comma-string-slice', description: 'IDs of the groups that are members of this one (they inherit its policies).' },
  member_entity_ids: { type: 'comma-string-slice', description: 'IDs of the entities that are members of the group.' },
};

const LOOKUP_FIELDS = (what: string): FieldSchemas => ({
  name: { type: 'string', description: `Name of the ${what}.` },
  id: { type: 'string', description: `ID of the ${what}.` },
  alias_id: { type: 'string', description: 'ID of an alias.' },
  alias_name: { type: 'string', description: 'Name of an alias; with alias_mount_accessor.' },
  alias_mount_accessor: { type: 'string', description: 'Accessor of the mount of an alias; with alias_name.' },
});

function identityPaths(store: IdentityStore): PathDeclaration<LogicalRequest>[] {
  const entityUpdate = (fields: FieldData) => updateEntity(store, fields);
  const groupUpdate = (fields: FieldData, target: 'any' | 'id' | 'name') => updateGroup(store, fields, target);
  return [
    {
      pattern: 'entity',
      fields: ENTITY_FIELDS,
      synopsis: 'Create or update an entity.',
      description: 'Without id, creates an entity (or updates the one holding the given name); answers its id and name when it is new, 204 otherwise.',
      operations: { update: { summary: 'Create or update an entity.', handler: (_req, f) => entityUpdate(f) } },
    },
    {
      pattern: 'entity/name/?',
      synopsis: 'List the names of all entities.',
      operations: { list: { summary: 'List entity names.', handler: () => listEntities(store, false) } },
    },
    {
      pattern: 'entity/name/(?<name>.+)',
      fields: ENTITY_FIELDS,
      synopsis: 'Create, update, read or delete an entity by its name.',
      description: 'A write creates the entity when no entity has the name yet (names match without regard to case).',
      operations: {
        update: { summary: 'Create or update an entity by name.', handler: (_req, f) => entityUpdate(f) },
        read: { summary: 'Read an entity by name.', handler: async (_req, f) => entityResponse(store, await store.entityNamed(f.get('name'))) },
        delete: { summary: 'Delete an entity by name.', handler: async (_req, f) => deleteEntity(store, await store.entityNamed(f.get('name'))) },
      },
    },
    {
      pattern: 'entity/id/?',
      synopsis: 'List the IDs of all entities.',
      operations: { list: { summary: 'List entity ids.', handler: () => listEntities(store, true) } },
    },
    {
      pattern: `entity/id/${genericName('id')}`,
      fields: ENTITY_FIELDS,
      synopsis: 'Update, read or delete an entity by its ID.',
      operations: {
        update: { summary: 'Update an entity by id.', handler: (_req, f) => entityUpdate(f) },
        read: { summary: 'Read an entity by id.', handler: async (_req, f) => entityResponse(store, await store.entity(f.get('id'))) },
        delete: { summary: 'Delete an entity by id.', handler: async (_req, f) => deleteEntity(store, await store.entity(f.get('id'))) },
      },
    },
    {
      pattern: 'entity-alias',
      fields: ALIAS_FIELDS,
      synopsis: 'Create or update an entity alias.',
      description: 'With id, updates that alias; otherwise mount_accessor and name name the alias, created when new (with a new entity unless canonical_id names one).',
      operations: { update: { summary: 'Create or update an entity alias.', handler: (_req, f) => updateAlias(store, f) } },
    },
    {
      pattern: 'entity-alias/id/?',
      synopsis: 'List the IDs of all entity aliases.',
      operations: { list: { summary: 'List entity alias ids.', handler: () => listAliases(store) } },
    },
    {
      pattern: `entity-alias/id/${genericName('id')}`,
      fields: ALIAS_FIELDS,
      synopsis: 'Update, read or delete an entity alias by its ID.',
      operations: {
        update: { summary: 'Update an entity alias.', handler: (_req, f) => updateAlias(store, f) },
        read: { summary: 'Read an entity alias.', handler: async (_req, f) => aliasResponse(store, await store.alias(f.get('id'))) },
        delete: { summary: 'Delete an entity alias.', handler: (_req, f) => deleteAlias(store, f.get('id')) },
      },
    },
    {
      pattern: 'group',
      fields: GROUP_FIELDS,
      synopsis: 'Create or update a group.',
      description: 'With id, updates that group; with name, the group of that name (created when new); otherwise creates a group.',
      operations: { update: { summary: 'Create or update a group.', handler: (_req, f) => groupUpdate(f, 'any') } },
    },
    {
      pattern: 'group/id/?',
      synopsis: 'List the IDs of all groups.',
      operations: { list: { summary: 'List group ids.', handler: () => listGroups(store, true) } },
    },
    {
      pattern: `group/id/${genericName('id')}`,
      fields: GROUP_FIELDS,
      synopsis: 'Update, read or delete a group by its ID.',
      operations: {
        update: { summary: 'Update a group by id.', handler: (_req, f) => groupUpdate(f, 'id') },
        read: { summary: 'Read a group by id.', handler: async (_req, f) => groupResponse(store, await store.group(f.get('id'))) },
        delete: { summary: 'Delete a group by id.', handler: async (_req, f) => deleteGroup(store, await store.group(f.get('id'))) },
      },
    },
    {
      pattern: 'group/name/?',
      synopsis: 'List the names of all groups.',
      operations: { list: { summary: 'List group names.', handler: () => listGroups(store, false) } },
    },
    {
      pattern: 'group/name/(?<name>.+)',
      fields: GROUP_FIELDS,
      synopsis: 'Create, update, read or delete a group by its name.',
      operations: {
        update: { summary: 'Create or update a group by name.', handler: (_req, f) => groupUpdate(f, 'name') },
        read: { summary: 'Read a group by name.', handler: async (_req, f) => groupResponse(store, await store.groupNamed(f.get('name'))) },
        delete: { summary: 'Delete a group by name.', handler: async (_req, f) => deleteGroup(store, await store.groupNamed(f.get('name'))) },
      },
    },
    {
      pattern: 'lookup/entity',
      fields: LOOKUP_FIELDS('entity'),
      synopsis: 'Find an entity by id, name, alias id, or alias name and mount accessor.',
      description: 'Exactly one of id, name, alias_id, or the pair alias_name and alias_mount_accessor; 204 when nothing matches.',
      operations: { update: { summary: 'Look up an entity.', handler: (_req, f) => lookupEntity(store, f) } },
    },
    {
      pattern: 'lookup/group',
      fields: LOOKUP_FIELDS('group'),
      synopsis: 'Find a group by id or name.',
      description: 'Exactly one of id or name (internal groups have no aliases); 204 when nothing matches.',
      operations: { update: { summary: 'Look up a group.', handler: (_req, f) => lookupGroup(store, f) } },
    },
  ];
}

// --- entities ---------------------------------------------------------------

/** Vault's handleEntityUpdateCommon: the target is the entity of `id` (body or path), else of `name`, else a new one. */
async function updateEntity(store: IdentityStore, fields: FieldData): Promise<LogicalResponse> {
  return store.change(async () => {
    let entity: Entity | undefined;
    const id = fields.get<string>('id');
    if (id !== '') {
      const found = await store.entity(id);
      if (!found) throw badRequest('entity not found from id');
      entity = cloneEntity(found);
    }
    const name = fields.get<string>('name');
    if (name !== '') {
      const named = await store.entityNamed(name);
      if (named && !entity) entity = cloneEntity(named);
      else if (named && entity && named.id !== entity.id) throw badRequest('entity name is already in use');
    }
    const isNew = entity === undefined;
    entity ??= store.newEntity(name || undefined);
    if (name !== '') entity.name = name;
    if (fields.has('policies')) entity.policies = uniquePolicies(fields.get<string[]>('policies'));
    if (entity.policies.includes('root')) throw badRequest('policies cannot contain root');
    if (fields.has('disabled')) entity.disabled = fields.get<boolean>('disabled');
    if (fields.has('metadata')) entity.metadata = fields.get<Record<string, string>>('metadata');
    checkMetadata(entity.metadata, 'entity');
    if (!isNew) entity.last_update_time = store.stamp();
    await store.saveEntity(entity);
    if (!isNew) return NO_CONTENT;
    return { data: { id: entity.id, name: entity.name, aliases: entity.aliases.length > 0 ? entity.aliases.map((a) => a.id) : null } };
  });
}

function aliasData(store: IdentityStore, alias: Alias, withNamespace: boolean): Record<string, unknown> {
  const data: Record<string, unknown> = {
    canonical_id: alias.canonical_id,
    creation_time: alias.creation_time,
    custom_metadata: alias.custom_metadata,
    id: alias.id,
    last_update_time: alias.last_update_time,
    local: false,
    merged_from_canonical_ids: null,
    metadata: alias.metadata,
    mount_accessor: alias.mount_accessor,
    name: alias.name,
  };
  if (withNamespace) data.namespace_id = ROOT_NAMESPACE;
  const mount = store.mount(alias.mount_accessor);
  if (mount) {
    data.mount_path = mount.path;
    data.mount_type = mount.type;
  }
  return data;
}

/** Vault's handleEntityReadCommon; a missing entity is a 404. */
async function entityResponse(store: IdentityStore, entity: Entity | undefined): Promise<LogicalResponse> {
  if (!entity) throw notFound();
  const { direct, inherited } = await store.groupsOf(entity.id);
  const directIds = direct.map((g) => g.id);
  const inheritedIds = inherited.map((g) => g.id);
  return {
    data: {
      aliases: entity.aliases.map((a) => aliasData(store, a, false)),
      creation_time: entity.creation_time,
      direct_group_ids: directIds,
      disabled: entity.disabled,
      group_ids: [...directIds, ...inheritedIds],
      id: entity.id,
      inherited_group_ids: inheritedIds,
      last_update_time: entity.last_update_time,
      merged_entity_ids: null,
      metadata: entity.metadata,
      name: entity.name,
      namespace_id: ROOT_NAMESPACE,
      policies: entity.policies,
    },
  };
}

/** Deletes an entity with its aliases, and takes it out of every group; a missing one is no error. */
async function deleteEntity(store: IdentityStore, target: Entity | undefined): Promise<LogicalResponse> {
  if (!target) return NO_CONTENT;
  await store.change(async () => {
    const entity = await store.entity(target.id);
    if (!entity) return;
    for (const group of await store.allGroups()) {
      if (!group.member_entity_ids.includes(entity.id)) continue;
      const updated = cloneGroup(group);
      updated.member_entity_ids = updated.member_entity_ids.filter((id) => id !== entity.id);
      updated.last_update_time = store.stamp();
      updated.modify_index++;
      await store.saveGroup(updated);
    }
    await store.deleteEntity(entity.id);
  });
  return NO_CONTENT;
}

async function listEntities(store: IdentityStore, byId: boolean): Promise<LogicalResponse> {
  const entities = await store.allEntities();
  if (entities.length === 0) throw notFound();
  const keyInfo: Record<string, unknown> = {};
  for (const entity of entities) {
    const info: Record<string, unknown> = { name: entity.name };
    if (entity.aliases.length > 0) {
      info.aliases = entity.aliases.map((a) => {
        const mount = store.mount(a.mount_accessor);
        return { id: a.id, mount_accessor: a.mount_accessor, name: a.name, ...(mount ? { mount_path: mount.path, mount_type: mount.type } : {}) };
      });
    }
    keyInfo[byId ? entity.id : entity.name] = info;
  }
  return { data: { keys: Object.keys(keyInfo).sort(), key_info: keyInfo } };
}

// --- aliases ----------------------------------------------------------------

/** Vault's handleAliasCreateUpdate: by id an update; otherwise (mount_accessor, name) names an alias to update or create. */
async function updateAlias(store: IdentityStore, fields: FieldData): Promise<LogicalResponse> {
  let name = fields.get<string>('name');
  let accessor = fields.get<string>('mount_accessor');
  const id = fields.get<string>('id');
  const customGiven = fields.has('custom_metadata');
  let custom = customGiven ? fields.get<Record<string, string>>('custom_metadata') : {};
  const canonicalId = fields.get<string>('canonical_id') || fields.get<string>('entity_id');
  if (Object.keys(custom).length > 0) checkCustomMetadata(custom);

  return store.change(async () => {
    if (id !== '') {
      const found = await store.alias(id);
      if (!found) throw badRequest('invalid alias ID provided');
      if (!customGiven) custom = found.alias.custom_metadata;
      if (accessor === '' && name === '') {
        // Nothing but the entity or the custom metadata can change: nothing given is nothing to do.
        if (canonicalId === '' && !customGiven) return NO_CONTENT;
        name = found.alias.name;
        accessor = found.alias.mount_accessor;
      } else if (accessor === '') {
        accessor = found.alias.mount_accessor;
      } else if (name === '') {
        name = found.alias.name;
      }
      return aliasUpdate(store, found, canonicalId, name, accessor, custom);
    }
    if (accessor === '' || name === '') throw badRequest("'id' or 'mount_accessor' and 'name' must be provided");
    if (!store.mount(accessor)) throw badRequest('invalid mount accessor');
    const existing = await store.aliasByName(accessor, name);
    if (existing) return aliasUpdate(store, existing, canonicalId, name, accessor, custom);
    return aliasCreate(store, canonicalId, name, accessor, custom);
  });
}

async function aliasCreate(store: IdentityStore, canonicalId: string, name: string, accessor: string, custom: Record<string, string>): Promise<LogicalResponse> {
  let entity: Entity;
  if (canonicalId !== '') {
    const found = await store.entity(canonicalId);
    if (!found) throw badRequest('invalid canonical ID');
    entity = cloneEntity(found);
  } else {
    entity = store.newEntity();
  }
  if (entity.aliases.some((a) => a.mount_accessor === accessor)) throw badRequest('Alias already exists for requested entity and mount accessor');
  const alias = store.newAlias(entity.id, accessor, name, null, custom);
  entity.aliases.push(alias);
  await store.saveEntity(entity);
  return { data: { id: alias.id, canonical_id: entity.id } };
}

async function aliasUpdate(
  store: IdentityStore,
  found: { alias: Alias; entity: Entity },
  canonicalId: string,
  name: string,
  accessor: string,
  custom: Record<string, string>,
): Promise<LogicalResponse> {
  const { alias } = found;
  const sameCustom = sameMap(custom, alias.custom_metadata);
  if (name === alias.name && accessor === alias.mount_accessor && (canonicalId === '' || canonicalId === alias.canonical_id) && sameCustom) {
    return NO_CONTENT;
  }
  const current = cloneEntity(found.entity);
  const moving = canonicalId !== '' && canonicalId !== alias.canonical_id;
  if (accessor !== alias.mount_accessor && !moving && current.aliases.some((a) => a.mount_accessor === accessor)) {
    throw badRequest("Alias cannot be updated as the entity already has an alias for the given 'mount_accessor' ");
  }
  const updated: Alias = { ...alias, last_update_time: store.stamp() };
  if (name !== alias.name || accessor !== alias.mount_accessor || !sameCustom) {
    if (!store.mount(accessor)) throw badRequest('invalid mount accessor');
    const clash = await store.aliasByName(accessor, name);
    if (clash && clash.alias.id !== alias.id) throw badRequest('alias with combination of mount accessor and name already exists');
    updated.name = name;
    updated.mount_accessor = accessor;
    updated.custom_metadata = { ...custom };
  }
  if (moving) {
    const target = await store.entity(canonicalId);
    if (!target) throw badRequest("given 'canonical_id' is not associated with an entity");
    const destination = cloneEntity(target);
    if (destination.aliases.some((a) => a.mount_accessor === accessor)) {
      throw badRequest('Alias cannot be updated as the given entity already has an alias for this mount ');
    }
    updated.canonical_id = destination.id;
    destination.aliases.push(updated);
    current.aliases = current.aliases.filter((a) => a.id !== alias.id);
    await store.saveEntity(current);
    await store.saveEntity(destination);
    return { data: { id: updated.id, canonical_id: destination.id } };
  }
  current.aliases = current.aliases.map((a) => (a.id === alias.id ? updated : a));
  await store.saveEntity(current);
  return { data: { id: updated.id, canonical_id: current.id } };
}

async function aliasResponse(store: IdentityStore, found: { alias: Alias } | undefined): Promise<LogicalResponse> {
  if (!found) throw notFound();
  return { data: aliasData(store, found.alias, true) };
}

async function deleteAlias(store: IdentityStore, id: string): Promise<LogicalResponse> {
  await store.change(async () => {
    const found = await store.alias(id);
    if (!found) return;
    const entity = cloneEntity(found.entity);
    entity.aliases = entity.aliases.filter((a) => a.id !== id);
    await store.saveEntity(entity);
  });
  return NO_CONTENT;
}

async function listAliases(store: IdentityStore): Promise<LogicalResponse> {
  const keyInfo: Record<string, unknown> = {};
  for (const entity of await store.allEntities()) {
    for (const alias of entity.aliases) {
      const mount = store.mount(alias.mount_accessor);
      keyInfo[alias.id] = {
        canonical_id: alias.canonical_id, custom_metadata: alias.custom_metadata, local: false, metadata: alias.metadata,
        mount_accessor: alias.mount_accessor, name: alias.name, ...(mount ? { mount_path: mount.path, mount_type: mount.type } : {}),
      };
    }
  }
  const keys = Object.keys(keyInfo).sort();
  if (keys.length === 0) throw notFound();
  return { data: { keys, key_info: keyInfo } };
}

// --- groups -----------------------------------------------------------------

/**
 * Vault's pathGroupRegister / pathGroupIDUpdate / pathGroupNameUpdate and
 * handleGroupUpdateCommon. Every check (names, member entities, member
 * groups and cycles) runs before anything is written.
 */
async function updateGroup(store: IdentityStore, fields: FieldData, target: 'any' | 'id' | 'name'): Promise<LogicalResponse> {
  return store.change(async () => {
    let existing: Group | undefined;
    const id = fields.get<string>('id');
    const name = fields.get<string>('name');
    if (target === 'id' || (target === 'any' && fields.has('id'))) {
      if (id === '') throw badRequest('empty group ID');
      existing = await store.group(id);
      if (!existing) throw badRequest('invalid group ID');
    } else if (target === 'name' || (target === 'any' && fields.has('name'))) {
      if (name === '') throw badRequest('empty group name');
      existing = await store.groupNamed(name);
    }
    const group = existing ? cloneGroup(existing) : store.newGroup(name || undefined);

    if (fields.has('policies')) group.policies = uniquePolicies(fields.get<string[]>('policies'));
    if (group.policies.includes('root')) throw badRequest('policies cannot contain root');
    if (fields.has('type')) {
      const type = fields.get<string>('type');
      if (existing && type !== group.type) throw badRequest('group type cannot be changed');
      if (type === 'external') throw badRequest('external groups are not supported');
      if (type !== 'internal') throw badRequest('invalid group type');
    }
    if (name !== '') {
      const named = await store.groupNamed(name);
      if (named && named.id !== group.id) throw badRequest('group name is already in use');
      group.name = name;
    }
    if (fields.has('metadata')) group.metadata = fields.get<Record<string, string>>('metadata');
    checkMetadata(group.metadata, 'group');
    if (fields.has('member_entity_ids')) {
      const ids = [...new Set(fields.get<string[]>('member_entity_ids'))];
      for (const entityId of ids) if (!(await store.entity(entityId))) throw badRequest('invalid entity ID');
      group.member_entity_ids = ids;
    }

    // Member groups are stored as parent_group_ids on the members: decide every change first.
    const memberChanges: Group[] = [];
    if (fields.has('member_group_ids')) {
      const wanted = [...new Set(fields.get<string[]>('member_group_ids'))];
      for (const memberId of wanted) {
        const member = await store.group(memberId);
        if (!member) throw badRequest('invalid member group ID');
        if (member.parent_group_ids.includes(group.id)) continue;
        if (memberId === group.id) throw badRequest('member group ID is same as the ID of the group');
        if (existing && (await isDescendant(store, group.id, memberId))) {
          throw badRequest('cyclic relationship detected for member group ID');
        }
        const updated = cloneGroup(member);
        updated.parent_group_ids.push(group.id);
        memberChanges.push(updated);
      }
      for (const currentId of existing ? await store.memberGroupIds(group.id) : []) {
        if (wanted.includes(currentId)) continue;
        const updated = cloneGroup((await store.group(currentId))!);
        updated.parent_group_ids = updated.parent_group_ids.filter((p) => p !== group.id);
        memberChanges.push(updated);
      }
    }

    const at = store.stamp();
    if (existing) {
      group.last_update_time = at;
      group.modify_index++;
    }
    for (const member of memberChanges) {
      member.last_update_time = at;
      member.modify_index++;
      await store.saveGroup(member);
    }
    await store.saveGroup(group);
    if (existing) return NO_CONTENT;
    return { data: { id: group.id, name: group.name } };
  });
}

/** Whether `groupId` is `ancestorId`'s member, or a member of a member... (adding ancestor as its member would close a cycle). */
async function isDescendant(store: IdentityStore, groupId: string, ancestorId: string): Promise<boolean> {
  const seen = new Set<string>();
  const stack = [ancestorId];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const child of await store.memberGroupIds(id)) {
      if (child === groupId) return true;
      stack.push(child);
    }
  }
  return false;
}

async function groupResponse(store: IdentityStore, group: Group | undefined): Promise<LogicalResponse> {
  if (!group) throw notFound();
  const members = await store.memberGroupIds(group.id);
  return {
    data: {
      alias: {},
      creation_time: group.creation_time,
      id: group.id,
      last_update_time: group.last_update_time,
      member_entity_ids: group.member_entity_ids,
      member_group_ids: members.length > 0 ? members : null,
      metadata: group.metadata,
      modify_index: group.modify_index,
      name: group.name,
      namespace_id: ROOT_NAMESPACE,
      parent_group_ids: group.parent_group_ids,
      policies: group.policies,
      type: group.type,
    },
  };
}

/** Deletes a group; its member groups stop naming it as a parent. A missing group is no error. */
async function deleteGroup(store: IdentityStore, target: Group | undefined): Promise<LogicalResponse> {
  if (!target) return NO_CONTENT;
  await store.change(async () => {
    const group = await store.group(target.id);
    if (!group) return;
    for (const memberId of await store.memberGroupIds(group.id)) {
      const member = cloneGroup((await store.group(memberId))!);
      member.parent_group_ids = member.parent_group_ids.filter((p) => p !== group.id);
      member.modify_index++;
      await store.saveGroup(member);
    }
    await store.deleteGroup(group.id);
  });
  return NO_CONTENT;
}

async function listGroups(store: IdentityStore, byId: boolean): Promise<LogicalResponse> {
  const groups = await store.allGroups();
  if (groups.length === 0) throw notFound();
  const keyInfo: Record<string, unknown> = {};
  for (const group of groups) {
    keyInfo[byId ? group.id : group.name] = {
      name: group.name, num_member_entities: group.member_entity_ids.length, num_parent_groups: group.parent_group_ids.length,
    };
  }
  return { data: { keys: Object.keys(keyInfo).sort(), key_info: keyInfo } };
}

// --- lookups ----------------------------------------------------------------

/** Vault's rule for lookup/*: exactly one criterion, alias_name and alias_mount_accessor counting as one. */
function lookupCriterion(fields: FieldData): void {
  const given = ['id', 'name', 'alias_id', 'alias_name', 'alias_mount_accessor'].filter((f) => fields.has(f));
  const pair = fields.has('alias_name') && fields.has('alias_mount_accessor');
  if (given.length === 0) throw badRequest('query parameter not supplied');
  if (given.length > 1 && !(given.length === 2 && pair && fields.get('alias_name') !== '' && fields.get('alias_mount_accessor') !== '')) {
    throw badRequest('query parameter conflict; please supply distinct set of query parameters');
  }
  if (given.length === 1 && (fields.has('alias_name') || fields.has('alias_mount_accessor'))) {
    throw badRequest("both 'alias_name' and 'alias_mount_accessor' needs to be set");
  }
}

async function lookupEntity(store: IdentityStore, fields: FieldData): Promise<LogicalResponse> {
  lookupCriterion(fields);
  let entity: Entity | undefined;
  if (fields.get('id') !== '') entity = await store.entity(fields.get('id'));
  else if (fields.get('name') !== '') entity = await store.entityNamed(fields.get('name'));
  else if (fields.get('alias_id') !== '') entity = (await store.alias(fields.get('alias_id')))?.entity;
  else if (fields.get('alias_name') !== '') entity = (await store.aliasByName(fields.get('alias_mount_accessor'), fields.get('alias_name')))?.entity;
  return entity ? entityResponse(store, entity) : NO_CONTENT;
}

async function lookupGroup(store: IdentityStore, fields: FieldData): Promise<LogicalResponse> {
  lookupCriterion(fields);
  let group: Group | undefined;
  if (fields.get('id') !== '') group = await store.group(fields.get('id'));
  else if (fields.get('name') !== '') group = await store.groupNamed(fields.get('name'));
  // Internal groups have no aliases: alias criteria find nothing.
  return group ? groupResponse(store, group) : NO_CONTENT;
}

function sameMap(a: Record<string, string>, b: Record<string, string>): boolean {
  const ak = Object.keys(a);
  return ak.length === Object.keys(b).length && ak.every((k) => Object.hasOwn(b, k) && b[k] === a[k]);
}
