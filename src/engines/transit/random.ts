/**
 * `random`, `random/<bytes>`, `random/<source>` and `random/<source>/<bytes>`
 * `{bytes?, format?, source?}` → `{random_bytes}` (base64 by default, or hex).
 * Path values win over body values, as in Vault.
 *
 * Every source draws from the request's random source: that is the HSM mixed
 * with the OS when the mount has external_entropy_access (so "seal" and "all"
 * get what they ask for), and the OS otherwise. "platform" is accepted for
 * compatibility and gets the same bytes, which are never weaker than the OS's.
 */
import { badRequest } from '../../core/errors.ts';
import type { RandomSource } from '../../core/entropy.ts';
import type { LogicalResponse } from '../types.ts';
import { isAbsent, parseNonNegativeInt, type JsonObject } from '../../core/request-fields.ts';
import { parseOutputFormat } from './fields.ts';

const SOURCES = new Set(['platform', 'seal', 'all']);
const DEFAULT_BYTES = 32;
const MAX_BYTES = 128 * 1024;

/** Splits the path segments after `random/` into a source and a byte count. */
export function randomPathParams(segments: string[]): { source?: string; bytes?: string } {
  if (segments.length >= 2) return { source: segments[0], bytes: segments[1] };
  if (segments.length === 1) return SOURCES.has(segments[0]) ? { source: segments[0] } : { bytes: segments[0] };
  return {};
}

export async function generateRandom(data: JsonObject, fromPath: { source?: string; bytes?: string }, random: RandomSource): Promise<LogicalResponse> {
  const source = fromPath.source ?? (isAbsent(data.source) ? 'platform' : data.source);
  if (typeof source !== 'string' || !SOURCES.has(source)) throw badRequest('"source" must be "platform", "seal" or "all"');
  const rawBytes = fromPath.bytes ?? data.bytes;
  const bytes = isAbsent(rawBytes) ? DEFAULT_BYTES : parseNonNegativeInt(rawBytes, 'bytes');
  if (bytes < 1 || bytes > MAX_BYTES) throw badRequest(`"bytes" must be between 1 and ${MAX_BYTES}`);
  const format = parseOutputFormat(data.format, 'base64');
  return { data: { random_bytes: (await random(bytes)).toString(format) } };
}
