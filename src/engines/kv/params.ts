/**
 * KV wire formats: Go-style durations and timestamps as Vault prints them,
 * and the shape rules for secret paths. Field parsing lives in
 * core/request-fields.ts.
 */
import { badRequest } from '../../core/errors.ts';

/**
 * Formats milliseconds the way Go's time.Duration prints (Vault's wire form):
 * "0s", "500ms", "1.5s", "1m30s", "1h0m0s".
 */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = (ms % 60_000) / 1000;
  return (hours > 0 ? `${hours}h` : '') + (hours > 0 || minutes > 0 ? `${minutes}m` : '') + `${seconds}s`;
}

/**
 * RFC 3339 UTC with nine fractional digits, like Vault's timestamps
 * ("2018-03-22T02:24:06.945000000Z"); Node's clock has millisecond precision.
 */
export function formatTimestamp(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

/**
 * A secret's path inside the mount: not empty, no leading or trailing "/",
 * no empty segments (which would make the storage layout ambiguous).
 */
export function isValidSecretPath(path: string): boolean {
  return path.length > 0 && !path.split('/').includes('');
}

export function requireSecretPath(path: string): void {
  if (!isValidSecretPath(path)) throw badRequest('invalid secret path: it must be non-empty and must not start or end with "/" or contain "//"');
}

/** The folder a list operation names: "" for the root, otherwise ending in "/". */
export function listPrefix(path: string): string {
  if (path === '' || path.endsWith('/')) return path;
  return `${path}/`;
}
