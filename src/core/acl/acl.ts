/**
 * The access check run on every request, with Vault's semantics: an exact
 * pattern beats any wildcard; otherwise the matching wildcard pattern of
 * highest priority (see pattern.ts) decides alone. Rules for the same pattern
 * from several policies are merged, and `deny` in the deciding rule denies.
 *
 * Besides capabilities, the deciding rule may constrain the request: its
 * parameters (`allowed_parameters`, `denied_parameters`,
 * `required_parameters`, checked on read, create, update and patch) and the
 * response-wrapping TTL the client asked for (`min_wrapping_ttl`,
 * `max_wrapping_ttl`). A request failing any of them is refused like a
 * missing capability: the caller learns only "permission denied".
 */
import type { Operation } from '../../engines/types.ts';
import { CAPABILITIES, type Capability, type ParameterValue, type PathRule, type Policy } from './policy.ts';
import { comparePriority, compilePattern, isExactPattern, patternMatches, type CompiledPattern } from './pattern.ts';

const BIT = Object.fromEntries(CAPABILITIES.map((c, i) => [c, 1 << i])) as Record<Capability, number>;
/** Alphabetical, as sys/capabilities-self lists them. */
const NAMES_SORTED = [...CAPABILITIES].filter((c) => c !== 'deny').sort();
const RESULT_CACHE_LIMIT = 4096;
/** The operations whose parameters a policy constrains (Vault's list). */
const PARAMETER_CHECKED: ReadonlySet<Operation> = new Set<Operation>(['read', 'create', 'update', 'patch']);

type ParameterMap = Map<string, ParameterValue[]>;

/** One pattern's rules, merged across every policy that names it. */
interface Permissions {
  bits: number;
  /** Undefined: no constraint. An empty value list admits any value. */
  allowed?: ParameterMap;
  denied?: ParameterMap;
  required: string[];
  /** Seconds; 0 = no bound. */
  minWrap: number;
  maxWrap: number;
}

interface WildcardRule extends CompiledPattern {
  perms: Permissions;
}

/** What the ACL needs to know about a request besides its path and operation. */
export interface AclRequest {
  /** The request's parameters as the engine sees them (JSON body merged with the query). */
  data?: Record<string, unknown>;
  /** The wrap TTL asked for with X-Vault-Wrap-TTL, in seconds; undefined when not asked. */
  wrapTtlSeconds?: number;
}

export interface AccessDecision {
  allowed: boolean;
  /** The deciding rule grants `sudo` (needed on root-protected paths). */
  sudo: boolean;
}

export class ACL {
  readonly root: boolean;
  private readonly exact = new Map<string, Permissions>();
  /** Highest priority first, so the first match decides. */
  private readonly wildcards: WildcardRule[];
  /** The wildcard rules by their literal part (before the first wildcard), so a check visits only rules that can match. */
  private readonly index: LiteralPrefixIndex;
  /** path -> deciding wildcard rule (undefined = none); bounded. */
  private readonly cache = new Map<string, Permissions | undefined>();

  constructor(policies: readonly Policy[]) {
    this.root = policies.some((p) => p.name === 'root');
    const merged = new Map<string, Permissions>();
    for (const policy of policies) {
      for (const rule of policy.rules) {
        const existing = merged.get(rule.path);
        if (existing) mergeRule(existing, rule);
        else merged.set(rule.path, fromRule(rule));
      }
    }
    const wildcards: WildcardRule[] = [];
    for (const [pattern, perms] of merged) {
      if (isExactPattern(pattern)) this.exact.set(pattern, perms);
      else wildcards.push({ ...compilePattern(pattern), perms });
    }
    this.wildcards = wildcards.sort((a, b) => comparePriority(b, a));
    this.index = new LiteralPrefixIndex(this.wildcards.map((w) => w.pattern.slice(0, w.firstWildcard)));
  }

  /**
   * What sys/capabilities-self reports for `path`: `["root"]` for the root
   * policy, `["deny"]` when no rule matches or the deciding rule denies,
   * otherwise the granted capability names in alphabetical order.
   */
  capabilities(path: string): string[] {
    if (this.root) return ['root'];
    const bits = (this.exact.get(path) ?? this.nonExact(path))?.bits;
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
    for (const [path, perms] of this.exact) if (path.startsWith(prefix) && grants(perms.bits)) return true;
    for (const rule of this.wildcards) {
      const literal = rule.pattern.slice(0, rule.firstWildcard);
      if ((literal.startsWith(prefix) || prefix.startsWith(literal)) && grants(rule.perms.bits)) return true;
    }
    return false;
  }

  /**
   * Whether `op` on `path` is allowed, and whether sudo is granted there.
   * Without `request` only the capabilities are compared; with it, the
   * deciding rule's parameter and wrapping-TTL constraints apply as well
   * (what a real request must pass).
   */
  allowed(path: string, op: Operation, request?: AclRequest): AccessDecision {
    if (this.root) return { allowed: true, sudo: true };
    const perms = this.decidingRule(path, op);
    if (perms === undefined || perms.bits & BIT.deny) return { allowed: false, sudo: false };
    const sudo = (perms.bits & BIT.sudo) !== 0;
    if ((perms.bits & BIT[op]) === 0) return { allowed: false, sudo };
    if (request === undefined) return { allowed: true, sudo };
    return { allowed: wrapTtlAllowed(perms, request.wrapTtlSeconds) && parametersAllowed(perms, op, request.data ?? {}), sudo };
  }

  /**
   * Vault's order: the exact rule; for a list, the exact rule without the
   * trailing slash ("foo" governs a list of "foo/"); the wildcard rules on
   * the path; and for a list, only then the wildcard rules on the path
   * without its slash. That last step lets `kv/+/dir` govern a list of
   * `kv/x/dir/`, and coming last it cannot override a rule such as
   * `kv/dir/*` that matches the listed folder itself.
   */
  private decidingRule(path: string, op: Operation): Permissions | undefined {
    const trimmed = op === 'list' && path.endsWith('/') ? path.slice(0, -1) : undefined;
    return (
      this.exact.get(path) ??
      (trimmed !== undefined ? this.exact.get(trimmed) : undefined) ??
      this.nonExact(path) ??
      (trimmed !== undefined ? this.nonExact(trimmed) : undefined)
    );
  }

  /** The highest-priority wildcard rule matching `path`. */
  private nonExact(path: string): Permissions | undefined {
    if (this.cache.has(path)) return this.cache.get(path);
    let parts: string[] | undefined;
    const pathParts = () => (parts ??= path.split('/'));
    let rule: WildcardRule | undefined;
    // Candidates come in priority order: the first that matches decides, as in a scan of every rule.
    for (const i of this.index.candidates(path)) {
      if (patternMatches(this.wildcards[i], path, pathParts)) {
        rule = this.wildcards[i];
        break;
      }
    }
    // Bounded: the oldest entry makes room (Map keeps insertion order), so hot paths are not all dropped at once.
    if (this.cache.size >= RESULT_CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(path, rule?.perms);
    return rule?.perms;
  }
}

/**
 * A character trie over the rules' literal prefixes. Walking a path down it
 * meets every rule whose literal prefix the path starts with — the only
 * rules that can match it — in O(path length), however many rules there are.
 */
class LiteralPrefixIndex {
  private readonly root: TrieNode = { children: new Map(), rules: [] };

  /** `literals[i]` is rule i's literal prefix; rule indices are in priority order. */
  constructor(literals: string[]) {
    literals.forEach((literal, i) => {
      let node = this.root;
      for (const ch of literal) {
        let next = node.children.get(ch);
        if (!next) node.children.set(ch, (next = { children: new Map(), rules: [] }));
        node = next;
      }
      node.rules.push(i);
    });
  }

  /** The indices of the rules whose literal prefix starts `path`, highest priority first. */
  candidates(path: string): number[] {
    const found: number[] = [...this.root.rules];
    let node: TrieNode | undefined = this.root;
    for (const ch of path) {
      node = node.children.get(ch);
      if (!node) break;
      for (const i of node.rules) found.push(i);
    }
    return found.length > 1 ? found.sort((a, b) => a - b) : found;
  }
}

interface TrieNode {
  children: Map<string, TrieNode>;
  rules: number[];
}

function capabilityBits(rule: PathRule): number {
  return rule.capabilities.reduce((acc, c) => acc | BIT[c], 0);
}

function toMap(params: Record<string, ParameterValue[]> | undefined): ParameterMap | undefined {
  return params === undefined ? undefined : new Map(Object.entries(params).map(([k, v]) => [k, [...v]]));
}

function fromRule(rule: PathRule): Permissions {
  const bits = capabilityBits(rule);
  // A deny rule carries nothing else (its constraints are never consulted).
  if (bits & BIT.deny) return { bits: BIT.deny, required: [], minWrap: 0, maxWrap: 0 };
  return {
    bits,
    allowed: toMap(rule.allowedParameters),
    denied: toMap(rule.deniedParameters),
    required: [...(rule.requiredParameters ?? [])],
    minWrap: rule.minWrappingTtl ?? 0,
    maxWrap: rule.maxWrappingTtl ?? 0,
  };
}

/**
 * Folds another rule for the same pattern into `into`, as Vault merges
 * them: deny absorbs everything; capabilities are unioned; of two wrapping
 * bounds the smaller wins; parameter value lists are concatenated, an
 * empty list (any value) absorbing the other; required parameters are unioned.
 */
function mergeRule(into: Permissions, rule: PathRule): void {
  if (into.bits & BIT.deny) return;
  const bits = capabilityBits(rule);
  if (bits & BIT.deny) {
    into.bits = BIT.deny;
    into.allowed = undefined;
    into.denied = undefined;
    return;
  }
  into.bits |= bits;
  const smaller = (a: number, b: number | undefined) => (b !== undefined && b > 0 && (a === 0 || b < a) ? b : a);
  into.maxWrap = smaller(into.maxWrap, rule.maxWrappingTtl);
  into.minWrap = smaller(into.minWrap, rule.minWrappingTtl);
  into.allowed = mergeParameters(into.allowed, rule.allowedParameters);
  into.denied = mergeParameters(into.denied, rule.deniedParameters);
  for (const name of rule.requiredParameters ?? []) if (!into.required.includes(name)) into.required.push(name);
}

function mergeParameters(into: ParameterMap | undefined, add: Record<string, ParameterValue[]> | undefined): ParameterMap | undefined {
  if (add === undefined || Object.keys(add).length === 0) return into;
  if (into === undefined) return toMap(add);
  for (const [key, values] of Object.entries(add)) {
    const existing = into.get(key);
    into.set(key, values.length === 0 || (existing !== undefined && existing.length === 0) ? [] : [...values, ...(existing ?? [])]);
  }
  return into;
}

/**
 * With a max bound the request must ask for wrapping at most that long, with
 * a min bound at least that long. A wrap TTL of 0 asks for no wrapping, so
 * it counts as unwrapped.
 */
function wrapTtlAllowed(perms: Permissions, wrapTtl: number | undefined): boolean {
  const ttl = wrapTtl ?? 0;
  if (perms.maxWrap > 0 && (ttl <= 0 || ttl > perms.maxWrap)) return false;
  if (perms.minWrap > 0 && (ttl <= 0 || ttl < perms.minWrap)) return false;
  // Merging can leave the bounds crossed: then nothing passes.
  if (perms.minWrap > 0 && perms.maxWrap > 0 && perms.maxWrap < perms.minWrap) return false;
  return true;
}

/**
 * Vault's parameter check: every required parameter present; then (when
 * the request has any parameter) none denied, a denied `*` refusing them
 * all; then, when allowed parameters are listed, each parameter listed
 * (or `*` listed) with an admitted value. Names compare case-insensitively.
 */
function parametersAllowed(perms: Permissions, op: Operation, data: Record<string, unknown>): boolean {
  if (!PARAMETER_CHECKED.has(op)) return true;
  for (const name of perms.required) if (!Object.hasOwn(data, name.toLowerCase())) return false;
  const entries = Object.entries(data);
  if (entries.length === 0) return true;
  const { denied, allowed } = perms;
  if (denied !== undefined && denied.size > 0) {
    if (denied.has('*')) return false;
    for (const [name, value] of entries) {
      const values = denied.get(name.toLowerCase());
      if (values !== undefined && inDeniedValues(value, values)) return false;
    }
  }
  if (allowed === undefined || allowed.size === 0) return true;
  const anyName = allowed.has('*');
  if (anyName && allowed.size === 1) return true;
  for (const [name, value] of entries) {
    const values = allowed.get(name.toLowerCase());
    if (values === undefined) {
      if (!anyName) return false;
    } else if (!inAllowedValues(value, values)) {
      return false;
    }
  }
  return true;
}

/**
 * An allowed value list admits a value that matches one of its entries;
 * a list (or a comma-separated string, as list fields accept) when every
 * item does.
 */
function inAllowedValues(value: unknown, values: ParameterValue[]): boolean {
  if (values.length === 0 || matchesAny(value, values)) return true;
  if (Array.isArray(value)) return value.every((item) => matchesAny(item, values));
  if (typeof value === 'string') return commaItems(value).every((item) => matchesAny(item, values));
  return false;
}

/** A denied value list refuses a value matching one of its entries, or a list (comma string) with any item that does. */
function inDeniedValues(value: unknown, values: ParameterValue[]): boolean {
  if (values.length === 0 || matchesAny(value, values)) return true;
  if (Array.isArray(value)) return value.some((item) => matchesAny(item, values));
  if (typeof value === 'string') return commaItems(value).some((item) => matchesAny(item, values));
  return false;
}

/** Strings compare with a leading and/or trailing `*` glob; numbers and booleans by value and type. */
function matchesAny(value: unknown, values: ParameterValue[]): boolean {
  return values.some((entry) => (typeof entry === 'string' ? typeof value === 'string' && globMatch(entry, value) : entry === value));
}

function globMatch(pattern: string, value: string): boolean {
  if (pattern.length < 2) return pattern === value;
  const leading = pattern.startsWith('*');
  const trailing = pattern.endsWith('*');
  if (leading && trailing) return value.includes(pattern.slice(1, -1));
  if (leading) return value.endsWith(pattern.slice(1));
  if (trailing) return value.startsWith(pattern.slice(0, -1));
  return value === pattern;
}

function commaItems(value: string): string[] {
  return value === '' ? [] : value.split(',').map((item) => item.trim());
}
