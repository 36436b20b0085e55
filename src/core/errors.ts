/**
 * Typed errors that map onto HTTP statuses in one place (src/http). The
 * message is what the client sees in Vault's `{"errors": [...]}` body, so it
 * must never contain secret material (keys, tokens, PINs, plaintext).
 */
export class TresorError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Extra messages, shown after the first in the errors array. */
    readonly details: string[] = [],
  ) {
    super(message);
    this.name = 'TresorError';
  }
}

export const badRequest = (msg: string) => new TresorError(400, msg);
export const permissionDenied = (msg = 'permission denied') => new TresorError(403, msg);
export const notFound = (msg = '') => new TresorError(404, msg);
export const sealedError = () => new TresorError(503, 'Vault is sealed');
export const internalError = (msg: string) => new TresorError(500, msg);
/** A dependency (the HSM) is down: 503 keeps clients retrying, not crashing. */
export const unavailable = (msg: string) => new TresorError(503, msg);

/**
 * A client value quoted in an error, where Vault's text names it (a key type, an
 * algorithm, a mount type: never secrets), cut to 64 characters so a huge value
 * is not sent back whole.
 */
export function quoted(value: string, max = 64): string {
  return value.length > max ? `${value.slice(0, max)}...` : value;
}
