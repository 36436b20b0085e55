/**
 * The Vault "secret" response envelope and how the CLI shows it: as a
 * Key/Value table (lease, auth and data rows), as JSON, or one raw field.
 * Also the `k=v` / `k=@file` / `-` argument syntax commands use for data.
 */
import fs from 'node:fs';
import { UsageError } from './args.ts';
import { println, type CommandContext } from './command.ts';
import { formatKeyValue, humanDuration, tableCell } from './format.ts';
import { formatStructured, printFieldValue } from './output.ts';

export interface SecretAuth {
  client_token?: string;
  accessor?: string;
  policies?: string[] | null;
  token_policies?: string[] | null;
  identity_policies?: string[] | null;
  metadata?: Record<string, string> | null;
  lease_duration?: number;
  renewable?: boolean;
}

/** Vault's `wrap_info`: the single-use token that holds a wrapped answer. */
export interface WrapInfo {
  token?: string;
  accessor?: string;
  ttl?: number;
  creation_time?: string;
  creation_path?: string;
  wrapped_accessor?: string;
}

export interface Secret {
  request_id?: string;
  lease_id?: string;
  lease_duration?: number;
  renewable?: boolean;
  data?: Record<string, unknown> | null;
  auth?: SecretAuth | null;
  warnings?: string[] | null;
  wrap_info?: WrapInfo | null;
}

/** Go's time.String() for an RFC 3339 UTC time, as Vault's table shows creation times. */
function goTimeString(rfc3339: string): string {
  return /^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(rfc3339) ? `${rfc3339.replace('T', ' ').slice(0, -1)} +0000 UTC` : rfc3339;
}

/** The wrap rows of Vault's table (its keys end in a colon); wrapped_accessor only when set. */
function wrapRows(info: WrapInfo): [string, unknown][] {
  const rows: [string, unknown][] = [
    ['wrapping_token:', info.token ?? ''],
    ['wrapping_accessor:', info.accessor ?? ''],
    ['wrapping_token_ttl:', humanDuration(info.ttl ?? 0)],
    ['wrapping_token_creation_time:', goTimeString(info.creation_time ?? '')],
    ['wrapping_token_creation_path:', info.creation_path ?? ''],
  ];
  if (info.wrapped_accessor) rows.push(['wrapped_accessor:', info.wrapped_accessor]);
  return rows;
}

/** Auth rows as Vault names them; a zero duration means the token never expires. */
function authRows(auth: SecretAuth): [string, unknown][] {
  const rows: [string, unknown][] = [
    ['token', auth.client_token ?? ''],
    ['token_accessor', auth.accessor ?? ''],
    ['token_duration', auth.lease_duration ? humanDuration(auth.lease_duration) : '∞'],
    ['token_renewable', Boolean(auth.renewable)],
    ['token_policies', auth.token_policies ?? []],
    ['identity_policies', auth.identity_policies ?? []],
    ['policies', auth.policies ?? []],
  ];
  for (const k of Object.keys(auth.metadata ?? {}).sort()) rows.push([`token_meta_${k}`, auth.metadata![k]]);
  return rows;
}

/** The rows of a secret's table: lease info, then auth, then data keys sorted. */
export function secretRows(secret: Secret): [string, unknown][] {
  const rows: [string, unknown][] = [];
  if ((secret.lease_duration ?? 0) > 0) {
    if (secret.lease_id) {
      rows.push(['lease_id', secret.lease_id], ['lease_duration', humanDuration(secret.lease_duration!)], ['lease_renewable', Boolean(secret.renewable)]);
    } else {
      // Static secrets (kv) carry a TTL but no lease; Vault calls it a refresh interval.
      rows.push(['refresh_interval', humanDuration(secret.lease_duration!)]);
    }
  }
  if (secret.auth) rows.push(...authRows(secret.auth));
  if (secret.wrap_info) rows.push(...wrapRows(secret.wrap_info));
  const data = secret.data ?? {};
  for (const k of Object.keys(data).sort()) rows.push([k, tableCell(k, data[k])]);
  return rows;
}

/** Envelope keys of Vault's logical responses; a body with none of them is a raw sys answer. */
const ENVELOPE_KEYS = ['request_id', 'lease_id', 'data', 'auth', 'wrap_info', 'warnings'];

/**
 * A response as a Secret. Raw sys answers (sys/health, sys/seal-status,
 * sys/seal-backend-status) have no `data`: their fields become the data, so
 * `read` shows them rather than an empty table.
 */
export function asSecret(body: Record<string, unknown> | null): Secret {
  if (!body) return {};
  if (ENVELOPE_KEYS.some((k) => k in body)) return body as Secret;
  return { data: body };
}

/** Prints server warnings to stderr, as Vault does, so stdout stays parseable. */
export function printWarnings(ctx: CommandContext, secret: Secret | null): void {
  const warnings = secret?.warnings ?? [];
  if (warnings.length === 0) return;
  ctx.io.stderr(`WARNING! The following warnings were returned from the server:\n\n${warnings.map((w) => `  * ${w}`).join('\n')}\n\n`);
}

/** Prints a secret in the chosen format, or just `-field` when given. */
export function printSecret(ctx: CommandContext, secret: Secret): number {
  const field = ctx.flags.string('field');
  if (field) return printField(ctx, secret, field);
  if (ctx.format !== 'table') {
    println(ctx, formatStructured(ctx, secret));
    return 0;
  }
  printWarnings(ctx, secret);
  const rows = secretRows(secret);
  if (rows.length > 0) println(ctx, formatKeyValue(rows));
  return 0;
}

/**
 * Vault's raw value of `field`: a data key, or one of the table's own names
 * (token, token_accessor, lease_id, refresh_interval, wrapping_token...),
 * durations as seconds.
 */
export function rawField(secret: Secret, field: string): unknown {
  const data = secret.data ?? {};
  const auth = secret.auth;
  const wrap = secret.wrap_info;
  if (auth) {
    const fromAuth: Record<string, unknown> = {
      token: auth.client_token,
      token_accessor: auth.accessor,
      token_duration: auth.lease_duration,
      token_renewable: auth.renewable,
      token_policies: auth.token_policies ?? auth.policies,
      identity_policies: auth.identity_policies,
      policies: auth.policies,
    };
    if (field in fromAuth) return fromAuth[field];
    if (field.startsWith('token_meta_') && auth.metadata) return auth.metadata[field.slice('token_meta_'.length)];
  }
  if (wrap) {
    const fromWrap: Record<string, unknown> = {
      wrapping_token: wrap.token,
      wrapping_accessor: wrap.accessor,
      wrapping_token_ttl: wrap.ttl,
      wrapping_token_creation_time: wrap.creation_time,
      wrapping_token_creation_path: wrap.creation_path,
      wrapped_accessor: wrap.wrapped_accessor,
    };
    if (field in fromWrap) return fromWrap[field];
  }
  if (field in data) return data[field];
  const fromEnvelope: Record<string, unknown> = {
    lease_id: secret.lease_id,
    lease_duration: secret.lease_duration,
    lease_renewable: secret.renewable,
    renewable: secret.renewable,
    refresh_interval: secret.lease_duration,
    request_id: secret.request_id,
  };
  return fromEnvelope[field];
}

/** Prints one field's raw value (strings unquoted, objects as JSON in -format=json). */
export function printField(ctx: CommandContext, secret: Secret, field: string): number {
  return printFieldValue(ctx, field, rawField(secret, field));
}

/**
 * Parses data arguments the way Vault's CLI does:
 * `k=v` a string; `k=@file` the file's contents; `k=-` stdin; a lone `-`
 * stdin holding a JSON object (or `k=v` lines). A repeated key collects its
 * values into an array.
 */
export async function parseDataArgs(ctx: CommandContext, args: string[]): Promise<Record<string, unknown>> {
  if (args.length === 1 && args[0] === '-') return parseStdinObject(await ctx.io.readStdin());
  const out: Record<string, unknown> = {};
  let stdinUsed = false;
  for (const [index, arg] of args.entries()) {
    const eq = arg.indexOf('=');
    // The argument itself is not echoed: a mistyped one may well be a secret value.
    if (eq <= 0) throw new UsageError(`data argument ${index + 1} is not a key=value pair`);
    const key = arg.slice(0, eq);
    let value = arg.slice(eq + 1);
    if (value === '-') {
      if (stdinUsed) throw new UsageError('only one value can be read from stdin');
      stdinUsed = true;
      value = (await ctx.io.readStdin()).replace(/\r?\n$/, '');
    } else if (value.startsWith('@')) {
      value = readDataFile(value.slice(1), key);
    }
    const prev = out[key];
    out[key] = prev === undefined ? value : [...(Array.isArray(prev) ? prev : [prev]), value];
  }
  return out;
}

function readDataFile(path: string, key: string): string {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`could not read file "${path}" for key "${key}": ${(err as NodeJS.ErrnoException).code ?? 'read error'}`);
  }
}

/** Stdin data: a JSON object, or `k=v` lines when it is not JSON. */
export function parseStdinObject(text: string): Record<string, unknown> {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      throw new UsageError('stdin does not hold a valid JSON object');
    }
  }
  const out: Record<string, unknown> = {};
  for (const line of trimmed.split(/\r?\n/).filter((l) => l.trim() !== '')) {
    const eq = line.indexOf('=');
    if (eq <= 0) throw new UsageError('stdin must hold a JSON object or key=value lines');
    out[line.slice(0, eq).trim()] = line.slice(eq + 1);
  }
  return out;
}
