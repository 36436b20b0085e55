import { isPlainObject, type JsonObject } from '../../../core/request-fields.ts';

/**
 * JSON Merge Patch (RFC 7396): objects merge key by key, a null in the patch
 * removes the key, anything else replaces the target value wholesale.
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch;
  const result: JsonObject = {};
  if (isPlainObject(target)) for (const [key, value] of Object.entries(target)) setOwn(result, key, value);
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else setOwn(result, key, applyMergePatch(result[key], value));
  }
  return result;
}

/** Defines rather than assigns, so a "__proto__" key stays plain data. */
export function setOwn(object: JsonObject, key: string, value: unknown): void {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}
