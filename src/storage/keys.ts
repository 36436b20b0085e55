import { badRequest } from '../core/errors.ts';

/**
 * Key ordering and listing helpers shared by every storage backend, so all
 * backends sort and fold keys identically.
 */

/**
 * Compares two keys by Unicode code point, which is the same order as their
 * UTF-8 bytes (and so matches SQLite's BINARY collation and Go's sort.Strings).
 * Plain `<` compares UTF-16 code units, which misorders astral characters
 * against U+E000..U+FFFF.
 */
export function compareKeys(a: string, b: string): number {
  const len = Math.min(a.length, b.length);
  for (let i = 0; i < len; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca !== cb) return codePointRank(ca) - codePointRank(cb);
  }
  return a.length - b.length;
}

/** Lifts surrogates above the rest of the BMP so unit order equals code point order. */
function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}

/**
 * The smallest string greater than every string starting with `prefix`, or
 * undefined when no such bound exists (empty prefix, or all U+10FFFF).
 * Keys starting with `prefix` are exactly those in [prefix, successor).
 */
export function prefixSuccessor(prefix: string): string | undefined {
  const points = Array.from(prefix);
  while (points.length > 0) {
    const last = points.pop()!.codePointAt(0)!;
    if (last === 0x10ffff) continue;
    // Skip the surrogate range: those are not characters on their own.
    const next = last === 0xd7ff ? 0xe000 : last + 1;
    return points.join('') + String.fromCodePoint(next);
  }
  return undefined;
}

/**
 * One listing entry for `key` under `prefix`: the plain remainder for a
 * direct child, or the first path segment plus "/" for a deeper key.
 */
export function listingEntry(prefix: string, key: string): { name: string; isFolder: boolean } {
  const rest = key.slice(prefix.length);
  const slash = rest.indexOf('/');
  return slash === -1
    ? { name: rest, isFolder: false }
    : { name: rest.slice(0, slash + 1), isFolder: true };
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Rejects keys that cannot round-trip through UTF-8 (lone surrogates). */
export function assertValidKey(key: string): void {
  if (typeof key !== 'string' || LONE_SURROGATE.test(key)) {
    throw badRequest('storage key must be a well-formed UTF-8 string');
  }
}
