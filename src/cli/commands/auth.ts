/** `tresor auth enable|disable|list|tune`: auth methods under /v1/sys/auth. */
import { parseKeyValueList } from '../args.ts';
import { callApi, dropUndefined, ensureTrailingSlash, expectArgs, println, sanitizePath, type Command } from '../command.ts';
import { formatValue } from '../format.ts';
import { mountDisableCommand, mountListCommand, type MountInfo, type MountKind } from './secrets.ts';

interface AuthMountInfo extends MountInfo {
  config?: MountInfo['config'] & { token_type?: string; listing_visibility?: string };
}

const ttlCell = (seconds: number | undefined) => (seconds ? String(seconds) : 'system');

/** Rows for `auth list`; -detailed adds the columns Vault shows there. */
export function authRows(mounts: [string, AuthMountInfo][], detailed: boolean): { header: string[]; rows: string[][] } {
  if (!detailed) {
    return {
      header: ['Path', 'Type', 'Accessor', 'Description'],
      rows: mounts.map(([path, m]) => [path, m.type ?? '', m.accessor ?? '', m.description ?? '']),
    };
  }
  return {
    header: ['Path', 'Plugin', 'Accessor', 'Default TTL', 'Max TTL', 'Token Type', 'Replication', 'Seal Wrap', 'External Entropy Access', 'Options', 'Description', 'UUID', 'Version'],
    rows: mounts.map(([path, m]) => [
      path,
      m.type ?? '',
      m.accessor ?? '',
      ttlCell(m.config?.default_lease_ttl),
      ttlCell(m.config?.max_lease_ttl),
      m.config?.token_type ?? 'default-service',
      m.local ? 'local' : 'replicated',
      String(Boolean(m.seal_wrap)),
      String(Boolean(m.external_entropy_access)),
      formatValue(m.options ?? null),
      m.description ?? '',
      m.uuid ?? '',
      m.plugin_version ?? '',
    ]),
  };
}

const TUNE_FLAGS = {
  description: { kind: 'string', placeholder: 'string', description: 'Human-friendly description of the auth method.' },
  'default-lease-ttl': { kind: 'string', placeholder: 'duration', description: 'Default TTL of the tokens it issues, e.g. "30m".' },
  'max-lease-ttl': { kind: 'string', placeholder: 'duration', description: 'Maximum TTL of the tokens it issues.' },
  'listing-visibility': { kind: 'string', placeholder: 'string', description: 'Whether the UI lists the method without a token: "unauth" or "hidden".' },
  'token-type': { kind: 'string', placeholder: 'string', description: 'Type of the tokens it issues; only "service" is available.' },
  options: { kind: 'list', placeholder: 'key=value', description: 'Method option, e.g. login_rate_limit=10; repeat for several.' },
} as const;

const enableCommand: Command = {
  name: ['auth', 'enable'],
  synopsis: 'Enable an auth method',
  help: `Usage: tresor auth enable [options] TYPE

  Enables an auth method of TYPE (userpass or approle) at -path (default:
  the type name), below auth/.

    $ tresor auth enable userpass
    $ tresor auth enable -path=apps -options=login_rate_limit=20 approle

  Logins are rate-limited per client address: login_rate_burst attempts at
  once (default 20), then login_rate_limit per second (default 5; 0 turns
  the limit off). Both are -options of the mount.`,
  flags: {
    path: { kind: 'string', placeholder: 'string', description: 'Where to enable the method, below auth/ (default: TYPE).' },
    local: { kind: 'bool', description: 'Mark the mount as local (not replicated).' },
    'seal-wrap': { kind: 'bool', description: 'Also wrap the method\'s stored values with the seal (HSM).' },
    'external-entropy-access': { kind: 'bool', description: 'Give the method random bytes from the seal\'s device (HSM).' },
    ...TUNE_FLAGS,
  },
  async run(ctx) {
    expectArgs(ctx, 1);
    const f = ctx.flags;
    const type = ctx.args[0]!;
    const path = ensureTrailingSlash(f.string('path') ?? type);
    const options = parseKeyValueList(f.list('options'), 'options');
    const config = dropUndefined({
      default_lease_ttl: f.string('default-lease-ttl'),
      max_lease_ttl: f.string('max-lease-ttl'),
      listing_visibility: f.string('listing-visibility'),
      token_type: f.string('token-type'),
    });
    const body = dropUndefined({
      type,
      description: f.string('description'),
      config: Object.keys(config).length ? config : undefined,
      options: Object.keys(options).length ? options : undefined,
      local: f.bool('local') || undefined,
      seal_wrap: f.bool('seal-wrap') || undefined,
      external_entropy_access: f.bool('external-entropy-access') || undefined,
    });
    await callApi('enabling', ctx.client().request('POST', `sys/auth/${sanitizePath(path)}`, { body }));
    println(ctx, `Success! Enabled ${type} auth method at: ${path}`);
    return 0;
  },
};

const AUTH: MountKind = { group: 'auth', noun: 'auth method', sysPath: 'sys/auth' };

const disableCommand = mountDisableCommand(AUTH, `Usage: tresor auth disable [options] PATH

  Disables the auth method at PATH (below auth/). Its users, roles and
  secret IDs are deleted and every token it issued is revoked.`);

const listCommand = mountListCommand(AUTH, `Usage: tresor auth list [options]

  Lists the enabled auth methods. -detailed adds TTLs, token type, seal
  wrap, options and UUIDs.`, (mounts, detailed) => authRows(mounts as [string, AuthMountInfo][], detailed));

const tuneCommand: Command = {
  name: ['auth', 'tune'],
  synopsis: "Tune an auth method's settings",
  help: `Usage: tresor auth tune [options] PATH

  Changes the description, token TTLs, listing visibility or options of the
  auth method at PATH (below auth/). An option given an empty value
  (-options=login_rate_limit=) is removed.

    $ tresor auth tune -default-lease-ttl=1h -options=login_rate_burst=5 userpass/`,
  flags: TUNE_FLAGS,
  async run(ctx) {
    expectArgs(ctx, 1);
    const f = ctx.flags;
    const path = ensureTrailingSlash(ctx.args[0]!);
    const options = parseKeyValueList(f.list('options'), 'options');
    const body = dropUndefined({
      description: f.string('description'),
      default_lease_ttl: f.string('default-lease-ttl'),
      max_lease_ttl: f.string('max-lease-ttl'),
      listing_visibility: f.string('listing-visibility'),
      token_type: f.string('token-type'),
      options: Object.keys(options).length ? options : undefined,
    });
    await callApi('tuning auth method', ctx.client().request('POST', `sys/auth/${sanitizePath(path)}/tune`, { body }));
    println(ctx, `Success! Tuned the auth method at: ${path}`);
    return 0;
  },
};

export const authCommands: Command[] = [enableCommand, disableCommand, listCommand, tuneCommand];
