/**
 * Auth method mounts: `GET sys/auth`, `sys/auth/<path>` (enable, read,
 * disable) and `sys/auth/<path>/tune`, with Vault's fields and texts
 * (logical_system.go). Everything below sys/auth/ needs sudo, as in Vault.
 * Disabling a method revokes every token it issued.
 */
import { badRequest, TresorError } from '../errors.ts';
import { checkMountableAuthType, SYSTEM_DEFAULT_LEASE_TTL, type MountEntry } from '../mounts.ts';
import { durationSeconds, optionalBool } from '../request-fields.ts';
import { BATCH_UNSUPPORTED } from '../../credential/token-params.ts';
import { checkLoginRateOptions } from '../auth/rate-limit.ts';
import type { FieldSchemas } from '../../framework/index.ts';
import { describeMount } from './mounts.ts';
import { authed, noContent, sysData, type SysPath, type SysRequest } from './request.ts';

/** An auth mount as `GET sys/auth` lists it: the mount, with token_type (and listing_visibility when set) in its config. */
function describeAuthMount(e: MountEntry): Record<string, unknown> {
  const config: Record<string, unknown> = {
    default_lease_ttl: e.config.default_lease_ttl,
    max_lease_ttl: e.config.max_lease_ttl,
    force_no_cache: e.config.force_no_cache,
    token_type: e.config.token_type ?? 'default-service',
  };
  if (e.config.listing_visibility) config.listing_visibility = e.config.listing_visibility;
  return { ...describeMount(e), config };
}

/** Vault's sanitizePath: no leading slash, one trailing slash. */
const sanitize = (path: string) => `${path.replace(/^\/+/, '').replace(/\/+$/, '')}/`;

/** A TTL given to enable or tune: '' keeps (undefined), "system" is 0, else a duration. */
function ttlSetting(value: unknown, what: 'default' | 'max'): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (value === 'system') return 0;
  try {
    return durationSeconds(value, what === 'default' ? 'default_lease_ttl' : 'max_lease_ttl');
  } catch {
    throw badRequest(`unable to parse ${what} TTL`);
  }
}

const LISTING_VISIBILITY = ['', 'hidden', 'unauth'];

function checkListingVisibility(value: string): string {
  if (!LISTING_VISIBILITY.includes(value)) throw badRequest('invalid listing_visibility');
  return value;
}

/** The token type an auth mount issues: service tokens only. */
function mountTokenType(value: string): string {
  switch (value) {
    case '':
    case 'default-service':
      return 'default-service';
    case 'service':
      return 'service';
    case 'batch':
    case 'default-batch':
      throw badRequest(BATCH_UNSUPPORTED);
    default:
      throw badRequest("invalid value for 'token_type'");
  }
}

/** The auth mount at `path` (below auth/), or undefined. */
function authMount(req: SysRequest, path: string) {
  const m = authed(req).state.mounts.get(`auth/${sanitize(path)}`);
  return m && m.entry.table === 'auth' ? m : undefined;
}

const PATH: FieldSchemas = { path: { type: 'string', description: 'The auth method\'s path below auth/, e.g. "userpass/".' } };

export const authPaths: SysPath[] = [
  {
    pattern: 'auth',
    synopsis: 'List the enabled auth methods.',
    operations: {
      read: async (req) => {
        const out: Record<string, unknown> = {};
        for (const e of authed(req).state.mounts.list('auth')) out[e.path.slice('auth/'.length)] = describeAuthMount(e);
        return sysData(out);
      },
    },
  },
  {
    pattern: 'auth/(?<path>.+?)/tune',
    sudo: true,
    synopsis: "Read or change an auth method's lease TTLs, description, listing visibility, token type and options.",
    description:
      'Options of userpass and approle mounts include Tresor\'s login rate limit: login_rate_limit (logins per second per client address once the burst is spent; 0 turns the limit off) and login_rate_burst.',
    fields: {
      ...PATH,
      default_lease_ttl: { type: 'string', description: 'Default TTL of the tokens the method issues ("system" for the system default).' },
      max_lease_ttl: { type: 'string', description: 'Maximum TTL of the tokens the method issues ("system" for the system maximum).' },
      description: { type: 'string', description: 'Human-friendly description of the auth method.' },
      options: { type: 'kv-pairs', description: 'Method options; an empty value removes one. login_rate_limit and login_rate_burst set the login rate limit.' },
      listing_visibility: { type: 'string', description: 'Whether the UI lists the method without a token: "unauth", "hidden" or "".' },
      token_type: { type: 'string', description: 'The type of token the method issues; only service tokens are available.' },
    },
    operations: {
      read: async (req, f) => {
        const path = f.get<string>('path');
        const m = authMount(req, path);
        if (!m) throw badRequest(`cannot fetch sysview for path "auth/${sanitize(path)}"`);
        const e = m.entry;
        const data: Record<string, unknown> = {
          description: e.description,
          default_lease_ttl: e.config.default_lease_ttl || SYSTEM_DEFAULT_LEASE_TTL,
          max_lease_ttl: e.config.max_lease_ttl || SYSTEM_DEFAULT_LEASE_TTL,
          force_no_cache: e.config.force_no_cache,
          token_type: e.config.token_type ?? 'default-service',
        };
        if (e.external_entropy_access) data.external_entropy_access = true;
        if (e.config.listing_visibility) data.listing_visibility = e.config.listing_visibility;
        if (e.options && Object.keys(e.options).length) data.options = e.options;
        return sysData(data);
      },
      update: async (req, f) => {
        const path = f.get<string>('path');
        if (path === '') throw badRequest('missing path');
        const m = authMount(req, path);
        if (!m) throw badRequest(`tune of path "auth/${sanitize(path)}" failed: no mount entry found`);
        const e = m.entry;
        const config: Partial<MountEntry['config']> = {};
        const def = ttlSetting(f.getOk('default_lease_ttl'), 'default') ?? e.config.default_lease_ttl;
        const max = ttlSetting(f.getOk('max_lease_ttl'), 'max') ?? e.config.max_lease_ttl;
        if (def !== e.config.default_lease_ttl || max !== e.config.max_lease_ttl) {
          if (def !== 0 && max !== 0 && max < def) {
            throw badRequest(`backend max lease TTL of ${max} would be less than backend default lease TTL of ${def}`);
          }
          config.default_lease_ttl = def;
          config.max_lease_ttl = max;
        }
        const visibility = f.getOk<string>('listing_visibility');
        if (visibility !== undefined) config.listing_visibility = checkListingVisibility(visibility);
        const tokenType = f.getOk<string>('token_type');
        if (tokenType !== undefined) {
          if (e.type === 'token') throw badRequest("'token_type' cannot be set for 'token' or 'ns_token' auth mounts");
          config.token_type = mountTokenType(tokenType);
        }
        const options = f.getOk<Record<string, string>>('options');
        if (options) {
          if (options.version) throw badRequest(`auth method "${e.type}" does not allow setting a version`);
          checkLoginRateOptions(options);
        }
        await authed(req).state.mounts.tune(e.path, {
          description: f.getOk<string>('description'),
          config,
          options: options && Object.keys(options).length ? options : undefined,
        });
        return noContent();
      },
    },
  },
  {
    pattern: 'auth/(?<path>.+)',
    sudo: true,
    synopsis: 'Enable, read or disable an auth method.',
    description: 'Disabling an auth method deletes its users, roles and secret IDs and revokes every token it issued.',
    fields: {
      ...PATH,
      type: { type: 'string', description: 'The auth method: userpass or approle.' },
      description: { type: 'string', description: 'Human-friendly description of the auth method.' },
      config: { type: 'map', description: 'default_lease_ttl, max_lease_ttl, listing_visibility, token_type, force_no_cache.' },
      local: { type: 'bool', description: 'The mount is not replicated.' },
      seal_wrap: { type: 'bool', description: "Wrap the method's stored values with the HSM as well as the barrier." },
      external_entropy_access: { type: 'bool', description: "The method draws its random numbers from the HSM's generator." },
      plugin_name: { type: 'string', description: 'The plugin to run when type is "plugin" (only the built-in methods exist).' },
      options: { type: 'kv-pairs', description: 'Method options: login_rate_limit and login_rate_burst (the login rate limit).' },
    },
    operations: {
      read: async (req, f) => {
        const path = sanitize(f.get<string>('path'));
        const m = authMount(req, path);
        if (!m) throw badRequest(`No auth engine at ${path}`);
        return sysData(describeAuthMount(m.entry));
      },
      update: async (req, f) => {
        const { core } = req;
        const path = sanitize(f.get<string>('path'));
        const raw = f.get<Record<string, unknown>>('config');
        let type = f.get<string>('type');
        if (type === '') throw badRequest('backend type must be specified as a string');
        if (type === 'plugin') {
          const pluginName = typeof raw.plugin_name === 'string' && raw.plugin_name ? raw.plugin_name : f.get<string>('plugin_name');
          if (!pluginName) throw badRequest('plugin_name must be provided for plugin backend');
          type = pluginName;
        }
        // The type first, as Vault checks it (`auth enable token` says so, not that token/ is taken).
        checkMountableAuthType(type);
        const defaultTtl = ttlSetting(raw.default_lease_ttl, 'default') ?? 0;
        const maxTtl = ttlSetting(raw.max_lease_ttl, 'max') ?? 0;
        if (maxTtl !== 0 && defaultTtl > maxTtl) throw badRequest('given default lease TTL greater than given max lease TTL');
        if (defaultTtl > SYSTEM_DEFAULT_LEASE_TTL && maxTtl === 0) {
          throw badRequest(`given default lease TTL greater than system max lease TTL of ${SYSTEM_DEFAULT_LEASE_TTL}`);
        }
        const tokenType = mountTokenType(raw.token_type === undefined ? '' : String(raw.token_type));
        const options = f.get<Record<string, string>>('options');
        if (options.version) throw badRequest(`auth method "${type}" does not allow setting a version`);
        checkLoginRateOptions(options);
        const visibility = checkListingVisibility(raw.listing_visibility === undefined ? '' : String(raw.listing_visibility));
        let forceNoCache = false;
        try {
          forceNoCache = optionalBool(raw.force_no_cache, 'force_no_cache') ?? false;
        } catch {
          throw badRequest('unable to convert given auth config information');
        }
        const config: MountEntry['config'] = { default_lease_ttl: defaultTtl, max_lease_ttl: maxTtl, force_no_cache: forceNoCache, token_type: tokenType };
        if (visibility) config.listing_visibility = visibility;
        const sealWrap = f.get<boolean>('seal_wrap');
        await authed(req).state.mounts.mount({
          path: `auth/${path}`,
          type,
          description: f.get('description'),
          config,
          options: Object.keys(options).length ? options : null,
          local: f.get('local'),
          seal_wrap: sealWrap,
          external_entropy_access: f.get('external_entropy_access'),
          table: 'auth',
        });
        core.logger.info(`auth: enabled ${type} at auth/${path}${sealWrap ? ' (seal wrap)' : ''}`);
        return sealWrap && !core.hsm ? { warnings: ['seal_wrap adds no second layer without an HSM seal'] } : noContent();
      },
      delete: async (req, f) => {
        const path = sanitize(f.get<string>('path'));
        if (path === 'token/') throw badRequest('token credential backend cannot be disabled');
        const m = authMount(req, path);
        // As in Vault, disabling a path with nothing mounted succeeds (and tells nothing).
        if (!m) return noContent();
        const { state } = authed(req);
        // Unmounted first: from then on no login reaches it, and its tokens fail
        // (their mount is gone) even before the revocation below removes them.
        await state.mounts.unmount(m.entry.path);
        state.loginLimiter.forget(m.entry.accessor);
        let revoked = 0;
        try {
          revoked = await state.tokens.revokeByMount(m.entry.accessor);
        } catch (err) {
          req.core.logger.warn(`auth: revoking the tokens of auth/${path} failed (they no longer work): ${(err as Error).message}`);
          throw new TresorError(500, 'the auth method was disabled, but revoking its tokens failed; they can no longer be used');
        }
        req.core.logger.info(`auth: disabled auth/${path}, revoked ${revoked} token(s)`);
        return noContent();
      },
    },
  },
];
