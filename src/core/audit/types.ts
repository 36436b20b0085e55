/**
 * Audit devices: where every request and response is recorded, one JSON
 * line each, before the request runs and after it answers (broker.ts).
 * One file per device type (file.ts, socket.ts, syslog.ts) behind this
 * interface.
 */
import { badRequest } from '../errors.ts';

/** One device: writes formatted lines; throws (or rejects) when a line could not be recorded. */
export interface AuditDevice {
  /** Records one request line (already formatted, ending with "\n"). */
  logRequest(line: string): void | Promise<void>;
  /** Records one response line. */
  logResponse(line: string): void | Promise<void>;
  /** SIGHUP: reopen the file / reconnect the socket (logrotate). */
  reopen(): Promise<void>;
  /** Flushes what is pending and releases the file or socket. */
  close(): Promise<void>;
}

/** An audit table entry as stored behind the barrier (core/audit). */
export interface AuditEntry {
  /** With a trailing "/", e.g. "file/". */
  path: string;
  type: string;
  description: string;
  options: Record<string, string>;
  local: boolean;
  uuid: string;
  accessor: string;
}

/** What the format step reads from the device's options. */
export interface FormatOptions {
  logRaw: boolean;
  hmacAccessor: boolean;
  format: 'json' | 'jsonx';
  prefix: string;
  elideListResponses: boolean;
}

/** A boolean option given as text ("true", "1", "false"...), as Vault's strconv.ParseBool reads it. */
export function boolOption(options: Record<string, string>, name: string, fallback: boolean): boolean {
  const raw = options[name];
  if (raw === undefined || raw === '') return fallback;
  const v = raw.trim().toLowerCase();
  if (['1', 't', 'true'].includes(v)) return true;
  if (['0', 'f', 'false'].includes(v)) return false;
  throw badRequest(`unable to parse "${name}": must be a boolean`);
}

/** The options every device type shares: log_raw, hmac_accessor, format, prefix, elide_list_responses. */
export function formatOptions(options: Record<string, string>): FormatOptions {
  const format = (options.format ?? 'json') || 'json';
  if (format !== 'json' && format !== 'jsonx') throw badRequest(`unknown format type "${format.slice(0, 32)}"`);
  return {
    logRaw: boolOption(options, 'log_raw', false),
    hmacAccessor: boolOption(options, 'hmac_accessor', true),
    format,
    prefix: options.prefix ?? '',
    elideListResponses: boolOption(options, 'elide_list_responses', false),
  };
}

/** A duration option ("2s", "500ms", "10") in milliseconds. */
export function durationOptionMs(options: Record<string, string>, name: string, fallbackMs: number): number {
  const raw = options[name]?.trim();
  if (!raw) return fallbackMs;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw);
  if (!m) throw badRequest(`unable to parse "${name}": must be a duration such as "2s"`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return Math.round(n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit]!);
}
