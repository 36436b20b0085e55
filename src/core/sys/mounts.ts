import { randomUUID } from 'node:crypto';
import { badRequest, notFound, permissionDenied } from '../errors.ts';
import { SYSTEM_DEFAULT_LEASE_TTL, type MountEntry } from '../mounts.ts';
import { durationSeconds, optionalBool } from '../request-fields.ts';
import { matchAll, type FieldSchemas } from '../../framework/index.ts';
import { authed, noContent, sysData, type SysPath } from './request.ts';

/** A mount as `GET sys/mounts` lists it. */
export function describeMount(e: MountEntry): Record<string, unknown> {
  return {
    accessor: e.accessor,
    config: { ...e.config },
    description: e.description,
    external_entropy_access: e.external_entropy_access,
    local: e.local,
    options: e.options,
    plugin_version: '',
    running_plugin_version: `v1.0.0+builtin.tresor`,
    running_sha256: '',
    seal_wrap: e.seal_wrap,
    type: e.type,
    uuid: e.uuid,
  };
}

/** The `config` object of a new mount (its keys are Vault's mount config fields). */
function mountConfig(value: Record<string, unknown>): Partial<MountEntry['config']> {
  const out: Partial<MountEntry['config']> = {};
  if (value.default_lease_ttl !== undefined) out.default_lease_ttl = durationSeconds(value.default_lease_ttl, 'default_lease_ttl');
  if (value.max_lease_ttl !== undefined) out.max_lease_ttl = durationSeconds(value.max_lease_ttl, 'max_lease_ttl');
  if (value.force_no_cache !== undefined) out.force_no_cache = optionalBool(value.force_no_cache, 'force_no_cache') ?? false;
  if (value.allowed_managed_keys !== undefined && value.allowed_managed_keys !== null) out.allowed_managed_keys = managedKeyList(value.allowed_managed_keys);
  return out;
}

/** `allowed_managed_keys`: a list or a comma-separated string of managed key names or ids. */
function managedKeyList(value: unknown): string[] {
  const items = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : undefined;
  if (!items || items.some((i) => typeof i !== 'string')) throw badRequest('"allowed_managed_keys" must be a list of managed key names');
  return (items as string[]).map((i) => i.trim()).filter(Boolean);
}

/** Mount options are strings; numbers and booleans sent by clients are taken as their text. */
function optionsOf(value: Record<string, unknown> | undefined): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string' && typeof item !== 'number' && typeof item !== 'boolean') throw badRequest(`options.${key} must be a string`);
    out[key] = String(item);
  }
  return out;
}

const MOUNT_PATH = { path: { type: 'string', description: 'The mount point, e.g. "secret/".' } } as const satisfies FieldSchemas;

const listMounts = (table: 'secret' | 'auth', strip: string): SysPath['operations']['read'] => async (req) => {
  const out: Record<string, unknown> = {};
  for (const e of authed(req).state.mounts.list(table)) out[e.path.slice(strip.length)] = describeMount(e);
  return sysData(out);
};

/** Mount management: sys/mounts, sys/mounts/<path>[/tune], sys/remount, sys/internal/ui/mounts (sys/auth is in auth.ts). */
export const mountPaths: SysPath[] = [
  {
    pattern: 'mounts',
    synopsis: 'List the mounted secrets engines.',
    operations: { read: listMounts('secret', '') },
  },
  {
    pattern: `mounts/(?<path>.+?)/tune`,
    synopsis: "Read or change a mount's lease TTLs, description and options.",
    fields: {
      ...MOUNT_PATH,
      default_lease_ttl: { type: 'string', description: 'Default lease TTL for the mount ("" or "system" for the system default).' },
      max_lease_ttl: { type: 'string', description: 'Maximum lease TTL for the mount.' },
      description: { type: 'string', description: 'Human-friendly description of the mount.' },
      options: { type: 'map', description: 'Engine options (e.g. "version" for kv).' },
      seal_wrap: { type: 'bool', description: 'Cannot be changed after the mount is created.' },
      external_entropy_access: { type: 'bool', description: 'Cannot be changed after the mount is created.' },
      allowed_managed_keys: { type: 'comma-string-slice', description: 'Names or ids of the managed keys the mount may use.' },
    },
    operations: {
      read: async (req, f) => {
        const path = f.get<string>('path');
        const m = authed(req).state.mounts.get(path);
        if (!m || m.entry.table !== 'secret') throw badRequest(`no mount at "${path}"`);
        return sysData({
          description: m.entry.description,
          default_lease_ttl: m.entry.config.default_lease_ttl || SYSTEM_DEFAULT_LEASE_TTL,
          max_lease_ttl: m.entry.config.max_lease_ttl || SYSTEM_DEFAULT_LEASE_TTL,
          force_no_cache: m.entry.config.force_no_cache,
          options: m.entry.options,
          seal_wrap: m.entry.seal_wrap,
          external_entropy_access: m.entry.external_entropy_access,
          ...(m.entry.config.allowed_managed_keys ? { allowed_managed_keys: m.entry.config.allowed_managed_keys } : {}),
        });
      },
      update: async (req, f) => {
        if (f.has('seal_wrap')) throw badRequest('seal_wrap cannot be changed after a mount is created');
        if (f.has('external_entropy_access')) throw badRequest('external_entropy_access cannot be changed after a mount is created');
        await authed(req).state.mounts.tune(f.get('path'), {
          description: f.getOk<string>('description'),
          config: mountConfig({ default_lease_ttl: f.getOk('default_lease_ttl'), max_lease_ttl: f.getOk('max_lease_ttl'), allowed_managed_keys: f.getOk('allowed_managed_keys') }),
          options: optionsOf(f.getOk('options')),
        });
        return noContent();
      },
    },
  },
  {
    pattern: `mounts/(?<path>.+)`,
    synopsis: 'Mount, read or unmount a secrets engine.',
    fields: {
      ...MOUNT_PATH,
      type: { type: 'string', description: 'The engine type: kv (kv-v1, kv-v2, generic) or transit.' },
      description: { type: 'string', description: 'Human-friendly description of the mount.' },
      config: { type: 'map', description: 'default_lease_ttl, max_lease_ttl, force_no_cache, allowed_managed_keys.' },
      options: { type: 'map', description: 'Engine options (e.g. "version" for kv).' },
      local: { type: 'bool', description: 'The mount is not replicated.' },
      seal_wrap: { type: 'bool', description: "Wrap the engine's stored values with the HSM as well as the barrier." },
      external_entropy_access: { type: 'bool', description: "The engine draws its random numbers from the HSM's generator." },
    },
    operations: {
      read: async (req, f) => {
        const path = f.get<string>('path');
        const m = authed(req).state.mounts.get(path);
        if (!m || m.entry.table !== 'secret') throw badRequest(`no mount at "${path}"`);
        return sysData(describeMount(m.entry));
      },
      update: async (req, f) => {
        const { core } = req;
        const path = f.get<string>('path');
        let type = f.get<string>('type');
        if (type === '') throw badRequest('type must be specified');
        let options = optionsOf(f.getOk('options')) ?? null;
        if (type === 'kv-v2' || type === 'kv-v1') {
          options = { ...(options ?? {}), version: type === 'kv-v2' ? '2' : '1' };
          type = 'kv';
        }
        if (type === 'kv') options = { version: '1', ...(options ?? {}) };
        const sealWrap = f.get<boolean>('seal_wrap');
        const warnings: string[] = [];
        if (sealWrap && !core.hsm) warnings.push('seal_wrap adds no second layer without an HSM seal');
        await authed(req).state.mounts.mount({
          path,
          type,
          description: f.get('description'),
          config: { default_lease_ttl: 0, max_lease_ttl: 0, force_no_cache: false, ...mountConfig(f.get('config')) },
          options,
          local: f.get('local'),
          seal_wrap: sealWrap,
          external_entropy_access: f.get('external_entropy_access'),
          table: 'secret',
        });
        core.logger.info(`mounts: enabled ${type} at ${path}${sealWrap ? ' (seal wrap)' : ''}`);
        return warnings.length ? { warnings } : noContent();
      },
      delete: async (req, f) => {
        const path = f.get<string>('path');
        await authed(req).state.mounts.unmount(path);
        req.core.logger.info(`mounts: disabled ${path}`);
        return noContent();
      },
    },
  },
  {
    pattern: 'remount',
    sudo: true,
    synopsis: 'Move a mount to a new path, with its data.',
    fields: {
      from: { type: 'string', description: 'The current mount path.', required: '"from" and "to" must be given as mount paths' },
      to: { type: 'string', description: 'The new mount path.', required: '"from" and "to" must be given as mount paths' },
    },
    operations: {
      update: async (req, f) => {
        const from = f.get<string>('from');
        const to = f.get<string>('to');
        if (!from || !to) throw badRequest('"from" and "to" must be given as mount paths');
        await authed(req).state.mounts.remount(from, to);
        const id = randomUUID();
        if (remountResults.size >= 100) remountResults.delete(remountResults.keys().next().value!);
        const asMountPath = (p: string) => p.replace(/\/*$/, '/');
        remountResults.set(id, { source_mount: asMountPath(from), target_mount: asMountPath(to), status: 'success' });
        return sysData({ migration_id: id });
      },
    },
  },
  {
    pattern: 'remount/status/(?<migration_id>.+)',
    synopsis: 'The outcome of a remount.',
    fields: { migration_id: { type: 'string', description: 'The id a remount answered with.' } },
    operations: {
      read: async (_req, f) => {
        const id = f.get<string>('migration_id');
        const info = remountResults.get(id);
        if (!info) throw notFound();
        return sysData({ migration_id: id, migration_info: info });
      },
    },
  },
  {
    // What `vault kv` asks to learn a mount's path and KV version.
    pattern: `internal/ui/mounts/${matchAll('path')}`,
    authorizesItself: true,
    synopsis: 'The mount a path falls under, for callers with some access below it.',
    fields: MOUNT_PATH,
    operations: {
      read: async (req, f) => {
        const { state, caller } = authed(req);
        const m = state.mounts.route(f.get('path'));
        // Only callers with some access below a mount may learn it exists (Vault filters the same way).
        if (!m || !caller.acl.hasAccessUnder(m.entry.path)) throw permissionDenied();
        return sysData({ ...describeMount(m.entry), path: m.entry.path });
      },
    },
  },
];

/** Remounts finish synchronously; their result is kept for `sys/remount/status`. */
const remountResults = new Map<string, Record<string, string>>();

