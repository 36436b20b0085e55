/**
 * `tresor kv ...`: the KV secrets engine, v1 or v2, with the version found
 * by a preflight request so users type `secret/app` rather than API paths.
 */
import { parseKeyValueList, UsageError, type FlagSpec } from '../args.ts';
import { callApi, CliError, ensureTrailingSlash, expectArgs, FIELD_FLAG, printJson, println, sanitizePath, type Command, type CommandContext } from '../command.ts';
import { formatKeyValue, keyValueHeaderWidth, sectionHeader, tableCell } from '../format.ts';
import { detectKvMount, kvApiPath, kvUserPath, type KvApiPrefix, type KvMount } from '../kv-paths.ts';
import { parseDataArgs, printField, printSecret, printWarnings, type Secret } from '../secret.ts';
import { notFound, printKeys } from './generic.ts';

const MOUNT_FLAG: FlagSpec = {
  mount: { kind: 'string', placeholder: 'string', description: 'The KV mount; PATH is then relative to it (e.g. -mount=secret app/db).' },
};
const VERSIONS_FLAG: FlagSpec = {
  versions: { kind: 'list', commaList: true, placeholder: 'n,m', description: 'Comma-separated version numbers.' },
};
const CAS_FLAG: FlagSpec = {
  cas: { kind: 'int', description: 'Check-and-set: write only if the current version is this (0: only if absent).' },
};

/** Where a kv command should send its request. */
interface KvTarget {
  mount: KvMount;
  /** The path as the user means it, mount included (`secret/app/db`). */
  userPath: string;
}

async function resolveTarget(ctx: CommandContext): Promise<KvTarget> {
  const raw = ctx.args[0] ?? '';
  const userPath = kvUserPath(raw, ctx.flags.string('mount'));
  if (userPath === '') throw new UsageError('A non-empty PATH is required');
  return { mount: await detectKvMount(ctx.client(), userPath), userPath };
}

/** The API path for `prefix` on v2, or the plain path on v1. */
function apiPath(t: KvTarget, prefix: KvApiPrefix): string {
  return t.mount.version === 2 ? kvApiPath(t.mount.mountPath, t.userPath, prefix) : t.userPath;
}

function requireV2(t: KvTarget, what: string): void {
  if (t.mount.version !== 2) throw new CliError(`${what} needs a KV version 2 mount; ${t.userPath} is on KV version 1`, 1);
}

/** PATH (the one argument) of a command that works on KV v2 only, as its `prefix` API path; a CliError on a v1 mount. */
async function v2ApiPath(ctx: CommandContext, what: string, prefix: KvApiPrefix): Promise<string> {
  expectArgs(ctx, 1);
  const t = await resolveTarget(ctx);
  requireV2(t, what);
  return apiPath(t, prefix);
}

function parseVersions(ctx: CommandContext, required: boolean): number[] | undefined {
  const raw = ctx.flags.list('versions');
  if (raw.length === 0) {
    if (required) throw new UsageError('-versions is required (e.g. -versions=1,2)');
    return undefined;
  }
  return raw.map((v) => {
    if (!/^\d+$/.test(v)) throw new UsageError(`-versions must be numbers, got "${v}"`);
    return Number(v);
  });
}

/** A path under its `== Title ==` header, sized to the path. */
function pathSection(title: string, path: string): string {
  return `${sectionHeader(title, path.length)}\n${path}`;
}

/** A Key/Value table of `obj` (keys sorted) under its `== Title ==` header. */
export function tableSection(title: string, obj: Record<string, unknown>): string {
  return `${sectionHeader(title, keyValueHeaderWidth(Object.keys(obj)))}\n${formatKeyValue(sortedRows(obj))}`;
}

/** Vault's two-part output of a v2 write: the data path and the new version's metadata. */
function pathAndMetadata(path: string, metadata: Record<string, unknown>): string {
  return `${pathSection('Secret Path', path)}\n\n${tableSection('Metadata', metadata)}`;
}

const sortedRows = (obj: Record<string, unknown>): [string, unknown][] =>
  Object.keys(obj)
    .sort()
    .map((k) => [k, tableCell(k, obj[k])]);

type V2Body = { data?: Record<string, unknown> | null; metadata?: Record<string, unknown> | null };

/** Says on stderr, for a version whose data is gone, that it was deleted or destroyed and what can be done. */
function sayVersionGone(ctx: CommandContext, userPath: string, metadata: Record<string, unknown> | null | undefined): void {
  if (!metadata) return;
  const version = metadata.version ?? '?';
  if (metadata.destroyed === true) {
    ctx.io.stderr(`Version ${version} of ${userPath} was destroyed: its data cannot be recovered.\n`);
  } else if (typeof metadata.deletion_time === 'string' && metadata.deletion_time !== '') {
    ctx.io.stderr(`Version ${version} of ${userPath} was deleted at ${metadata.deletion_time}; "tresor kv undelete -versions=${version} ${userPath}" restores it.\n`);
  }
}

const getCommand: Command = {
  name: ['kv', 'get'],
  synopsis: 'Read a KV secret',
  help: `Usage: tresor kv get [options] PATH

  Reads the secret at PATH (the latest version on KV v2 unless -version).

    $ tresor kv get secret/app
    $ tresor kv get -mount=secret -field=password app`,
  flags: {
    ...MOUNT_FLAG,
    version: { kind: 'int', description: 'Version to read (KV v2).' },
    field: { kind: 'string', placeholder: 'name', description: 'Print only this data field, raw.' },
  },
  async run(ctx) {
    expectArgs(ctx, 1);
    const t = await resolveTarget(ctx);
    const path = apiPath(t, 'data');
    const version = ctx.flags.int('version');
    if (version !== undefined) requireV2(t, '-version');
    const query = version !== undefined ? { version: String(version) } : undefined;
    const res = await callApi(`reading ${path}`, ctx.client().request<Secret>('GET', path, { query, allowNotFound: true }));
    if (!res) return notFound(ctx, path);
    // A wrapped answer has only its wrap info to show, as Vault prints it.
    if (res.wrap_info) return printSecret(ctx, res);
    if (t.mount.version === 1) {
      const field = ctx.flags.string('field');
      if (field) return printField(ctx, res, field);
      if (ctx.format !== 'table') printJson(ctx, res);
      else println(ctx, formatKeyValue(sortedRows(res.data ?? {})));
      return 0;
    }
    const inner = (res.data ?? {}) as V2Body;
    const field = ctx.flags.string('field');
    if (field) return printField(ctx, { data: inner.data ?? {} }, field);
    if (ctx.format !== 'table') {
      printJson(ctx, res);
      return 0;
    }
    printWarnings(ctx, res);
    const blocks = [pathSection('Secret Path', path), tableSection('Metadata', inner.metadata ?? {})];
    if (inner.data) blocks.push(tableSection('Data', inner.data));
    println(ctx, blocks.join('\n\n'));
    // A deleted (or destroyed) version answers with its metadata only, as Vault's CLI shows it.
    if (!inner.data) sayVersionGone(ctx, t.userPath, inner.metadata);
    return 0;
  },
};

/** Shared by put and patch: data args, optional cas, and how v2 answers are shown. */
async function writeData(ctx: CommandContext, method: 'PUT' | 'PATCH'): Promise<number> {
  expectArgs(ctx, 2, Number.MAX_SAFE_INTEGER);
  const t = await resolveTarget(ctx);
  const data = await parseDataArgs(ctx, ctx.args.slice(1));
  if (Object.keys(data).length === 0) throw new UsageError('Must supply data');
  if (method === 'PATCH') requireV2(t, 'kv patch');
  const path = apiPath(t, 'data');
  const cas = ctx.flags.int('cas');
  let body: Record<string, unknown> = data;
  if (t.mount.version === 2) body = cas === undefined ? { data } : { data, options: { cas } };
  else if (cas !== undefined) requireV2(t, '-cas');
  const contentType = method === 'PATCH' ? 'application/merge-patch+json' : undefined;
  const res = await callApi(`writing data to ${path}`, ctx.client().request<Secret>(method, path, { body, contentType }));
  if (res?.wrap_info) return printSecret(ctx, res);
  return printWriteResult(ctx, path, t.mount.version, res);
}

/** What a v2 write answers (the new version's metadata) in the format asked for; v1 writes answer nothing. */
function printWriteResult(ctx: CommandContext, path: string, version: 1 | 2, res: Secret | null): number {
  const field = ctx.flags.string('field');
  if (field && res) return printField(ctx, res, field);
  if (ctx.format !== 'table' && res) printJson(ctx, res);
  else if (version === 2 && res?.data) println(ctx, pathAndMetadata(path, res.data));
  else println(ctx, `Success! Data written to: ${path}`);
  return 0;
}

const putCommand: Command = {
  name: ['kv', 'put'],
  synopsis: 'Write a KV secret (replacing it)',
  help: `Usage: tresor kv put [options] PATH KEY=VALUE [KEY=VALUE ...]

  Writes the secret at PATH, replacing all its data (a new version on KV v2).
  Values: key=value, key=@file, key=- (stdin), or a lone "-" for a JSON object.`,
  flags: { ...MOUNT_FLAG, ...CAS_FLAG, ...FIELD_FLAG },
  run: (ctx) => writeData(ctx, 'PUT'),
};

const patchCommand: Command = {
  name: ['kv', 'patch'],
  synopsis: 'Update some fields of a KV v2 secret',
  help: `Usage: tresor kv patch [options] PATH KEY=VALUE [KEY=VALUE ...]

  Merges the given fields into the latest version of the KV v2 secret at
  PATH, making a new version; other fields are kept.`,
  flags: { ...MOUNT_FLAG, ...CAS_FLAG, ...FIELD_FLAG },
  run: (ctx) => writeData(ctx, 'PATCH'),
};

const deleteCommand: Command = {
  name: ['kv', 'delete'],
  synopsis: 'Delete a KV secret (soft delete on v2)',
  help: `Usage: tresor kv delete [options] PATH

  On KV v2, marks the latest version (or -versions) deleted; they can be
  restored with "kv undelete". On KV v1 the secret is removed.`,
  flags: { ...MOUNT_FLAG, ...VERSIONS_FLAG },
  async run(ctx) {
    expectArgs(ctx, 1);
    const t = await resolveTarget(ctx);
    const versions = parseVersions(ctx, false);
    if (versions) requireV2(t, '-versions');
    const path = apiPath(t, versions ? 'delete' : 'data');
    const call = versions ? ctx.client().request('POST', path, { body: { versions } }) : ctx.client().request('DELETE', path);
    await callApi(`deleting ${path}`, call);
    println(ctx, `Success! Data deleted (if it existed) at: ${path}`);
    return 0;
  },
};

/** undelete and destroy differ only in name, verb and wording. */
function versionsCommand(name: 'undelete' | 'destroy', method: 'POST' | 'PUT', synopsis: string, help: string): Command {
  return {
    name: ['kv', name],
    synopsis,
    help,
    flags: { ...MOUNT_FLAG, ...VERSIONS_FLAG },
    async run(ctx) {
      const path = await v2ApiPath(ctx, `kv ${name}`, name);
      const versions = parseVersions(ctx, true);
      await callApi(`writing data to ${path}`, ctx.client().request(method, path, { body: { versions } }));
      println(ctx, `Success! Data written to: ${path}`);
      return 0;
    },
  };
}

const listCommand: Command = {
  name: ['kv', 'list'],
  synopsis: 'List KV secrets under a path',
  help: `Usage: tresor kv list [options] PATH

  Lists the secret names under PATH; names ending in "/" are folders.`,
  flags: { ...MOUNT_FLAG },
  async run(ctx) {
    expectArgs(ctx, 1);
    const t = await resolveTarget(ctx);
    const path = apiPath(t, 'metadata');
    const res = await callApi(`listing ${path}`, ctx.client().list(path));
    return printKeys(ctx, path, res);
  },
};

const metadataGetCommand: Command = {
  name: ['kv', 'metadata', 'get'],
  synopsis: 'Read a KV v2 secret\'s metadata and versions',
  help: `Usage: tresor kv metadata get [options] PATH

  Shows the settings of the KV v2 secret at PATH and every version's state.`,
  flags: { ...MOUNT_FLAG, ...FIELD_FLAG },
  async run(ctx) {
    const path = await v2ApiPath(ctx, 'kv metadata', 'metadata');
    const res = await callApi(`reading ${path}`, ctx.client().request<Secret>('GET', path, { allowNotFound: true }));
    if (!res) return notFound(ctx, path);
    const field = ctx.flags.string('field');
    if (field) return printField(ctx, res, field);
    if (ctx.format !== 'table') {
      printJson(ctx, res);
      return 0;
    }
    const { versions, ...meta } = (res.data ?? {}) as { versions?: Record<string, Record<string, unknown>> };
    const blocks = [pathSection('Metadata Path', path), tableSection('Metadata', meta)];
    const numbers = Object.keys(versions ?? {}).sort((a, b) => Number(a) - Number(b));
    for (const n of numbers) blocks.push(tableSection(`Version ${n}`, versions![n]!));
    println(ctx, blocks.join('\n\n'));
    return 0;
  },
};

const METADATA_FLAGS: FlagSpec = {
  ...MOUNT_FLAG,
  'max-versions': { kind: 'int', description: 'Number of versions to keep (0: the mount default).' },
  'cas-required': { kind: 'bool', description: 'Require check-and-set on every write.' },
  'delete-version-after': { kind: 'string', placeholder: 'duration', description: 'Delete versions this long after they are written, e.g. "720h".' },
  'custom-metadata': { kind: 'list', placeholder: 'key=value', description: 'Custom metadata entry; repeat for several.' },
};

/** The metadata fields given on the command line (only those: the rest keep their value). */
function metadataBody(ctx: CommandContext): Record<string, unknown> {
  const f = ctx.flags;
  const body: Record<string, unknown> = {};
  if (f.has('max-versions')) body.max_versions = f.int('max-versions');
  if (f.has('cas-required')) body.cas_required = f.bool('cas-required');
  if (f.has('delete-version-after')) body.delete_version_after = f.string('delete-version-after');
  if (f.has('custom-metadata')) body.custom_metadata = parseKeyValueList(f.list('custom-metadata'), 'custom-metadata');
  return body;
}

const metadataPutCommand: Command = {
  name: ['kv', 'metadata', 'put'],
  synopsis: 'Set a KV v2 secret\'s metadata',
  help: `Usage: tresor kv metadata put [options] PATH

  Sets version limits, check-and-set, automatic deletion and custom
  metadata for the KV v2 secret at PATH. Custom metadata given here
  replaces all of it; "kv metadata patch" changes single keys.`,
  flags: METADATA_FLAGS,
  async run(ctx) {
    const path = await v2ApiPath(ctx, 'kv metadata', 'metadata');
    await callApi(`writing data to ${path}`, ctx.client().request('POST', path, { body: metadataBody(ctx) }));
    println(ctx, `Success! Data written to: ${path}`);
    return 0;
  },
};

const metadataPatchCommand: Command = {
  name: ['kv', 'metadata', 'patch'],
  synopsis: 'Change some of a KV v2 secret\'s metadata',
  help: `Usage: tresor kv metadata patch [options] PATH

  Changes only the metadata settings given, keeping the others; custom
  metadata keys are merged (a key given an empty value is kept, with that
  value). The secret's metadata must exist.

    $ tresor kv metadata patch -max-versions=5 secret/app`,
  flags: METADATA_FLAGS,
  async run(ctx) {
    const path = await v2ApiPath(ctx, 'kv metadata patch', 'metadata');
    const body = metadataBody(ctx);
    if (Object.keys(body).length === 0) throw new UsageError('Nothing to change: give at least one of -max-versions, -cas-required, -delete-version-after, -custom-metadata');
    await callApi(`writing data to ${path}`, ctx.client().request('PATCH', path, { body, contentType: 'application/merge-patch+json' }));
    println(ctx, `Success! Data written to: ${path}`);
    return 0;
  },
};

const rollbackCommand: Command = {
  name: ['kv', 'rollback'],
  synopsis: 'Make an older KV v2 version the current one',
  help: `Usage: tresor kv rollback [options] -version=N PATH

  Writes the data of version N of the KV v2 secret at PATH as a new, current
  version (check-and-set against the version read first, so a concurrent
  write is not overwritten). Deleted or destroyed versions cannot be used.

    $ tresor kv rollback -version=2 secret/app`,
  flags: { ...MOUNT_FLAG, version: { kind: 'int', description: 'The version to roll back to.' }, ...FIELD_FLAG },
  async run(ctx) {
    const target = ctx.flags.int('version');
    if (target === undefined) throw new UsageError('Must specify a version with -version');
    if (target <= 0) throw new UsageError(`Invalid value ${target} for the version flag`);
    const path = await v2ApiPath(ctx, 'kv rollback', 'data');
    const client = ctx.client();
    const read = async (query?: Record<string, string>) => {
      const res = await callApi(`doing pre-read at ${path}`, client.request<{ data?: V2Body }>('GET', path, { query, allowNotFound: true }));
      if (!res?.data) throw new CliError(`No value found at ${path}`, 2);
      if (!res.data.metadata) throw new CliError(`No metadata found at ${path}; rollback only works on existing data`, 2);
      return res.data;
    };
    const current = await read();
    const old = await read({ version: String(target) });
    if (old.metadata!.destroyed === true) throw new CliError('Cannot roll back to a version that has been destroyed', 2);
    if (typeof old.metadata!.deletion_time === 'string' && old.metadata!.deletion_time !== '') throw new CliError('Cannot roll back to a version that has been deleted', 2);
    if (!old.data) throw new CliError(`No data found at ${path}; rollback only works on existing data`, 2);
    const body = { data: old.data, options: { cas: current.metadata!.version } };
    const res = await callApi(`writing data to ${path}`, client.request<Secret>('PUT', path, { body }));
    return printWriteResult(ctx, path, 2, res);
  },
};

const enableVersioningCommand: Command = {
  name: ['kv', 'enable-versioning'],
  synopsis: 'Turn a KV v1 mount into KV v2',
  help: `Usage: tresor kv enable-versioning [options] PATH

  Asks the server to upgrade the KV mount at PATH to version 2 (the same
  request as "tresor secrets tune -options=version=2 PATH"). Tresor servers
  do not upgrade mounts in place and answer with an error; a mount that is
  already version 2 is left as it is.`,
  flags: {},
  async run(ctx) {
    expectArgs(ctx, 1);
    const mount = ensureTrailingSlash(ctx.args[0]!);
    await callApi('tuning secrets engine', ctx.client().request('POST', `sys/mounts/${sanitizePath(mount)}/tune`, { body: { options: { version: '2' } } }));
    println(ctx, `Success! Tuned the secrets engine at: ${mount}`);
    return 0;
  },
};

const metadataDeleteCommand: Command = {
  name: ['kv', 'metadata', 'delete'],
  synopsis: 'Delete a KV v2 secret with all its versions',
  help: `Usage: tresor kv metadata delete [options] PATH

  Permanently removes the KV v2 secret at PATH: metadata and every version.`,
  flags: { ...MOUNT_FLAG },
  async run(ctx) {
    const path = await v2ApiPath(ctx, 'kv metadata', 'metadata');
    await callApi(`deleting ${path}`, ctx.client().request('DELETE', path));
    println(ctx, `Success! Data deleted (if it existed) at: ${path}`);
    return 0;
  },
};

export const kvCommands: Command[] = [
  getCommand,
  putCommand,
  patchCommand,
  deleteCommand,
  versionsCommand('undelete', 'POST', 'Restore deleted KV v2 versions', `Usage: tresor kv undelete [options] -versions=N[,M] PATH

  Restores soft-deleted versions of the KV v2 secret at PATH.`),
  versionsCommand('destroy', 'PUT', 'Permanently remove KV v2 versions', `Usage: tresor kv destroy [options] -versions=N[,M] PATH

  Permanently destroys the data of the given versions of the KV v2 secret
  at PATH. This cannot be undone.`),
  listCommand,
  rollbackCommand,
  enableVersioningCommand,
  metadataGetCommand,
  metadataPutCommand,
  metadataPatchCommand,
  metadataDeleteCommand,
];
