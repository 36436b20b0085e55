import { randomUUID } from 'node:crypto';
import type { SysRoute } from '../sys-routes.ts';
import { sysData } from '../sys-routes.ts';
import { badRequest, notFound, permissionDenied } from '../../core/errors.ts';
import { SYSTEM_DEFAULT_LEASE_TTL, type MountEntry } from '../../core/mounts.ts';
import { durationSeconds, isPlainObject, optionalBool, optionalStringMap } from '../../core/request-fields.ts';

/** A mount as `GET sys/mounts` lists it. */
function describeMount(e: MountEntry): Record<string, unknown> {
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

function mountConfig(value: unknown): Partial<MountEntry['config']> {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) throw badRequest('config must be an object');
  const out: Partial<MountEntry['config']> = {};
  if (value.default_lease_ttl !== undefined) out.default_lease_ttl = durationSeconds(value.default_lease_ttl, 'default_lease_ttl');
  if (value.max_lease_ttl !== undefined) out.max_lease_ttl = durationSeconds(value.max_lease_ttl, 'max_lease_ttl');
  if (value.force_no_cache !== undefined) out.force_no_cache = optionalBool(value.force_no_cache, 'force_no_cache') ?? false;
  return out;
}

/** Mount management: sys/mounts, sys/mounts/<path>[/tune], sys/remount, sys/auth, sys/internal/ui/mounts. */
export const mountRoutes: SysRoute[] = [
  {
    pattern: 'sys/mounts',
    methods: {
      GET: async ({ state }) => {
        const out: Record<string, unknown> = {};
        for (const e of state.mounts.list('secret')) out[e.path] = describeMount(e);
        return sysData(out);
      },
    },
  },
  {
    pattern: 'sys/auth',
    methods: {
      GET: async ({ state }) => {
        const out: Record<string, unknown> = {};
        for (const e of state.mounts.list('auth')) out[e.path.slice('auth/'.length)] = describeMount(e);
        return sysData(out);
      },
    },
  },
  {
    pattern: 'sys/mounts/*',
    methods: {
      GET: async ({ state, rest }) => {
        const tune = rest.endsWith('/tune');
        const m = state.mounts.get(tune ? rest.slice(0, -'/tune'.length) : rest);
        if (!m || m.entry.table !== 'secret') throw badRequest(`no mount at "${rest}"`);
        if (!tune) return sysData(describeMount(m.entry));
        return sysData({
          description: m.entry.description,
          default_lease_ttl: m.entry.config.default_lease_ttl || SYSTEM_DEFAULT_LEASE_TTL,
          max_lease_ttl: m.entry.config.max_lease_ttl || SYSTEM_DEFAULT_LEASE_TTL,
          force_no_cache: m.entry.config.force_no_cache,
          options: m.entry.options,
          seal_wrap: m.entry.seal_wrap,
          external_entropy_access: m.entry.external_entropy_access,
        });
      },
      POST: async ({ state, rest, data, core }) => {
        if (rest.endsWith('/tune')) {
          if (data.seal_wrap !== undefined) throw badRequest('seal_wrap cannot be changed after a mount is created');
          if (data.external_entropy_access !== undefined) {
            throw badRequest('external_entropy_access cannot be changed after a mount is created');
          }
          const config = mountConfig({ default_lease_ttl: data.default_lease_ttl, max_lease_ttl: data.max_lease_ttl });
          if (data.description !== undefined && typeof data.description !== 'string') throw badRequest('description must be a string');
          await state.mounts.tune(rest.slice(0, -'/tune'.length), {
            description: data.description as string | undefined,
            config,
            options: optionalStringMap(data.options, 'options', { coerceScalars: true }),
          });
          return {};
        }
        if (typeof data.type !== 'string' || data.type === '') throw badRequest('type must be specified');
        if (data.description !== undefined && typeof data.description !== 'string') throw badRequest('description must be a string');
        let type = data.type;
        let options = optionalStringMap(data.options, 'options', { coerceScalars: true }) ?? null;
        if (type === 'kv-v2' || type === 'kv-v1') {
          options = { ...(options ?? {}), version: type === 'kv-v2' ? '2' : '1' };
          type = 'kv';
        }
        if (type === 'kv') options = { version: '1', ...(options ?? {}) };
        const sealWrap = optionalBool(data.seal_wrap, 'seal_wrap') ?? false;
        const warnings: string[] = [];
        if (sealWrap && !core.hsm) warnings.push('seal_wrap adds no second layer without an HSM seal');
        await state.mounts.mount({
          path: rest,
          type,
          description: (data.description as string | undefined) ?? '',
          config: { default_lease_ttl: 0, max_lease_ttl: 0, force_no_cache: false, ...mountConfig(data.config) },
          options,
          local: optionalBool(data.local, 'local') ?? false,
          seal_wrap: sealWrap,
          external_entropy_access: optionalBool(data.external_entropy_access, 'external_entropy_access') ?? false,
          table: 'secret',
        });
        core.logger.info(`mounts: enabled ${type} at ${rest}${sealWrap ? ' (seal wrap)' : ''}`);
        return warnings.length ? { body: { warnings } } : {};
      },
      DELETE: async ({ state, rest, core }) => {
        await state.mounts.unmount(rest);
        core.logger.info(`mounts: disabled ${rest}`);
        return {};
      },
    },
  },
  {
    pattern: 'sys/remount',
    sudo: true,
    methods: {
      POST: async ({ state, data }) => {
        if (typeof data.from !== 'string' || typeof data.to !== 'string' || !data.from || !data.to) {
          throw badRequest('"from" and "to" must be given as mount paths');
        }
        await state.mounts.remount(data.from, data.to);
        const id = randomUUID();
        if (remountResults.size >= 100) remountResults.delete(remountResults.keys().next().value!);
        const asMountPath = (p: string) => p.replace(/\/*$/, '/');
        remountResults.set(id, { source_mount: asMountPath(data.from), target_mount: asMountPath(data.to), status: 'success' });
        return sysData({ migration_id: id });
      },
    },
  },
  {
    pattern: 'sys/remount/status/*',
    methods: {
      GET: async ({ rest }) => {
        const info = remountResults.get(rest);
        if (!info) throw notFound();
        return sysData({ migration_id: rest, migration_info: info });
      },
    },
  },
  {
    // What `vault kv` asks to learn a mount's path and KV version.
    pattern: 'sys/internal/ui/mounts/*',
    ownAcl: true,
    methods: {
      GET: async ({ state, rest, caller }) => {
        const m = state.mounts.route(rest);
        // Only callers with some access below a mount may learn it exists (Vault filters the same way).
        if (!m || !caller.acl.hasAccessUnder(m.entry.path)) throw permissionDenied();
        return sysData({ ...describeMount(m.entry), path: m.entry.path });
      },
    },
  },
];

/** Remounts finish synchronously; their result is kept for `sys/remount/status`. */
const remountResults = new Map<string, Record<string, string>>();
