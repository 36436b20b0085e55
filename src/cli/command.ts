/**
 * What every command shares: its definition shape, the context it runs in,
 * the standard HTTP/output flags, and the mapping of failures to Vault's exit
 * codes (0 success, 1 local/usage error, 2 remote/API error).
 */
import { Flags, UsageError, type FlagSpec } from './args.ts';
import { ApiClient, ApiError, TransportError, resolveClientConfig } from './client.ts';
import { formatJson, parseFormat, type OutputFormat } from './format.ts';
import type { CliIO } from './io.ts';

export interface CommandContext {
  io: CliIO;
  flags: Flags;
  args: string[];
  format: OutputFormat;
  /** Built lazily so commands that never call the server need no address. */
  client(): ApiClient;
}

export interface Command {
  /** Words after `tresor`, e.g. ['operator', 'init']. */
  name: string[];
  synopsis: string;
  /** Usage line plus explanation, shown by `-h` before the flags. */
  help: string;
  flags: FlagSpec;
  /** Skips the standard -address/-format flags (the `server` command). */
  local?: boolean;
  run(ctx: CommandContext): Promise<number>;
}

/** A failure already worded for the user, with the exit code to use. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** `-field=NAME`: print one value raw instead of the whole table. */
export const FIELD_FLAG: FlagSpec = {
  field: { kind: 'string', placeholder: 'name', description: 'Print only this field, raw (no table).' },
};

export const STANDARD_FLAGS: FlagSpec = {
  address: { kind: 'string', placeholder: 'string', description: 'Address of the Tresor server, e.g. http://127.0.0.1:8200. Also TRESOR_ADDR or VAULT_ADDR; the default is http://127.0.0.1:8200 (plain HTTP, unlike Vault).' },
  'ca-cert': { kind: 'string', placeholder: 'path', description: 'PEM CA certificate used to verify the server. Also TRESOR_CACERT or VAULT_CACERT.' },
  'tls-skip-verify': { kind: 'bool', description: 'Do not verify the server TLS certificate (insecure). Also TRESOR_SKIP_VERIFY or VAULT_SKIP_VERIFY.' },
  format: { kind: 'string', placeholder: 'string', description: 'Output format: "table" or "json". Also TRESOR_FORMAT or VAULT_FORMAT.' },
  'wrap-ttl': { kind: 'string', placeholder: 'duration', description: 'Wraps the response in a single-use wrapping token with this TTL ("30s", "5m"); "tresor unwrap" opens it. Also TRESOR_WRAP_TTL or VAULT_WRAP_TTL.' },
};

/** A number of seconds, or Go duration syntax ("90s", "1h30m", "2d"). */
const WRAP_TTL_SYNTAX = /^(?:\d+|(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h|d))+)$/;

/** Builds the context for a parsed command line. */
export function makeContext(io: CliIO, flags: Flags, args: string[]): CommandContext {
  const rawFormat = flags.string('format') ?? io.env.TRESOR_FORMAT ?? io.env.VAULT_FORMAT;
  const format = parseFormat(rawFormat);
  if (rawFormat !== undefined && rawFormat !== '' && !format) throw new UsageError(`invalid format "${rawFormat}": use "table" or "json"`);
  const wrapTtl = flags.string('wrap-ttl');
  if (wrapTtl !== undefined && wrapTtl !== '' && !WRAP_TTL_SYNTAX.test(wrapTtl)) {
    throw new UsageError('invalid value for flag -wrap-ttl: use a duration such as "30s", "5m" or a number of seconds');
  }
  let client: ApiClient | undefined;
  return {
    io,
    flags,
    args,
    format: format ?? 'table',
    client: () =>
      (client ??= new ApiClient(
        resolveClientConfig(io.env, {
          address: flags.string('address'),
          caCert: flags.string('ca-cert'),
          skipVerify: flags.has('tls-skip-verify') ? flags.bool('tls-skip-verify') : undefined,
          wrapTtl,
        }),
      )),
  };
}

/**
 * Awaits a server call and rewords its failure as `Error <doing>: <details>`
 * with exit code 2 (Vault's code for remote errors).
 */
export async function callApi<T>(doing: string, call: Promise<T>, exitCode = 2): Promise<T> {
  try {
    return await call;
  } catch (err) {
    if (err instanceof ApiError) throw new CliError(`Error ${doing}: ${err.describe()}`, exitCode);
    if (err instanceof TransportError) throw new CliError(`Error ${doing}: ${err.message}`, exitCode);
    throw err;
  }
}

/** Throws a UsageError unless the positional count is within [min, max]. */
export function expectArgs(ctx: CommandContext, min: number, max = min): void {
  const n = ctx.args.length;
  if (n < min) throw new UsageError(`Not enough arguments (expected ${min === max ? min : `at least ${min}`}, got ${n})`);
  if (n > max) throw new UsageError(`Too many arguments (expected ${max === min ? max : `at most ${max}`}, got ${n})`);
}

/** Writes `text` plus a newline to stdout. */
export function println(ctx: CommandContext, text = ''): void {
  ctx.io.stdout(`${text}\n`);
}

/** Prints a value as indented JSON (the `-format=json` output). */
export function printJson(ctx: CommandContext, value: unknown): void {
  println(ctx, formatJson(value));
}

/** Trims a path to Vault's form: no leading slash, exactly what the user meant. */
export function sanitizePath(path: string): string {
  return path.replace(/^\/+/, '').replace(/\/+$/, '');
}

/** Mount-style path with one trailing slash (`kv/`), as Vault prints mounts. */
export function ensureTrailingSlash(path: string): string {
  const clean = sanitizePath(path);
  return clean === '' ? '' : `${clean}/`;
}

/** Copy of `obj` without undefined fields, so the server applies its own defaults. */
export function dropUndefined<T extends Record<string, unknown>>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>;
}
