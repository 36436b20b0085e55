import { internalError } from '../core/errors.ts';
import type { LogicalStorage, LogicalWrite } from './types.ts';

/**
 * Reads a JSON entry. Entries are UTF-8 JSON text (`JSON.stringify` output).
 * Returns undefined when the key is absent; a corrupt entry is a 500 whose
 * message names the key but never echoes the stored bytes.
 */
export async function getJson<T>(storage: LogicalStorage, key: string): Promise<T | undefined> {
  const raw = await storage.get(key);
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw.toString('utf8')) as T;
  } catch {
    throw internalError(`stored entry "${key}" is not valid JSON`);
  }
}

/** A put of `value` as UTF-8 JSON text, for writeAll(). */
export function jsonPut(key: string, value: unknown): LogicalWrite {
  return { op: 'put', key, value: Buffer.from(JSON.stringify(value), 'utf8') };
}

/** Writes `value` as UTF-8 JSON text under `key`. */
export async function putJson(storage: LogicalStorage, key: string, value: unknown): Promise<void> {
  await storage.put(key, Buffer.from(JSON.stringify(value), 'utf8'));
}
