import { randomUUID } from 'node:crypto';
import { badRequest, notFound } from '../../core/errors.ts';
import { defineBackend, genericName, type FieldData, type FieldSchemas, type PathDeclaration } from '../../framework/index.ts';
import { getJson, putJson } from '../storage-json.ts';
import type { LogicalBackend, LogicalRequest, LogicalResponse, LogicalStorage } from '../types.ts';

interface Entity {
  id: string;
  name: string;
  policies: string[];
  metadata: Record<string, string>;
  disabled: boolean;
  creation_time: string;
  last_update_time: string;
}

/** An entity's name: letters, digits and ._@- (it is also a storage key). */
const ENTITY_NAME = /^[\w.@-]+$/;

/** The settable fields of an entity, as Vault's identity store declares them (minus `id`, see below). */
const ENTITY_FIELDS: FieldSchemas = {
  name: { type: 'string', description: 'Name of the entity; generated when a new entity is given none.' },
  metadata: {
    type: 'kv-pairs',
    description: 'String pairs attached to the entity: an object, or "key=value" items (the CLI may repeat metadata=key=value).',
  },
  policies: { type: 'comma-string-slice', description: 'Policies granted to tokens tied to the entity.' },
  disabled: { type: 'bool', description: 'Whether tokens tied to the entity are refused (they are not revoked).' },
};

/**
 * A minimal identity store: named entities with policies and metadata
 * (`entity`, `entity/id/<id>`, `entity/name/<name>`). Aliases, groups and
 * the OIDC provider of Vault's identity engine are not implemented, nor is
 * Vault's `id` body field of `entity` (an update goes to entity/id/<id>).
 */
export function createIdentityBackend(): LogicalBackend {
  return defineBackend('identity', identityPaths());
}

function identityPaths(): PathDeclaration<LogicalRequest>[] {
  return [
    {
      pattern: 'entity',
      fields: ENTITY_FIELDS,
      synopsis: 'Create an entity.',
      description: 'Creates a new entity and answers its id and name; a name another entity holds is refused.',
      operations: {
        update: { summary: 'Create an entity.', handler: (req, fields) => writeEntity(req.storage, fields, undefined) },
      },
    },
    {
      pattern: String.raw`entity/id/${genericName('id')}`,
      fields: { id: { type: 'string', description: 'ID of the entity.' }, ...ENTITY_FIELDS },
      synopsis: 'Read, update or delete an entity by its id.',
      operations: {
        read: { summary: 'Read an entity by id.', handler: async (req, fields) => entityResponse(await loadEntity(req.storage, fields.get('id'))) },
        update: {
          summary: 'Update an entity by id.',
          handler: async (req, fields) => {
            const existing = await loadEntity(req.storage, fields.get('id'));
            if (!existing) throw notFound();
            return writeEntity(req.storage, fields, existing);
          },
        },
        delete: { summary: 'Delete an entity by id.', handler: async (req, fields) => deleteEntity(req.storage, await loadEntity(req.storage, fields.get('id'))) },
      },
    },
    {
      pattern: 'entity/name/(?<name>[^/]+)',
      // The capture is the name: a write here never renames.
      fields: ENTITY_FIELDS,
      synopsis: 'Read, create or update, or delete an entity by its name.',
      description: 'A write creates the entity when no entity has the name yet.',
      operations: {
        read: { summary: 'Read an entity by name.', handler: async (req, fields) => entityResponse(await entityByName(req.storage, fields.get('name'))) },
        update: {
          summary: 'Create or update an entity by name.',
          handler: async (req, fields) => {
            const existing = await entityByName(req.storage, fields.get('name'));
            return writeEntity(req.storage, fields, existing ?? { name: fields.get<string>('name') });
          },
        },
        delete: { summary: 'Delete an entity by name.', handler: async (req, fields) => deleteEntity(req.storage, await entityByName(req.storage, fields.get('name'))) },
      },
    },
    {
      pattern: 'entity/id/?',
      synopsis: 'List the ids of all entities.',
      operations: { list: { summary: 'List entity ids.', handler: (req) => listEntities(req.storage, (e) => e.id) } },
    },
    {
      pattern: 'entity/name/?',
      synopsis: 'List the names of all entities.',
      operations: { list: { summary: 'List entity names.', handler: (req) => listEntities(req.storage, (e) => e.name) } },
    },
  ];
}

const loadEntity = (storage: LogicalStorage, id: string) => getJson<Entity>(storage, `entity/${id}`);

async function idForName(storage: LogicalStorage, name: string): Promise<string | undefined> {
  return (await storage.get(`name/${name}`))?.toString('utf8');
}

async function entityByName(storage: LogicalStorage, name: string): Promise<Entity | undefined> {
  const id = await idForName(storage, name);
  return id === undefined ? undefined : loadEntity(storage, id);
}

function entityResponse(entity: Entity | undefined): LogicalResponse {
  if (!entity) throw notFound();
  return { data: { ...entity, aliases: [], group_ids: [], direct_group_ids: [], inherited_group_ids: [] } };
}

async function listEntities(storage: LogicalStorage, key: (entity: Entity) => string): Promise<LogicalResponse> {
  const keys: string[] = [];
  for (const id of await storage.list('entity/')) {
    const entity = await loadEntity(storage, id);
    if (entity) keys.push(key(entity));
  }
  if (!keys.length) throw notFound();
  return { data: { keys: keys.sort() } };
}

async function deleteEntity(storage: LogicalStorage, entity: Entity | undefined): Promise<LogicalResponse> {
  if (entity) {
    await storage.delete(`entity/${entity.id}`);
    await storage.delete(`name/${entity.name}`);
  }
  return { status: 204 };
}

/** Creates or updates an entity: fields left out keep their value (or their default on a new entity). */
async function writeEntity(storage: LogicalStorage, fields: FieldData, existing: Partial<Entity> | undefined): Promise<LogicalResponse> {
  const name = fields.getOk<string>('name') ?? existing?.name ?? `entity_${randomUUID().slice(0, 8)}`;
  if (!ENTITY_NAME.test(name)) throw badRequest('name must be letters, digits and ._@-');
  const otherId = await idForName(storage, name);
  if (otherId && otherId !== existing?.id) throw badRequest(`an entity named "${name}" already exists`);
  const now = new Date().toISOString();
  const entity: Entity = {
    id: existing?.id ?? randomUUID(),
    name,
    policies: fields.getOk<string[]>('policies') ?? existing?.policies ?? [],
    metadata: fields.getOk<Record<string, string>>('metadata') ?? existing?.metadata ?? {},
    disabled: fields.getOk<boolean>('disabled') ?? existing?.disabled ?? false,
    creation_time: existing?.creation_time ?? now,
    last_update_time: now,
  };
  if (existing?.name && existing.name !== name) await storage.delete(`name/${existing.name}`);
  await putJson(storage, `entity/${entity.id}`, entity);
  await storage.put(`name/${name}`, Buffer.from(entity.id));
  return { data: { id: entity.id, name: entity.name } };
}
