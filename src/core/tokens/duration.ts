import { badRequest } from '../errors.ts';

const UNIT_SECONDS: Record<string, number> = {
  ns: 1e-9, us: 1e-6, 'µs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600, d: 86400,
};
const DURATION = /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h|d))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)/g;

/**
 * Parses a Vault duration into whole seconds (fractions are dropped, as
 * Vault does). Accepts a non-negative integer number of seconds (number or
 * digit string), or a Go-style duration such as "90s", "30m", "1h30m",
 * "1.5h", "7d". Missing/empty means 0. `field` names the parameter in the
 * 400 error raised for anything else.
 */
export function parseTtl(value: unknown, field = 'ttl'): number {
  if (value === undefined || value === null || value === '') return 0;
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) throw badRequest(`${field} must be a non-negative whole number of seconds`);
    return value;
  }
  if (typeof value !== 'string') throw badRequest(`${field} must be a duration such as "30m" or a number of seconds`);
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  if (!DURATION.test(text)) throw badRequest(`${field} "${text}" is not a valid duration (examples: "30s", "10m", "1h")`);
  let seconds = 0;
  for (const [, amount, unit] of text.matchAll(DURATION_PART)) seconds += Number(amount) * UNIT_SECONDS[unit];
  return Math.floor(seconds + 1e-9);
}
