/**
 * Named ACL policies kept in (barrier-protected) logical storage, one entry
 * per policy at `policy/<name>` holding JSON `{"name": "...", "policy": "<text>"}`.
 * `root` and `response-wrapping` are built in and immutable (neither is
 * stored, and lists leave response-wrapping out, as Vault does); `default`
 * exists from the start and may be rewritten but not deleted.
 */
import type { LogicalStorage } from '../../engines/types.ts';
import { ClockCache } from '../clock-cache.ts';
import { badRequest, internalError } from '../errors.ts';
import { ACL } from './acl.ts';
import { DEFAULT_POLICY_TEXT, RESPONSE_WRAPPING_POLICY_NAME, RESPONSE_WRAPPING_POLICY_TEXT } from './default-policy.ts';
import { parsePolicy, type Policy } from './policy.ts';
import { resolveTemplate, type TemplateIdentity } from './templating.ts';

const KEY_PREFIX = 'policy/';
/** Vault's name rule: word characters, with - . @ inside. */
const NAME_RULE = /^\w(?:[\w\-.@]*\w)?$/;
/** Distinct policy sets (times identities, for templated ones) whose combined ACL is kept. */
const ACL_CACHE_LIMIT = 4096;
/** Separates the policy names of an ACL cache key, and the key from the identity of a templated set. */
const NAME_SEPARATOR = '\n';
const IDENTITY_SEPARATOR = '\u0000';

export const ROOT_POLICY: Policy = Object.freeze({ name: 'root', text: '', rules: [] });
const RESPONSE_WRAPPING_POLICY: Policy = parsePolicy(RESPONSE_WRAPPING_POLICY_NAME, RESPONSE_WRAPPING_POLICY_TEXT);

export class PolicyStore {
  private readonly policies = new Map<string, Policy | null>();
  private readonly acls = new ClockCache<string, ACL>(ACL_CACHE_LIMIT);
  /** Policy sets (ACL cache keys) holding a templated policy: their ACLs are cached per identity. */
  private readonly templatedSets = new Set<string>();
  /** Bumped on every change so a read that raced a write is not cached. */
  private generation = 0;

  constructor(private readonly storage: LogicalStorage) {}

  /** The policy, or undefined when no such policy exists. */
  async get(name: string): Promise<Policy | undefined> {
    const key = normaliseName(name);
    if (key === 'root') return ROOT_POLICY;
    if (key === RESPONSE_WRAPPING_POLICY_NAME) return RESPONSE_WRAPPING_POLICY;
    const cached = this.policies.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const generation = this.generation;
    const policy = await this.load(key);
    if (generation === this.generation) this.policies.set(key, policy ?? null);
    return policy;
  }

  /** Validates and stores a policy; the name is lower-cased. 400 for root or a bad policy. */
  async put(name: string, text: string): Promise<Policy> {
    const key = normaliseName(name);
    if (key === 'root') throw badRequest('cannot update the "root" policy');
    if (key === RESPONSE_WRAPPING_POLICY_NAME) throw badRequest(`cannot update "${key}" policy`);
    const policy = parsePolicy(key, text);
    await this.storage.put(KEY_PREFIX + key, Buffer.from(JSON.stringify({ name: key, policy: text })));
    this.invalidate(key);
    return policy;
  }

  /** Deletes a policy (absent is fine); 400 for root and default. */
  async delete(name: string): Promise<void> {
    const key = normaliseName(name);
    if (key === 'root' || key === 'default') throw badRequest(`cannot delete the "${key}" policy`);
    if (key === RESPONSE_WRAPPING_POLICY_NAME) throw badRequest(`cannot delete "${key}" policy`);
    await this.storage.delete(KEY_PREFIX + key);
    this.invalidate(key);
  }

  /** All policy names, sorted, always including default and root (response-wrapping is not assignable, so not listed). */
  async list(): Promise<string[]> {
    const stored = (await this.storage.list(KEY_PREFIX)).filter((k) => !k.endsWith('/') && k !== RESPONSE_WRAPPING_POLICY_NAME);
    return [...new Set([...stored, 'default', 'root'])].sort();
  }

  /**
   * The combined ACL of the named policies; unknown names are ignored.
   * Templated policies are resolved for `identity` (the caller's entity and
   * groups; none for a token without an entity): a path whose template
   * cannot be resolved is dropped.
   */
  async acl(names: readonly string[], identity?: TemplateIdentity): Promise<ACL> {
    const unique = [...new Set(names.map((n) => n.toLowerCase()))].sort();
    const setKey = unique.join(NAME_SEPARATOR);
    const identityKey = `${setKey}${IDENTITY_SEPARATOR}${identity?.key ?? ''}`;
    const cached = this.acls.get(this.templatedSets.has(setKey) ? identityKey : setKey);
    if (cached) return cached;
    const generation = this.generation;
    const policies = (await Promise.all(unique.filter((n) => NAME_RULE.test(n)).map((n) => this.get(n)))).filter(
      (p): p is Policy => p !== undefined,
    );
    const templated = policies.some((p) => p.templated);
    const acl = new ACL(templated ? policies.map((p) => (p.templated ? resolvePolicy(p, identity) : p)) : policies);
    if (generation === this.generation) {
      if (templated) {
        // Forgetting which sets are templated is always safe (their ACLs are rebuilt under the set's key).
        if (this.templatedSets.size >= ACL_CACHE_LIMIT) this.templatedSets.clear();
        this.templatedSets.add(setKey);
      }
      this.acls.set(templated ? identityKey : setKey, acl);
    }
    return acl;
  }

  private async load(key: string): Promise<Policy | undefined> {
    const raw = await this.storage.get(KEY_PREFIX + key);
    if (!raw) return key === 'default' ? parsePolicy('default', DEFAULT_POLICY_TEXT) : undefined;
    let stored: { policy?: unknown };
    try {
      stored = JSON.parse(raw.toString('utf8'));
    } catch {
      throw internalError(`stored policy "${key}" is corrupt`);
    }
    if (typeof stored.policy !== 'string') throw internalError(`stored policy "${key}" is corrupt`);
    return parsePolicy(key, stored.policy);
  }

  /** After a change to one policy: forget it and the ACLs of the sets that hold it, nothing else. */
  private invalidate(name: string): void {
    this.generation++;
    this.policies.delete(name);
    const holds = (key: string) => key.split(IDENTITY_SEPARATOR, 1)[0]!.split(NAME_SEPARATOR).includes(name);
    this.acls.deleteWhere(holds);
    for (const setKey of this.templatedSets) if (holds(setKey)) this.templatedSets.delete(setKey);
  }
}

/** A templated policy for one caller: each templated path resolved, or dropped when it cannot be. */
function resolvePolicy(policy: Policy, identity: TemplateIdentity | undefined): Policy {
  const rules = [];
  for (const rule of policy.rules) {
    if (!rule.templated) {
      rules.push(rule);
      continue;
    }
    const path = resolveTemplate(rule.path, identity);
    if (path !== undefined) rules.push({ ...rule, path, templated: false });
  }
  return { ...policy, rules };
}

function normaliseName(name: string): string {
  const key = name.trim().toLowerCase();
  if (!NAME_RULE.test(key)) throw badRequest(`invalid policy name "${name}": use letters, digits, _ - . @`);
  return key;
}
