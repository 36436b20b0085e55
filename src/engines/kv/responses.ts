/** Answers shared by the KV versions and cubbyhole. */
import { notFound, TresorError } from '../../core/errors.ts';

/** Vault answers an operation a path does not support with 405. */
export function unsupportedOperation(): TresorError {
  return new TresorError(405, 'unsupported operation');
}

/** A list response, or 404 when the folder is empty (as Vault does). */
export function keysResponse(keys: string[]): { data: { keys: string[] } } {
  if (keys.length === 0) throw notFound();
  return { data: { keys } };
}
