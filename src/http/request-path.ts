import { badRequest } from '../core/errors.ts';
import type { Operation } from '../engines/types.ts';

export interface ParsedUrl {
  /** Path below /v1/, decoded, no leading or repeated slashes. */
  path: string;
  query: URLSearchParams;
}

/**
 * Splits a request URL into the API path and query. Paths are decoded once
 * and refused when decoding would change their meaning for routing or ACLs:
 * encoded slashes, `.`/`..` segments, backslashes, control characters. The
 * ACL then sees exactly the path the engine will act on.
 */
export function parseApiUrl(rawUrl: string): ParsedUrl | undefined {
  const q = rawUrl.indexOf('?');
  const rawPath = q === -1 ? rawUrl : rawUrl.slice(0, q);
  const query = new URLSearchParams(q === -1 ? '' : rawUrl.slice(q + 1));
  if (!rawPath.startsWith('/v1/') && rawPath !== '/v1') return undefined;
  const segments = rawPath.slice(4).split('/');
  const decoded: string[] = [];
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i];
    // Only a trailing slash may leave an empty segment ("secret/" for a list).
    if (seg === '' && i < segments.length - 1) throw badRequest('invalid request path: empty path segment');
    let text: string;
    try {
      text = decodeURIComponent(seg);
    } catch {
      throw badRequest('invalid request path: bad percent-encoding');
    }
    if (text.includes('/')) throw badRequest('invalid request path: encoded "/" is not allowed');
    if (text === '.' || text === '..') throw badRequest('invalid request path: "." and ".." segments are not allowed');
    if (/[\\\u0000-\u001f\u007f]/.test(text)) throw badRequest('invalid request path: control characters and "\\" are not allowed');
    decoded.push(text);
  }
  return { path: decoded.join('/'), query };
}

/** Maps an HTTP method (and `?list=true`) onto Vault's logical operation. */
export function operationFor(method: string, query: URLSearchParams): Operation | undefined {
  switch (method) {
    case 'GET':
      // Vault reads `list` with Go's ParseBool (node-vault sends list=1).
      return ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(query.get('list') ?? '') ? 'list' : 'read';
    case 'LIST':
      return 'list';
    case 'POST':
    case 'PUT':
      return 'update';
    case 'DELETE':
      return 'delete';
    case 'PATCH':
      return 'patch';
    default:
      return undefined;
  }
}
