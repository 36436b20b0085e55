import { parseDuration } from '../../config/config.ts';
import { badRequest, TresorError } from '../errors.ts';

/**
 * Reads an optional duration field of a token request as whole seconds,
 * using the config parser's Vault duration syntax (integer seconds, or
 * "90s", "30m", "1h30m", "1.5h", "7d"). Missing or empty means 0. Errors are
 * 400s that name `field`, so the client knows which parameter was wrong.
 */
export function parseTtl(value: unknown, field = 'ttl'): number {
  if (value === undefined || value === null || value === '') return 0;
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw badRequest(`${field} must be a duration such as "30m" or a number of seconds`);
  }
  try {
    return parseDuration(value);
  } catch (err) {
    if (err instanceof TresorError) throw badRequest(`${field}: ${err.message}`);
    throw err;
  }
}
