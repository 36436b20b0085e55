/** `tresor secrets enable|disable|list|tune|move`: mounts under /v1/sys/mounts. */
import { parseKeyValueList } from '../args.ts';
import { callApi, dropUndefined, ensureTrailingSlash, expectArgs, printJson, println, sanitizePath, type Command } from '../command.ts';
import { formatColumns, formatValue } from '../format.ts';

/** One entry of GET /v1/sys/mounts. */
export interface MountInfo {
  type?: string;
  description?: string;
  accessor?: string;
  uuid?: string;
  local?: boolean;
  seal_wrap?: boolean;
  external_entropy_access?: boolean;
  options?: Record<string, string> | null;
  plugin_version?: string;
  config?: { default_lease_ttl?: number; max_lease_ttl?: number; force_no_cache?: boolean };
}

const isMount = (v: unknown): v is MountInfo => typeof v === 'object' && v !== null && 'type' in v;

/**
 * The mount table from a GET /v1/sys/mounts body: newer servers put it under
 * `data`, older ones at the top level next to request metadata.
 */
export function mountsFromResponse(body: Record<string, unknown> | null): [string, MountInfo][] {
  const source = body && typeof body.data === 'object' && body.data !== null ? (body.data as Record<string, unknown>) : (body ?? {});
  return Object.entries(source)
    .filter((e): e is [string, MountInfo] => isMount(e[1]))
    .sort(([a], [b]) => a.localeCompare(b));
}

const ttlCell = (seconds: number | undefined) => (seconds ? String(seconds) : 'system');

/** Rows for `secrets list`; -detailed adds the columns Vault shows there. */
export function mountRows(mounts: [string, MountInfo][], detailed: boolean): { header: string[]; rows: string[][] } {
  if (!detailed) {
    return {
      header: ['Path', 'Type', 'Accessor', 'Description'],
      rows: mounts.map(([path, m]) => [path, m.type ?? '', m.accessor ?? '', m.description ?? '']),
    };
  }
  return {
    header: ['Path', 'Plugin', 'Accessor', 'Default TTL', 'Max TTL', 'Force No Cache', 'Replication', 'Seal Wrap', 'External Entropy Access', 'Options', 'Description', 'UUID', 'Version'],
    rows: mounts.map(([path, m]) => [
      path,
      m.type ?? '',
      m.accessor ?? '',
      ttlCell(m.config?.default_lease_ttl),
      ttlCell(m.config?.max_lease_ttl),
      String(Boolean(m.config?.force_no_cache)),
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

const TTL_FLAGS = {
  'default-lease-ttl': { kind: 'string', placeholder: 'duration', description: 'Default lease TTL for this mount, e.g. "30m" or "3600".' },
  'max-lease-ttl': { kind: 'string', placeholder: 'duration', description: 'Maximum lease TTL for this mount.' },
} as const;

const enableCommand: Command = {
  name: ['secrets', 'enable'],
  synopsis: 'Enable a secrets engine',
  help: `Usage: tresor secrets enable [options] TYPE

  Mounts a secrets engine of TYPE at -path (default: the type name).
  "kv-v2" is shorthand for type kv with -version=2.

    $ tresor secrets enable -path=secret kv-v2`,
  flags: {
    path: { kind: 'string', placeholder: 'string', description: 'Where to mount the engine (default: TYPE).' },
    description: { kind: 'string', placeholder: 'string', description: 'Human-friendly description of the mount.' },
    'seal-wrap': { kind: 'bool', description: 'Also wrap this mount\'s stored values with the seal (HSM).' },
    'external-entropy-access': { kind: 'bool', description: 'Give the engine random bytes from the seal\'s device (HSM).' },
    version: { kind: 'int', description: 'Engine version; for kv, 1 or 2.' },
    options: { kind: 'list', placeholder: 'key=value', description: 'Engine option; repeat for several.' },
    'force-no-cache': { kind: 'bool', description: 'Never cache this mount\'s data.' },
    local: { kind: 'bool', description: 'Mark the mount as local (not replicated).' },
    ...TTL_FLAGS,
  },
  async run(ctx) {
    expectArgs(ctx, 1);
    const f = ctx.flags;
    const requested = ctx.args[0]!;
    const isKv2 = requested === 'kv-v2';
    const type = isKv2 ? 'kv' : requested;
    const path = ensureTrailingSlash(f.string('path') ?? requested);
    const options = parseKeyValueList(f.list('options'), 'options');
    const version = f.int('version') ?? (isKv2 ? 2 : undefined);
    if (version !== undefined) options.version = String(version);
    const config = dropUndefined({
      default_lease_ttl: f.string('default-lease-ttl'),
      max_lease_ttl: f.string('max-lease-ttl'),
      force_no_cache: f.bool('force-no-cache') || undefined,
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
    await callApi('enabling', ctx.client().request('POST', `sys/mounts/${sanitizePath(path)}`, { body }));
    println(ctx, `Success! Enabled the ${requested} secrets engine at: ${path}`);
    return 0;
  },
};

/** What `<group> disable` and `<group> list` need to know about a kind of mount (secrets engines, auth methods). */
export interface MountKind {
  group: string;
  /** "secrets engine", "auth method". */
  noun: string;
  /** The sys path of the mount table: "sys/mounts", "sys/auth". */
  sysPath: string;
}

/** `<group> disable PATH`: DELETE <sysPath>/PATH. */
export function mountDisableCommand(kind: MountKind, help: string): Command {
  return {
    name: [kind.group, 'disable'],
    synopsis: `Disable ${/^[aeiou]/.test(kind.noun) ? 'an' : 'a'} ${kind.noun}`,
    help,
    flags: {},
    async run(ctx) {
      expectArgs(ctx, 1);
      const path = ensureTrailingSlash(ctx.args[0]!);
      await callApi(`disabling ${kind.noun}`, ctx.client().request('DELETE', `${kind.sysPath}/${sanitizePath(path)}`));
      println(ctx, `Success! Disabled the ${kind.noun} (if it existed) at: ${path}`);
      return 0;
    },
  };
}

/** `<group> list [-detailed]`: the mount table as columns, or as JSON/YAML in those formats. */
export function mountListCommand(
  kind: MountKind,
  help: string,
  rowsOf: (mounts: [string, MountInfo][], detailed: boolean) => { header: string[]; rows: string[][] },
): Command {
  return {
    name: [kind.group, 'list'],
    synopsis: `List enabled ${kind.noun}s`,
    help,
    flags: { detailed: { kind: 'bool', description: 'Show every mount setting.' } },
    async run(ctx) {
      expectArgs(ctx, 0);
      const mounts = mountsFromResponse(await callApi(`listing ${kind.noun}s`, ctx.client().request('GET', kind.sysPath)));
      if (ctx.format !== 'table') {
        printJson(ctx, Object.fromEntries(mounts));
        return 0;
      }
      const { header, rows } = rowsOf(mounts, ctx.flags.bool('detailed'));
      println(ctx, formatColumns(rows, header));
      return 0;
    },
  };
}

const SECRETS: MountKind = { group: 'secrets', noun: 'secrets engine', sysPath: 'sys/mounts' };

const disableCommand = mountDisableCommand(SECRETS, `Usage: tresor secrets disable [options] PATH

  Unmounts the secrets engine at PATH. All of its data is deleted.`);

const listCommand = mountListCommand(SECRETS, `Usage: tresor secrets list [options]

  Lists the mounted secrets engines. -detailed adds TTLs, seal wrap, entropy
  access, options and UUIDs.`, mountRows);

const tuneCommand: Command = {
  name: ['secrets', 'tune'],
  synopsis: 'Tune a secrets engine\'s settings',
  help: `Usage: tresor secrets tune [options] PATH

  Changes the description, lease TTLs or options of the mount at PATH.`,
  flags: {
    description: { kind: 'string', placeholder: 'string', description: 'New description.' },
    options: { kind: 'list', placeholder: 'key=value', description: 'Engine option to set; repeat for several.' },
    ...TTL_FLAGS,
  },
  async run(ctx) {
    expectArgs(ctx, 1);
    const f = ctx.flags;
    const path = ensureTrailingSlash(ctx.args[0]!);
    const options = parseKeyValueList(f.list('options'), 'options');
    const body = dropUndefined({
      description: f.string('description'),
      default_lease_ttl: f.string('default-lease-ttl'),
      max_lease_ttl: f.string('max-lease-ttl'),
      options: Object.keys(options).length ? options : undefined,
    });
    await callApi('tuning secrets engine', ctx.client().request('POST', `sys/mounts/${sanitizePath(path)}/tune`, { body }));
    println(ctx, `Success! Tuned the secrets engine at: ${path}`);
    return 0;
  },
};

/** GET sys/remount/status/<id>. */
interface RemountStatus {
  migration_id?: string;
  migration_info?: { source_mount?: string; target_mount?: string; status?: string };
}

/** How often `secrets move` asks whether the move has finished. */
const MOVE_POLL_MS = 1000;

const moveCommand: Command = {
  name: ['secrets', 'move'],
  synopsis: 'Move a secrets engine to a new path',
  help: `Usage: tresor secrets move [options] SOURCE DESTINATION

  Moves the mount at SOURCE, with its data, to DESTINATION, and waits until
  the server reports the move finished (or failed).`,
  flags: {},
  async run(ctx) {
    expectArgs(ctx, 2);
    const from = ensureTrailingSlash(ctx.args[0]!);
    const to = ensureTrailingSlash(ctx.args[1]!);
    const client = ctx.client();
    const res = await callApi('moving secrets engine', client.request<{ data?: { migration_id?: string }; migration_id?: string }>('POST', 'sys/remount', { body: { from, to } }));
    const id = res?.data?.migration_id ?? res?.migration_id;
    if (!id) {
      println(ctx, `Success! Moved secrets engine ${from} to: ${to}`);
      return 0;
    }
    println(ctx, `Started moving secrets engine ${from} to ${to}, with migration ID ${id}`);
    for (;;) {
      const status = await callApi(
        `checking migration status of secrets engine ${from} to ${to}`,
        client.request<{ data?: RemountStatus } & RemountStatus>('GET', `sys/remount/status/${encodeURIComponent(id)}`),
      );
      const state = (status?.data ?? status)?.migration_info?.status;
      if (state === 'success') {
        println(ctx, `Success! Finished moving secrets engine ${from} to ${to}, with migration ID ${id}`);
        return 0;
      }
      if (state === 'failure') {
        ctx.io.stderr(`Failure! Error encountered moving secrets engine ${from} to ${to}, with migration ID ${id}\n`);
        return 2;
      }
      println(ctx, `Waiting for terminal status in migration of secrets engine ${from} to ${to}, with migration ID ${id}`);
      await new Promise((r) => setTimeout(r, MOVE_POLL_MS));
    }
  },
};

export const secretsCommands: Command[] = [enableCommand, disableCommand, listCommand, tuneCommand, moveCommand];
