/**
 * The access check run on every request, with Vault's semantics: an exact
 * pattern beats any wildcard; otherwise the matching wildcard pattern of
 * highest priority (see pattern.ts) decides alone. Rules for the same pattern
 * from several policies are merged, and `deny` in the deciding rule denies.
 */
import type { Operation } from '../../engines/types.ts';
import { CAPABILITIES, type Capability, type Policy } from './policy.ts';
import { comparePriority, compilePattern, isExactPattern, patternMatches, type CompiledPattern } from './pattern.ts';

const BIT = Object.fromEntries(CAPABILITIES.map((c, i) => [c, 1 << i])) as Record<Capability, number>;
/** Alphabetical, as sys/capabilities-self lists them. */
const NAMES_SORTED = [...CAPABILITIES].filter((c) => c !== 'deny').sort();
const RESULT_CACHE_LIMIT = 4096;

interface WildcardRule extends CompiledPattern {
  bits: number;
}

export interface AccessDecision {
  allowed: boolean;
  /** The deciding rule grants `sudo` (needed on root-protected paths). */
  sudo: boolean;
}

export class ACL {
  readonly root: boolean;
  private readonly exact = new Map<string, number>();
  /** Highest priority first, so the first match decides. */
  private readonly wildcards: WildcardRule[];
  /** path -> capability bits (undefined = no rule); bounded. */
  private readonly cache = new Map<string, number | undefined>();

  constructor(policies: readonly Policy[]) {
    this.root = policies.some((p) => p.name === 'root');
    const merged = new Map<string, number>();
    for (const policy of policies) {
      for (const rule of policy.rules) {
        const bits = rule.capabilities.reduce((acc, c) => acc | BIT[c], 0);
        merged.set(rule.path, (merged.get(rule.path) ?? 0) | bits);
      }
    }
    const wildcards: WildcardRule[] = [];
    for (const [pattern, bits] of merged) {
      if (isExactPattern(pattern)) this.exact.set(pattern, bits);
      else wildcards.push({ ...compilePattern(pattern), bits });
    }
    this.wildcards = wildcards.sort((a, b) => comparePriority(b, a));
  }

  /**
   * What sys/capabilities-self reports for `path`: `["root"]` for the root
   * policy, `["deny"]` when no rule matches or the deciding rule denies,
   * otherwise the granted capability names in alphabetical order.
   */
  capabilities(path: string): string[] {
    if (this.root) return ['root'];
    const bits = this.lookup(path);
    if (bits === undefined || bits & BIT.deny || bits === 0) return ['deny'];
    return NAMES_SORTED.filter((c) => bits & BIT[c]);
  }

  /**
   * Whether any rule grants something (not deny) on a path below `prefix`:
   * what decides if a caller may learn that a mount exists
   * (sys/internal/ui/mounts), as Vault's mount-access check does.
   */
  hasAccessUnder(prefix: string): boolean {
    if (this.root) return true;
    const grants = (bits: number) => bits !== 0 && !(bits & BIT.deny);
    for (const [path, bits] of this.exact) if (path.startsWith(prefix) && grants(bits)) return true;
    for (const rule of this.wildcards) {
      const literal = rule.pattern.slice(0, rule.firstWildcard);
      if ((literal.startsWith(prefix) || prefix.startsWith(literal)) && grants(rule.bits)) return true;
    }
    return false;
  }

  /** Whether `op` on `path` is allowed, and whether sudo is granted there. */
  allowed(path: string, op: Operation): AccessDecision {
    if (this.root) return { allowed: true, sudo: true };
    let bits = this.exact.get(path);
    // A list of "foo/" is also governed by an exact rule on "foo" (as in Vault).
    if (bits === undefined && op === 'list' && path.endsWith('/')) bits = this.exact.get(path.slice(0, -1));
    if (bits === undefined) bits = this.lookup(path);
    if (bits === undefined || bits & BIT.deny) return { allowed: false, sudo: false };
    return { allowed: (bits & BIT[op]) !== 0, sudo: (bits & BIT.sudo) !== 0 };
  }

  private lookup(path: string): number | undefined {
    const exact = this.exact.get(path);
    if (exact !== undefined) return exact;
    if (this.cache.has(path)) return this.cache.get(path);
    let parts: string[] | undefined;
    const pathParts = () => (parts ??= path.split('/'));
    const rule = this.wildcards.find((w) => patternMatches(w, path, pathParts));
    if (this.cache.size >= RESULT_CACHE_LIMIT) this.cache.clear();
    this.cache.set(path, rule?.bits);
    return rule?.bits;
  }
}
