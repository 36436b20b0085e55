/**
 * What the KV v2 path declarations share: the per-mount write lock, the
 * secret-path capture, and the range checks the field types cannot express.
 */
import { badRequest } from '../../../core/errors.ts';
import type { KeyedLock } from '../../../core/keyed-lock.ts';
import type { FieldData, FieldSchema } from '../../../framework/index.ts';
import { requireSecretPath } from '../params.ts';

/** One mount's state: its lock serialises the changes to each secret (and to `config`). */
export interface KvV2Mount {
  lock: KeyedLock;
}

/** The lock key of `config`; secret paths cannot contain a NUL, so it never collides with one. */
export const CONFIG_LOCK_KEY = '\0config';

/**
 * `<area>/<path>`, and `<area>` alone (an empty path: the root folder of a
 * list, a 400 for anything else).
 */
export const secretPattern = (area: string) => `${area}(?:/(?<path>.*))?`;

export const SECRET_PATH_FIELD: FieldSchema = { type: 'string', description: 'Location of the secret.' };

/**
 * Runs a change to the secret at the request's path once every earlier
 * change to it has finished. The clock is read inside the lock so versions'
 * times follow their numbers.
 */
export function changeSecret<T>(mount: KvV2Mount, fields: FieldData, work: (path: string, nowMs: number) => Promise<T>): Promise<T> {
  const path = fields.get<string>('path');
  requireSecretPath(path);
  return mount.lock.run(path, () => work(path, Date.now()));
}

/** A read of the secret at the request's path (not serialised: each read is a consistent snapshot of one entry). */
export function readSecret<T>(fields: FieldData, work: (path: string, nowMs: number) => Promise<T>): Promise<T> {
  const path = fields.get<string>('path');
  requireSecretPath(path);
  return work(path, Date.now());
}

/** An int field that must not be negative (Vault stores these as unsigned numbers). */
export function nonNegativeInt(fields: FieldData, name: string): number | undefined {
  const value = fields.getOk<number>(name);
  if (value !== undefined && value < 0) throw badRequest(`${name} must be a non-negative integer`);
  return value;
}
