import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { TresorError } from '../core/errors.ts';

/**
 * Limits on request bodies, applied before any JSON is parsed.
 *
 * Nesting depth: Vault's listener default `max_json_depth` is 500. Tresor
 * uses the same cap for every body: request handlers and engines walk
 * values recursively (kv v2 merge patch, JSON storage), and 500 levels are
 * far inside what Node's stack takes, while a body of tens of thousands of
 * levels would overflow it.
 */
export const MAX_JSON_DEPTH = 500;

/**
 * Largest body accepted on the unauthenticated endpoints (sys/init,
 * sys/unseal, sys/rekey*, sys/generate-root*, sys/seal-status, sys/health,
 * sys/leader...) and on any request without a token, which can only be
 * refused. The biggest legitimate one is sys/init (or a rekey start) with a
 * PGP key per share: an RSA-4096 public key is about 3.2 KB of base64 (4.3 KB
 * if the key file was ASCII-armored), so 10 unseal keys, 10 recovery keys and
 * a root token key come to some 90 KB. 256 KiB leaves room for that (about 60
 * armored RSA-4096 keys) while keeping what an anonymous client can make the
 * server buffer and parse small. Requests with a token keep the listener's
 * max_request_size.
 */
export const UNAUTHENTICATED_BODY_LIMIT = 256 * 1024;

export const bodyTooLarge = () => new TresorError(413, 'http: request body too large');

const OPEN_OBJECT = 0x7b; // {
const OPEN_ARRAY = 0x5b; // [
const CLOSE_OBJECT = 0x7d; // }
const CLOSE_ARRAY = 0x5d; // ]
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \

/**
 * Whether the JSON text in `bytes` nests objects/arrays deeper than `max`.
 * A linear byte scan (structural characters are ASCII, so UTF-8 needs no
 * decoding) that skips string contents; malformed input is left for
 * JSON.parse to reject.
 */
export function jsonTooDeep(bytes: Uint8Array, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > max) return true;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) depth--;
  }
  return false;
}

/**
 * Parses a request body as JSON: `{}` when empty or `null` (Vault decodes
 * JSON null into an empty request); 400 in Vault's wording when invalid or
 * nested too deep.
 */
export function parseJsonBody(body: Buffer, maxDepth = MAX_JSON_DEPTH): unknown {
  if (body.length === 0) return {};
  if (jsonTooDeep(body, maxDepth)) {
    throw new TresorError(400, 'failed to parse JSON input: JSON input exceeds allowed nesting depth');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new TresorError(400, 'failed to parse JSON input: the request body is not valid JSON');
  }
  return parsed === null ? {} : parsed;
}

/**
 * Passes a request body through while it stays within `limit` bytes; past
 * that it fails with a 413 and lets the rest of the body drain unbuffered
 * (so the connection stays usable and nothing more is held in memory).
 */
export function limitBody(payload: Readable, limit: number): Readable {
  let seen = 0;
  const limited = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      seen += chunk.length;
      if (seen > limit) {
        payload.unpipe(limited);
        payload.resume();
        cb(bodyTooLarge());
        return;
      }
      cb(null, chunk);
    },
  });
  payload.on('error', (err) => limited.destroy(err));
  return payload.pipe(limited);
}
