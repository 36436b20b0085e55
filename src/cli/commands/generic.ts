/** `tresor read|write|list|delete`: raw access to any API path under /v1. */
import { UsageError } from '../args.ts';
import { callApi, expectArgs, FIELD_FLAG, printJson, println, sanitizePath, type Command, type CommandContext } from '../command.ts';
import { formatColumns } from '../format.ts';
import { asSecret, parseDataArgs, printSecret, printWarnings, type Secret } from '../secret.ts';

function requirePath(ctx: CommandContext): string {
  const path = sanitizePath(ctx.args[0] ?? '');
  if (path === '') throw new UsageError('A non-empty PATH is required');
  return path;
}

/** The keys of a list response (`{"data":{"keys":[...]}}`). */
export function listKeys(res: Secret | null): string[] {
  const keys = res?.data?.keys;
  return Array.isArray(keys) ? keys.map(String) : [];
}

/**
 * Prints list keys: a "Keys" column in table format, the bare array in JSON.
 * An empty result reports "No value found" and exits 2 like Vault; a
 * wrapped one prints its wrap info.
 */
export function printKeys(ctx: CommandContext, path: string, res: Secret | null): number {
  // A wrapped list answers only its wrap info.
  if (res?.wrap_info) return printSecret(ctx, res);
  const keys = listKeys(res);
  if (keys.length === 0) {
    ctx.io.stderr(`No value found at ${path}/\n`);
    return 2;
  }
  if (ctx.format !== 'table') printJson(ctx, keys);
  else println(ctx, formatColumns(keys.map((k) => [k]), ['Keys']));
  return 0;
}

/** Reports an absent secret the way Vault does (stderr, exit 2). */
export function notFound(ctx: CommandContext, path: string): number {
  ctx.io.stderr(`No value found at ${path}\n`);
  return 2;
}

const readCommand: Command = {
  name: ['read'],
  synopsis: 'Read data at a path',
  help: `Usage: tresor read [options] PATH [KEY=VALUE ...]

  Reads the data at PATH (any API path below /v1). Extra KEY=VALUE pairs are
  sent as query parameters.

    $ tresor read -field=value cubbyhole/note`,
  flags: { ...FIELD_FLAG },
  async run(ctx) {
    expectArgs(ctx, 1, Number.MAX_SAFE_INTEGER);
    const path = requirePath(ctx);
    const query = Object.fromEntries(Object.entries(await parseDataArgs(ctx, ctx.args.slice(1))).map(([k, v]) => [k, String(v)]));
    const res = await callApi(`reading ${path}`, ctx.client().request<Record<string, unknown>>('GET', path, { query, allowNotFound: true }));
    if (!res) return notFound(ctx, path);
    // Raw sys answers (sys/health, sys/seal-status) have no envelope: their fields are the
    // table's rows, and JSON/YAML show the body as the server sent it.
    const secret = asSecret(res);
    if (secret.data === res && ctx.format !== 'table' && !ctx.flags.string('field')) {
      printJson(ctx, res);
      return 0;
    }
    return printSecret(ctx, secret);
  },
};

const writeCommand: Command = {
  name: ['write'],
  synopsis: 'Write data to a path',
  help: `Usage: tresor write [options] PATH [KEY=VALUE ... | -]

  Writes data to PATH. Values may be literal (key=value), read from a file
  (key=@file) or from stdin (key=-). A lone "-" reads a JSON object from
  stdin. Use -f to write with no data at all.

    $ tresor write sys/policies/acl/dev policy=@dev.hcl`,
  flags: {
    force: { kind: 'bool', description: 'Allow writing with no data.' },
    f: { kind: 'bool', description: 'Shorthand for -force.' },
    ...FIELD_FLAG,
  },
  async run(ctx) {
    expectArgs(ctx, 1, Number.MAX_SAFE_INTEGER);
    const path = requirePath(ctx);
    const data = await parseDataArgs(ctx, ctx.args.slice(1));
    const force = ctx.flags.bool('force') || ctx.flags.bool('f');
    if (Object.keys(data).length === 0 && !force) throw new UsageError('Must supply data or use -force');
    const res = await callApi(`writing data to ${path}`, ctx.client().request<Secret>('PUT', path, { body: data }));
    if (!res || (!res.data && !res.auth && !res.wrap_info)) {
      printWarnings(ctx, res);
      println(ctx, `Success! Data written to: ${path}`);
      return 0;
    }
    return printSecret(ctx, res);
  },
};

const listCommand: Command = {
  name: ['list'],
  synopsis: 'List keys under a path',
  help: `Usage: tresor list [options] PATH

  Lists the keys directly under PATH. Keys ending in "/" are folders.`,
  flags: {},
  async run(ctx) {
    expectArgs(ctx, 1);
    const path = requirePath(ctx);
    const res = await callApi(`listing ${path}`, ctx.client().list(path));
    return printKeys(ctx, path, res);
  },
};

const deleteCommand: Command = {
  name: ['delete'],
  synopsis: 'Delete data at a path',
  help: `Usage: tresor delete [options] PATH

  Deletes the data at PATH. Deleting something that does not exist succeeds.`,
  flags: {},
  async run(ctx) {
    expectArgs(ctx, 1);
    const path = requirePath(ctx);
    await callApi(`deleting ${path}`, ctx.client().request('DELETE', path));
    println(ctx, `Success! Data deleted (if it existed) at: ${path}`);
    return 0;
  },
};

export const genericCommands: Command[] = [readCommand, writeCommand, listCommand, deleteCommand];

