import { legacyBackend } from '../../framework/index.ts';
import { randomUUID } from 'node:crypto';
import type { LogicalBackend, LogicalRequest, LogicalResponse } from '../types.ts';
import { getJson, putJson } from '../storage-json.ts';
import { badRequest, notFound } from '../../core/errors.ts';

interface Entity {
  id: string;
  name: string;
  policies: string[];
  metadata: Record<string, string>;
  disabled: boolean;
  creation_time: string;
  last_update_time: string;
}

/**
 * A minimal identity store: named entities with policies and metadata
 * (`entity`, `entity/id/<id>`, `entity/name/<name>`). Aliases, groups and
 * the OIDC provider of Vault's identity engine are not implemented.
 */
export function createIdentityBackend(): LogicalBackend {
  return legacyBackend('identity', async (req: LogicalRequest): Promise<LogicalResponse | null> => {
      const { path, operation: op } = req;
      if (path === 'entity' && (op === 'create' || op === 'update')) return writeEntity(req, undefined);
      if ((path === 'entity/id' || path === 'entity/id/' || path === 'entity/name' || path === 'entity/name/') && op === 'list') {
        const ids = await req.storage.list('entity/');
        const byName = path.startsWith('entity/name');
        const keys: string[] = [];
        for (const id of ids) {
          const e = await getJson<Entity>(req.storage, `entity/${id}`);
          if (e) keys.push(byName ? e.name : e.id);
        }
        if (!keys.length) throw notFound();
        return { data: { keys: keys.sort() } };
      }
      const m = /^entity\/(id|name)\/([^/]+)$/.exec(path);
      if (!m) return null;
      const id = m[1] === 'id' ? m[2] : await idForName(req, m[2]);
      const existing = id ? await getJson<Entity>(req.storage, `entity/${id}`) : undefined;
      if (op === 'read') {
        if (!existing) throw notFound();
        return { data: { ...existing, aliases: [], group_ids: [], direct_group_ids: [], inherited_group_ids: [] } };
      }
      if (op === 'create' || op === 'update') {
        if (m[1] === 'id' && !existing) throw notFound();
        return writeEntity(req, existing ?? (m[1] === 'name' ? ({ name: m[2] } as Entity) : undefined));
      }
      if (op === 'delete') {
        if (existing) {
          await req.storage.delete(`entity/${existing.id}`);
          await req.storage.delete(`name/${existing.name}`);
        }
        return { status: 204 };
      }
      return null;
    });
}

async function idForName(req: LogicalRequest, name: string): Promise<string | undefined> {
  return (await req.storage.get(`name/${name}`))?.toString('utf8');
}

async function writeEntity(req: LogicalRequest, existing: Partial<Entity> | undefined): Promise<LogicalResponse> {
  const d = req.data;
  const name = (d.name as string | undefined) ?? existing?.name ?? `entity_${randomUUID().slice(0, 8)}`;
  if (typeof name !== 'string' || !/^[\w.@-]+$/.test(name)) throw badRequest('name must be letters, digits and ._@-');
  const policies = d.policies ?? existing?.policies ?? [];
  const list = typeof policies === 'string' ? policies.split(',').map((p) => p.trim()).filter(Boolean) : policies;
  if (!Array.isArray(list) || list.some((p) => typeof p !== 'string')) throw badRequest('policies must be a list of strings');
  const metadata = d.metadata ?? existing?.metadata ?? {};
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) throw badRequest('metadata must be an object');
  const otherId = await idForName(req, name);
  if (otherId && otherId !== existing?.id) throw badRequest(`an entity named "${name}" already exists`);
  const now = new Date().toISOString();
  const entity: Entity = {
    id: existing?.id ?? randomUUID(),
    name,
    policies: list as string[],
    metadata: metadata as Record<string, string>,
    disabled: Boolean(d.disabled ?? existing?.disabled ?? false),
    creation_time: existing?.creation_time ?? now,
    last_update_time: now,
  };
  if (existing?.name && existing.name !== name) await req.storage.delete(`name/${existing.name}`);
  await putJson(req.storage, `entity/${entity.id}`, entity);
  await req.storage.put(`name/${name}`, Buffer.from(entity.id));
  return { data: { id: entity.id, name: entity.name } };
}
