/**
 * Compiled policy path patterns and Vault's priority order between them.
 *
 * A trailing `*` makes a prefix glob; a `+` segment matches exactly one path
 * segment. Any other character, including a `*` elsewhere, is literal.
 */

export interface CompiledPattern {
  /** The pattern as written (trailing `*` included). */
  pattern: string;
  /** Ends in `*`: the last segment is a prefix and more segments may follow. */
  isPrefix: boolean;
  /** Pattern without the trailing `*`. */
  stem: string;
  /** Split on "/" when the pattern has `+` segments; otherwise undefined. */
  segments?: string[];
  /** Offset of the first `+` segment or of the glob. */
  firstWildcard: number;
  wildcardCount: number;
}

export function isExactPattern(pattern: string): boolean {
  return !pattern.endsWith('*') && !pattern.split('/').includes('+');
}

export function compilePattern(pattern: string): CompiledPattern {
  const isPrefix = pattern.endsWith('*');
  const stem = isPrefix ? pattern.slice(0, -1) : pattern;
  const parts = stem.split('/');
  const wildcardCount = parts.filter((p) => p === '+').length;
  let firstWildcard = isPrefix ? stem.length : pattern.length;
  let offset = 0;
  for (const part of parts) {
    if (part === '+') {
      firstWildcard = Math.min(firstWildcard, offset);
      break;
    }
    offset += part.length + 1;
  }
  return { pattern, isPrefix, stem, segments: wildcardCount > 0 ? parts : undefined, firstWildcard, wildcardCount };
}

/** Whether a non-exact pattern matches `path`; `pathParts` is path.split("/"). */
export function patternMatches(p: CompiledPattern, path: string, pathParts: () => string[]): boolean {
  if (!p.segments) return path.startsWith(p.stem);
  const parts = pathParts();
  const segments = p.segments;
  if (parts.length < segments.length || (!p.isPrefix && parts.length !== segments.length)) return false;
  const last = segments.length - 1;
  for (let i = 0; i <= last; i++) {
    const want = segments[i];
    if (want === '+' || want === parts[i]) continue;
    if (p.isPrefix && i === last && parts[i].startsWith(want)) continue;
    return false;
  }
  return true;
}

/**
 * Vault's priority between two matching non-exact patterns; positive when
 * `a` wins. In order: the later first wildcard wins; not ending in `*` wins;
 * fewer `+` segments win; the longer pattern wins; the lexically larger wins.
 */
export function comparePriority(a: CompiledPattern, b: CompiledPattern): number {
  if (a.firstWildcard !== b.firstWildcard) return a.firstWildcard - b.firstWildcard;
  if (a.isPrefix !== b.isPrefix) return a.isPrefix ? -1 : 1;
  if (a.wildcardCount !== b.wildcardCount) return b.wildcardCount - a.wildcardCount;
  if (a.pattern.length !== b.pattern.length) return a.pattern.length - b.pattern.length;
  return a.pattern < b.pattern ? -1 : a.pattern > b.pattern ? 1 : 0;
}
