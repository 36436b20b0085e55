/**
 * What every command shares: its definition shape, the context it runs in,
 * the standard HTTP/output flags, and the mapping of failures to Vault's exit
 * codes (0 success, 1 local/usage error, 2 remote/API error).
 */
import { Flags, UsageError, type FlagSpec } from './args.ts';
import { CliError } from './cli-error.ts';
import { ApiClient, ApiError, TransportError, resolveClientConfig } from './client.ts';
import { formatJson, formatYaml, parseFormat, type OutputFormat } from './format.ts';
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

export { CliError } from './cli-error.ts';

/** `-field=NAME`: print one value raw instead of the whole table. */
export const FIELD_FLAG: FlagSpec = {
  field: { kind: 'string', placeholder: 'name', description: 'Print only this field, raw (no table).' },
};

export const STANDARD_FLAGS: FlagSpec = {
  address: { kind: 'string', placeholder: 'string', description: 'Address of the Tresor server, e.g. http://127.0.0.1:8200. Also TRESOR_ADDR or VAULT_ADDR; the default is http://127.0.0.1:8200 (plain HTTP, unlike Vault).' },
  'ca-cert': { kind: 'string', placeholder: 'path', description: 'PEM CA certificate used to verify the server. Also TRESOR_CACERT or VAULT_CACERT.' },
  'tls-skip-verify': { kind: 'bool', description: 'Do not verify the server TLS certificate (insecure). Also TRESOR_SKIP_VERIFY or VAULT_SKIP_VERIFY.' },
  format: { kind: 'string', placeholder: 'string', description: 'Output format: "table", "json" or "yaml". Also TRESOR_FORMAT or VAULT_FORMAT.' },
  'client-cert': { kind: 'string', placeholder: 'path', description: 'PEM client certificate for TLS client authentication (with -client-key). Also TRESOR_CLIENT_CERT or VAULT_CLIENT_CERT.' },
  'client-key': { kind: 'string', placeholder: 'path', description: 'PEM private key of -client-cert. Also TRESOR_CLIENT_KEY or VAULT_CLIENT_KEY.' },
  'tls-server-name': { kind: 'string', placeholder: 'string', description: 'Name to send as SNI and to check the server certificate against. Also TRESOR_TLS_SERVER_NAME or VAULT_TLS_SERVER_NAME.' },
  'client-timeout': { kind: 'string', placeholder: 'duration', description: 'Give up on a request after this long ("30s", "2m"); the default is 60s. Also TRESOR_CLIENT_TIMEOUT or VAULT_CLIENT_TIMEOUT.' },
  header: { kind: 'list', placeholder: 'key=value', description: 'HTTP header to add to every request; repeat for several. X-Vault-* headers cannot be set.' },
  'output-curl-string': { kind: 'bool', description: 'Print the request as a curl command instead of sending it.' },
  'non-interactive': { kind: 'bool', description: 'Never ask for input at the terminal: fail instead of prompting.' },
  'wrap-ttl': { kind: 'string', placeholder: 'duration', description: 'Wraps the response in a single-use wrapping token with this TTL ("30s", "5m"); "tresor unwrap" opens it. Also TRESOR_WRAP_TTL or VAULT_WRAP_TTL.' },
};

/** A number of seconds, or Go duration syntax ("90s", "1h30m", "2d"). */
const WRAP_TTL_SYNTAX = /^(?:\d+|(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h|d))+)$/;

/** Builds the context for a parsed command line. */
export function makeContext(io: CliIO, flags: Flags, args: string[]): CommandContext {
  const rawFormat = flags.string('format') ?? io.env.TRESOR_FORMAT ?? io.env.VAULT_FORMAT;
  const format = parseFormat(rawFormat);
  if (rawFormat !== undefined && rawFormat !== '' && !format) throw new UsageError(`invalid format "${rawFormat}": use "table", "json" or "yaml"`);
  const wrapTtl = flags.string('wrap-ttl');
  if (wrapTtl !== undefined && wrapTtl !== '' && !WRAP_TTL_SYNTAX.test(wrapTtl)) {
    throw new UsageError('invalid value for flag -wrap-ttl: use a duration such as "30s", "5m" or a number of seconds');
  }
  let client: ApiClient | undefined;
  if (flags.bool('non-interactive')) io = nonInteractive(io);
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
          clientCert: flags.string('client-cert'),
          clientKey: flags.string('client-key'),
          tlsServerName: flags.string('tls-server-name'),
          clientTimeout: flags.string('client-timeout'),
          headers: flags.list('header'),
          outputCurlString: flags.bool('output-curl-string'),
        }),
      )),
  };
}

/** -non-interactive: a prompt at the terminal fails instead of waiting (piped stdin is still read). */
function nonInteractive(io: CliIO): CliIO {
  return {
    ...io,
    promptSecret: (prompt) => {
      if (io.isTerminal?.()) {
        const what = prompt.replace(/\s*\(will be hidden\)/, '').replace(/:\s*$/, '');
        return Promise.reject(new UsageError(`-non-interactive: "${what}" would be asked at the terminal; give it as an argument or on stdin`));
      }
      return io.promptSecret(prompt);
    },
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

/** Prints a value in the structured format asked for: indented JSON (`-format=json`) or YAML (`-format=yaml`). */
export function printJson(ctx: CommandContext, value: unknown): void {
  println(ctx, ctx.format === 'yaml' ? formatYaml(value) : formatJson(value));
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
