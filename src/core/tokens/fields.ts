import { badRequest } from '../errors.ts';

/**
 * Readers for request body fields. Like Vault's framework they accept the
 * loose forms CLIs send (booleans and numbers as strings, lists as
 * comma-separated strings) and turn anything else into a 400 naming the field.
 */

export function optionalString(data: Record<string, unknown>, field: string): string | undefined {
  const value = data[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw badRequest(`${field} must be a string`);
  return value;
}

export function optionalBool(data: Record<string, unknown>, field: string): boolean | undefined {
  const value = data[field];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw badRequest(`${field} must be a boolean`);
}

/** A non-negative integer (number or digit string); 0 when absent. */
export function nonNegativeInt(data: Record<string, unknown>, field: string): number {
  const value = data[field];
  if (value === undefined || value === null || value === '') return 0;
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw badRequest(`${field} must be a non-negative integer`);
  return n;
}

/** A list given as a JSON array of strings or one comma-separated string. */
export function optionalStringList(data: Record<string, unknown>, field: string): string[] | undefined {
  const value = data[field];
  if (value === undefined || value === null) return undefined;
  const items = typeof value === 'string' ? value.split(',') : value;
  if (!Array.isArray(items) || !items.every((item) => typeof item === 'string')) {
    throw badRequest(`${field} must be a list of strings`);
  }
  return items.map((item) => item.trim()).filter((item) => item !== '');
}

/** A flat object whose values are all strings (token metadata). */
export function optionalStringMap(data: Record<string, unknown>, field: string): Record<string, string> | undefined {
  const value = data[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw badRequest(`${field} must be an object of strings`);
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') throw badRequest(`${field}.${key} must be a string`);
    out[key] = item;
  }
  return out;
}
